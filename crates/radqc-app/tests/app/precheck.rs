//! The report checks at signing and in the panel, on a real demo store: a 左膝 exam whose report
//! says 右膝 is held with a laterality warning; 返回修改 answers blocked / PRECHECK with the
//! proposals, 仍然签发 answers go and samples the exam; `off` and `panel` do not hold, as a
//! site's sampling rules say; the RIS's report is read when the request has none; the QC
//! reviewer's accept and dismiss are kept, audited and counted.

use radqc_app::{App, GateAnswer, PanelClosedPolicy, SignRequest, SignResponse};
use radqc_protocol::{FeedItem, FeedKind};
use serde_json::{json, Value};

use crate::{app, now};

/// The site's sampling rules: every signing drawn (`probability` 1) or none (0), no monthly
/// minimum, and the checks' modes.
fn rules(app: &mut App, cursor: i64, probability: f64, precheck: Value) {
    let body = json!({"version": format!("t-{cursor}"), "monthly_min_per_staff": 0,
                      "rules": [{"name": "all", "probability": probability}], "precheck": precheck});
    let item = FeedItem { cursor, kind: FeedKind::Sampling, site: None, body, published_at: now() };
    app.store_mut().save_feed_items(&[item], now()).unwrap();
}

fn knee(accession: &str, report: Option<Value>) -> SignRequest {
    let mut v = json!({
        "exam": {"accession": accession, "modality": "DR", "exam_item": "DR左膝关节正侧位", "department": "放射科",
                 "patient_source": "outpatient", "follow_up": false,
                 "staff": {"technologist": "A1", "reporting_doctor": "D1"},
                 "patient": {"id": "P-KNEE", "sex": "F", "age": 63}},
        "signer": "D1"
    });
    if let Some(r) = report {
        v["report"] = r;
    }
    serde_json::from_value(v).unwrap()
}

fn wrong_side() -> Value {
    json!({"findings": "右膝关节间隙变窄，右膝关节边缘骨质增生，未见骨折。", "impression": "右膝关节退行性变。"})
}

fn audited(app: &App, action: &str, subject: &str) -> Vec<Option<String>> {
    let log = app.store().audit_log().unwrap();
    log.into_iter().filter(|e| e.action == action && e.subject.as_deref() == Some(subject)).map(|e| e.detail).collect()
}

#[test]
fn a_wrong_side_holds_the_signature_and_returning_blocks_it_with_the_proposals() {
    let (_dir, mut app) = app(PanelClosedPolicy::Allow);
    rules(&mut app, 1, 0.0, json!({}));
    let SignResponse::Hold { gate, waiter, decision, .. } =
        app.sign(&knee("DR-L-1", Some(wrong_side())), now()).unwrap()
    else {
        panic!("a laterality warning holds the signature")
    };
    assert!(!decision.sampled, "the draw did not sample it: the warning alone holds it");
    assert!(gate.items.is_empty(), "nothing to score at signing");
    assert_eq!(gate.precheck.len(), 1, "{:?}", gate.precheck);
    let p = &gate.precheck[0];
    assert_eq!((p.check.name(), p.criterion.as_str(), p.twin.as_str()), ("laterality", "RQ-S2", "AR-S2"));
    assert!(p.evidence.iter().any(|e| e.contains('右')), "the evidence quotes the report: {:?}", p.evidence);
    let text = gate.report.as_ref().unwrap();
    assert!(text.findings.contains("右膝关节间隙变窄") && text.impression.contains("退行性变"));
    for e in &p.evidence {
        assert!(text.findings.contains(e.as_str()) || text.impression.contains(e.as_str()), "{e} is verbatim");
    }
    // A retry joins the hold: one warning.
    let SignResponse::Hold { gate: again, retry: true, .. } =
        app.sign(&knee("DR-L-1", Some(wrong_side())), now()).unwrap()
    else {
        panic!("a retry joins")
    };
    assert_eq!(again.id, gate.id);

    let chosen = app.precheck_choose(&gate.id, false, now()).unwrap();
    let released = chosen.released.unwrap();
    let GateAnswer::Blocked { reason, proposals } = &released.answer else { panic!("{released:?}") };
    assert_eq!(reason, "PRECHECK");
    assert_eq!(proposals.len(), 1);
    assert_eq!(proposals[0].signer_choice, Some(radqc_store::SignerChoice::Returned));
    let wire = serde_json::to_value(&released.answer).unwrap();
    assert_eq!((wire["decision"].as_str(), wire["reason"].as_str()), (Some("blocked"), Some("PRECHECK")));
    assert_eq!(wire["proposals"][0]["check"], "laterality");
    assert_eq!(waiter.answer.try_recv().unwrap(), released.answer, "the workstation gets the same");
    assert!(app.pending_gates().is_empty());
    assert_eq!(audited(&app, "precheck_returned", "DR-L-1").len(), 1);
    assert_eq!(audited(&app, "sampled", "DR-L-1").len(), 0, "returned: not sampled");
    assert_eq!(app.precheck_choose(&gate.id, true, now()).unwrap_err().code, "UNKNOWN_GATE", "answered once");

    // An ordinary QC close does not block with PRECHECK; a closed warning is 返回修改.
    let SignResponse::Hold { gate, .. } = app.sign(&knee("DR-L-1b", Some(wrong_side())), now()).unwrap() else {
        panic!()
    };
    let closed = app.close_gate(&gate.id, now()).unwrap();
    assert!(
        matches!(&closed.answer, GateAnswer::Blocked { reason, .. } if reason == "PRECHECK"),
        "closing the warning returns the report, whatever the panel policy: {closed:?}"
    );
    let blocked_qc = serde_json::to_value(GateAnswer::Blocked { reason: "x".into(), proposals: vec![] }).unwrap();
    assert!(blocked_qc.get("proposals").is_none(), "an ordinary block carries no proposals");
}

