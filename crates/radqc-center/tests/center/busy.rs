//! A center serves at most its maximum of pushes at once: one more is refused with 503
//! CENTER_BUSY and `Retry-After` before its body is read, instead of queueing without limit; once
//! a push ends, the next is served, and what was refused was not applied.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{backends, Center, Clinic};

#[tokio::test]
async fn a_push_beyond_the_maximum_is_refused_busy_and_retried() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, db) in backends(dir.path()).await {
        let c = Center::start_with(db, |s| s.with_max_pushes(1)).await;
        let code = c.site("SITE-A").await;
        let (_, token) = c.enroll(&code).await;
        let mut clinic = Clinic::new("SITE-A");
        for (i, item) in ["IQ", "RQ", "IQ"].iter().enumerate() {
            clinic.save(&format!("CT{i}"), item, &[]);
        }
        let entries = clinic.entries(1, 3);

        // A slow device: its push's headers are in, its body is not yet.
        let addr = c.url.trim_start_matches("http://").to_owned();
        let body = serde_json::to_vec(&radqc_protocol::PushRequest {
            schema: radqc_protocol::SCHEMA_VERSION,
            entries: entries.clone(),
        })
        .unwrap();
        let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /api/v1/push HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        slow.write_all(head.as_bytes()).await.unwrap();
        slow.write_all(&body[..10]).await.unwrap();
        // Let the server take it in (it runs on this test's runtime) before the next push.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;

        // The second push is refused at once, naming why, with when to retry.
        let mut refused = None;
        for _ in 0..100 {
            let resp = c
                .http
                .post(format!("{}/api/v1/push", c.url))
                .bearer_auth(&token)
                .json(&radqc_protocol::PushRequest { schema: radqc_protocol::SCHEMA_VERSION, entries: entries.clone() })
                .send()
                .await
                .unwrap();
            if resp.status() == 503 {
                refused = Some(resp);
                break;
            }
            // The slow push's headers may not have reached the server yet.
            let status = resp.status();
            assert_eq!(status, 200, "{backend}: {}", resp.text().await.unwrap());
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let resp = refused.unwrap_or_else(|| panic!("{backend}: the second push was never refused"));
        assert_eq!(resp.headers()["retry-after"], "1", "{backend}");
        let answer: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(answer["code"], "CENTER_BUSY", "{backend}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains("1 pushes at once"), "{backend}: {answer}");

        // The slow push completes and is applied; then a push is served again.
        slow.write_all(&body[10..]).await.unwrap();
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&answer).contains("\"results\"") {
            let n = slow.read(&mut buf).await.unwrap();
            assert!(n > 0, "{backend}: the slow push was answered: {}", String::from_utf8_lossy(&answer));
            answer.extend_from_slice(&buf[..n]);
        }
        assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"), "{backend}");
        drop(slow);
        let (status, body) = c.push(&token, &entries).await;
        assert_eq!(status, 200, "{backend}: {body}");
        let stats = c.db.stats().await.unwrap();
        assert_eq!(stats.iter().map(|d| d.evaluations).sum::<i64>(), 3, "{backend}: each entry once: {stats:?}");
    }
}
