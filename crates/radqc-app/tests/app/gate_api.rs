//! The gate API on loopback against the real application layer (a demo store): a retried
//! signing joins its hold, a workstation that gave up is noticed, an exam whose film or
//! reconstruction is unknown is not scored on FL or TR by default, and a signing without a
//! performing time counts in the workload at its signing time, and a signer who is not in the
//! roster is refused (422 `UNKNOWN_SIGNER`) with nothing recorded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;
use radqc_app::gate_http::{self, GateEvents, GateOptions};
use radqc_app::{App, AppConfig, GateView, PanelClosedPolicy, PanelSave, ReportScope};
use serde_json::{json, Value};

#[derive(Default)]
struct Events {
    seen: Mutex<(Vec<GateView>, Vec<GateView>)>,
    changed: Condvar,
}

impl GateEvents for Events {
    fn held(&self, gate: &GateView) {
        self.seen.lock().unwrap().0.push(gate.clone());
        self.changed.notify_all();
    }
    fn gave_up(&self, gate: &GateView) {
        self.seen.lock().unwrap().1.push(gate.clone());
        self.changed.notify_all();
    }
}

impl Events {
    /// Waits until `held` events number `held` and `gave_up` events `gave_up`; returns both lists.
    fn wait(&self, held: usize, gave_up: usize) -> (Vec<GateView>, Vec<GateView>) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = self.seen.lock().unwrap();
        while seen.0.len() < held || seen.1.len() < gave_up {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "waited 10 s for {held} held and {gave_up} gave-up events: {:?}", seen.0.len());
            seen = self.changed.wait_timeout(seen, left).unwrap().0;
        }
        seen.clone()
    }
}

struct Gate {
    _dir: tempfile::TempDir,
    app: Arc<Mutex<App>>,
    events: Arc<Events>,
    addr: SocketAddr,
    /// The token a workstation's client reads from `gate.token` in the app's data folder.
    token: String,
}

impl Gate {
    fn start(policy: PanelClosedPolicy) -> Gate {
        let dir = tempfile::tempdir().unwrap();
        let config = AppConfig {
            data_dir: dir.path().join("data"),
            demo: true,
            when_panel_closed: policy,
            idle_lock: radqc_app::DEFAULT_IDLE_LOCK,
        };
        let app = Arc::new(Mutex::new(App::open(config, Utc::now()).unwrap()));
        let events = Arc::new(Events::default());
        let addr = gate_http::start(0, app.clone(), events.clone(), GateOptions::default()).unwrap();
        let token = std::fs::read_to_string(dir.path().join("data").join("gate.token")).unwrap().trim().to_owned();
        Gate { _dir: dir, app, events, addr, token }
    }

    fn app(&self) -> MutexGuard<'_, App> {
        self.app.lock().unwrap()
    }

    /// Sends a signing as a workstation does and leaves the connection open for the answer.
    fn post(&self, body: &Value) -> TcpStream {
        self.post_as(body, Some(&format!("Bearer {}", self.token)))
    }

    /// Sends a signing with the given `Authorization` header (or none).
    fn post_as(&self, body: &Value, authorization: Option<&str>) -> TcpStream {
        let body = body.to_string();
        let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
        let mut s = TcpStream::connect(self.addr).unwrap();
        write!(
            s,
            "POST /v1/sign HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        s
    }

    fn bearer(&self) -> String {
        format!("Authorization: Bearer {}", self.token)
    }
}

/// Reads the whole answer: the status and the JSON body.
fn answer(mut s: TcpStream) -> (u16, Value) {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text}")))
}

/// The README's gate example (a plain chest CT: nothing said about film or reconstruction),
/// as a follow-up case, which the default rules always sample.
fn signing(accession: &str) -> Value {
    json!({
        "exam": {"accession": accession, "modality": "CT", "exam_item": "CT胸部平扫",
                 "department": "放射科", "patient_source": "outpatient", "follow_up": true,
                 "staff": {"technologist": "A1", "reporting_doctor": "D1"}},
        "signer": "D1"
    })
}

