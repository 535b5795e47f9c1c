//! The grants the center publishes, as the app decides by them: the latest document of the
//! `grants` feed (the bundled one only until one arrives), one that does not read an error,
//! never the bundled one; and a signer who is not in the roster is refused, not guessed.

use chrono::{DateTime, TimeZone, Utc};
use radqc_app::{App, AppConfig, FindExams, PanelClosedPolicy, SignRequest};
use radqc_protocol::{FeedItem, FeedKind};
use serde_json::{json, Value};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

fn demo() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig {
        data_dir: dir.path().join("data"),
        demo: true,
        when_panel_closed: PanelClosedPolicy::Block,
        idle_lock: radqc_app::DEFAULT_IDLE_LOCK,
    };
    let app = App::open(config, Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap()).unwrap();
    (dir, app)
}

/// Keeps a grants feed item with this body, as a sync would.
fn publish(app: &mut App, cursor: i64, body: Value) {
    let item = FeedItem { cursor, kind: FeedKind::Grants, site: None, body, published_at: now() };
    app.store_mut().save_feed_items(&[item], now()).unwrap();
}

/// The bundled document, changed: a new version, department heads no longer see the site's
/// scores, technologists also score image quality.
fn changed() -> Value {
    let mut g: Value = serde_json::from_str(radqc_domain::Grants::bundled_text()).unwrap();
    g["version"] = json!("2026.2-region");
    g["sees_site_scores"] = json!(["qc_officer", "center_admin"]);
    g["extra"]["technologist"] = json!(["IQ"]);
    g
}

fn items(app: &App, accession: &str) -> Vec<String> {
    app.scorable_items(None, accession).unwrap().iter().map(|i| i.to_string()).collect()
}

#[test]
fn the_published_grants_decide_what_a_role_scores_and_sees() {
    let (_dir, mut app) = demo();
    app.sign_in("A1", radqc_app::DEMO_SECRET, now()).unwrap();
    let exam = app
        .find_exams(&serde_json::from_value::<FindExams>(json!({"modality": "CT", "limit": 1})).unwrap())
        .unwrap()
        .remove(0);
    let acc = exam.exam.accession.clone();
    app.sign_in("A1", radqc_app::DEMO_SECRET, now()).unwrap();
    assert_eq!(items(&app, &acc), ["AF"], "bundled: a technologist scores the application form");
    app.sign_in("H1", radqc_app::DEMO_SECRET, now()).unwrap();
    app.report("2026-11").expect("bundled: a department head reads the site's report");
    assert!(app.session().site_score_roles.contains(&"department_head".to_owned()));

    publish(&mut app, 7, changed());
    assert_eq!(app.store().grants().unwrap().version, "2026.2-region");
    let err = app.report("2026-11").unwrap_err();
    assert_eq!(err.code, "NOT_PERMITTED", "{err:?}");
    assert!(err.message_en.contains("qc_officer") && !err.message_en.contains("department_head"), "{err:?}");
    assert_eq!(app.session().site_score_roles, ["qc_officer", "center_admin"]);
    app.sign_in("A1", radqc_app::DEMO_SECRET, now()).unwrap();
    assert_eq!(items(&app, &acc), ["AF", "IQ"], "the region gave technologists image quality");
    app.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap();
    app.report("2026-11").expect("a QC officer still reads it");

    // A document this build cannot read is shown as such, never replaced by the bundled one.
    publish(&mut app, 8, json!({"version": "2026.3", "extra": {}, "sees_site_scores": ["chief"]}));
    let err = app.report("2026-11").unwrap_err();
    assert_eq!(err.code, "GRANTS_UNREADABLE", "{err:?}");
    assert!(err.message_en.contains("feed item 8") && err.message_en.contains("unknown role `chief`"), "{err:?}");
    assert!(err.message_zh.contains("第 8 条"), "{err:?}");
    assert_eq!(app.scorable_items(None, &acc).unwrap_err().code, "GRANTS_UNREADABLE");
    assert!(app.session().site_score_roles.is_empty(), "no 报表 on grants that do not read");

    // The center publishes a good one again: it holds.
    publish(&mut app, 9, changed());
    app.sign_in("A1", radqc_app::DEMO_SECRET, now()).unwrap();
    assert_eq!(items(&app, &acc), ["AF", "IQ"]);
}

fn signing(accession: &str, signer: &str) -> SignRequest {
    serde_json::from_value(json!({
        "exam": {"accession": accession, "modality": "CT", "exam_item": "CT胸部平扫", "follow_up": true,
                 "staff": {"technologist": "A1", "reporting_doctor": "D1"}},
        "signer": signer
    }))
    .unwrap()
}

#[test]
fn a_signer_who_is_not_in_the_roster_is_refused_and_nothing_is_recorded() {
    let (_dir, mut app) = demo();
    let audit_before = app.store().audit_log().unwrap().len();
    let outbox_before = app.store().sync_status().unwrap().outbox;
    let Err(err) = app.sign(&signing("CT-NOBODY-1", "ZZ9"), now()) else { panic!("an unknown signer is refused") };
    assert_eq!(err.code, "UNKNOWN_SIGNER", "{err:?}");
    assert!(err.message_en.contains("ZZ9") && err.message_zh.contains("ZZ9"), "{err:?}");
    assert_eq!(radqc_domain::ErrorCode::UnknownSigner.status(), Some(422), "the gate's answer");
    assert!(app.pending_gates().is_empty(), "nothing held");
    assert_eq!(app.store().audit_log().unwrap().len(), audit_before, "nothing drawn or audited");
    assert_eq!(app.store().sync_status().unwrap().outbox, outbox_before, "nothing to send");
    app.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap();
    assert_eq!(app.exam_detail("CT-NOBODY-1", false).unwrap_err().code, "UNKNOWN_EXAM", "no signing recorded");
    // A signer in the roster is asked about as before.
    assert!(app.sign(&signing("CT-NOBODY-2", "D1"), now()).is_ok(), "D1 is in the roster");
}
