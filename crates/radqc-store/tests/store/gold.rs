//! The gold standard at a site: a reader's read of an assigned case and a person's dispute, each
//! saved with one outbox entry that survives a reopen; refusals named by their codes; a case's
//! final result kept once as a revision that the reports count, the original still readable.

use chrono::Duration;
use radqc_domain::{Findings, QcMode, Rubric};
use radqc_protocol::{
    BlindRead, EvaluationRecord, FeedItem, FeedKind, GoldAssignment, GoldExam, GoldFinal, GoldMessage, GoldSettings,
    GoldSource, GoldTask, SyncPayload,
};
use radqc_store::{NewGoldRead, Store};
use serde_json::json;

use crate::support::*;

fn feed(cursor: i64, site: Option<&str>, message: &GoldMessage) -> FeedItem {
    FeedItem {
        cursor,
        kind: FeedKind::Gold,
        site: site.map(str::to_owned),
        body: serde_json::to_value(message).unwrap(),
        published_at: t(10, 8),
    }
}

/// An assignment of `task` of `case` (an IQ read of another site's CT exam) to `to` at NJGL.
pub fn assigned(cursor: i64, case: &str, task: GoldTask, to: &str, reads: Vec<BlindRead>) -> FeedItem {
    let assignment = GoldAssignment {
        case_id: case.to_owned(),
        task,
        to: to.to_owned(),
        item: "IQ".parse().unwrap(),
        rubric_version: Rubric::bundled().version.clone(),
        exam: GoldExam {
            site: "XZRM".to_owned(),
            accession: "CT-X-1".to_owned(),
            modality: "CT".parse().unwrap(),
            exam_item: "CT胸部平扫".to_owned(),
            department: Some("放射科".to_owned()),
            patient_source: None,
            follow_up: false,
            patient_sex: None,
            patient_age: Some(61),
            performed_at: Some(t(3, 9)),
            staff: None,
        },
        reads,
        assigned_at: t(10, 8),
    };
    feed(cursor, Some("NJGL"), &GoldMessage::Assigned { assignment: Box::new(assignment) })
}

/// The final result of `case` for `original` (an NJGL evaluation): a gold evaluation scored
/// with `findings`, superseding `supersedes`.
pub fn final_of(cursor: i64, case: &str, original: &EvaluationRecord, supersedes: &str, findings: &[&str]) -> FeedItem {
    let findings: Vec<_> = findings.iter().map(|c| c.parse().unwrap()).collect();
    let v = Rubric::bundled()
        .score(&Findings { item: original.item, findings: findings.clone(), not_applicable: vec![] })
        .unwrap();
    let gold = EvaluationRecord {
        id: format!("gold-{case}"),
        reviewer: "S9".parse().unwrap(),
        mode: QcMode::Gold,
        findings,
        not_applicable: vec![],
        score: v.score,
        grade: v.grade,
        pass: v.pass,
        severe: v.severe,
        unmet: v.unmet,
        note: "金标准".to_owned(),
        at: t(12, 8),
        supersedes: Some(supersedes.to_owned()),
        superseded_by: None,
        ..original.clone()
    };
    let result = GoldFinal {
        case_id: case.to_owned(),
        source: GoldSource::Hand,
        modality: "CT".parse().unwrap(),
        original: Box::new(original.clone()),
        gold: Box::new(gold),
        reads: vec![],
        decided_by: GoldTask::Second,
        closed_at: t(12, 8),
    };
    feed(cursor, Some("NJGL"), &GoldMessage::Final { result: Box::new(result) })
}

fn read(case: &str, task: GoldTask, reader: &str, findings: &[&str]) -> NewGoldRead {
    serde_json::from_value(json!({"case_id": case, "task": task, "reader": reader, "findings": findings})).unwrap()
}

fn code<T: std::fmt::Debug>(r: Result<T, radqc_store::StoreError>) -> String {
    r.unwrap_err().code().to_string()
}

fn reopen(f: &Fixture) -> Store {
    Store::open(&f.db(), &f.key).unwrap()
}

