//! A real center on port 0, on each backend, and real stores to feed it.

use std::future::Future;

use chrono::Utc;
use radqc_center::{AppState, Db};
use radqc_protocol::{PushEntry, PushRequest, SCHEMA_VERSION};
use radqc_store::{Key, NewEvaluation, Store};
use serde_json::{json, Value};

/// The backends to test: SQLite always; PostgreSQL when `RADQC_TEST_DATABASE_URL` names a
/// server where fresh databases may be created (scripts/test.sh starts one). With
/// `RADQC_REQUIRE_POSTGRES=1` (CI) a missing server is a failure, not a skip.
pub async fn backends(dir: &std::path::Path) -> Vec<(&'static str, Db)> {
    let mut list = vec![("sqlite", Db::open_sqlite(&dir.join("center.db")).unwrap())];
    match std::env::var("RADQC_TEST_DATABASE_URL") {
        Ok(url) => list.push(("postgres", fresh_postgres(&url).await)),
        Err(_) if std::env::var("RADQC_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("RADQC_REQUIRE_POSTGRES=1 but RADQC_TEST_DATABASE_URL is not set")
        }
        Err(_) => {
            eprintln!("note: RADQC_TEST_DATABASE_URL not set: PostgreSQL backend not tested here")
        }
    }
    list
}

/// A new, empty database on the server behind `admin_url`.
pub async fn fresh_postgres(admin_url: &str) -> Db {
    Db::connect_postgres(&fresh_postgres_url(admin_url).await).await.unwrap()
}

/// The URL of a new, empty database on the server behind `admin_url`.
pub async fn fresh_postgres_url(admin_url: &str) -> String {
    let (client, conn) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls).await.expect("PostgreSQL reachable");
    tokio::spawn(conn);
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let name = format!("radqc_t_{}", hex::encode(bytes));
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    let (base, _) = admin_url.rsplit_once('/').expect("URL ends with /dbname");
    format!("{base}/{name}")
}

/// Runs `test` once per backend.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(&'static str, Center) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    for (name, db) in backends(dir.path()).await {
        let center = Center::start(db).await;
        test(name, center).await;
    }
}

