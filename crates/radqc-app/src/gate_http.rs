//! The gate API on loopback: the reading workstation (not ours) asks before it commits a
//! signature. `POST /v1/sign` with `{"exam": {...}, "signer": "D1"}` answers at once with
//! `{"decision": "go", ...}` when the exam is not sampled; when it is, the panel comes to the
//! front and the answer waits until the score is saved (`go`) or the panel is closed (`go` or
//! `blocked`, by the site's setting). With the report (`"report": {"findings", "impression",
//! "history"?, "prior_available"?}`, else the RIS's text of the exam) the report checks run: a
//! check in `warn` mode holds the signature for the doctor, and the answer is `blocked` with
//! `"reason": "PRECHECK"` and the `proposals` (返回修改) or go (仍然签发). Documented in the README.
//!
//! Architecture Invariant: the gate API acts (records a signing, draws, holds a panel) only on a
//! request that carries the installation's gate token (`Authorization: Bearer <token>`, the
//! token in `gate.token`, readable by the OS user only): the RIS authenticated the signer, and the
//! token proves the request comes from its client on this machine. Any other request is answered
//! `401 GATE_UNAUTHENTICATED` before its body is read as a signing; refusals are audited at most
//! once a minute, with their count.
//!
//! One request per connection (`Connection: close`), read with `httparse`: a few loopback
//! requests a day need no framework, and owning the socket lets a held request notice that the
//! workstation gave up (its connection closed) instead of answering into the void.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{mpsc::RecvTimeoutError, Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{json, Value};

use crate::error::ErrorCode;
use crate::{App, GateAnswer, GateToken, GateView, SignRequest, SignResponse};

/// How long a held signature waits for its score before the workstation is told to go on
/// without one (and the panel forgets it).
pub const HOLD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How often a held request looks whether its workstation is still connected.
const POLL: Duration = Duration::from_millis(200);
/// The most a request head or body may be.
const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 1024 * 1024;
/// A workstation that connects and sends nothing is dropped after this.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Refused requests are audited at most this often (one line with their count), so a flood of
/// them cannot grow the audit log without bound.
const REFUSAL_AUDIT_EVERY: Duration = Duration::from_secs(60);

/// What the shell does when a held signature changes: bring the panel up, or tell it that the
/// workstation stopped waiting.
pub trait GateEvents: Send + Sync + 'static {
    /// A signing is held, or a retry joined its hold (the same gate id): show the panel.
    fn held(&self, gate: &GateView);
    /// Every request waiting on this gate gave up, before its answer or as it came: the panel
    /// (or what it says after its save or close) must say so.
    fn gave_up(&self, gate: &GateView);
}

/// The gate API's settings.
#[derive(Debug, Clone, Copy)]
pub struct GateOptions {
    pub hold_timeout: Duration,
}

impl Default for GateOptions {
    fn default() -> Self {
        GateOptions { hold_timeout: HOLD_TIMEOUT }
    }
}

struct Server {
    app: Arc<Mutex<App>>,
    events: Arc<dyn GateEvents>,
    options: GateOptions,
    token: GateToken,
    refusals: Mutex<Refusals>,
}

/// Refused requests not yet in the audit log, and when the last line was written.
#[derive(Default)]
struct Refusals {
    unaudited: u64,
    last_audit: Option<Instant>,
}

impl Server {
    fn app(&self) -> MutexGuard<'_, App> {
        // A panic while holding the lock leaves the store consistent (transactions roll back).
        self.app.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Binds 127.0.0.1:`port` (0: any free port) and serves each connection on its own thread.
pub fn start(
    port: u16,
    app: Arc<Mutex<App>>,
    events: Arc<dyn GateEvents>,
    options: GateOptions,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    let addr = listener.local_addr()?;
    let token = app.lock().unwrap_or_else(|p| p.into_inner()).gate_token().clone();
    let server = Arc::new(Server { app, events, options, token, refusals: Mutex::default() });
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let server = server.clone();
            std::thread::spawn(move || connection(stream, &server));
        }
    });
    Ok(addr)
}

struct Answer {
    status: u16,
    body: Value,
}

/// An error answer: `code` with the status the catalogue gives it.
fn error(code: ErrorCode, message: &str) -> Answer {
    Answer { status: code.status().unwrap_or(500), body: json!({ "code": code.as_str(), "message": message }) }
}

