//! A device acts only on its own site's data, and a used sequence number or record id never
//! takes other content: each refused with a reason, on both backends, the rollups untouched.

use radqc_protocol::PushEntry;
use serde_json::{json, Value};

use crate::support::{each_backend, each_place, edit, Center, Clinic};

async fn rollups_equal_a_rebuild(backend: &str, center: &Center) {
    let kept = center.db.rollups().await.unwrap();
    center.db.rebuild_rollups().await.unwrap();
    assert_eq!(kept, center.db.rollups().await.unwrap(), "{backend}: rollups kept at ingest = rebuilt");
}

fn status(body: &Value, i: usize) -> (&str, &str) {
    let r = &body["results"][i];
    (r["status"].as_str().unwrap_or_default(), r["reason"]["code"].as_str().unwrap_or_default())
}

/// Sites A and B, a device at each, and one evaluation of A's at the center.
async fn two_sites(center: &Center) -> (Clinic, String, String, Clinic, String) {
    let (code_a, code_b) = (center.site("SITE-A").await, center.site("SITE-B").await);
    let (_, token_a) = center.enroll(&code_a).await;
    let (_, token_b) = center.enroll(&code_b).await;
    let mut a = Clinic::new("SITE-A");
    let id_a = a.save("CT-A1", "IQ", &["IQ-C2"]);
    let (s, body) = center.push(&token_a, &a.entries(1, 1)).await;
    assert_eq!((s, status(&body, 0)), (200, ("applied", "")), "{body}");
    (a, id_a, token_a, Clinic::new("SITE-B"), token_b)
}

async fn a_current(center: &Center, id: &str) -> bool {
    let evaluations = center.db.evaluations(Some("SITE-A")).await.unwrap();
    let facts = center.db.evaluation_facts("2000-01-01", "2999-01-01", Some("SITE-A")).await.unwrap();
    evaluations.iter().any(|e| e.id == id) && facts.iter().any(|f| f.id == id)
}

#[tokio::test]
async fn a_correction_naming_another_sites_evaluation_is_rejected() {
    each_backend(|backend, center| async move {
        let (_a, id_a, _, mut b, token_b) = two_sites(&center).await;
        let own = b.save("CT-B1", "IQ", &[]);
        let correction = serde_json::from_value(json!({
            "item": "IQ", "findings": ["IQ-C3"], "supersedes": own,
            "exam": {"accession": "CT-B1", "modality": "CT", "exam_item": "CT头颅平扫", "staff": {"technologist": "A1", "reporting_doctor": "D1"}},
            "reviewer": "D1", "mode": "random"
        }))
        .unwrap();
        b.store.save_evaluation(&correction, chrono::Utc::now()).unwrap();
        let mut entries = b.entries(1, 2);
        // B's correction, tampered to supersede A's evaluation.
        edit(&mut entries[1], |v| v["evaluation"]["supersedes"] = json!(id_a));
        let (s, body) = center.push(&token_b, &entries).await;
        assert_eq!(s, 200, "{backend}: {body}");
        assert_eq!(status(&body, 0), ("applied", ""), "{backend}: B's own evaluation goes in");
        assert_eq!(status(&body, 1), ("rejected", "SITE_MISMATCH"), "{backend}: {body}");
        assert!(a_current(&center, &id_a).await, "{backend}: A's evaluation still counts");
        rollups_equal_a_rebuild(backend, &center).await;
    })
    .await;
}

