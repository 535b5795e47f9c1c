//! Enrollment with a known center, through the real binaries: over HTTPS a clinic enrolls only
//! with the center whose key pin came with its code (an impostor with another certificate fails
//! and changes nothing), every later sync checks the pin, and plain HTTP goes only to this
//! machine unless the person accepts it as insecure. No test sends anything off this machine: a
//! "remote" center is reached through a proxy on loopback (`HTTP_PROXY`), or not at all.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use radqc_store::{CenterTrust, Key, Store};
use serde_json::Value;

use crate::local::line;
use crate::support::{ok, radqc, Center};

/// A self-signed certificate for `localhost` with a key of its own, written as PEM files.
fn certificate(dir: &Path, name: &str) -> (String, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert_pem, key_pem) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}.key")));
    std::fs::write(&cert_pem, cert.cert.pem()).unwrap();
    std::fs::write(&key_pem, cert.signing_key.serialize_pem()).unwrap();
    (cert_pem.to_str().unwrap().to_owned(), key_pem.to_str().unwrap().to_owned())
}

fn serve_tls(db: &str, listen: &str, cert: &str, key: &str) -> Center {
    Center::start(&["--listen", listen, "--db", db, "--tls-cert", cert, "--tls-key", key])
}

/// `radqc` with extra environment (proxies), proxies from the test's own environment removed.
fn radqc_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_radqc"));
    cmd.args(args).stdin(Stdio::null());
    for var in
        ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"]
    {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn sync(db: &str) -> Value {
    serde_json::from_slice(&radqc(&["sync", "--once", "--db", db, "--attempts", "1"], "").stdout).unwrap()
}

fn store(db: &str) -> Store {
    Store::open(Path::new(db), &Key::from_file(&radqc_store::default_key_path(Path::new(db))).unwrap()).unwrap()
}

/// A loopback listener that only notes whether anything connected to it.
struct Witness(TcpListener);

impl Witness {
    fn new() -> Witness {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        Witness(l)
    }
    fn url(&self) -> String {
        format!("http://{}", self.0.local_addr().unwrap())
    }
    fn was_called(&self) -> bool {
        self.0.accept().is_ok()
    }
}

#[test]
fn over_https_a_clinic_enrolls_only_with_the_pinned_center_and_every_sync_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    let center_db = dir.path().join("center.db");
    let center_db = center_db.to_str().unwrap();
    let (cert, key) = certificate(dir.path(), "center");
    let (other_cert, other_key) = certificate(dir.path(), "impostor");
    ok(&["center", "site", "add", "CLINIC-07", "--name", "七里乡卫生院", "--db", center_db], "");
    let enrollment =
        ok(&["center", "device", "enroll", "--site", "CLINIC-07", "--db", center_db, "--tls-cert", &cert], "")
            .trim()
            .to_owned();
    let (code, pin) = enrollment.split_once('#').expect("the code and the pin, as one string");
    assert_eq!(code.len(), 14, "{enrollment}");
    let expected = radqc_sync::Pin::of_pem(&std::fs::read(&cert).unwrap()).unwrap();
    assert_eq!(pin, expected.to_string(), "the pin of the center's key");
    assert!(pin.starts_with("sha256/") && pin.len() == 51, "{pin}");

    let center = serve_tls(center_db, "127.0.0.1:0", &cert, &key);
    assert!(center.url.starts_with("https://127.0.0.1:"), "{}", center.url);
    // An impostor: another center, with a certificate of its own, on another port.
    let impostor_db = dir.path().join("impostor.db");
    let impostor_db = impostor_db.to_str().unwrap();
    ok(&["center", "site", "add", "CLINIC-07", "--name", "假中心", "--db", impostor_db], "");
    let impostor = serve_tls(impostor_db, "127.0.0.1:0", &other_cert, &other_key);

    let qc = dir.path().join("qc.db");
    let qc = qc.to_str().unwrap();
    ok(&["local", "init", "--db", qc], "");
    let fooled = radqc(&["local", "enroll", "--db", qc, "--center", &impostor.url, "--code", &enrollment], "");
    assert!(!fooled.status.success(), "the impostor is refused");
    let words = stderr(&fooled);
    assert!(words.contains("CENTER_PIN_MISMATCH"), "{words}");
    assert!(words.contains(pin), "names the pinned key: {words}");
    let shown = radqc_sync::Pin::of_pem(&std::fs::read(&other_cert).unwrap()).unwrap().to_string();
    assert!(words.contains(&shown), "names the key the server showed: {words}");
    assert!(store(qc).center_link().unwrap().is_none(), "nothing was written");
    assert_eq!(sync(qc)["outcome"], "not_enrolled");

    // Over HTTPS a code alone is not enough, and a pin given apart must agree with the string's.
    let bare = radqc(&["local", "enroll", "--db", qc, "--center", &center.url, "--code", code], "");
    assert!(!bare.status.success() && stderr(&bare).contains("CENTER_PIN_REQUIRED"), "{}", stderr(&bare));
    let two =
        radqc(&["local", "enroll", "--db", qc, "--center", &center.url, "--code", &enrollment, "--pin", &shown], "");
    assert!(!two.status.success() && stderr(&two).contains("CENTER_PIN_INVALID"), "{}", stderr(&two));
    assert!(store(qc).center_link().unwrap().is_none());

    // The real center, its pin given apart from the code this time.
    let out = ok(&["local", "enroll", "--db", qc, "--center", &center.url, "--code", code, "--pin", pin], "");
    assert!(out.contains("at site CLINIC-07") && out.contains(pin), "{out}");
    let status = store(qc).sync_status().unwrap();
    assert_eq!((status.center_trust, status.center_pin.as_deref()), (Some(CenterTrust::Pinned), Some(pin)));
    ok(&["local", "save", "--db", qc], &format!("{}\n{}\n", line("DR1", "IQ", &["IQ-C2"]), line("DR2", "RQ", &[])));
    let outcome = sync(qc);
    assert_eq!((outcome["outcome"].as_str(), outcome["pushed"].as_u64()), (Some("synced"), Some(2)), "{outcome}");

    // The center's address now answers with another key: the next sync stops, sending nothing.
    let listen = center.url.trim_start_matches("https://").to_owned();
    drop(center);
    ok(&["local", "save", "--db", qc], &format!("{}\n", line("DR3", "IQ", &[])));
    let swapped = serve_tls(center_db, &listen, &other_cert, &other_key);
    let outcome = sync(qc);
    assert_eq!(
        (outcome["outcome"].as_str(), outcome["code"].as_str()),
        (Some("stopped"), Some("CENTER_PIN_MISMATCH")),
        "{outcome}"
    );
    assert_eq!(store(qc).outbox_counts().unwrap().pending, 1, "the entry waits");
    drop(swapped);
    // The center again, with its own key (a renewed certificate of the same key would do too).
    let _center = serve_tls(center_db, &listen, &cert, &key);
    let outcome = sync(qc);
    assert_eq!((outcome["outcome"].as_str(), outcome["pushed"].as_u64()), (Some("synced"), Some(1)), "{outcome}");
    let stats: Value =
        serde_json::from_str(ok(&["center", "stats", "--db", center_db], "").lines().next().unwrap()).unwrap();
    assert_eq!(stats["evaluations"].as_i64(), Some(3));
    assert_eq!(ok(&["center", "stats", "--db", impostor_db], "").trim(), "", "the impostor received nothing");
}

