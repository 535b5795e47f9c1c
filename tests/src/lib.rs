//! Harness for end-to-end tests across crates: a center that can be restarted mid-request,
//! clinics with real encrypted stores, and a TCP proxy between them that injects network faults.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use radqc_center::{AppState, Db};
use radqc_domain::ExamEventKind;
use radqc_store::{CenterLink, ExamInput, Key, NewEvaluation, Store};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Where the center keeps its data, so a restart can reopen it.
#[derive(Clone)]
pub enum CenterStorage {
    Sqlite(PathBuf),
    Postgres(String),
}

impl CenterStorage {
    /// SQLite in `dir`, or PostgreSQL when `RADQC_TEST_DATABASE_URL` is set and `postgres` asked.
    pub async fn open(&self) -> Db {
        match self {
            CenterStorage::Sqlite(path) => Db::open_sqlite(path).expect("center SQLite opens"),
            CenterStorage::Postgres(url) => Db::connect_postgres(url).await.expect("center PostgreSQL opens"),
        }
    }
}

/// A fresh database on the PostgreSQL server behind `admin_url`; returns its URL.
pub async fn fresh_postgres_url(admin_url: &str) -> String {
    let (client, conn) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls).await.expect("PostgreSQL reachable");
    tokio::spawn(conn);
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let name = format!("radqc_e2e_{}", hex::encode(bytes));
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    let (base, _) = admin_url.rsplit_once('/').expect("URL ends with /dbname");
    format!("{base}/{name}")
}

/// The backends this run tests: SQLite always, PostgreSQL when configured (required in CI).
pub async fn storages(dir: &Path) -> Vec<(&'static str, CenterStorage)> {
    let mut list = vec![("sqlite", CenterStorage::Sqlite(dir.join("center.db")))];
    match std::env::var("RADQC_TEST_DATABASE_URL") {
        Ok(url) => list.push(("postgres", CenterStorage::Postgres(fresh_postgres_url(&url).await))),
        Err(_) if std::env::var("RADQC_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("RADQC_REQUIRE_POSTGRES=1 but RADQC_TEST_DATABASE_URL is not set")
        }
        Err(_) => {
            eprintln!("note: RADQC_TEST_DATABASE_URL not set: PostgreSQL backend not tested here")
        }
    }
    list
}

/// A center running on its own runtime, so that a restart kills its in-flight requests the way
/// a crashed process would (a transaction already committing still commits).
pub struct Center {
    pub storage: CenterStorage,
    runtime: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
    pub db: Db,
}

impl Center {
    pub async fn start(storage: CenterStorage) -> Center {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let s = storage.clone();
        let (db, addr) = runtime
            .spawn(async move {
                let db = s.open().await;
                let state = AppState::new(db.clone()).await.unwrap();
                let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                tokio::spawn(radqc_center::serve(listener, state, None, std::future::pending()));
                (db, addr)
            })
            .await
            .unwrap();
        Center { storage, runtime: Some(runtime), addr, db }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the center at once, requests in flight included, and starts it again on its data.
    pub async fn restart(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
        let fresh = Center::start(self.storage.clone()).await;
        *self = fresh;
    }
}

impl Drop for Center {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// One clinic: an encrypted store of its own, enrolled with the center.
pub struct Clinic {
    _dir: tempfile::TempDir,
    pub store: Store,
    pub name: String,
    saved: u64,
}

impl Clinic {
    pub fn new(site: &str) -> Clinic {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::create(&dir.path().join("qc.db"), &Key::from_bytes([3; 32]), &site.parse().unwrap(), Utc::now())
                .unwrap();
        Clinic { _dir: dir, store, name: site.to_owned(), saved: 0 }
    }