#[test]
fn signing_anyway_answers_go_and_samples_the_exam() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    rules(&mut app, 1, 0.0, json!({}));
    let SignResponse::Hold { gate, waiter, .. } = app.sign(&knee("DR-L-2", Some(wrong_side())), now()).unwrap() else {
        panic!("held")
    };
    assert!(!app.signed_anyway(&gate.precheck).unwrap());
    let chosen = app.precheck_choose(&gate.id, true, now()).unwrap();
    assert_eq!(chosen.released.unwrap().answer, GateAnswer::Go { evaluations: vec![] });
    assert_eq!(waiter.answer.try_recv().unwrap(), GateAnswer::Go { evaluations: vec![] });
    assert!(app.signed_anyway(&gate.precheck).unwrap(), "the gate API says sampled: true");
    let sampled = audited(&app, "sampled", "DR-L-2");
    assert_eq!(sampled.len(), 1, "sampled for QC although the draw said not");
    let detail: Value = serde_json::from_str(sampled[0].as_deref().unwrap()).unwrap();
    assert_eq!(detail["why"], "precheck");
    assert_eq!(audited(&app, "not_sampled", "DR-L-2").len(), 1, "the draw itself is kept as it was");
    assert_eq!(audited(&app, "precheck_signed_anyway", "DR-L-2").len(), 1);
    let month_start = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 10, 31, 16, 0, 0).unwrap();
    assert_eq!(app.store().count_audit("sampled", "D1", month_start).unwrap(), 1, "it counts in the month");
    let run = app.store().latest_precheck("DR-L-2").unwrap().unwrap();
    assert_eq!(run.proposals[0].signer_choice, Some(radqc_store::SignerChoice::SignedAnyway));
}

#[test]
fn a_drawn_signing_is_scored_after_the_doctor_signs_anyway() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    rules(&mut app, 1, 1.0, json!({}));
    let SignResponse::Hold { gate, waiter, decision, .. } =
        app.sign(&knee("DR-L-3", Some(wrong_side())), now()).unwrap()
    else {
        panic!("held")
    };
    assert!(decision.sampled && !gate.items.is_empty() && !gate.precheck.is_empty());
    let chosen = app.precheck_choose(&gate.id, true, now()).unwrap();
    assert!(chosen.released.is_none(), "the QC panel comes next");
    let next = chosen.gate.unwrap();
    assert!(next.precheck.is_empty() && next.items == gate.items);
    assert!(waiter.answer.try_recv().is_err(), "still held for the score");
    assert_eq!(audited(&app, "sampled", "DR-L-3").len(), 1, "sampled once, by the draw");
    let save: radqc_app::PanelSave = serde_json::from_value(json!({
        "accession": "DR-L-3", "mode": "random", "gate_id": gate.id,
        "items": [{"item": "AF", "findings": []}]
    }))
    .unwrap();
    let saved = app.save_panel(&save, now()).unwrap();
    assert_eq!(waiter.answer.try_recv().unwrap(), GateAnswer::Go { evaluations: vec![saved[0].id.clone()] });
}