fn save(gate: &GateView, items: &[&str], facts: Value) -> PanelSave {
    let items: Vec<Value> = items.iter().map(|i| json!({"item": i, "findings": []})).collect();
    serde_json::from_value(json!({
        "accession": gate.accession, "mode": "random", "gate_id": gate.id, "items": items, "facts": facts
    }))
    .unwrap()
}

fn audited(app: &App, action: &str, subject: &str) -> usize {
    app.store()
        .audit_log()
        .unwrap()
        .iter()
        .filter(|e| e.action == action && e.subject.as_deref() == Some(subject))
        .count()
}

#[test]
fn a_retried_signing_joins_its_hold_and_both_requests_get_the_same_answer() {
    let gate = Gate::start(PanelClosedPolicy::Block);
    let first = gate.post(&signing("CT-RETRY-1"));
    let (held, _) = gate.events.wait(1, 0);
    // The workstation's own timeout fired, or the doctor clicked 签名 again: the same signing.
    let second = gate.post(&signing("CT-RETRY-1"));
    let (held_again, _) = gate.events.wait(2, 0);
    assert_eq!(held_again[1].id, held[0].id, "the retry gets the same hold");
    assert_eq!(gate.app().pending_gates().len(), 1, "one panel, not two");
    {
        let app = gate.app();
        assert_eq!(audited(&app, "sampled", "CT-RETRY-1"), 1, "one draw for one signing");
        assert_eq!(audited(&app, "sign_retried", "CT-RETRY-1"), 1);
    }

    let saved = {
        let mut app = gate.app();
        app.sign_in("D1", radqc_app::DEMO_SECRET, Utc::now()).unwrap();
        app.save_panel(&save(&held[0], &["IQ"], json!({})), Utc::now()).unwrap()
    };
    let (a, b) = (answer(first), answer(second));
    assert_eq!(a, b, "both waiting requests get the same answer");
    assert_eq!(a.0, 200);
    assert_eq!(a.1["decision"], "go");
    assert_eq!(a.1["evaluations"], json!([saved[0].id]));
    let app = gate.app();
    let evaluations = app.store().evaluations_of(None, "CT-RETRY-1").unwrap();
    assert_eq!(evaluations.len(), 1, "one QC for one signing");
    assert!(app.pending_gates().is_empty());
}

#[test]
fn closing_a_retried_hold_blocks_both_requests() {
    let gate = Gate::start(PanelClosedPolicy::Block);
    let first = gate.post(&signing("CT-RETRY-2"));
    gate.events.wait(1, 0);
    let second = gate.post(&signing("CT-RETRY-2"));
    let (held, _) = gate.events.wait(2, 0);
    let released = gate.app().close_gate(&held[0].id, Utc::now()).unwrap();
    assert_eq!(released.delivered, 2);
    let (a, b) = (answer(first), answer(second));
    assert_eq!(a, b);
    assert_eq!(a.1["decision"], "blocked");
    // Another signer of the same exam is another signing: a hold of its own.
    let mut other = signing("CT-RETRY-2");
    other["signer"] = json!("D2");
    let third = gate.post(&other);
    let (held, _) = gate.events.wait(3, 0);
    assert_ne!(held[2].id, held[0].id);
    gate.app().close_gate(&held[2].id, Utc::now()).unwrap();
    assert_eq!(answer(third).1["decision"], "blocked");
}