    /// Adds the site at the center, enrolls this store there, and points its sync at `via`
    /// (the proxy, or the center itself).
    pub async fn enroll(&mut self, center: &Center, via: &str) {
        center.db.add_site(&self.name, &self.name, Utc::now()).await.unwrap();
        let code = radqc_center::http::new_enrollment_code(&center.db, &self.name, 1).await.unwrap();
        let url = center.url();
        let args =
            radqc_sync::EnrollArgs { center: &url, code: &code, device_name: Some(&self.name), ..Default::default() };
        let (resp, _) = radqc_sync::enroll(&mut self.store, &args, Utc::now()).await.unwrap();
        let link = CenterLink { url: via.to_owned(), token: resp.token, pin: None };
        self.store.set_center_link(&link, &self.name.parse().unwrap(), Utc::now()).unwrap();
    }

    pub fn exam(&self, n: u64) -> ExamInput {
        let modality = ["DR", "CT", "MR"][(n % 3) as usize];
        let source = ["outpatient", "emergency", "inpatient"][(n % 3) as usize];
        serde_json::from_value(json!({
            "accession": format!("{}-{n:06}", self.name),
            "modality": modality,
            "exam_item": format!("{modality}胸部"),
            "department": "放射科",
            "patient_source": source,
            "staff": {"technologist": format!("A{}", n % 10), "reporting_doctor": format!("D{}", n % 4), "auditing_doctor": "D9"},
            "patient": {"id": format!("P{n}"), "sex": "F", "age": 40 + (n % 40)},
            "performed_at": Utc.with_ymd_and_hms(2026, 10, 1 + (n % 28) as u32, 9, 0, 0).unwrap().to_rfc3339(),
        }))
        .unwrap()
    }

    /// Saves one evaluation (findings vary with `n`); returns its id.
    pub fn save_evaluation(&mut self, n: u64) -> String {
        let (item, findings): (&str, Vec<&str>) = match n % 5 {
            0 => ("IQ", vec![]),
            1 => ("IQ", vec!["IQ-C2"]),
            2 => ("RQ", vec!["RQ-C1", "RQ-C4"]),
            3 => ("AR", vec!["AR-S7"]),
            _ => ("AF", vec![]),
        };
        let e = NewEvaluation {
            item: item.parse().unwrap(),
            findings: findings.iter().map(|c| c.parse().unwrap()).collect(),
            not_applicable: vec![],
            exam: self.exam(n),
            reviewer: "D9".parse().unwrap(),
            mode: radqc_domain::QcMode::Random,
            note: String::new(),
            supersedes: None,
            at: None,
        };
        self.saved += 1;
        self.store.save_evaluation(&e, Utc::now()).unwrap().id
    }

    /// Saves a correction of evaluation `id` (a new revision, same exam and item) with these
    /// findings; returns the new revision's id.
    pub fn correct(&mut self, id: &str, findings: &[&str], reviewer: &str, note: &str) -> String {
        let first = self.store.evaluation(id).unwrap().expect("the evaluation to correct exists");
        let exam = self.store.exam(None, &first.accession).unwrap().expect("its exam");
        let fix = NewEvaluation {
            item: first.item,
            findings: findings.iter().map(|c| c.parse().unwrap()).collect(),
            not_applicable: vec![],
            exam: serde_json::from_value(
                json!({"accession": exam.accession, "modality": exam.modality, "exam_item": exam.exam_item}),
            )
            .unwrap(),
            reviewer: reviewer.parse().unwrap(),
            mode: radqc_domain::QcMode::Centralized,
            note: note.to_owned(),
            supersedes: Some(id.to_owned()),
            at: None,
        };
        self.store.save_evaluation(&fix, Utc::now()).unwrap().id
    }

    /// A copy of this store's files as an operator's backup or a copy onto another
    /// workstation takes it: the database and its WAL, as they are on disk now.
    pub fn copy_files(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for suffix in ["", "-wal"] {
            let from = format!("{}{suffix}", self.store.path().display());
            if std::path::Path::new(&from).exists() {
                std::fs::copy(&from, dir.path().join(format!("qc.db{suffix}"))).unwrap();
            }
        }
        dir
    }