fn connection(mut stream: TcpStream, server: &Server) {
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let answer = match read_request(&mut stream) {
        Err(answer) => Some(answer),
        Ok(Request { method, path, authorization, body }) => match (method.as_str(), path.as_str()) {
            ("GET", "/v1/health") => Some(Answer { status: 200, body: json!({ "status": "ok" }) }),
            ("POST", "/v1/sign") if !server.token.admits(authorization.as_deref()) => {
                Some(refuse(server, authorization.is_some()))
            }
            ("POST", "/v1/sign") => sign(&body, &stream, server),
            (_, "/v1/health" | "/v1/sign") => {
                Some(error(ErrorCode::MethodNotAllowed, "endpoints: POST /v1/sign, GET /v1/health"))
            }
            _ => Some(error(ErrorCode::NotFound, "endpoints: POST /v1/sign, GET /v1/health")),
        },
    };
    if let Some(Answer { status, body }) = answer {
        let body = body.to_string();
        let reason = match status {
            200 => "OK",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            405 => "Method Not Allowed",
            411 => "Length Required",
            413 => "Payload Too Large",
            422 => "Unprocessable Entity",
            _ => "Service Unavailable",
        };
        let challenge = if status == 401 { "WWW-Authenticate: Bearer\r\n" } else { "" };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\n{challenge}Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes()));
        let _ = stream.flush();
    }
    close_gracefully(&mut stream);
}

/// Closes after the answer without a reset: bytes of the request still unread (a body refused
/// unread, a chunked one) would make the close an RST, and the workstation could lose the answer
/// before reading it. The write side is closed first, then what is left is read and dropped
/// (64 KiB and 200 ms at most; the connection has a thread of its own).
fn close_gracefully(stream: &mut TcpStream) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 4096];
    let mut left = 64 * 1024usize;
    while left > 0 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}

/// A request as read: its method, path, `Authorization` header and body.
struct Request {
    method: String,
    path: String,
    authorization: Option<String>,
    body: Vec<u8>,
}

/// A request without the gate token (or with another): nothing is read as a signing. The audit
/// log gets one line a minute at most, counting the refusals since the last one.
fn refuse(server: &Server, token_given: bool) -> Answer {
    let now = Instant::now();
    let due = {
        let mut refusals = server.refusals.lock().unwrap_or_else(|p| p.into_inner());
        refusals.unaudited += 1;
        let due = refusals.last_audit.is_none_or(|t| now.duration_since(t) >= REFUSAL_AUDIT_EVERY);
        if due {
            refusals.last_audit = Some(now);
            Some(std::mem::take(&mut refusals.unaudited))
        } else {
            None
        }
    };
    if let Some(count) = due {
        let _ = server.app().gate_refused(count, token_given, Utc::now());
    }
    error(
        ErrorCode::GateUnauthenticated,
        "the gate token is missing or wrong: send `Authorization: Bearer <token>` with the token in the app's gate.token",
    )
}

/// Reads one request: its method, path, `Authorization` header and body (by `Content-Length`).
fn read_request(stream: &mut TcpStream) -> Result<Request, Answer> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).map_err(|e| error(ErrorCode::InvalidRequest, &e.to_string()))?;
        if n == 0 {
            return Err(error(ErrorCode::InvalidRequest, "the connection closed before the request was complete"));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => continue,
            Ok(httparse::Status::Partial) => return Err(error(ErrorCode::TooLarge, "the request head is too large")),
            Err(e) => return Err(error(ErrorCode::InvalidRequest, &format!("not an HTTP request: {e}"))),
            Ok(httparse::Status::Complete(head_len)) => {
                let header = |name: &str| {
                    req.headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).trim().to_owned())
                };
                if header("transfer-encoding").is_some() {
                    return Err(error(ErrorCode::LengthRequired, "send the body with a Content-Length"));
                }
                let length = match header("content-length") {
                    None => 0,
                    Some(v) => v.parse::<usize>().map_err(|_| {
                        error(ErrorCode::InvalidRequest, &format!("Content-Length `{v}` is not a number"))
                    })?,
                };
                if length > MAX_BODY {
                    return Err(error(ErrorCode::TooLarge, "the body is larger than 1 MiB"));
                }
                let method = req.method.unwrap_or_default().to_owned();
                let path = req.path.unwrap_or_default().split('?').next().unwrap_or_default().to_owned();
                let authorization = header("authorization");
                let continue_first = header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
                let mut body = buf.split_off(head_len);
                if body.len() < length && continue_first {
                    // curl asks before sending a body over 1 KiB; answering saves it a second's wait.
                    let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
                }
                while body.len() < length {
                    let n = stream.read(&mut chunk).map_err(|e| error(ErrorCode::InvalidRequest, &e.to_string()))?;
                    if n == 0 {
                        return Err(error(
                            ErrorCode::InvalidBody,
                            "the connection closed before the body was complete",
                        ));
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
                body.truncate(length);
                return Ok(Request { method, path, authorization, body });
            }
        }
    }
}