#[tokio::test]
async fn an_evaluation_id_that_exists_is_held_once_or_rejected() {
    each_backend(|backend, center| async move {
        let (a, id_a, _, mut b, token_b) = two_sites(&center).await;
        // B reuses A's evaluation id for its own evaluation.
        b.save("CT-B1", "IQ", &[]);
        let mut entries = b.entries(1, 1);
        edit(&mut entries[0], |v| v["evaluation"]["id"] = json!(id_a));
        let (_, body) = center.push(&token_b, &entries).await;
        assert_eq!(status(&body, 0), ("rejected", "ID_CONFLICT"), "{backend}: {body}");

        // A second device of site A sends A's evaluation again: held once, acknowledged.
        let code = radqc_center::http::new_enrollment_code(&center.db, "SITE-A", 1).await.unwrap();
        let (_, token_a2) = center.enroll(&code).await;
        let (_, body) = center.push(&token_a2, &a.entries(1, 1)).await;
        assert_eq!(status(&body, 0), ("duplicate", ""), "{backend}: the same record is acknowledged: {body}");
        // ... and the same id with other content is refused.
        let mut changed = a.entries(1, 1);
        edit(&mut changed[0], |v| v["evaluation"]["note"] = json!("改过的备注"));
        changed[0].seq = 2;
        let (_, body) = center.push(&token_a2, &changed).await;
        assert_eq!(status(&body, 0), ("rejected", "ID_CONFLICT"), "{backend}: {body}");
        let held = center.db.evaluations(None).await.unwrap();
        assert_eq!(held.iter().filter(|e| e.id == id_a).count(), 1, "{backend}: held once");
        assert!(held.iter().find(|e| e.id == id_a).unwrap().note.is_empty(), "{backend}: as first sent");
        assert!(a_current(&center, &id_a).await);
        let rejected = center.db.stats().await.unwrap().iter().map(|d| d.rejected).sum::<i64>();
        assert_eq!(rejected, 2, "{backend}: both refusals kept as dead letters");
        rollups_equal_a_rebuild(backend, &center).await;
    })
    .await;
}

#[tokio::test]
async fn other_content_under_a_used_number_is_a_conflict_not_a_duplicate() {
    each_backend(|backend, center| async move {
        let (mut a, _, token_a, _, _) = two_sites(&center).await;
        let (_, body) = center.push(&token_a, &a.entries(1, 1)).await;
        assert_eq!(status(&body, 0), ("duplicate", ""), "{backend}: a retry is a duplicate");
        // A restored copy numbered a new evaluation 1 again, then 2.
        let mut copy = Clinic::new("SITE-A");
        copy.save("CT-A9", "IQ", &[]);
        copy.save("CT-A10", "IQ", &[]);
        a.save("CT-A2", "IQ", &[]);
        let entries: Vec<PushEntry> = copy.entries(1, 2);
        let (s, body) = center.push(&token_a, &entries).await;
        assert_eq!(s, 200, "{backend}: {body}");
        assert_eq!(status(&body, 0), ("conflict", "SEQUENCE_REUSED"), "{backend}: {body}");
        assert_eq!(body["results"].as_array().unwrap().len(), 1, "{backend}: planning stops at the conflict");
        assert_eq!(body["last_seq"], 1, "{backend}");
        let held = center.db.evaluations(Some("SITE-A")).await.unwrap();
        assert_eq!(held.len(), 1, "{backend}: nothing of the copy was applied");
        let (_, body) = center.push(&token_a, &a.entries(2, 2)).await;
        assert_eq!(status(&body, 0), ("applied", ""), "{backend}: the original goes on");
        rollups_equal_a_rebuild(backend, &center).await;
    })
    .await;
}