pub struct Center {
    pub url: String,
    pub db: Db,
    pub http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Center {
    pub async fn start(db: Db) -> Center {
        Center::start_with(db, |s| s).await
    }

    /// A center whose state is set up by `setup` (e.g. its maximum of pushes at once).
    pub async fn start_with(db: Db, setup: impl FnOnce(AppState) -> AppState) -> Center {
        let state = setup(AppState::new(db.clone()).await.unwrap());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(radqc_center::serve(listener, state, None, async {
            let _ = rx.await;
        }));
        Center { url, db, http: radqc_sync::http_client(), _stop: tx }
    }

    /// A site with an enrollment code.
    pub async fn site(&self, code: &str) -> String {
        self.db.add_site(code, &format!("{code} 放射科"), Utc::now()).await.unwrap();
        radqc_center::http::new_enrollment_code(&self.db, code, 24).await.unwrap()
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = self.http.post(format!("{}{path}", self.url)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.http.get(format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    }

    /// A GET that answers a file: status, content type, content disposition and the bytes.
    pub async fn get_file(&self, path: &str, token: &str) -> (u16, String, String, Vec<u8>) {
        let resp = self.http.get(format!("{}{path}", self.url)).bearer_auth(token).send().await.unwrap();
        let header = |name: &str| {
            resp.headers().get(name).map(|v| v.to_str().unwrap_or_default().to_owned()).unwrap_or_default()
        };
        let (content_type, disposition) = (header("content-type"), header("content-disposition"));
        (resp.status().as_u16(), content_type, disposition, resp.bytes().await.unwrap().to_vec())
    }

    /// Enrolls a fresh device id with `code`; returns (device id, token).
    pub async fn enroll(&self, code: &str) -> (String, String) {
        let device = uuid_v4();
        let (status, body) = self.post("/api/v1/enroll", None, &json!({"code": code, "device_id": device})).await;
        assert_eq!(status, 200, "enrollment works: {body}");
        (device, body["token"].as_str().unwrap().to_owned())
    }

    pub async fn push(&self, token: &str, entries: &[PushEntry]) -> (u16, Value) {
        let req = PushRequest { schema: SCHEMA_VERSION, entries: entries.to_vec() };
        self.post("/api/v1/push", Some(token), &serde_json::to_value(req).unwrap()).await
    }
}

pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).unwrap();
    let h = hex::encode(b);
    format!("{}-{}-4{}-a{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

/// A local store at `site` whose outbox gives real payloads.
pub struct Clinic {
    pub _dir: tempfile::TempDir,
    pub store: Store,
}

impl Clinic {
    pub fn new(site: &str) -> Clinic {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::create(&dir.path().join("qc.db"), &Key::from_bytes([9; 32]), &site.parse().unwrap(), Utc::now())
                .unwrap();
        Clinic { _dir: dir, store }
    }

    pub fn save(&mut self, accession: &str, item: &str, findings: &[&str]) -> String {
        let e: NewEvaluation = serde_json::from_value(json!({
            "item": item, "findings": findings,
            "exam": {"accession": accession, "modality": "CT", "exam_item": "CT头颅平扫", "staff": {"technologist": "A1", "reporting_doctor": "D1"}},
            "reviewer": "D1", "mode": "random"
        }))
        .unwrap();
        self.store.save_evaluation(&e, Utc::now()).unwrap().id
    }

    /// A correction of `previous` (same exam and item), with other findings.
    pub fn correct(&mut self, previous: &str, accession: &str, item: &str, findings: &[&str]) -> String {
        let e: NewEvaluation = serde_json::from_value(json!({
            "item": item, "findings": findings, "supersedes": previous,
            "exam": {"accession": accession, "modality": "CT", "exam_item": "CT头颅平扫", "staff": {"technologist": "A1", "reporting_doctor": "D1"}},
            "reviewer": "D1", "mode": "random"
        }))
        .unwrap();
        self.store.save_evaluation(&e, Utc::now()).unwrap().id
    }

    /// The outbox entries as push entries, `from..=to`.
    pub fn entries(&self, from: i64, to: i64) -> Vec<PushEntry> {
        self.store
            .outbox()
            .unwrap()
            .into_iter()
            .filter(|e| e.seq >= from && e.seq <= to)
            .map(|e| PushEntry { seq: e.seq, payload: serde_json::value::RawValue::from_string(e.payload).unwrap() })
            .collect()
    }
}

/// Changes an entry's payload as JSON (to tamper with it).
pub fn edit(entry: &mut PushEntry, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_str(entry.payload.get()).unwrap();
    f(&mut v);
    entry.payload = serde_json::value::RawValue::from_string(v.to_string()).unwrap();
}

/// Where a center's database lives, to change it behind the center's back.
pub enum Place {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Place {
    pub async fn run(&self, sql: &str) {
        match self {
            Place::Sqlite(path) => rusqlite::Connection::open(path).unwrap().execute_batch(sql).unwrap(),
            Place::Postgres(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(conn);
                client.batch_execute(sql).await.unwrap();
            }
        }
    }
}

/// Runs `test` on a fresh center per backend, with the place of its database.
pub async fn each_place<F, Fut>(test: F)
where
    F: Fn(&'static str, Center, Place) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let mut places = vec![Place::Sqlite(dir.path().join("center.db"))];
    match std::env::var("RADQC_TEST_DATABASE_URL") {
        Ok(admin) => places.push(Place::Postgres(fresh_postgres_url(&admin).await)),
        Err(_) if std::env::var("RADQC_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("RADQC_REQUIRE_POSTGRES=1 but RADQC_TEST_DATABASE_URL is not set")
        }
        Err(_) => eprintln!("note: RADQC_TEST_DATABASE_URL not set: PostgreSQL backend not tested here"),
    }
    for place in places {
        let (name, db) = match &place {
            Place::Sqlite(path) => ("sqlite", Db::open_sqlite(path).unwrap()),
            Place::Postgres(url) => ("postgres", Db::connect_postgres(url).await.unwrap()),
        };
        test(name, Center::start(db).await, place).await;
    }
}

/// Adds (or updates) an active staff member with `roles` and publishes the site's roster.
pub async fn staff(center: &Center, site: &str, code: &str, roles: &[&str]) {
    let member = radqc_protocol::StaffMember {
        site: site.into(),
        code: code.into(),
        name: format!("{code} 医生"),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        active: true,
    };
    radqc_center::put_staff(&center.db, &member).await.unwrap();
}

/// A new person token for a staff member.
pub async fn person_token(center: &Center, site: &str, code: &str) -> String {
    let token = radqc_center::secret::new_token();
    center.db.issue_person_token(site, code, &radqc_center::secret::hash(&token), Utc::now()).await.unwrap();
    token
}
