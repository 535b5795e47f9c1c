//! People's secrets through the real binaries: a region's administrator sets one with `radqc
//! center staff password`, a site (the desktop app's layer on its real store) signs people in
//! from what one sync brought, offline with the center stopped; a secret chosen at the site
//! reaches the center with the next sync, a reset at the center wins after the next; and no
//! secret the test used is anywhere in clear.

use std::process::{Child, Command, Stdio};

use chrono::Utc;
use radqc_app::{App, AppConfig, PanelClosedPolicy};

use crate::support::ok;

const INITIAL: &str = "Initial-Secret-41";
const CHOSEN: &str = "Chosen-at-Site-52";
const RESET: &str = "Reset-at-Center-63";

/// `radqc center serve` on a fixed loopback port (a restart keeps the store's URL), its output
/// kept in files to search.
struct CenterProcess(Child);

impl CenterProcess {
    fn start(db: &str, port: u16, logs: &std::path::Path, n: u32) -> CenterProcess {
        let out = std::fs::File::create(logs.join(format!("center-{n}.out"))).unwrap();
        let err = std::fs::File::create(logs.join(format!("center-{n}.err"))).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_radqc"))
            .args(["center", "serve", "--listen", &format!("127.0.0.1:{port}"), "--db", db])
            .env("RUST_LOG", "debug")
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return CenterProcess(child);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the center did not start on port {port}");
    }
}

impl Drop for CenterProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn open_app(data: &std::path::Path) -> App {
    let config = AppConfig {
        data_dir: data.to_owned(),
        demo: false,
        when_panel_closed: PanelClosedPolicy::Block,
        idle_lock: radqc_app::DEFAULT_IDLE_LOCK,
    };
    App::open(config, Utc::now()).unwrap()
}

/// Every file under `dir`, recursively.
fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_site_signs_people_in_offline_and_follows_secrets_changed_at_the_center_after_one_sync() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let center_db = dir.path().join("center.db");
    let center_db = center_db.to_str().unwrap();
    let data = dir.path().join("app");
    let store_db = data.join("radqc.db");
    let store_db = store_db.to_str().unwrap();
    let mut outputs = String::new();
    let mut run = |args: &[&str], stdin: &str| {
        let out = ok(args, stdin);
        outputs.push_str(&out);
        out
    };

    run(&["center", "site", "add", "CLINIC-09", "--name", "九里乡卫生院", "--db", center_db], "");
    for (code, role) in [("D1", "reporting_doctor"), ("A1", "technologist")] {
        run(
            &[
                "center",
                "staff",
                "add",
                "--db",
                center_db,
                "--site",
                "CLINIC-09",
                "--code",
                code,
                "--name",
                code,
                "--role",
                role,
            ],
            "",
        );
    }
    let set = run(
        &["center", "staff", "password", "--db", center_db, "--site", "CLINIC-09", "--code", "D1"],
        &format!("{INITIAL}\n"),
    );
    assert!(set.contains("version 1") && set.contains("changed at the next sign-in"), "{set}");
    let weak = crate::support::radqc(
        &["center", "staff", "password", "--db", center_db, "--site", "CLINIC-09", "--code", "A1"],
        "12345\n",
    );
    assert!(
        !weak.status.success() && String::from_utf8_lossy(&weak.stderr).contains("at least 8"),
        "a weak secret is refused by the policy"
    );
    let code = run(&["center", "device", "enroll", "--site", "CLINIC-09", "--db", center_db], "").trim().to_owned();

    // The workstation: the app made its store; the CLI enrolls and syncs it (one sync).
    drop(open_app(&data));
    let port = free_port();
    let center = CenterProcess::start(center_db, port, &logs, 1);
    let url = format!("http://127.0.0.1:{port}");
    run(&["local", "enroll", "--db", store_db, "--center", &url, "--code", &code], "");
    run(&["sync", "--once", "--db", store_db], "");
    drop(center);

    // Offline, with the center stopped: the site signs D1 in from the roster it holds.
    let mut app = open_app(&data);
    assert_eq!(app.store().site().as_str(), "CLINIC-09");
    assert_eq!(app.sign_in("D1", "wrong-secret-0", Utc::now()).unwrap_err().code, "SIGN_IN_FAILED");
    assert_eq!(app.sign_in("D1", INITIAL, Utc::now()).unwrap_err().code, "SECRET_CHANGE_REQUIRED");
    app.change_secret("D1", INITIAL, CHOSEN, Utc::now()).unwrap();
    app.sign_out(Utc::now()).unwrap();
    app.sign_in("D1", CHOSEN, Utc::now()).unwrap();
    assert_eq!(app.sign_in("A1", CHOSEN, Utc::now()).unwrap_err().code, "NO_SECRET");
    drop(app);

    // Back online: one sync sends the verifier of the secret chosen here.
    let center = CenterProcess::start(center_db, port, &logs, 2);
    run(&["sync", "--once", "--db", store_db], "");
    let conn = rusqlite::Connection::open(center_db).unwrap();
    let (version, set_by, verifier): (i64, String, String) = conn
        .query_row(
            "SELECT version, set_by, verifier FROM staff_secrets WHERE site = 'CLINIC-09' AND staff = 'D1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(version, 2);
    assert!(set_by.starts_with("device:"), "{set_by}");
    assert_eq!(radqc_domain::credential::verify(&verifier, CHOSEN), Ok(true));
    drop(conn);

    // The administrator resets it at the center; after one sync the new one works and the old
    // one no longer does.
    run(
        &["center", "staff", "password", "--db", center_db, "--site", "CLINIC-09", "--code", "D1", "--permanent"],
        &format!("{RESET}\n"),
    );
    run(&["sync", "--once", "--db", store_db], "");
    drop(center);
    let mut app = open_app(&data);
    assert_eq!(app.sign_in("D1", CHOSEN, Utc::now()).unwrap_err().code, "SIGN_IN_FAILED");
    app.sign_in("D1", RESET, Utc::now()).unwrap();
    let audit: Vec<String> = app.store().audit_log().unwrap().iter().map(|e| e.action.clone()).collect();
    for action in
        ["sign_in_failed", "sign_in_change_required", "secret_changed", "signed_in", "signed_out", "secret_sent"]
    {
        assert!(audit.iter().any(|a| a == action), "{action} in the audit log: {audit:?}");
    }
    let audit_text = format!("{:?}", app.store().audit_log().unwrap());
    let feeds = format!("{:?}", app.store().feed_items(radqc_protocol::FeedKind::Roster).unwrap());
    drop(app);

    // No secret in clear: the store's export and audit log and what it received, the CLI's
    // output, the center's logs, and every byte of the center's database (and its WAL).
    let export = run(&["local", "export", "--db", store_db], "");
    let mut haystacks = vec![
        ("store export", export),
        ("store audit log", audit_text),
        ("roster feed", feeds),
        ("CLI output", outputs.clone()),
    ];
    for file in files(&logs)
        .into_iter()
        .chain(files(dir.path()).into_iter().filter(|p| p.to_string_lossy().contains("center.db")))
    {
        haystacks.push((
            "file",
            String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned() + &file.display().to_string(),
        ));
    }
    assert!(haystacks.iter().any(|(_, h)| h.contains("$argon2id$")), "the verifiers are there to be searched");
    for secret in [INITIAL, CHOSEN, RESET] {
        for (what, text) in &haystacks {
            assert!(!text.contains(secret), "{secret} is in clear in the {what}");
        }
    }
}
