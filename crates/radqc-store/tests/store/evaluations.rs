//! Saving, correcting and finding evaluations; the outbox and the audit log they feed.

use radqc_domain::ExamEventKind;
use radqc_store::{ExamFilter, ExamInput, OutboxState, Store, StoreError, SyncPayload};
use serde_json::json;

use crate::support::*;

#[test]
fn a_saved_evaluation_is_scored_by_the_engine_and_enqueued() {
    let mut f = fresh();
    let saved = f.store.save_evaluation(&evaluation("CT001", "IQ", &["IQ-C4", "IQ-C1"]), t(2, 10)).unwrap();
    assert_eq!(saved.score.map(|s| s.get()), Some(3), "two unmet IQ criteria score 3");
    assert_eq!(saved.scored_person.as_ref().map(|s| s.as_str()), Some("A1"), "IQ scores the technologist");
    assert_eq!(uuid::Uuid::parse_str(&saved.id).unwrap().get_version_num(), 7, "ids are UUIDv7");

    let back = f.store.evaluation(&saved.id).unwrap().expect("saved evaluation reads back");
    assert_eq!(back, saved, "what save returned is what the store holds");
    assert_eq!(back.findings.iter().map(|c| c.as_str()).collect::<Vec<_>>(), ["IQ-C1", "IQ-C4"]);

    let outbox = f.store.pending_outbox(10).unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(
        (outbox[0].seq, outbox[0].kind.as_str(), outbox[0].ref_id.as_str()),
        (1, "evaluation", saved.id.as_str())
    );
    let payload: SyncPayload = serde_json::from_str(&outbox[0].payload).unwrap();
    let SyncPayload::Evaluation { exam, evaluation } = payload else { panic!("an evaluation payload") };
    assert_eq!(*evaluation, saved, "the payload carries the record");
    assert_eq!(exam.accession, "CT001", "and its exam");
    assert_eq!(exam.patient_name, None, "no patient name by default");
    assert_eq!(exam.patient_hash.as_ref().map(String::len), Some(64), "patient id only as a salted hash");
    assert_ne!(exam.patient_hash.as_deref(), Some("P-0001"));

    let log = f.store.audit_log().unwrap();
    assert_eq!((log[0].actor.as_str(), log[0].action.as_str()), ("D1", "scored"));
}

#[test]
fn a_score_from_the_caller_is_refused_not_trusted() {
    let mut value = serde_json::to_value(evaluation("CT001", "IQ", &[])).unwrap();
    value["score"] = json!(5);
    let err = serde_json::from_value::<radqc_store::NewEvaluation>(value).unwrap_err();
    assert!(err.to_string().contains("unknown field `score`"), "{err}");
}

#[test]
fn a_correction_is_a_new_revision_and_both_stay_readable() {
    let mut f = fresh();
    let first = f.store.save_evaluation(&evaluation("CT001", "RQ", &["RQ-S1"]), t(2, 10)).unwrap();
    let mut fix = evaluation("CT001", "RQ", &["RQ-C2"]);
    fix.supersedes = Some(first.id.clone());
    fix.note = "误判为漏诊，已更正".into();
    let second = f.store.save_evaluation(&fix, t(2, 11)).unwrap();
    assert_eq!(second.supersedes.as_deref(), Some(first.id.as_str()));

    let all = f.store.evaluations_of(None, "CT001").unwrap();
    assert_eq!(all.len(), 2, "both revisions kept");
    assert_eq!(all[0].score.map(|s| s.get()), Some(1), "the old score is still readable");
    assert_eq!(all[0].superseded_by.as_deref(), Some(second.id.as_str()), "and says who replaced it");
    assert_eq!(f.store.exam(None, "CT001").unwrap().unwrap().evaluations, 1, "one current evaluation");

    let err = f.store.save_evaluation(&fix, t(2, 12)).unwrap_err();
    assert_eq!(err.code(), "ALREADY_CORRECTED", "a revision is corrected at its latest version: {err}");
    let mut other_item = evaluation("CT001", "IQ", &[]);
    other_item.supersedes = Some(second.id.clone());
    assert_eq!(
        f.store.save_evaluation(&other_item, t(2, 12)).unwrap_err().code(),
        "INVALID_INPUT",
        "a correction keeps the item"
    );
    let mut unknown = evaluation("CT001", "RQ", &[]);
    unknown.supersedes = Some("nope".into());
    assert_eq!(f.store.save_evaluation(&unknown, t(2, 12)).unwrap_err().code(), "UNKNOWN_EVALUATION");

    let raw = f.raw();
    let err = raw.execute("UPDATE evaluations SET score = 5", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "the file itself refuses silent changes: {err}");
    assert!(raw.execute("DELETE FROM audit_log", []).is_err(), "the audit log is append-only");
    assert_eq!(f.store.audit_log().unwrap().iter().filter(|e| e.action == "corrected").count(), 1);
}

