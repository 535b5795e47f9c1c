//! The sync client's own promises: dead letters with the center's reason, a revoked token stops
//! sync with a clear message, feeds arrive once, a center that lost entries gets them again,
//! and the backoff schedule.

use std::time::Duration;

use chrono::Utc;
use radqc_e2e::{Center, CenterStorage, Clinic};
use radqc_protocol::FeedKind;
use radqc_sync::{Backoff, Outcome};
use serde_json::json;

async fn center_and_clinic(dir: &std::path::Path) -> (Center, Clinic) {
    let center = Center::start(CenterStorage::Sqlite(dir.join("center.db"))).await;
    let mut clinic = Clinic::new("CLINIC-A");
    clinic.enroll(&center, &center.url()).await;
    (center, clinic)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_entry_becomes_a_dead_letter_and_the_rest_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let (_center, mut clinic) = center_and_clinic(dir.path()).await;
    let http = radqc_sync::http_client();
    clinic.save_evaluation(0);
    // A rubric version the center never published.
    let local = radqc_domain::Rubric::bundled_text().replacen("version = \"2026.1\"", "version = \"2026.1-local\"", 1);
    clinic.store.set_rubric(radqc_domain::Rubric::from_toml_str(&local, "local").unwrap());
    clinic.save_evaluation(1);
    clinic.store.set_rubric(radqc_domain::Rubric::bundled().clone());
    clinic.save_evaluation(2);

    let outcome = radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;
    assert_eq!(outcome, Outcome::Synced { pushed: 2, duplicates: 0, rejected: 1, pulled: 0, copy: None });
    let dead = clinic.store.rejected_outbox().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].seq, 2);
    assert!(
        dead[0].reason.as_deref().unwrap().contains("UNKNOWN_RUBRIC_VERSION"),
        "the center's reason is kept: {:?}",
        dead[0].reason
    );
    let again = radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;
    assert_eq!(
        again,
        Outcome::Synced { pushed: 0, duplicates: 0, rejected: 0, pulled: 0, copy: None },
        "a dead letter is not resent"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_token_stops_sync_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let (center, mut clinic) = center_and_clinic(dir.path()).await;
    clinic.save_evaluation(0);
    center.db.revoke_device(&clinic.store.device_id()).await.unwrap();
    let http = radqc_sync::http_client();
    let outcome = radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;
    let Outcome::Stopped { code, message } = &outcome else { panic!("stopped, not {outcome:?}") };
    assert_eq!(code, "TOKEN_REVOKED");
    assert!(message.contains("revoked") && message.contains("enroll"), "{message}");
    let status = clinic.store.sync_status().unwrap();
    assert!(status.last_error.unwrap().contains("TOKEN_REVOKED"), "the status the app shows says why");
    assert_eq!(status.outbox.pending, 1, "nothing is lost: the entry waits");
}

#[tokio::test(flavor = "multi_thread")]
async fn feeds_arrive_once_and_an_unreachable_center_means_retry() {
    let dir = tempfile::tempdir().unwrap();
    let (center, mut clinic) = center_and_clinic(dir.path()).await;
    let http = radqc_sync::http_client();
    center
        .db
        .publish(FeedKind::Notices, Some("CLINIC-A"), &json!({"to": "A1", "text": "请复核"}), Utc::now())
        .await
        .unwrap();
    center.db.publish(FeedKind::Sampling, None, &json!({"rules": []}), Utc::now()).await.unwrap();
    let outcome = radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;
    assert_eq!(outcome, Outcome::Synced { pushed: 0, duplicates: 0, rejected: 0, pulled: 2, copy: None });
    assert_eq!(clinic.store.feed_items(FeedKind::Notices).unwrap()[0].body["text"], json!("请复核"));
    let outcome = radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;
    assert_eq!(
        outcome,
        Outcome::Synced { pushed: 0, duplicates: 0, rejected: 0, pulled: 0, copy: None },
        "cursors remember"
    );

    let link = clinic.store.center_link().unwrap().unwrap();
    let dead = radqc_store::CenterLink { url: "http://127.0.0.1:9".into(), token: link.token, pin: None };
    clinic.store.set_center_link(&dead, &"CLINIC-A".parse().unwrap(), Utc::now()).unwrap();
    clinic.save_evaluation(5);
    let outcome = radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;
    assert!(matches!(outcome, Outcome::Retry { .. }), "a network error means try later: {outcome:?}");
    assert_eq!(clinic.store.outbox_counts().unwrap().pending, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_center_that_lost_entries_gets_them_again_without_doubles() {
    let dir = tempfile::tempdir().unwrap();
    let (center, mut clinic) = center_and_clinic(dir.path()).await;
    let http = radqc_sync::http_client();
    let mut ids: Vec<String> = (0..5).map(|n| clinic.save_evaluation(n)).collect();
    radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;
    // The center's database is restored from a backup taken after entry 2.
    {
        let raw = rusqlite::Connection::open(dir.path().join("center.db")).unwrap();
        raw.execute("DELETE FROM evaluations WHERE seq > 2", []).unwrap();
        raw.execute("UPDATE devices SET last_seq = 2", []).unwrap();
    }
    ids.extend((5..7).map(|n| clinic.save_evaluation(n)));
    let outcome = radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;
    assert!(matches!(outcome, Outcome::Synced { .. }), "{outcome:?}");
    let mut held: Vec<String> = center.db.evaluations(None).await.unwrap().into_iter().map(|e| e.id).collect();
    held.sort();
    ids.sort();
    assert_eq!(held, ids, "the lost entries were sent again, each once");
}

#[test]
fn backoff_grows_exponentially_with_full_jitter_and_a_cap() {
    let b = Backoff { base: Duration::from_secs(2), max: Duration::from_secs(60) };
    assert_eq!(b.delay(0, 1.0), Duration::from_secs(2));
    assert_eq!(b.delay(3, 1.0), Duration::from_secs(16));
    assert_eq!(b.delay(10, 1.0), Duration::from_secs(60), "capped");
    assert_eq!(b.delay(40, 1.0), Duration::from_secs(60), "no overflow");
    assert_eq!(b.delay(3, 0.5), Duration::from_secs(8), "jitter scales the wait");
    assert_eq!(b.delay(3, 0.0), Duration::ZERO);
}