#[test]
fn a_gold_read_is_scored_saved_with_one_outbox_entry_and_survives_a_reopen() {
    let mut f = fresh();
    f.store
        .save_feed_items(
            &[assigned(1, "C1", GoldTask::First, "S1", vec![]), assigned(2, "C1", GoldTask::Second, "S2", vec![])],
            t(10, 8),
        )
        .unwrap();
    let open = f.store.gold_assignments("S1").unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].assignment.task, open[0].read.is_none()), (GoldTask::First, true));
    assert!(f.store.gold_assignments("S3").unwrap().is_empty());

    // Refusals: no such case here, another reader's task, findings of another item.
    assert_eq!(code(f.store.save_gold_read(&read("C9", GoldTask::First, "S1", &[]), t(10, 9))), "UNKNOWN_GOLD_CASE");
    assert_eq!(code(f.store.save_gold_read(&read("C1", GoldTask::Second, "S1", &[]), t(10, 9))), "NOT_ASSIGNED");
    assert_eq!(code(f.store.save_gold_read(&read("C1", GoldTask::Third, "S1", &[]), t(10, 9))), "NOT_ASSIGNED");
    assert_eq!(
        code(f.store.save_gold_read(&read("C1", GoldTask::First, "S1", &["RQ-C1"]), t(10, 9))),
        "CRITERION_OF_OTHER_ITEM"
    );
    assert_eq!(f.store.outbox().unwrap().len(), 0, "nothing refused reached the outbox");

    let saved = f.store.save_gold_read(&read("C1", GoldTask::First, "S1", &["IQ-S2"]), t(10, 9)).unwrap();
    let verdict = Rubric::bundled()
        .score(&Findings {
            item: "IQ".parse().unwrap(),
            findings: vec!["IQ-S2".parse().unwrap()],
            not_applicable: vec![],
        })
        .unwrap();
    assert_eq!((saved.score, saved.grade, saved.pass), (verdict.score, verdict.grade, verdict.pass), "the engine's");
    assert_eq!(saved.site.as_str(), "NJGL");
    assert_eq!(saved.rubric_version, Rubric::bundled().version);
    let again = f.store.save_gold_read(&read("C1", GoldTask::First, "S1", &[]), t(10, 10));
    assert_eq!(code(again), "GOLD_ALREADY_READ");

    let store = reopen(&f);
    assert_eq!(store.gold_reads().unwrap(), std::slice::from_ref(&saved));
    let outbox = store.outbox().unwrap();
    assert_eq!(outbox.len(), 1, "one entry, once");
    assert_eq!((outbox[0].kind.as_str(), outbox[0].ref_id.as_str()), ("gold_read", saved.id.as_str()));
    let payload: SyncPayload = serde_json::from_str(&outbox[0].payload).unwrap();
    assert_eq!(payload, SyncPayload::GoldRead { read: Box::new(saved.clone()) });
    assert_eq!(store.pending_outbox(10).unwrap().len(), 1);
    assert!(store.exam(Some(&"XZRM".parse().unwrap()), "CT-X-1").unwrap().is_none(), "no other site's exam kept");
    assert_eq!(store.gold_assignments("S1").unwrap()[0].read.as_ref(), Some(&saved), "marked as read here");
    assert!(store.audit_log().unwrap().iter().any(|a| a.action == "gold_read" && a.actor == "S1"));
}

#[test]
fn a_reassigned_task_a_final_case_and_an_unknown_rubric_version_are_refused() {
    let mut f = fresh();
    let mut other_version = assigned(3, "C3", GoldTask::First, "S1", vec![]);
    other_version.body["rubric_version"] = json!("1999.1");
    f.store
        .save_feed_items(
            &[
                assigned(1, "C1", GoldTask::First, "S1", vec![]),
                // Reassigned to S2 later: S1 no longer holds the task.
                assigned(2, "C1", GoldTask::First, "S2", vec![]),
                other_version,
            ],
            t(10, 8),
        )
        .unwrap();
    assert_eq!(code(f.store.save_gold_read(&read("C1", GoldTask::First, "S1", &[]), t(10, 9))), "NOT_ASSIGNED");
    let err = f.store.save_gold_read(&read("C3", GoldTask::First, "S1", &[]), t(10, 9)).unwrap_err();
    assert_eq!(err.code().as_str(), "UNKNOWN_RUBRIC_VERSION");
    assert!(err.to_string().contains("1999.1"), "{err}");
    assert_eq!(f.store.gold_assignments("S1").unwrap().len(), 1, "only C3 is still S1's");
}