#[test]
fn invalid_input_changes_nothing() {
    let mut f = fresh();
    let check = |store: &mut Store, e: radqc_store::NewEvaluation, code: &str| {
        let err = store.save_evaluation(&e, t(2, 10)).unwrap_err();
        assert_eq!(err.code(), code, "{err}");
    };
    check(&mut f.store, evaluation("CT001", "IQ", &["FL-S1"]), "CRITERION_OF_OTHER_ITEM");
    check(&mut f.store, evaluation("CT001", "IQ", &["IQ-C9"]), "UNKNOWN_CRITERION");
    check(&mut f.store, evaluation("", "IQ", &[]), "INVALID_INPUT");
    check(&mut f.store, evaluation("CT001\n", "IQ", &[]), "INVALID_INPUT");
    let mut long_note = evaluation("CT001", "IQ", &[]);
    long_note.note = "很".repeat(2001);
    check(&mut f.store, long_note, "INVALID_INPUT");
    let mut no_film = evaluation("CT001", "FL", &[]);
    no_film.exam.film_printed = Some(false);
    check(&mut f.store, no_film, "ITEM_NOT_APPLICABLE");

    assert!(f.store.evaluations().unwrap().is_empty(), "no evaluation written");
    assert!(f.store.outbox().unwrap().is_empty(), "no outbox entry written");
    assert!(f.store.exam(None, "CT001").unwrap().is_none(), "no exam written");
    let err = f.store.save_evaluation(&evaluation("", "IQ", &[]), t(2, 10)).unwrap_err();
    assert!(
        err.to_string().contains("exam.accession") && matches!(err, StoreError::Invalid { .. }),
        "names the field: {err}"
    );
}

#[test]
fn the_outbox_numbers_every_entry_without_gaps_and_keeps_dead_letters() {
    let mut f = fresh();
    let exam: ExamInput = serde_json::from_value(exam("CT001", json!({}))).unwrap();
    f.store.record_event(&exam, ExamEventKind::ReportSigned, &"D1".parse().unwrap(), t(2, 9), t(2, 9)).unwrap();
    for i in 0..5 {
        // A refused save in between must not burn a sequence number.
        let _ = f.store.save_evaluation(&evaluation("CT001", "IQ", &["IQ-C9"]), t(2, 10));
        f.store.save_evaluation(&evaluation(&format!("CT00{i}"), "IQ", &[]), t(2, 10)).unwrap();
    }
    let seqs: Vec<i64> = f.store.outbox().unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6], "strictly increasing, no gap");

    f.store.mark_sent(&[1, 2], t(3, 0)).unwrap();
    f.store.mark_sent(&[2], t(3, 0)).unwrap();
    f.store.mark_rejected(3, "rubric version 2025.1 is retired", t(3, 0)).unwrap();
    let pending: Vec<i64> = f.store.pending_outbox(10).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(pending, [4, 5, 6], "the entries behind a dead letter go on");
    let counts = f.store.outbox_counts().unwrap();
    assert_eq!((counts.pending, counts.sent, counts.rejected), (3, 2, 1));
    let dead = f.store.rejected_outbox().unwrap();
    assert_eq!(
        (dead[0].state, dead[0].reason.as_deref()),
        (OutboxState::Rejected, Some("rubric version 2025.1 is retired"))
    );
    assert_eq!(f.store.mark_sent(&[3], t(3, 0)).unwrap_err().code(), "NOT_PENDING", "a dead letter is not sent later");
    assert_eq!(f.store.mark_rejected(1, "x", t(3, 0)).unwrap_err().code(), "NOT_PENDING");
}