#[test]
fn a_workstation_that_gave_up_is_shown_on_the_panel_and_its_score_still_counts() {
    let gate = Gate::start(PanelClosedPolicy::Block);
    let client = gate.post(&signing("CT-GONE-1"));
    let (held, _) = gate.events.wait(1, 0);
    assert!(held[0].workstation_waiting);
    drop(client); // the workstation's HTTP timeout: its connection closes
    let (_, gave_up) = gate.events.wait(1, 1);
    assert_eq!(gave_up[0].id, held[0].id);
    assert!(!gave_up[0].workstation_waiting);
    assert!(!gate.app().pending_gates()[0].workstation_waiting, "the panel learns it from pending_gates too");

    // It signs again: the same hold, waited on again.
    let retry = gate.post(&signing("CT-GONE-1"));
    let (held_again, _) = gate.events.wait(2, 1);
    assert_eq!(held_again[1].id, held[0].id);
    assert!(held_again[1].workstation_waiting);
    drop(retry);
    gate.events.wait(2, 2);

    // Nobody waits now. The score is saved and counts; closing would tell nobody either.
    let mut app = gate.app();
    app.sign_in("D1", radqc_app::DEMO_SECRET, Utc::now()).unwrap();
    let saved = app.save_panel(&save(&held[0], &["IQ"], json!({})), Utc::now()).unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(audited(&app, "gate_answer_undelivered", &held[0].id), 1);
    assert_eq!(audited(&app, "workstation_gave_up", &held[0].id), 2);
    assert_eq!(app.store().evaluations_of(None, "CT-GONE-1").unwrap().len(), 1);
}

#[test]
fn a_workstation_that_gives_up_as_the_panel_is_saved_is_reported_too() {
    let gate = Gate::start(PanelClosedPolicy::Block);
    let client = gate.post(&signing("CT-GONE-3"));
    let (held, _) = gate.events.wait(1, 0);
    let mut app = gate.app();
    app.sign_in("D1", radqc_app::DEMO_SECRET, Utc::now()).unwrap();
    // Gone between two looks at the socket, and saved at once: whichever comes first, the
    // panel hears that nobody got the answer, exactly once.
    drop(client);
    app.save_panel(&save(&held[0], &["IQ"], json!({})), Utc::now()).unwrap();
    drop(app);
    let (_, gave_up) = gate.events.wait(1, 1);
    assert_eq!(gave_up[0].id, held[0].id);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(gate.events.wait(1, 1).1.len(), 1);
    assert_eq!(audited(&gate.app(), "gate_answer_undelivered", &held[0].id), 1);
}

#[test]
fn closing_the_panel_after_the_workstation_gave_up_says_nobody_got_the_answer() {
    let gate = Gate::start(PanelClosedPolicy::Block);
    drop(gate.post(&signing("CT-GONE-2")));
    let (held, _) = gate.events.wait(1, 1);
    let released = gate.app().close_gate(&held[0].id, Utc::now()).unwrap();
    assert_eq!(released.delivered, 0, "the panel must not say the signature was refused");
}

#[test]
fn film_and_reconstruction_unknown_are_not_scored_unless_the_reviewer_states_them() {
    let gate = Gate::start(PanelClosedPolicy::Block);
    let client = gate.post(&signing("CT-FACTS-1"));
    let (held, _) = gate.events.wait(1, 0);
    let items: Vec<&str> = held[0].items.iter().map(|i| i.as_str()).collect();
    assert!(items.contains(&"FL") && items.contains(&"TR"), "offered, for the reviewer to state: {items:?}");
    assert_eq!(held[0].exam.exam.film_printed, None);
    let mut app = gate.app();
    app.sign_in("D1", radqc_app::DEMO_SECRET, Utc::now()).unwrap();

    // The old one Enter: every offered item as all met. TR = 5 for work nobody did is refused,
    // and nothing of the panel is saved.
    let err = app.save_panel(&save(&held[0], &items, json!({})), Utc::now()).unwrap_err();
    assert_eq!(err.code, "FACT_UNKNOWN", "{err:?}");
    assert!(err.message_en.contains("film_printed"), "{}", err.message_en);
    assert!(app.store().evaluations_of(None, "CT-FACTS-1").unwrap().is_empty(), "all or nothing");
    assert_eq!(app.pending_gates().len(), 1, "still held");

    // Stated in the panel: film printed (FL scored), no reconstruction asked about (TR left out).
    let saved = app.save_panel(&save(&held[0], &["IQ", "FL"], json!({"film_printed": true})), Utc::now()).unwrap();
    assert_eq!(saved.iter().map(|e| e.item.as_str()).collect::<Vec<_>>(), ["IQ", "FL"]);
    let exam = app.exam_detail("CT-FACTS-1", false).unwrap().exam.exam;
    assert_eq!((exam.film_printed, exam.reconstruction), (Some(true), None), "the stated fact is kept");
    drop(app);
    assert_eq!(answer(client).1["decision"], "go");
}