#[test]
fn a_task_is_done_once_the_center_took_its_read_though_the_final_result_goes_elsewhere() {
    // The cases are of another site's exam (XZRM): their final results go to XZRM, never here.
    let mut f = fresh();
    f.store
        .save_feed_items(
            &[assigned(1, "C1", GoldTask::First, "S1", vec![]), assigned(2, "C2", GoldTask::Second, "S1", vec![])],
            t(10, 8),
        )
        .unwrap();
    let saved = f.store.save_gold_read(&read("C1", GoldTask::First, "S1", &[]), t(10, 9)).unwrap();
    let open = f.store.gold_assignments("S1").unwrap();
    assert_eq!(open.len(), 2, "a read still to be sent keeps its task open");
    assert_eq!(open[0].read.as_ref(), Some(&saved));
    let seq = f.store.outbox().unwrap()[0].seq;
    f.store.mark_sent(&[seq], t(10, 10)).unwrap();
    let open = f.store.gold_assignments("S1").unwrap();
    assert_eq!(open.iter().map(|o| o.assignment.case_id.as_str()).collect::<Vec<_>>(), ["C2"], "C1 is done here");
    assert!(open[0].read.is_none());
}

/// A failed IQ evaluation of the technologist A1 at `day`.
fn failed(f: &mut Fixture, accession: &str, day: u32) -> EvaluationRecord {
    let mut e = evaluation(accession, "IQ", &["IQ-S2"]);
    e.at = Some(t(day, 9));
    f.store.save_evaluation(&e, t(day, 9)).unwrap()
}

#[test]
fn a_dispute_is_saved_once_with_its_outbox_entry_and_the_refusals_say_why() {
    let mut f = fresh();
    let bad = failed(&mut f, "CT-1", 2);
    let good = f.store.save_evaluation(&evaluation("CT-2", "IQ", &[]), t(2, 9)).unwrap();
    let old = failed(&mut f, "CT-3", 1);
    let a1 = "A1".parse().unwrap();
    let now = t(3, 9);
    let refused =
        |s: &mut Store, id: &str, by: &str| s.save_dispute(id, &by.parse().unwrap(), "不同意", now).unwrap_err();

    let e = refused(&mut f.store, &bad.id, "D1");
    assert_eq!(e.code().as_str(), "DISPUTE_REFUSED");
    assert!(e.to_string().contains("only the person scored"), "{e}");
    let e = refused(&mut f.store, &good.id, "A1");
    assert!(e.code().as_str() == "DISPUTE_REFUSED" && e.to_string().contains("passed"), "{e}");
    assert_eq!(refused(&mut f.store, "nope", "A1").code().as_str(), "UNKNOWN_EVALUATION");
    assert_eq!(code(f.store.save_dispute(&bad.id, &a1, "  ", now)), "INVALID_INPUT");
    assert_eq!(code(f.store.save_dispute(&bad.id, &a1, &"长".repeat(2001), now)), "INVALID_INPUT");
    // 14 days by default; the region's settings change it.
    let e = f.store.save_dispute(&old.id, &a1, "不同意", t(1, 9) + Duration::days(14) + Duration::seconds(1));
    assert_eq!(code(e), "DISPUTE_WINDOW_CLOSED");
    let settings = GoldSettings { dispute_days: 1, show_names: false };
    f.store.save_feed_items(&[feed(1, None, &GoldMessage::Settings { settings: settings.clone() })], now).unwrap();
    assert_eq!(f.store.gold_settings().unwrap(), settings);
    let e = f.store.save_dispute(&old.id, &a1, "不同意", now).unwrap_err();
    assert!(e.code().as_str() == "DISPUTE_WINDOW_CLOSED" && e.message_zh().contains("1 天"), "{e}");
    assert_eq!(f.store.outbox().unwrap().len(), 3, "only the three evaluations");

    let d = f.store.save_dispute(&bad.id, &a1, " 图像质量并无严重问题 ", now).unwrap();
    assert_eq!(
        (d.reason.as_str(), d.by.as_str(), d.evaluation_id.as_str()),
        ("图像质量并无严重问题", "A1", bad.id.as_str())
    );
    let e = refused(&mut f.store, &bad.id, "A1");
    assert!(e.code().as_str() == "DISPUTE_REFUSED" && e.to_string().contains("already disputed"), "{e}");

    // A revised evaluation is disputed in its latest revision.
    let mut fix = evaluation("CT-3", "IQ", &["IQ-S1"]);
    fix.supersedes = Some(old.id.clone());
    f.store.save_evaluation(&fix, now).unwrap();
    let e = refused(&mut f.store, &old.id, "A1");
    assert!(e.to_string().contains("revised"), "{e}");

    let store = reopen(&f);
    assert_eq!(store.disputes().unwrap(), std::slice::from_ref(&d));
    let entries: Vec<_> = store.outbox().unwrap().into_iter().filter(|o| o.kind == "dispute").collect();
    assert_eq!(entries.len(), 1);
    let payload: SyncPayload = serde_json::from_str(&entries[0].payload).unwrap();
    assert_eq!(payload, SyncPayload::Dispute { dispute: d });
    let settings = store.gold_settings().unwrap();
    let current = store.evaluation(&bad.id).unwrap().unwrap();
    assert_eq!(store.disputable_until(&current, &settings, true), None, "disputed: no more");
    assert_eq!(store.disputable_until(&current, &settings, false), Some(t(3, 9)));
}

