//! `radqc gate`: the command-line hook for reading workstations that cannot make an HTTP call
//! themselves. It forwards the signing to the app's loopback gate API and waits.

use std::io::Read;
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

pub fn run(port: u16, when_down: WhenDown) -> Result<ExitCode> {
    let mut body = String::new();
    std::io::stdin().read_to_string(&mut body).context("cannot read stdin")?;
    let request: Value =
        serde_json::from_str(&body).context("stdin is not JSON: expected {\"exam\": {...}, \"signer\": \"D1\"}")?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let client = radqc_sync::client_builder().connect_timeout(Duration::from_secs(2)).build()?;
    let sent = runtime.block_on(async {
        let resp = client.post(format!("http://127.0.0.1:{port}/v1/sign")).json(&request).send().await?;
        let status = resp.status();
        let answer: Value = resp.json().await?;
        Ok::<_, reqwest::Error>((status, answer))
    });
    let (answer, code) = match sent {
        Ok((status, answer)) if status.is_success() => {
            let blocked = answer["decision"] == "blocked";
            (answer, if blocked { ExitCode::from(BLOCKED) } else { ExitCode::SUCCESS })
        }
        Ok((_, answer)) => {
            eprintln!("radqc gate: the app refused the request: {}", answer["message"].as_str().unwrap_or("?"));
            (answer, ExitCode::from(2))
        }
        Err(e) if e.is_connect() => match when_down {
            WhenDown::Allow => (json!({"decision": "go", "app_down": true}), ExitCode::SUCCESS),
            WhenDown::Block => (
                json!({"decision": "blocked", "app_down": true, "reason": "RadQC is not running"}),
                ExitCode::from(BLOCKED),
            ),
        },
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