#[test]
fn off_and_panel_modes_do_not_hold_and_the_site_sets_them() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    rules(&mut app, 1, 0.0, json!({"laterality": "off"}));
    assert!(matches!(app.sign(&knee("DR-OFF", Some(wrong_side())), now()).unwrap(), SignResponse::Go { .. }));
    assert_eq!(app.store().latest_precheck("DR-OFF").unwrap().unwrap().proposals, [], "off: not run");

    rules(&mut app, 2, 0.0, json!({"laterality": "panel"}));
    assert!(matches!(app.sign(&knee("DR-PANEL", Some(wrong_side())), now()).unwrap(), SignResponse::Go { .. }));
    let run = app.store().latest_precheck("DR-PANEL").unwrap().unwrap();
    assert_eq!(run.proposals.len(), 1, "panel: kept for the QC panel");
    assert_eq!((run.proposals[0].mode, run.proposals[0].signer_choice), (radqc_domain::precheck::Mode::Panel, None));

    // No setting: the check's default (laterality warns).
    rules(&mut app, 3, 0.0, json!({}));
    assert!(matches!(app.sign(&knee("DR-DEFAULT", Some(wrong_side())), now()).unwrap(), SignResponse::Hold { .. }));
    // A clean report: nothing proposed, go.
    let clean = json!({"findings": "左膝关节间隙变窄，左膝关节边缘骨质增生。", "impression": "左膝关节退行性变。"});
    assert!(matches!(app.sign(&knee("DR-CLEAN", Some(clean)), now()).unwrap(), SignResponse::Go { .. }));
    // No report known: not read at all.
    assert!(matches!(app.sign(&knee("DR-NONE", None), now()).unwrap(), SignResponse::Go { .. }));
    assert!(app.store().latest_precheck("DR-NONE").unwrap().is_none());
}

#[test]
fn the_ris_report_is_read_when_the_request_has_none() {
    use radqc_hl7::{read, Charset, Mapping};
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    rules(&mut app, 1, 0.0, json!({}));
    let seg = |id: &str, fields: &[(usize, &str)]| {
        let mut v = vec![String::new(); fields.iter().map(|f| f.0).max().unwrap() + 1];
        v[0] = id.to_owned();
        for (i, f) in fields {
            v[*i] = (*f).to_owned();
        }
        v.join("|")
    };
    let msh = |kind: &str, id: &str| {
        format!("MSH|^~\\&|RIS|DEMO|RADQC|DEMO|20261120083000||{kind}|{id}|P|2.3.1||||||UNICODE UTF-8")
    };
    let order = [
        msh("ORM^O01", "M1"),
        "PID|||P000123||王^小明||19600315|F".to_owned(),
        seg("PV1", &[(2, "O")]),
        seg("ORC", &[(1, "NW"), (2, "RIS-KNEE"), (5, "SC")]),
        seg(
            "OBR",
            &[
                (1, "1"),
                (2, "RIS-KNEE"),
                (4, "DR01^DR左膝关节正侧位"),
                (7, "20261120080000"),
                (18, "RIS-KNEE"),
                (24, "DR"),
                (34, "A1"),
            ],
        ),
    ]
    .join("\r");
    let result = [
        msh("ORU^R01", "M2"),
        "PID|||P000123".to_owned(),
        seg("OBR", &[(1, "1"), (18, "RIS-KNEE"), (22, "20261120083000"), (25, "F"), (32, "D1")]),
        "OBX|1|TX|18782-3^影像所见^LN||右膝关节间隙变窄，右膝关节边缘骨质增生。".to_owned(),
        "OBX|2|TX|19005-8^诊断意见^LN||右膝关节退行性变。".to_owned(),
    ]
    .join("\r");
    for text in [order, result] {
        let zone = app.store().time_zone().unwrap();
        let (message, read) = read(text.as_bytes(), Charset::Utf8, &Mapping::bundled(), zone);
        let receipt = app.store_mut().save_hl7(text.as_bytes(), message.as_ref(), read.as_ref(), now()).unwrap();
        assert!(format!("{receipt:?}").contains("AA"), "{receipt:?}");
    }
    let req: SignRequest = serde_json::from_value(json!({"exam": {"accession": "RIS-KNEE"}, "signer": "D1"})).unwrap();
    let SignResponse::Hold { gate, .. } = app.sign(&req, now()).unwrap() else { panic!("the RIS's report is read") };
    assert_eq!(gate.precheck[0].check.name(), "laterality");
    assert_eq!(app.store().latest_precheck("RIS-KNEE").unwrap().unwrap().source, radqc_store::ReportSource::Ris);
}