#[test]
fn exams_are_found_by_accession_and_filters() {
    let mut f = fresh();
    let add = |f: &mut Fixture, acc: &str, extra: serde_json::Value, evaluate: bool| {
        let exam: ExamInput = serde_json::from_value(exam(acc, extra)).unwrap();
        f.store.record_event(&exam, ExamEventKind::ReportSigned, &"D1".parse().unwrap(), t(2, 9), t(2, 9)).unwrap();
        if evaluate {
            let mut e = evaluation(acc, "IQ", &[]);
            e.exam = exam;
            f.store.save_evaluation(&e, t(2, 10)).unwrap();
        }
    };
    add(&mut f, "CT1", json!({}), true);
    add(
        &mut f,
        "DR1",
        json!({"modality": "DR", "exam_item": "胸部正位片", "staff": {"technologist": "A2"}, "performed_at": "2026-11-05T09:00:00Z"}),
        false,
    );
    add(
        &mut f,
        "MR1",
        json!({"modality": "MR", "department": "神经内科", "performed_at": "2026-10-30T09:00:00Z"}),
        false,
    );

    let find = |f: &Fixture, filter: serde_json::Value| -> Vec<String> {
        let filter: ExamFilter = serde_json::from_value(filter).unwrap();
        f.store.find_exams(&filter).unwrap().into_iter().map(|e| e.accession).collect()
    };
    assert_eq!(find(&f, json!({})), ["DR1", "CT1", "MR1"], "newest first");
    assert_eq!(find(&f, json!({"modality": "DR"})), ["DR1"]);
    assert_eq!(find(&f, json!({"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"})), ["DR1", "CT1"]);
    assert_eq!(find(&f, json!({"staff": "A2"})), ["DR1"]);
    assert_eq!(find(&f, json!({"exam_item": "CT胸部平扫"})), ["CT1", "MR1"]);
    assert_eq!(find(&f, json!({"department": "神经内科"})), ["MR1"]);
    assert_eq!(find(&f, json!({"evaluated": false})), ["DR1", "MR1"]);
    assert_eq!(find(&f, json!({"evaluated": true})), ["CT1"]);
    assert_eq!(find(&f, json!({"limit": 1})), ["DR1"]);
    assert_eq!(find(&f, json!({"score": 5})), ["CT1"], "CT1's IQ scored 5");
    assert!(find(&f, json!({"score": 2})).is_empty());
    assert!(serde_json::from_value::<ExamFilter>(json!({"score": 6})).is_err(), "a score is 1-5");
    let exam = f.store.exam(None, "DR1").unwrap().unwrap();
    assert_eq!(exam.staff.technologist.map(|s| s.to_string()).as_deref(), Some("A2"));
    assert_eq!(exam.staff.reporting_doctor, None);
    // A later mention of CT1 without staff keeps what the store knew.
    let bare: ExamInput =
        serde_json::from_value(json!({"accession": "CT1", "modality": "CT", "exam_item": "CT胸部平扫"})).unwrap();
    f.store.record_event(&bare, ExamEventKind::ReportAudited, &"D9".parse().unwrap(), t(2, 11), t(2, 11)).unwrap();
    let ct1 = f.store.exam(None, "CT1").unwrap().unwrap();
    assert_eq!(ct1.staff.reporting_doctor.map(|s| s.to_string()).as_deref(), Some("D1"), "kept");
    assert_eq!(ct1.department.as_deref(), Some("放射科"), "kept");
    assert_eq!(f.store.events().unwrap().len(), 4);
}