    /// A clinic whose store is the copy in `dir` (from [`Clinic::copy_files`]).
    pub fn from_copy(dir: tempfile::TempDir, site: &str) -> Clinic {
        let store = Store::open(&dir.path().join("qc.db"), &Key::from_bytes([3; 32])).unwrap();
        Clinic { _dir: dir, store, name: site.to_owned(), saved: 0 }
    }

    /// Records a signing event; returns its id.
    pub fn record_event(&mut self, n: u64) -> String {
        let exam = self.exam(n);
        let at = Utc::now();
        self.store.record_event(&exam, ExamEventKind::ReportSigned, &"D1".parse().unwrap(), at, at).unwrap().id
    }
}

/// A network fault, applied to one HTTP request passing through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    /// The connection drops before the center sees the request.
    DropRequest,
    /// The center applies the request; the answer is lost.
    DropResponse,
    /// The request reaches the center twice.
    Duplicate,
    /// The request is applied now and a stale copy arrives again later (reordering).
    ReplayLater,
    /// The request waits a while.
    Delay,
    /// A 503 without reaching the center.
    Error503,
    /// The center applies the request, then the client gets a 503.
    Error503AfterCommit,
    /// The center restarts while the request is in flight.
    RestartCenter,
}

impl Fault {
    pub const ALL: [Fault; 9] = [
        Fault::Pass,
        Fault::DropRequest,
        Fault::DropResponse,
        Fault::Duplicate,
        Fault::ReplayLater,
        Fault::Delay,
        Fault::Error503,
        Fault::Error503AfterCommit,
        Fault::RestartCenter,
    ];
}

/// Counts of what the proxy did, so a test can show its faults really happened.
#[derive(Debug, Default, Clone)]
pub struct ProxyLog {
    pub requests: u64,
    pub faults: std::collections::BTreeMap<String, u64>,
    pub restarts: u64,
    /// Request bytes from clients (as sent: gzip bodies stay compressed).
    pub bytes_up: u64,
    /// Response bytes to clients.
    pub bytes_down: u64,
}

struct ProxyState {
    center: Arc<tokio::sync::Mutex<Center>>,
    schedule: Mutex<Box<dyn FnMut() -> Fault + Send>>,
    stale: Mutex<VecDeque<Vec<u8>>>,
    log: Mutex<ProxyLog>,
}

/// A TCP proxy speaking just enough HTTP/1.1 to cut, copy, delay and replay requests.
pub struct FaultProxy {
    pub addr: SocketAddr,
    state: Arc<ProxyState>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts the proxy in front of `center`; `schedule` picks the fault of each request.
    pub async fn start(
        center: Arc<tokio::sync::Mutex<Center>>,
        schedule: Box<dyn FnMut() -> Fault + Send>,
    ) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(ProxyState {
            center,
            schedule: Mutex::new(schedule),
            stale: Mutex::new(VecDeque::new()),
            log: Mutex::default(),
        });
        let s = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = handle(conn, s).await;
                });
            }
        });
        FaultProxy { addr, state, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn log(&self) -> ProxyLog {
        self.state.log.lock().unwrap().clone()
    }

    /// Lets every remaining stale copy arrive now (the test's last reordering).
    pub async fn flush_stale(&self) {
        loop {
            let next = self.state.stale.lock().unwrap().pop_front();
            let Some(request) = next else { break };
            let addr = self.state.center.lock().await.addr;
            let _ = forward(addr, &request).await;
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request: head through the blank line, then `content-length` bytes of body.
async fn read_request(conn: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .map(|(_, v)| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    // One request per upstream connection: ask the center to close after answering.
    let mut lines: Vec<&str> =
        head.trim_end().split("\r\n").filter(|l| !l.to_ascii_lowercase().starts_with("connection:")).collect();
    lines.push("connection: close");
    let mut request = (lines.join("\r\n") + "\r\n\r\n").into_bytes();
    request.extend_from_slice(&buf[head_end..head_end + length]);
    Ok(Some(request))
}

/// Sends a request to the center and reads its whole answer (the center closes after it).
async fn forward(addr: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(addr).await?;
    up.write_all(request).await?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).await?;
    if response.is_empty() {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the center closed without answering"));
    }
    Ok(response)
}

const SERVICE_UNAVAILABLE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 59\r\n\r\n{\"code\":\"PROXY_UNAVAILABLE\",\"message\":\"injected 503 fault\"}";

async fn handle(mut conn: TcpStream, state: Arc<ProxyState>) -> std::io::Result<()> {
    let Some(request) = read_request(&mut conn).await? else {
        return Ok(());
    };
    let fault = (state.schedule.lock().unwrap())();
    {
        let mut log = state.log.lock().unwrap();
        log.requests += 1;
        log.bytes_up += request.len() as u64;
        *log.faults.entry(format!("{fault:?}")).or_default() += 1;
    }
    // Sometimes a stale copy of an earlier request overtakes this one.
    if fault != Fault::Pass {
        let stale = state.stale.lock().unwrap().pop_front();
        if let Some(old) = stale {
            let addr = state.center.lock().await.addr;
            let _ = forward(addr, &old).await;
        }
    }
    let addr = state.center.lock().await.addr;
    match fault {
        Fault::Pass => {
            let response = forward(addr, &request).await?;
            state.log.lock().unwrap().bytes_down += response.len() as u64;
            conn.write_all(&response).await?;
        }
        Fault::DropRequest => {}
        Fault::DropResponse => {
            let _ = forward(addr, &request).await;
        }
        Fault::Duplicate => {
            let _ = forward(addr, &request).await;
            let response = forward(addr, &request).await?;
            conn.write_all(&response).await?;
        }
        Fault::ReplayLater => {
            let response = forward(addr, &request).await?;
            state.stale.lock().unwrap().push_back(request);
            conn.write_all(&response).await?;
        }
        Fault::Delay => {
            tokio::time::sleep(Duration::from_millis(30)).await;
            let response = forward(addr, &request).await?;
            conn.write_all(&response).await?;
        }
        Fault::Error503 => conn.write_all(SERVICE_UNAVAILABLE).await?,
        Fault::Error503AfterCommit => {
            let _ = forward(addr, &request).await;
            conn.write_all(SERVICE_UNAVAILABLE).await?;
        }
        Fault::RestartCenter => {
            let inflight = tokio::spawn(async move { forward(addr, &request).await });
            tokio::time::sleep(Duration::from_millis(1)).await;
            state.center.lock().await.restart().await;
            state.log.lock().unwrap().restarts += 1;
            // Whatever the old center answered (if anything) is lost with it.
            let _ = inflight.await;
        }
    }
    conn.shutdown().await
}

/// Fills a clinic's store with a month of work: `evaluations` evaluations and `events` signing
/// events, saved in large transactions (an import) so that setting up takes seconds.
pub fn fill_month(clinic: &mut Clinic, evaluations: u64, events: u64) {
    let now = Utc::now();
    let mut batch = Vec::new();
    for n in 0..evaluations {
        let (item, findings): (&str, &[&str]) = match n % 4 {
            0 => ("IQ", &[]),
            1 => ("IQ", &["IQ-C5"]),
            2 => ("RQ", &["RQ-C2"]),
            _ => ("AR", &[]),
        };
        batch.push(NewEvaluation {
            item: item.parse().unwrap(),
            findings: findings.iter().map(|c| c.parse().unwrap()).collect(),
            not_applicable: vec![],
            exam: clinic.exam(n),
            reviewer: "D9".parse().unwrap(),
            mode: radqc_domain::QcMode::Random,
            note: String::new(),
            supersedes: None,
            at: None,
        });
        if batch.len() == 1000 {
            let results = clinic.store.save_batch(&batch, now).unwrap();
            assert!(results.iter().all(Result::is_ok));
            batch.clear();
        }
    }
    if !batch.is_empty() {
        clinic.store.save_batch(&batch, now).unwrap();
    }
    let staff: radqc_domain::StaffCode = "D1".parse().unwrap();
    let mut events_batch = Vec::new();
    for n in 0..events {
        events_batch.push((clinic.exam(n % (evaluations.max(1) * 2)), ExamEventKind::ReportSigned, staff.clone(), now));
        if events_batch.len() == 5000 {
            clinic.store.record_events(&events_batch, now).unwrap();
            events_batch.clear();
        }
    }
    if !events_batch.is_empty() {
        clinic.store.record_events(&events_batch, now).unwrap();
    }
}

// --- Benchmark floors (benches/): what the database itself does with the same rows.

/// Refuses a PostgreSQL without fsync for a measurement (a quick `cargo test --benches` only says so).
pub async fn check_durable(storage: &CenterStorage, quick: bool) {
    let CenterStorage::Postgres(url) = storage else { return };
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let fsync: String = client.query_one("SHOW fsync", &[]).await.unwrap().get(0);
    if fsync != "on" {
        let why = "PostgreSQL runs with fsync=off, so it would be compared undurable with a synchronous=FULL SQLite: \
                   start a cluster with RADQC_PG_DURABLE=1 scripts/postgres.sh start";
        assert!(quick, "{why}");
        println!("note: {why}");
    }
}

/// The tables a push writes rows into, in the floor's order.
const ROW_TABLES: [&str; 3] = ["exams", "evaluations", "exam_events"];

/// The floor of a run: the rows it stored, copied by the database into tables of the same schema
/// in one transaction, committed durably. Returns the time of the copy and its commit.
pub async fn floor(storage: &CenterStorage) -> std::time::Duration {
    match storage {
        CenterStorage::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).unwrap();
            let floor_path = path.with_file_name("floor.db");
            conn.execute("ATTACH ?1 AS f", [floor_path.to_str().unwrap()]).unwrap();
            let _: String = conn.query_row("PRAGMA f.journal_mode = WAL", [], |r| r.get(0)).unwrap();
            conn.execute_batch("PRAGMA f.synchronous = FULL").unwrap();
            for table in ROW_TABLES {
                let schema: Vec<(String, String)> = conn
                    .prepare("SELECT type, sql FROM sqlite_master WHERE tbl_name = ?1 AND sql IS NOT NULL ORDER BY type DESC")
                    .unwrap()
                    .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                for (kind, sql) in schema {
                    let sql = if kind == "table" {
                        sql.replacen(&format!("CREATE TABLE {table}"), &format!("CREATE TABLE f.{table}"), 1)
                    } else {
                        sql.replacen("CREATE INDEX ", "CREATE INDEX f.", 1).replacen(
                            "CREATE UNIQUE INDEX ",
                            "CREATE UNIQUE INDEX f.",
                            1,
                        )
                    };
                    conn.execute_batch(&sql).unwrap();
                }
            }
            let start = std::time::Instant::now();
            let copy: String =
                ROW_TABLES.iter().map(|t| format!("INSERT INTO f.{t} SELECT * FROM main.{t};")).collect();
            conn.execute_batch(&format!("BEGIN IMMEDIATE; {copy} COMMIT;")).unwrap();
            start.elapsed()
        }
        CenterStorage::Postgres(url) => {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(conn);
            let create: String =
                ROW_TABLES.iter().map(|t| format!("CREATE TABLE floor_{t} (LIKE {t} INCLUDING ALL);")).collect();
            client.batch_execute(&create).await.unwrap();
            let copy: String = ROW_TABLES.iter().map(|t| format!("INSERT INTO floor_{t} SELECT * FROM {t};")).collect();
            let start = std::time::Instant::now();
            client.batch_execute(&format!("BEGIN; {copy} COMMIT;")).await.unwrap();
            start.elapsed()
        }
    }
}