fn facts(store: &Store) -> Vec<(String, Option<u8>, QcMode)> {
    store
        .evaluation_facts("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")
        .unwrap()
        .into_iter()
        .map(|f| (f.accession, f.score.map(|s| s.get()), f.mode))
        .collect()
}

#[test]
fn a_final_result_is_kept_once_as_the_current_revision_and_the_original_stays_readable() {
    let mut f = fresh();
    let original = failed(&mut f, "CT-1", 2);
    let item = final_of(5, "C1", &original, &original.id, &[]);
    f.store.save_feed_items(std::slice::from_ref(&item), t(12, 9)).unwrap();
    // The same item again, and the same case published again under another cursor.
    let mut again = item.clone();
    again.cursor = 6;
    f.store.save_feed_items(&[item, again], t(12, 10)).unwrap();

    let store = reopen(&f);
    let all = store.evaluations_of(None, "CT-1").unwrap();
    assert_eq!(all.len(), 2, "the original and the gold result, once: {all:#?}");
    let gold = &all[1];
    assert_eq!((gold.id.as_str(), gold.mode, gold.score.map(|s| s.get())), ("gold-C1", QcMode::Gold, Some(5)));
    assert_eq!(gold.supersedes.as_deref(), Some(original.id.as_str()));
    assert_eq!(all[0].superseded_by.as_deref(), Some("gold-C1"), "the original, readable, superseded");
    assert_eq!(all[0].score, original.score);
    assert_eq!(facts(&store), [("CT-1".to_owned(), Some(5), QcMode::Gold)], "the reports count the gold result");
    assert!(store.outbox().unwrap().iter().all(|o| o.kind == "evaluation" && o.ref_id == original.id), "no entry");
    let finals = store.gold_finals().unwrap();
    assert_eq!(finals.len(), 1);
    assert_eq!(
        (finals[0].original_id.as_str(), finals[0].superseded.as_str()),
        (original.id.as_str(), original.id.as_str())
    );
    assert_eq!(store.audit_log().unwrap().iter().filter(|a| a.action == "gold_final").count(), 1);
    // A gold result is final: not corrected here.
    let mut fix = evaluation("CT-1", "IQ", &["IQ-S1"]);
    fix.supersedes = Some("gold-C1".to_owned());
    let mut store = store;
    assert_eq!(code(store.save_evaluation(&fix, t(12, 11))), "INVALID_INPUT");
}

#[test]
fn a_final_over_a_local_correction_still_becomes_current_and_is_audited() {
    let mut f = fresh();
    let original = failed(&mut f, "CT-1", 2);
    let mut fix = evaluation("CT-1", "IQ", &["IQ-C1"]);
    fix.supersedes = Some(original.id.clone());
    let correction = f.store.save_evaluation(&fix, t(11, 9)).unwrap();
    f.store.save_feed_items(&[final_of(5, "C1", &original, &original.id, &[])], t(12, 9)).unwrap();
    let all = f.store.evaluations_of(None, "CT-1").unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].supersedes.as_deref(), Some(correction.id.as_str()), "over the local correction");
    assert_eq!(facts(&f.store), [("CT-1".to_owned(), Some(5), QcMode::Gold)]);
    let audit = f.store.audit_log().unwrap();
    let line = audit.iter().find(|a| a.action == "gold_over_correction").expect("audited");
    assert!(line.detail.as_deref().unwrap().contains(&correction.id), "{line:?}");

    // Another site's result, or one of an evaluation not held here, changes nothing.
    let mut other = final_of(6, "C2", &original, "unknown-id", &[]);
    f.store.save_feed_items(&[other.clone()], t(12, 9)).unwrap();
    other.cursor = 7;
    other.body["gold"]["site"] = json!("XZRM");
    other.body["case_id"] = json!("C3");
    f.store.save_feed_items(&[other], t(12, 9)).unwrap();
    assert_eq!(f.store.evaluations_of(None, "CT-1").unwrap().len(), 3);
    assert_eq!(f.store.audit_log().unwrap().iter().filter(|a| a.action == "gold_final_skipped").count(), 2);
}