#[test]
fn a_report_field_that_is_wrong_is_named() {
    for (report, says) in [
        (json!({"findings": 1, "impression": ""}), "report.findings: expected a string"),
        (json!({"impression": ""}), "report.findings is missing"),
        (json!({"findings": "", "impression": "", "colour": "red"}), "report.colour: unknown field"),
        (json!({"findings": "", "impression": "", "prior_available": "yes"}), "report.prior_available"),
        (
            json!({"findings": "影".repeat(radqc_app::MAX_REPORT_CHARS + 1), "impression": ""}),
            "report.findings is longer",
        ),
        (json!("text"), "report: expected an object"),
    ] {
        let mut v = serde_json::to_value(json!({"exam": {"accession": "X"}, "signer": "D1"})).unwrap();
        v["report"] = report;
        let e = serde_json::from_value::<SignRequest>(v).unwrap_err().to_string();
        assert!(e.contains(says), "{says}: {e}");
    }
    let ok: SignRequest = serde_json::from_value(json!({"exam": {"accession": "X"}, "signer": "D1",
        "report": {"findings": "a", "impression": "b", "history": null, "prior_available": true}}))
    .unwrap();
    assert_eq!(ok.report.unwrap().prior_available, Some(true));
}

#[test]
fn the_reviewer_accepts_or_dismisses_and_the_counts_say_so() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    rules(&mut app, 1, 0.0, json!({"laterality": "panel"}));
    for acc in ["DR-Q-1", "DR-Q-2", "DR-Q-3"] {
        assert!(matches!(app.sign(&knee(acc, Some(wrong_side())), now()).unwrap(), SignResponse::Go { .. }));
    }
    let id = |app: &App, acc: &str| app.store().latest_precheck(acc).unwrap().unwrap().proposals[0].id;
    let (one, two) = (id(&app, "DR-Q-1"), id(&app, "DR-Q-2"));
    assert_eq!(app.decide_proposal(one, true, now()).unwrap_err().code, "NOT_SIGNED_IN");
    app.sign_in("D1", radqc_app::DEMO_SECRET, now()).unwrap();
    assert_eq!(app.decide_proposal(one, true, now()).unwrap_err().code, "NOT_PERMITTED", "D1 does not score reports");
    assert!(app.exam_precheck(None, "DR-Q-1").unwrap().run.is_none(), "nor sees them in the panel");
    app.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap();
    let shown = app.exam_precheck(None, "DR-Q-1").unwrap().run.unwrap();
    assert_eq!(shown.proposals[0].id, one);
    assert!(shown.findings.contains("右膝"), "the report text comes with it");
    let accepted = app.decide_proposal(one, true, now()).unwrap();
    assert_eq!(accepted.outcome, Some(radqc_store::ProposalOutcome::Accepted));
    app.decide_proposal(two, false, now()).unwrap();
    assert_eq!(audited(&app, "precheck_accepted", "DR-Q-1").len(), 1);
    assert_eq!(audited(&app, "precheck_dismissed", "DR-Q-2").len(), 1);
    assert_eq!(app.decide_proposal(99_999, true, now()).unwrap_err().code, "INVALID_INPUT");
    let stats = app.precheck_stats().unwrap();
    let row = stats.iter().find(|r| r.check.name() == "laterality").unwrap();
    assert_eq!((row.month.as_str(), row.accepted, row.dismissed, row.open), ("2026-11", 1, 1, 1));
    app.sign_in("A1", radqc_app::DEMO_SECRET, now()).unwrap();
    assert_eq!(app.precheck_stats().unwrap_err().code, "NOT_PERMITTED");
}