#[test]
fn an_exam_signed_through_the_gate_counts_in_the_workload_at_its_signing_time() {
    let gate = Gate::start(PanelClosedPolicy::Allow);
    // The site's local month of the signing (a UTC month would be the wrong one for 8 hours).
    let zone = gate.app().store().time_zone().unwrap();
    let month = zone.month_at(Utc::now()).to_string();
    let scope: ReportScope = serde_json::from_value(json!({"from": month, "to": month})).unwrap();
    let workload = |app: &App| app.report_view(&scope).unwrap().workload.total;
    let before = {
        let mut app = gate.app();
        app.sign_in("Q1", radqc_app::DEMO_SECRET, Utc::now()).unwrap();
        workload(&app)
    };
    let client = gate.post(&signing("CT-WORK-1"));
    let (held, _) = gate.events.wait(1, 0);
    let app_now = {
        let mut app = gate.app();
        app.close_gate(&held[0].id, Utc::now()).unwrap();
        workload(&app)
    };
    assert_eq!(answer(client).1["decision"], "go");
    assert_eq!(app_now, before + 1, "the gate-signed exam is technologist A1's work this month");
    let app = gate.app();
    let listed = app.report_workload_exams(&scope, Some("A1"), Some("CT")).unwrap();
    let exam = &listed.iter().find(|e| e.exam.accession == "CT-WORK-1").expect("listed behind figure 5").exam;
    assert_eq!(exam.performed_at_source, Some(radqc_protocol::PerformedAtSource::Signed));
    // The marker travels to the center with the exam.
    let outbox = app.store().outbox().unwrap();
    let payload: Value = serde_json::from_str(&outbox.last().unwrap().payload).unwrap();
    assert_eq!(payload["exam"]["performed_at_source"], "signed", "{payload}");
}

/// Sends `head` (and then `body`) on a fresh connection and reads the whole answer.
fn raw(gate: &Gate, head: &str, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(gate.addr).unwrap();
    write!(s, "{head}\r\n\r\n{body}").unwrap();
    answer(s)
}

#[test]
fn the_gate_api_answers_every_request_with_the_envelope() {
    let gate = Gate::start(PanelClosedPolicy::Block);
    assert_eq!(raw(&gate, "GET /v1/health HTTP/1.1", ""), (200, json!({"status": "ok"})));
    let (status, body) = raw(&gate, "GET /v1/sign HTTP/1.1", "");
    assert_eq!((status, body["code"].as_str()), (405, Some("METHOD_NOT_ALLOWED")));
    let (status, body) = raw(&gate, "POST /v2/sign HTTP/1.1\r\nContent-Length: 0", "");
    assert_eq!((status, body["code"].as_str()), (404, Some("NOT_FOUND")));
    let head = format!("POST /v1/sign HTTP/1.1\r\n{}\r\nContent-Length: 8", gate.bearer());
    let (status, body) = raw(&gate, &head, "not json");
    assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_BODY")));
    let (status, body) = raw(&gate, "POST /v1/sign HTTP/1.1\r\nTransfer-Encoding: chunked", "0\r\n\r\n");
    assert_eq!((status, body["code"].as_str()), (411, Some("LENGTH_REQUIRED")));
    assert!(gate.app().pending_gates().is_empty());

    // curl sends a body over 1 KiB only after `100 Continue`.
    let mut s = TcpStream::connect(gate.addr).unwrap();
    write!(s, "POST /v1/sign HTTP/1.1\r\n{}\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", gate.bearer())
        .unwrap();
    let mut interim = [0u8; 25];
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    write!(s, "{{}}").unwrap();
    let (status, body) = answer(s);
    assert_eq!(status, 400, "{body}");
}

