//! The report checks' record: a run and its proposals kept with a signing, the doctor's choice
//! once, the reviewer's outcome, the latest signing's run for the panel, the counts by check and
//! local month, and the table's own checks on what may change.

use radqc_domain::precheck::{Check, Mode};
use radqc_domain::{ExamEventKind, SiteZone};
use radqc_store::{ExamInput, NewPrecheckRun, NewProposal, ProposalOutcome, ReportSource, SignerChoice};
use serde_json::json;

use crate::support::{exam, fresh, t};

fn proposal(check: Check, mode: Mode) -> NewProposal {
    NewProposal {
        check,
        criterion: "RQ-S2".parse().unwrap(),
        twin: "AR-S2".parse().unwrap(),
        evidence: vec!["右膝".into()],
        message_zh: "检查项目为左膝，报告写右膝".into(),
        message_en: "the exam is of the left knee, the report says right".into(),
        mode,
    }
}

#[test]
fn a_run_is_kept_with_its_signing_and_decided_once_by_the_doctor() {
    let mut f = fresh();
    let input: ExamInput = serde_json::from_value(exam("DR1", json!({"exam_item": "DR左膝关节"}))).unwrap();
    let signing =
        f.store.record_event(&input, ExamEventKind::ReportSigned, &"D1".parse().unwrap(), t(3, 9), t(3, 9)).unwrap();
    let run = NewPrecheckRun {
        accession: "DR1".into(),
        signing: signing.id.clone(),
        signer: "D1".into(),
        source: ReportSource::Request,
        findings: "右膝关节间隙变窄。".into(),
        impression: "右膝退行性变。".into(),
        history: String::new(),
    };
    let saved = f
        .store
        .save_precheck(
            &run,
            &[proposal(Check::Laterality, Mode::Warn), proposal(Check::NoComparison, Mode::Panel)],
            t(3, 9),
        )
        .unwrap();
    assert_eq!(saved.len(), 2);
    assert_eq!((saved[0].check, saved[0].mode, saved[0].signer_choice), (Check::Laterality, Mode::Warn, None));
    assert!(f.store.save_precheck(&run, &[], t(3, 9)).is_err(), "one run per signing");
    let off = NewPrecheckRun { signing: "x".into(), ..run.clone() };
    assert!(
        f.store.save_precheck(&off, &[proposal(Check::Laterality, Mode::Off)], t(3, 9)).is_err(),
        "off proposes nothing"
    );

    // Only a warning is the doctor's to answer, and only once.
    assert!(f.store.record_signer_choice(&[saved[1].id], SignerChoice::Returned, "D1", "DR1", t(3, 9)).is_err());
    f.store.record_signer_choice(&[saved[0].id], SignerChoice::SignedAnyway, "D1", "DR1", t(3, 9)).unwrap();
    assert!(f.store.record_signer_choice(&[saved[0].id], SignerChoice::Returned, "D1", "DR1", t(3, 9)).is_err());
    let raw = f.raw();
    assert!(
        raw.execute("UPDATE precheck_proposals SET signer_choice = 'returned' WHERE id = ?1", [saved[0].id]).is_err(),
        "the table itself keeps the choice once"
    );
    assert!(raw.execute("UPDATE precheck_proposals SET evidence = '[]'", []).is_err(), "content never changes");
    assert!(raw.execute("DELETE FROM precheck_proposals", []).is_err(), "nor is deleted");
    assert!(raw.execute("UPDATE precheck_runs SET findings = ''", []).is_err(), "nor the run's text");
    drop(raw);

    let accepted = f.store.decide_proposal(saved[0].id, ProposalOutcome::Accepted, "Q1", t(4, 9)).unwrap();
    assert_eq!((accepted.outcome, accepted.decided_by.as_deref()), (Some(ProposalOutcome::Accepted), Some("Q1")));
    assert!(f.store.decide_proposal(999, ProposalOutcome::Accepted, "Q1", t(4, 9)).is_err());

    let latest = f.store.latest_precheck("DR1").unwrap().unwrap();
    assert_eq!((latest.findings.as_str(), latest.proposals.len()), ("右膝关节间隙变窄。", 2));
    let actions: Vec<String> = f.store.audit_log().unwrap().into_iter().map(|e| e.action).collect();
    for a in ["precheck", "precheck_signed_anyway", "precheck_accepted"] {
        assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
    }

    // A later signing not read (or read clean) is the latest: its run, not the old one's.
    let again =
        f.store.record_event(&input, ExamEventKind::ReportSigned, &"D1".parse().unwrap(), t(5, 9), t(5, 9)).unwrap();
    assert!(f.store.latest_precheck("DR1").unwrap().is_none(), "the latest signing was not read");
    f.store.save_precheck(&NewPrecheckRun { signing: again.id, ..run }, &[], t(5, 9)).unwrap();
    assert_eq!(f.store.latest_precheck("DR1").unwrap().unwrap().proposals, []);
}

#[test]
fn the_counts_are_by_site_local_month_and_check() {
    let mut f = fresh();
    let input: ExamInput = serde_json::from_value(exam("DR2", json!({}))).unwrap();
    let mut ids = Vec::new();
    // 31 October 17:00 UTC is 1 November in Beijing.
    for at in ["2026-10-31T15:00:00Z", "2026-10-31T17:00:00Z", "2026-11-02T09:00:00Z"] {
        let at: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
        let s = f.store.record_event(&input, ExamEventKind::ReportSigned, &"D1".parse().unwrap(), at, at).unwrap();
        let run = NewPrecheckRun {
            accession: "DR2".into(),
            signing: s.id,
            signer: "D1".into(),
            source: ReportSource::Ris,
            findings: "f".into(),
            impression: "i".into(),
            history: String::new(),
        };
        ids.push(f.store.save_precheck(&run, &[proposal(Check::Laterality, Mode::Warn)], at).unwrap()[0].id);
    }
    f.store.decide_proposal(ids[1], ProposalOutcome::Accepted, "Q1", t(3, 9)).unwrap();
    f.store.decide_proposal(ids[2], ProposalOutcome::Dismissed, "Q1", t(3, 9)).unwrap();
    let rows = f.store.precheck_stats("Asia/Shanghai".parse::<SiteZone>().unwrap()).unwrap();
    let seen: Vec<(&str, u64, u64, u64)> =
        rows.iter().map(|r| (r.month.as_str(), r.accepted, r.dismissed, r.open)).collect();
    assert_eq!(seen, [("2026-10", 0, 0, 1), ("2026-11", 1, 1, 0)]);
    assert!(rows.iter().all(|r| r.site == "NJGL" && r.check == Check::Laterality));
}