#[test]
fn patient_names_are_kept_only_when_the_site_turns_them_on() {
    let mut f = fresh();
    let mut e = evaluation("CT001", "IQ", &[]);
    e.exam.patient.as_mut().unwrap().name = Some("张三".into());
    f.store.save_evaluation(&e, t(2, 10)).unwrap();
    assert_eq!(f.store.exam(None, "CT001").unwrap().unwrap().patient_name, None, "dropped by default");
    f.store.set_store_patient_names(true).unwrap();
    e.exam.accession = "CT002".into();
    f.store.save_evaluation(&e, t(2, 10)).unwrap();
    assert_eq!(f.store.exam(None, "CT002").unwrap().unwrap().patient_name.as_deref(), Some("张三"));
    let a = f.store.exam(None, "CT001").unwrap().unwrap().patient_hash;
    let b = f.store.exam(None, "CT002").unwrap().unwrap().patient_hash;
    assert_eq!(a, b, "the same patient hashes the same within a site");
}

#[test]
fn a_reopened_store_has_everything() {
    let mut f = fresh();
    let saved = f.store.save_evaluation(&evaluation("CT001", "AR", &["AR-C1"]), t(2, 10)).unwrap();
    let Fixture { dir, store, key } = f;
    let device = store.device_id().to_owned();
    drop(store);
    let store = Store::open(&dir.path().join("qc.db"), &key).unwrap();
    assert_eq!(store.evaluation(&saved.id).unwrap(), Some(saved));
    assert_eq!(store.device_id(), device, "the device keeps its id");
    assert_eq!(store.site().as_str(), "NJGL");
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn a_batch_saves_the_valid_evaluations_and_reports_the_invalid_ones() {
    let mut f = fresh();
    let batch =
        vec![evaluation("CT1", "IQ", &[]), evaluation("CT2", "IQ", &["IQ-C9"]), evaluation("CT3", "RQ", &["RQ-S2"])];
    let results = f.store.save_batch(&batch, t(2, 10)).unwrap();
    assert!(results[0].is_ok() && results[2].is_ok(), "valid ones saved");
    assert_eq!(results[1].as_ref().unwrap_err().code(), "UNKNOWN_CRITERION", "the invalid one says why");
    let seqs: Vec<i64> = f.store.outbox().unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2], "no gap left by the refused one");
    assert_eq!(f.store.evaluations().unwrap().len(), 2);
}

#[test]
fn audit_counts_are_per_actor_action_and_period() {
    let f = fresh();
    for (actor, action, day) in
        [("D1", "sampled", 2), ("D1", "sampled", 5), ("D1", "not_sampled", 5), ("D2", "sampled", 5)]
    {
        f.store.audit(actor, action, Some("X"), None, t(day, 9)).unwrap();
    }
    assert_eq!(f.store.count_audit("sampled", "D1", t(1, 0)).unwrap(), 2);
    assert_eq!(f.store.count_audit("sampled", "D1", t(3, 0)).unwrap(), 1, "only since the given time");
    assert_eq!(f.store.count_audit("sampled", "D3", t(1, 0)).unwrap(), 0);
}

#[test]
fn another_site_s_exam_and_a_time_beyond_the_clock_skew_are_refused() {
    let mut f = fresh();
    let now = t(2, 10);
    let mut other = evaluation("CT1", "IQ", &[]);
    other.exam.site = Some("OTHER".parse().unwrap());
    let err = f.store.save_evaluation(&other, now).unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("`exam.site`: is OTHER, but this store belongs to site NJGL"), "{err}");
    let signer = "D1".parse().unwrap();
    let err = f.store.record_event(&other.exam, ExamEventKind::ReportSigned, &signer, now, now).unwrap_err();
    assert!(err.to_string().contains("exam.site"), "an exam event of another site too: {err}");

    let mut ahead = evaluation("CT2", "IQ", &[]);
    ahead.at = Some(now + radqc_store::MAX_CLOCK_SKEW + chrono::TimeDelta::seconds(1));
    let err = f.store.save_evaluation(&ahead, now).unwrap_err();
    assert!(err.to_string().contains("`at`") && err.to_string().contains("in the future"), "{err}");
    ahead.at = Some(now + radqc_store::MAX_CLOCK_SKEW);
    f.store.save_evaluation(&ahead, now).expect("within the allowed clock skew");
    assert_eq!(f.store.evaluations().unwrap().len(), 1, "only the one within the rules");
    assert_eq!(f.store.outbox().unwrap().len(), 1);
}