#[test]
fn a_gate_signed_exam_with_its_general_data_can_be_a_qualified_case() {
    let gate = Gate::start(PanelClosedPolicy::Allow);
    // The site's local month of the signing (a UTC month would be the wrong one for 8 hours).
    let zone = gate.app().store().time_zone().unwrap();
    let month = zone.month_at(Utc::now()).to_string();
    let scope: ReportScope = serde_json::from_value(json!({"from": month, "to": month})).unwrap();
    let indicators = |app: &App| {
        let i = app.report_view(&scope).unwrap().indicators;
        (i.sampled, i.qualified)
    };
    // Complete general data (5.3 a) but for a performing time, which the workstation never sends.
    let mut body = signing("CT-QUAL-1");
    body["exam"]["patient"] = json!({"id": "P-Q1", "sex": "F", "age": 47});
    body["exam"]["staff"]["auditing_doctor"] = json!("D2");
    let client = gate.post(&body);
    let (held, _) = gate.events.wait(1, 0);
    gate.app().close_gate(&held[0].id, Utc::now()).unwrap();
    assert_eq!(answer(client).1["decision"], "go");

    // Its report quality scored afterwards (active QC), both passing.
    let mut app = gate.app();
    app.sign_in("Q1", radqc_app::DEMO_SECRET, Utc::now()).unwrap();
    let (sampled, qualified) = indicators(&app);
    let save: PanelSave = serde_json::from_value(json!({
        "accession": "CT-QUAL-1", "mode": "active",
        "items": [{"item": "RQ", "findings": []}, {"item": "AR", "findings": []}]
    }))
    .unwrap();
    app.save_panel(&save, Utc::now()).unwrap();
    let facts = app.report_evaluations(&scope, &serde_json::from_value(json!({})).unwrap()).unwrap();
    let ours: Vec<_> = facts.iter().filter(|f| f.accession == "CT-QUAL-1").collect();
    assert_eq!(ours.len(), 2);
    assert!(ours.iter().all(|f| f.general_data_complete), "the signing time is its exam date");
    assert_eq!(indicators(&app), (sampled + 1, qualified + 1), "sampled, and qualified");
}

/// A request refused for its token: the 401 envelope, and nothing recorded, drawn or held.
fn assert_refused_and_nothing_opened(gate: &Gate, accession: &str, authorization: Option<&str>) {
    let (status, body) = answer(gate.post_as(&signing(accession), authorization));
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "GATE_UNAUTHENTICATED", "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("Authorization: Bearer")), "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(2), "the envelope {{code, message}}: {body}");
    let app = gate.app();
    assert!(app.pending_gates().is_empty(), "no panel");
    assert!(gate.events.seen.lock().unwrap().0.is_empty(), "the panel was not brought up");
    for action in ["sampled", "not_sampled", "sign_retried"] {
        assert_eq!(audited(&app, action, accession), 0, "no draw ({action})");
    }
    assert!(app.store().exam(None, accession).unwrap().is_none(), "the signing was not recorded");
}

fn refusal_lines(app: &App) -> Vec<Value> {
    let log = app.store().audit_log().unwrap();
    log.iter()
        .filter(|e| e.action == "gate_unauthenticated")
        .map(|e| serde_json::from_str(e.detail.as_deref().unwrap_or("null")).unwrap())
        .collect()
}