/// Whether the workstation closed its connection (it gave up waiting). It sent its whole
/// request, so anything readable now is either the end of the stream or a protocol error.
fn workstation_gone(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let gone = match stream.peek(&mut [0u8; 1]) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    };
    let _ = stream.set_nonblocking(false);
    gone
}

/// Asks the app; for a held signing waits for the answer, or returns `None` when the
/// workstation gave up (nobody is left to answer).
fn sign(body: &[u8], stream: &TcpStream, server: &Server) -> Option<Answer> {
    let req: SignRequest = match std::str::from_utf8(body)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str(text).map_err(|e| e.to_string()))
    {
        Ok(r) => r,
        Err(e) => return Some(error(ErrorCode::InvalidBody, &e)),
    };
    let asked = server.app().sign(&req, Utc::now());
    let (gate, waiter, decision) = match asked {
        // The app's refusal, with the status its code has in the catalogue (the request's fault,
        // 400, unless the code says otherwise: a full disk is not the workstation's doing).
        Err(e) => {
            let status = e.code.parse::<radqc_domain::ErrorCode>().ok().and_then(|c| c.status()).unwrap_or(400);
            return Some(Answer { status, body: json!({ "code": e.code, "message": e.message_en }) });
        }
        Ok(SignResponse::Go { decision }) => {
            return Some(Answer { status: 200, body: json!({ "decision": "go", "sampled": false, "draw": decision }) })
        }
        Ok(SignResponse::Hold { gate, waiter, decision, .. }) => (gate, waiter, decision),
    };
    server.events.held(&gate);
    let held_for = (Utc::now() - gate.waiting_since).to_std().unwrap_or_default();
    let deadline = Instant::now() + server.options.hold_timeout.saturating_sub(held_for);
    let answer = loop {
        match waiter.answer.recv_timeout(POLL) {
            Ok(answer) => break answer,
            // The gate is gone without an answer for us (cannot happen while the app runs).
            Err(RecvTimeoutError::Disconnected) => break GateAnswer::Go { evaluations: vec![] },
            Err(RecvTimeoutError::Timeout) if workstation_gone(stream) => {
                let gave_up = server.app().gate_gave_up(&waiter, Utc::now());
                if let Ok(Some(view)) = gave_up {
                    server.events.gave_up(&view);
                }
                return None;
            }
            Err(RecvTimeoutError::Timeout) if Instant::now() >= deadline => {
                // Answers every request of this gate with go; ours arrives on the next turn.
                let _ = server.app().gate_timed_out(&gate.id, Utc::now());
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
    };
    if workstation_gone(stream) {
        // It gave up in the moment between two looks: the answer reaches nobody, and the panel
        // must not go on saying it released (or refused) the signature.
        let lost = server.app().gate_answer_lost(&waiter, Utc::now());
        if let Ok(Some(view)) = lost {
            server.events.gave_up(&view);
        }
        return None;
    }
    // A hold of the report checks' warning alone (the draw said not sampled) is sampled when the
    // doctor signed anyway.
    let sampled = decision.sampled
        || (matches!(answer, GateAnswer::Go { .. })
            && !gate.precheck.is_empty()
            && server.app().signed_anyway(&gate.precheck).unwrap_or(false));
    let mut body = serde_json::to_value(&answer).expect("the answer serializes");
    body["sampled"] = Value::Bool(sampled);
    body["draw"] = serde_json::to_value(decision).expect("the decision serializes");
    Some(Answer { status: 200, body })
}