#[test]
fn plain_http_goes_only_to_this_machine_unless_accepted_as_insecure() {
    let dir = tempfile::tempdir().unwrap();
    let center_db = dir.path().join("center.db");
    let center_db = center_db.to_str().unwrap();
    ok(&["center", "site", "add", "CLINIC-07", "--name", "七里乡卫生院", "--db", center_db], "");
    let center = Center::serve(center_db);
    let new_code =
        || ok(&["center", "device", "enroll", "--site", "CLINIC-07", "--db", center_db], "").trim().to_owned();
    let init = |name: &str| {
        let qc = dir.path().join(name).to_str().unwrap().to_owned();
        ok(&["local", "init", "--db", &qc], "");
        qc
    };

    // To this machine: taken as it is.
    let local = init("local.db");
    let out = ok(&["local", "enroll", "--db", &local, "--center", &center.url, "--code", &new_code()], "");
    assert!(out.contains("plain HTTP on this machine"), "{out}");
    assert_eq!(store(&local).sync_status().unwrap().center_trust, Some(CenterTrust::Loopback));
    assert_eq!(sync(&local)["outcome"], "synced");

    // Over the network (a name that never resolves; any request would go to the witness, the
    // proxy): refused before any request.
    let remote = "http://qc-center.invalid:8080";
    let witness = Witness::new();
    let qc = init("qc.db");
    let code = new_code();
    let refused = radqc_env(
        &["local", "enroll", "--db", &qc, "--center", remote, "--code", &code],
        &[("HTTP_PROXY", &witness.url()), ("http_proxy", &witness.url())],
    );
    assert!(!refused.status.success() && stderr(&refused).contains("INSECURE_HTTP"), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("--insecure-http"), "says how to accept it: {}", stderr(&refused));
    assert!(!witness.was_called(), "nothing was sent");
    assert!(store(&qc).center_link().unwrap().is_none());
    // A pin is for HTTPS: refused too, before any request.
    let pinned = radqc_env(
        &[
            "local",
            "enroll",
            "--db",
            &qc,
            "--center",
            remote,
            "--code",
            &code,
            "--pin",
            "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        ],
        &[("HTTP_PROXY", &witness.url()), ("http_proxy", &witness.url())],
    );
    assert!(!pinned.status.success() && stderr(&pinned).contains("CENTER_PIN_INVALID"), "{}", stderr(&pinned));
    assert!(!witness.was_called(), "nothing was sent");

    // Accepted with the flag: the center (reached through the loopback proxy here) enrolls the
    // store, which records the link as insecure and keeps syncing over it.
    let proxy = [("HTTP_PROXY", center.url.as_str()), ("http_proxy", center.url.as_str())];
    let out =
        radqc_env(&["local", "enroll", "--db", &qc, "--center", remote, "--code", &code, "--insecure-http"], &proxy);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("insecure"), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(stderr(&out).contains("明文 HTTP") && stderr(&out).contains("warning"), "{}", stderr(&out));
    let status = store(&qc).sync_status().unwrap();
    assert_eq!((status.center.as_deref(), status.center_trust), (Some(remote), Some(CenterTrust::InsecureHttp)));
    ok(&["local", "save", "--db", &qc], &format!("{}\n", line("DR9", "IQ", &[])));
    let synced = radqc_env(&["sync", "--once", "--db", &qc, "--attempts", "1"], &proxy);
    let outcome: Value = serde_json::from_slice(&synced.stdout).unwrap();
    assert_eq!((outcome["outcome"].as_str(), outcome["pushed"].as_u64()), (Some("synced"), Some(1)), "{outcome}");
}