#[test]
fn a_signing_without_the_gate_token_is_refused_and_opens_nothing() {
    let gate = Gate::start(PanelClosedPolicy::Block);
    assert_refused_and_nothing_opened(&gate, "CT-NOAUTH-1", None);
    assert_eq!(refusal_lines(&gate.app()), [json!({"refused": 1, "last": "no_token"})], "one audit line");
    // The same request with the token is taken: the refusal was for the token alone.
    let client = gate.post(&signing("CT-NOAUTH-2"));
    let held = gate.events.wait(1, 0).0[0].clone();
    assert_eq!(held.accession, "CT-NOAUTH-2");
    gate.app().close_gate(&held.id, Utc::now()).unwrap();
    assert_eq!(answer(client).0, 200);
}

#[test]
fn a_signing_with_a_wrong_gate_token_is_refused_the_same_way() {
    let gate = Gate::start(PanelClosedPolicy::Block);
    let mut wrong = gate.token.clone().into_bytes();
    wrong[63] = if wrong[63] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    assert_refused_and_nothing_opened(&gate, "CT-BADAUTH-1", Some(&format!("Bearer {wrong}")));
    // Not a bearer token, or the token cut short or padded, is no better.
    assert_refused_and_nothing_opened(&gate, "CT-BADAUTH-2", Some(&format!("Basic {}", gate.token)));
    assert_refused_and_nothing_opened(&gate, "CT-BADAUTH-3", Some(&format!("Bearer {}", &gate.token[..32])));
    assert_refused_and_nothing_opened(&gate, "CT-BADAUTH-4", Some(&format!("Bearer {}00", gate.token)));
    assert_refused_and_nothing_opened(&gate, "CT-BADAUTH-5", Some("Bearer"));
    // The first refusal is audited at once; the ones within the minute after it are counted for
    // the next line, so a flood of them does not grow the audit log.
    for _ in 0..20 {
        assert_eq!(answer(gate.post_as(&signing("CT-FLOOD"), None)).0, 401);
    }
    assert_eq!(refusal_lines(&gate.app()), [json!({"refused": 1, "last": "wrong_token"})]);
}

#[test]
fn the_gate_token_is_made_once_readable_by_the_user_only_and_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = || AppConfig {
        data_dir: data.clone(),
        demo: true,
        when_panel_closed: PanelClosedPolicy::Block,
        idle_lock: radqc_app::DEFAULT_IDLE_LOCK,
    };
    drop(App::open(config(), Utc::now()).unwrap());
    let file = data.join(radqc_app::GATE_TOKEN_FILE);
    let token = std::fs::read_to_string(&file).unwrap();
    assert!(token.trim().len() == 64 && token.trim().bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    drop(App::open(config(), Utc::now()).unwrap());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), token, "a second start keeps the token");
    assert!(!data.join("gate.token.tmp").exists());
    // A first start stopped between linking the token into place and removing its staged name.
    #[cfg(unix)]
    {
        std::fs::hard_link(&file, data.join("gate.token.tmp")).unwrap();
        drop(App::open(config(), Utc::now()).unwrap());
        assert!(!data.join("gate.token.tmp").exists(), "the staged name is cleaned up");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), token);
    }

    // A token file that is not well-formed is an error naming it, and is left as it is.
    std::fs::write(&file, "not a token\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let Err(err) = App::open(config(), Utc::now()) else { panic!("opened") };
    assert_eq!(err.code, "GATE_TOKEN_FILE");
    assert!(
        err.message_en.contains(&file.display().to_string()) && err.message_en.contains("64 hexadecimal"),
        "{err:?}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a token\n", "not replaced");

    // One that other users may read is refused (it may be known to them), its mode left alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(&file, &token).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let Err(err) = App::open(config(), Utc::now()) else { panic!("opened") };
        assert_eq!(err.code, "GATE_TOKEN_FILE");
        assert!(err.message_en.contains(&file.display().to_string()) && err.message_en.contains("644"), "{err:?}");
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o644, "not silently fixed");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), token);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        drop(App::open(config(), Utc::now()).unwrap());
    }
}

