//! Running the `radqc` binary as a user would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub fn radqc(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_radqc"))
        .args(args)
        // New keys in key files, whatever keystore the machine has (the keystore tests ask for it).
        .env("RADQC_KEY_IN", "file")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("radqc starts");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

pub fn stdout_json(out: &Output) -> Value {
    assert!(out.status.success(), "radqc succeeded; stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// A `radqc center serve` process on a loopback port, killed when dropped.
pub struct Center {
    child: std::process::Child,
    pub url: String,
}

impl Center {
    pub fn serve(db: &str) -> Center {
        Center::start(&["--listen", "127.0.0.1:0", "--db", db])
    }

    /// `radqc center serve` with these arguments (`--listen`, `--db`, `--tls-cert`, …).
    pub fn start(args: &[&str]) -> Center {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new(env!("CARGO_BIN_EXE_radqc"))
            .args(["center", "serve"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let url = first.trim().strip_prefix("listening on ").expect("the server says where it listens").to_owned();
        Center { child, url }
    }
}

impl Drop for Center {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `radqc` and returns its stdout, failing the test with its stderr when it fails.
pub fn ok(args: &[&str], stdin: &str) -> String {
    let out = radqc(args, stdin);
    assert!(out.status.success(), "radqc {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}