#[test]
fn a_final_case_closes_its_assignments() {
    let mut f = fresh();
    let original = failed(&mut f, "CT-1", 2);
    f.store.save_feed_items(&[assigned(1, "C1", GoldTask::First, "S1", vec![])], t(10, 8)).unwrap();
    f.store.save_feed_items(&[final_of(2, "C1", &original, &original.id, &[])], t(12, 8)).unwrap();
    assert!(f.store.gold_assignments("S1").unwrap().is_empty());
    assert_eq!(code(f.store.save_gold_read(&read("C1", GoldTask::First, "S1", &[]), t(12, 9))), "GOLD_CASE_CLOSED");
}

/// A store made by migrations 1 to 5 with entries in its outbox: the sixth keeps every entry,
/// its state and payload, and the outbox's rules.
#[test]
fn the_gold_migration_keeps_the_outbox_and_its_rules() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("qc.db");
    let key_file = dir.path().join("qc.db.key");
    let key = radqc_store::Key::create_file(&key_file).unwrap();
    {
        let conn = raw_conn(&db, &key_file);
        conn.pragma_update(None, "application_id", radqc_store::APPLICATION_ID).unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        conn.execute_batch("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, digest TEXT NOT NULL, recorded TEXT NOT NULL CHECK (recorded IN ('applied', 'inferred')), at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))) STRICT;").unwrap();
        for (i, text) in radqc_store::MIGRATIONS[..5].iter().enumerate() {
            conn.execute_batch(text).unwrap();
            conn.execute(
                "INSERT INTO schema_migrations (version, digest, recorded) VALUES (?1, ?2, 'applied')",
                rusqlite::params![i as i64 + 1, radqc_domain::migrations::digest(text)],
            )
            .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO meta (key, value) VALUES ('site', 'NJGL'), ('device_id', '0192f1e0-0000-7000-8000-000000000001'), \
             ('patient_salt', '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'), \
             ('store_patient_names', '0'), ('created_at', '2026-11-29T10:00:00.000Z');
             INSERT INTO outbox (seq, kind, ref_id, state, created_at) VALUES
                 (1, 'exam_event', 'e1', 'sent', '2026-11-29T10:00:00.000Z'),
                 (2, 'notice_closure', 'n1', 'pending', '2026-11-29T10:00:01.000Z');
             INSERT INTO outbox_payload (seq, payload) VALUES (1, '{\"a\":1}'), (2, '{\"b\":2}');
             INSERT INTO center_feed (kind, cursor, site, body, published_at, received_at) VALUES
                 ('grants', 3, NULL, '{}', '2026-11-29T10:00:00.000Z', '2026-11-29T10:00:00.000Z');",
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 5).unwrap();
    }
    let store = Store::open(&db, &key).unwrap();
    let outbox = store.outbox().unwrap();
    assert_eq!(
        outbox.iter().map(|o| (o.seq, o.kind.as_str(), o.payload.as_str())).collect::<Vec<_>>(),
        [(1, "exam_event", "{\"a\":1}"), (2, "notice_closure", "{\"b\":2}")]
    );
    assert_eq!(store.pending_outbox(10).unwrap().len(), 1);
    assert_eq!(store.feed_cursor(FeedKind::Grants).unwrap(), 3);
    drop(store);
    let conn = raw_conn(&db, &key_file);
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    let err = conn.execute("DELETE FROM outbox WHERE seq = 1", []).unwrap_err().to_string();
    assert!(err.contains("never deleted"), "{err}");
    let err = conn.execute("UPDATE outbox SET kind = 'evaluation' WHERE seq = 2", []).unwrap_err().to_string();
    assert!(err.contains("never changes"), "{err}");
    let err = conn
        .execute("INSERT INTO outbox (seq, kind, ref_id, created_at) VALUES (3, 'other', 'x', 'now')", [])
        .unwrap_err()
        .to_string();
    assert!(err.contains("CHECK"), "{err}");
    let fk: i64 = conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
    assert_eq!(fk, 0, "every payload still points at its entry");
    // The new store's outbox is made the same way.
    let fresh = fresh();
    let schema = |c: &rusqlite::Connection| -> Vec<String> {
        c.prepare("SELECT sql FROM sqlite_master WHERE tbl_name IN ('outbox', 'gold_reads', 'disputes') AND sql IS NOT NULL ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(schema(&conn), schema(&fresh.raw()));
}