#[test]
fn a_signer_who_is_not_in_the_roster_is_answered_422_and_nothing_is_opened() {
    let gate = Gate::start(PanelClosedPolicy::Block);
    let mut body = signing("CT-UNKNOWN-SIGNER");
    body["signer"] = json!("ZZ9");
    let (status, answer_body) = answer(gate.post(&body));
    assert_eq!(status, 422, "{answer_body}");
    assert_eq!(answer_body["code"], "UNKNOWN_SIGNER", "{answer_body}");
    assert!(answer_body["message"].as_str().unwrap().contains("ZZ9"), "{answer_body}");
    let mut app = gate.app();
    assert!(app.pending_gates().is_empty(), "no panel");
    app.sign_in("Q1", radqc_app::DEMO_SECRET, Utc::now()).unwrap();
    assert_eq!(app.exam_detail("CT-UNKNOWN-SIGNER", false).unwrap_err().code, "UNKNOWN_EXAM", "nothing recorded");
    for action in ["sampled", "not_sampled", "sign_retried"] {
        assert_eq!(audited(&app, action, "CT-UNKNOWN-SIGNER"), 0, "no draw ({action})");
    }
}

/// The report checks over the wire: a signing with a wrong side is held; 返回修改 answers
/// `blocked` with `PRECHECK` and the proposals, 仍然签发 answers go with `sampled: true` (the draw
/// said not); a report field of the wrong type is refused 400 naming it, with nothing recorded.
#[test]
fn a_report_warning_is_answered_over_the_gate_api() {
    let gate = Gate::start(PanelClosedPolicy::Block);
    let rules =
        json!({"version": "t-none", "monthly_min_per_staff": 0, "rules": [{"name": "none", "probability": 0.0}]});
    let item = radqc_protocol::FeedItem {
        cursor: 1,
        kind: radqc_protocol::FeedKind::Sampling,
        site: None,
        body: rules,
        published_at: Utc::now(),
    };
    gate.app().store_mut().save_feed_items(&[item], Utc::now()).unwrap();
    let knee = |accession: &str| {
        json!({
            "exam": {"accession": accession, "modality": "DR", "exam_item": "DR左膝关节正侧位",
                     "patient_source": "outpatient", "staff": {"reporting_doctor": "D1"}},
            "signer": "D1",
            "report": {"findings": "右膝关节间隙变窄，右膝关节边缘骨质增生。", "impression": "右膝关节退行性变。"}
        })
    };
    let s = gate.post(&knee("DR-GATE-1"));
    let (held, _) = gate.events.wait(1, 0);
    assert_eq!(held[0].precheck.len(), 1);
    let chosen = gate.app().precheck_choose(&held[0].id, false, Utc::now()).unwrap();
    assert!(chosen.released.is_some());
    let (status, body) = answer(s);
    assert_eq!(status, 200);
    assert_eq!((body["decision"].as_str(), body["reason"].as_str()), (Some("blocked"), Some("PRECHECK")), "{body}");
    assert_eq!(body["proposals"][0]["check"], "laterality");
    assert_eq!(body["proposals"][0]["criterion"], "RQ-S2");
    assert_eq!(body["sampled"], false);

    let s = gate.post(&knee("DR-GATE-2"));
    let (held, _) = gate.events.wait(2, 0);
    gate.app().precheck_choose(&held[1].id, true, Utc::now()).unwrap();
    let (status, body) = answer(s);
    assert_eq!((status, body["decision"].as_str(), body["sampled"].as_bool()), (200, Some("go"), Some(true)), "{body}");

    let mut bad = knee("DR-GATE-3");
    bad["report"]["impression"] = json!(42);
    let (status, body) = answer(gate.post(&bad));
    assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_BODY")));
    assert!(body["message"].as_str().unwrap().contains("report.impression"), "{body}");
    assert!(gate.app().store().exam(None, "DR-GATE-3").unwrap().is_none(), "nothing recorded");
}
