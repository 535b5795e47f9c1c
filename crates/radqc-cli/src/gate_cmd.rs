//! `radqc gate`: the command-line hook for reading workstations that cannot make an HTTP call
//! themselves. It forwards the signing to the app's loopback gate API, with the installation's
//! gate token (`Authorization: Bearer`, read from the app's `gate.token`), and waits.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::ValueEnum;
use serde_json::{json, Value};

#[derive(Clone, Copy, ValueEnum)]
pub enum WhenDown {
    Allow,
    Block,
}

/// Exit code for "do not commit the signature".
const BLOCKED: u8 = 3;
/// Exit code for "RadQC quit while the signing was held": no answer, neither go nor blocked.
const APP_QUIT: u8 = 4;
/// Exit code for "no gate token": its file is missing, unreadable or not a token, or the app
/// refused it (another installation's). Nothing was sent, or the app acted on nothing.
const NO_TOKEN: u8 = 5;

/// The desktop app's identifier: its data folder's name (Tauri's `app_data_dir`).
const DESKTOP_APP_ID: &str = "cn.radqc.desktop";
/// The token file's name in the app's data folder (`radqc_app::GATE_TOKEN_FILE`).
const TOKEN_FILE: &str = "gate.token";

/// The token file the desktop app makes in its default data folder.
fn default_token_file() -> Result<PathBuf> {
    let data = dirs::data_dir().context("no data folder for this user (pass --token-file)")?;
    Ok(data.join(DESKTOP_APP_ID).join(TOKEN_FILE))
}

/// Reads the token: 64 hexadecimal characters.
fn read_token(path: &Path) -> std::result::Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "no gate token file {}: start the RadQC app once (it makes it), or pass --token-file \
             (or RADQC_GATE_TOKEN_FILE) with the `gate.token` of the app's data folder",
            path.display()
        ),
        _ => format!("cannot read the gate token file {}: {e}", path.display()),
    })?;
    let token = text.trim();
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("the gate token file {} does not hold 64 hexadecimal characters", path.display()));
    }
    Ok(token.to_owned())
}

/// The answer when the app is not running, as `--when-app-down` says.
fn app_down(when_down: WhenDown) -> (Value, ExitCode) {
    match when_down {
        WhenDown::Allow => (json!({"decision": "go", "app_down": true}), ExitCode::SUCCESS),
        WhenDown::Block => (
            json!({"decision": "blocked", "app_down": true, "reason": "RadQC is not running"}),
            ExitCode::from(BLOCKED),
        ),
    }
}

pub fn run(port: u16, when_down: WhenDown, token_file: Option<PathBuf>) -> Result<ExitCode> {
    let mut body = String::new();
    std::io::stdin().read_to_string(&mut body).context("cannot read stdin")?;
    let request: Value =
        serde_json::from_str(&body).context("stdin is not JSON: expected {\"exam\": {...}, \"signer\": \"D1\"}")?;
    let token_file = match token_file {
        Some(path) => path,
        None => default_token_file()?,
    };
    let token = match read_token(&token_file) {
        Ok(token) => token,
        Err(problem) => {
            // An app that is not running answers as `--when-app-down` says, token or not.
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            if std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err() {
                let (answer, code) = app_down(when_down);
                println!("{answer}");
                return Ok(code);
            }
            eprintln!("radqc gate: {problem} (exit {NO_TOKEN})");
            return Ok(ExitCode::from(NO_TOKEN));
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let client = radqc_sync::client_builder().connect_timeout(Duration::from_secs(2)).build()?;
    let sent = runtime.block_on(async {
        let resp =
            client.post(format!("http://127.0.0.1:{port}/v1/sign")).bearer_auth(&token).json(&request).send().await?;
        let status = resp.status();
        let answer: Value = resp.json().await?;
        Ok::<_, reqwest::Error>((status, answer))
    });
    let (answer, code) = match sent {
        Ok((status, answer)) if status.is_success() => {
            let blocked = answer["decision"] == "blocked";
            (answer, if blocked { ExitCode::from(BLOCKED) } else { ExitCode::SUCCESS })
        }
        Ok((status, answer)) if status == reqwest::StatusCode::UNAUTHORIZED => {
            eprintln!(
                "radqc gate: the app refused the gate token of {}: it is not this installation's \
                 (pass the running app's data folder's `gate.token` with --token-file) (exit {NO_TOKEN})",
                token_file.display()
            );
            (answer, ExitCode::from(NO_TOKEN))
        }
        Ok((_, answer)) => {
            eprintln!("radqc gate: the app refused the request: {}", answer["message"].as_str().unwrap_or("?"));
            (answer, ExitCode::from(2))
        }
        Err(e) if e.is_connect() => app_down(when_down),
        // Connected and sent, then the connection closed without an answer: the app quit (or
        // crashed) while the signing was held. The sample was not scored and nobody decided.
        Err(e) if e.is_request() || e.is_body() => {
            eprintln!(
                "radqc gate: RadQC quit while the signing was held: no QC answer (exit {APP_QUIT}); \
                 sign again once RadQC runs, or treat it as --when-app-down says"
            );
            (
                json!({"decision": "none", "app_quit": true, "reason": "RadQC quit while the signing was held"}),
                ExitCode::from(APP_QUIT),
            )
        }
        Err(e) => return Err(e).context("the gate call failed"),
    };
    println!("{answer}");
    Ok(code)
}