#[tokio::test]
async fn a_fork_is_a_device_of_the_same_site_and_a_retry_answers_the_same() {
    each_backend(|backend, center| async move {
        let (_a, _, token_a, _, token_b) = two_sites(&center).await;
        let (_, parent) = center.get("/api/v1/device", Some(&token_a)).await;
        assert_eq!((parent["site"].as_str(), parent["last_seq"].as_i64()), (Some("SITE-A"), Some(1)), "{backend}");
        let id = crate::support::uuid_v4();
        let token = format!("rq_{}", "ab".repeat(32));
        let req = json!({"device_id": id, "token": token});
        let (s, forked) = center.post("/api/v1/device/fork", Some(&token_a), &req).await;
        assert_eq!(s, 200, "{backend}: {forked}");
        assert_eq!(
            (forked["site"].as_str(), forked["last_seq"].as_i64(), forked["forked_from"].as_str()),
            (Some("SITE-A"), Some(0), parent["device_id"].as_str()),
            "{backend}"
        );
        let (s, again) = center.post("/api/v1/device/fork", Some(&token_a), &req).await;
        assert_eq!((s, &again), (200, &forked), "{backend}: a retried fork answers the same device");
        let (s, body) = center
            .post(
                "/api/v1/device/fork",
                Some(&token_a),
                &json!({"device_id": id, "token": format!("rq_{}", "cd".repeat(32))}),
            )
            .await;
        assert_eq!((s, body["code"].as_str()), (409, Some("DEVICE_EXISTS")), "{backend}: {body}");
        let (s, body) =
            center.post("/api/v1/device/fork", Some(&token_a), &json!({"device_id": "x", "token": token})).await;
        assert_eq!((s, body["code"].as_str()), (400, Some("INVALID_BODY")), "{backend}: {body}");
        let (s, me) = center.get("/api/v1/device", Some(&token)).await;
        assert_eq!((s, me["device_id"].as_str()), (200, Some(id.as_str())), "{backend}: the new token works");

        // Records: the site's own devices only.
        let parent_id = parent["device_id"].as_str().unwrap();
        let (s, page) = center.get(&format!("/api/v1/device/records?device={parent_id}&after=0"), Some(&token)).await;
        assert_eq!(s, 200, "{backend}: {page}");
        assert_eq!(page["items"].as_array().unwrap().len(), 1, "{backend}: {page}");
        assert_eq!(page["items"][0]["payload"]["kind"], "evaluation", "{backend}");
        let (s, body) = center.get(&format!("/api/v1/device/records?device={parent_id}"), Some(&token_b)).await;
        assert_eq!((s, body["code"].as_str()), (403, Some("FORBIDDEN")), "{backend}: {body}");
    })
    .await;
}

#[tokio::test]
async fn a_database_error_is_a_retry_never_a_verdict() {
    each_place(|name, center, place| async move {
        let code = center.site("SITE-A").await;
        let (_, token) = center.enroll(&code).await;
        let mut a = Clinic::new("SITE-A");
        let failed = a.save("CT-A1", "IQ", &["IQ-S1"]);
        let (_, body) = center.push(&token, &a.entries(1, 1)).await;
        assert_eq!(status(&body, 0), ("applied", ""), "{name}: {body}");
        let notice = format!("N-{failed}");
        a.store.close_notice(&notice, "已复核并重新培训", &"D1".parse().unwrap(), chrono::Utc::now()).unwrap();

        // The notices cannot be read for a moment: the push fails as a whole and is retried.
        place.run("ALTER TABLE notices RENAME TO notices_away").await;
        let (s, body) = center.push(&token, &a.entries(2, 2)).await;
        assert!(s >= 500, "{name}: a database error is a 5xx, not an answer about the entry: {s} {body}");
        assert_eq!(body["code"], "STORAGE_UNAVAILABLE", "{name}: {body}");
        let (_, device) = center.get("/api/v1/device", Some(&token)).await;
        assert_eq!(device["last_seq"], 1, "{name}: the entry was not consumed");

        place.run("ALTER TABLE notices_away RENAME TO notices").await;
        let (_, body) = center.push(&token, &a.entries(2, 2)).await;
        assert_eq!(status(&body, 0), ("applied", ""), "{name}: the retry closes the notice: {body}");
        let notices = center.db.notices(Some("SITE-A")).await.unwrap();
        assert!(notices.iter().any(|n| n.id == notice && n.closed), "{name}: {notices:?}");
    })
    .await;
}

#[tokio::test]
async fn a_nul_character_is_a_rejected_entry_not_a_failing_push() {
    each_backend(|backend, center| async move {
        let code = center.site("SITE-A").await;
        let (_, token) = center.enroll(&code).await;
        let mut a = Clinic::new("SITE-A");
        a.save("CT-A1", "IQ", &[]);
        a.save("CT-A2", "IQ", &[]);
        let mut entries = a.entries(1, 2);
        edit(&mut entries[0], |v| v["evaluation"]["note"] = json!("体位\u{0}不正"));
        let (s, body) = center.push(&token, &entries).await;
        assert_eq!(s, 200, "{backend}: {body}");
        assert_eq!(status(&body, 0), ("rejected", "INVALID_PAYLOAD"), "{backend}: {body}");
        assert_eq!(status(&body, 1), ("applied", ""), "{backend}: the entries behind it go on");
    })
    .await;
}
