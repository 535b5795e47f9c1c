//! Benchmark: durable HL7 messages per second through `radqc hl7 listen` (the real binary, on
//! loopback): each an order, framed by MLLP, stored before its ACK, the ACK awaited before the
//! next is sent on that connection; on one connection and on four at once. The floor, measured
//! in the same run on the same disk: a plain one-row durable commit of a store (an audit line,
//! WAL with `synchronous = FULL`), one at a time. Reports messages/s and the ratio of the time per
//! message to the floor's time per commit.
//!
//! Run: `cargo bench -p radqc-cli --bench hl7_mllp` (RADQC_BENCH_MESSAGES=N, default 2000).
//! Goal: at least 1,000 messages/s (a large department sends a few thousand a day).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn order(n: usize, connection: usize) -> Vec<u8> {
    let acc = format!("B{connection}-{n:06}");
    let text = format!(
        "MSH|^~\\&|RIS|NJGL|RADQC|NJGL|20261118{:02}{:02}00||ORM^O01|{acc}|P|2.3.1||||||UNICODE UTF-8\r\
         PID|||P{n:06}^^^NJGL||患者^{n}||19700315|M\rPV1||O\r\
         ORC|SC|{acc}|||CM\r\
         OBR|1|{acc}||CT001^CT胸部平扫|||20261118080000|||||||||||{acc}||||||CT||||||||||T01\r",
        8 + (n / 60) % 10,
        n % 60
    );
    let mut framed = vec![0x0b];
    framed.extend_from_slice(text.as_bytes());
    framed.extend_from_slice(&[0x1c, 0x0d]);
    framed
}

/// Sends `count` orders on one connection, each after the previous one's ACK.
fn send(addr: &str, connection: usize, count: usize) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let mut buf = [0u8; 4096];
    for n in 0..count {
        s.write_all(&order(n, connection)).unwrap();
        let mut got = Vec::new();
        while !got.ends_with(&[0x1c, 0x0d]) {
            let k = s.read(&mut buf).unwrap();
            assert!(k > 0, "the listener closed the connection");
            got.extend_from_slice(&buf[..k]);
        }
        assert!(String::from_utf8_lossy(&got).contains("MSA|AA|"), "{}", String::from_utf8_lossy(&got));
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test") || !std::env::args().any(|a| a == "--bench");
    let count: usize = if quick {
        50
    } else {
        std::env::var("RADQC_BENCH_MESSAGES").ok().and_then(|s| s.parse().ok()).unwrap_or(2000)
    };
    let radqc = env!("CARGO_BIN_EXE_radqc");
    // On the disk of target/ (not a tmpfs /tmp): what a store's fsync costs there.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();

    // The floor: a plain one-row durable commit of a store, on the same disk.
    let floor_db = dir.path().join("floor.db");
    let init = |db: &std::path::Path| {
        let ok = Command::new(radqc)
            .args(["local", "init", "--db", db.to_str().unwrap(), "--site", "NJGL"])
            .env("RADQC_KEY_IN", "file")
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success());
    };
    init(&floor_db);
    let key = radqc_store::Key::from_file(&radqc_store::default_key_path(&floor_db)).unwrap();
    let store = radqc_store::Store::open(&floor_db, &key).unwrap();
    let started = Instant::now();
    for n in 0..count {
        store.audit("bench", "one_row_commit", Some(&n.to_string()), None, chrono::Utc::now()).unwrap();
    }
    let floor = started.elapsed() / count as u32;
    drop(store);

    for connections in [1usize, 4] {
        let db = dir.path().join(format!("hl7-{connections}.db"));
        init(&db);
        let mut child = Command::new(radqc)
            .args(["hl7", "listen", "--db", db.to_str().unwrap(), "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on ").unwrap().to_owned();
        let per = count / connections;
        let started = Instant::now();
        std::thread::scope(|s| {
            for c in 0..connections {
                let addr = addr.clone();
                s.spawn(move || send(&addr, c, per));
            }
        });
        let took = started.elapsed();
        let _ = child.kill();
        let _ = child.wait();
        let sent = per * connections;
        let rate = sent as f64 / took.as_secs_f64();
        let per_message = took / sent as u32;
        println!(
            "hl7 over MLLP, {connections} connection(s): {sent} durable messages in {took:.2?}: {rate:.0} messages/s; \
             {per_message:.2?} per message = {:.2} x the floor (one durable one-row commit: {floor:.2?})",
            ratio(per_message, floor)
        );
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}
