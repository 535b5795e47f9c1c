//! The application layer on a real demo store: roles, random QC at signing with its held
//! signature, panel saves, blind review; the gate API on loopback (`gate_api`).

mod gate_api;
mod gold;
mod grants;
mod import;
mod precheck;

use chrono::{TimeZone, Utc};
use radqc_app::{
    App, AppConfig, Drill, FindExams, GateAnswer, PanelClosedPolicy, PanelSave, ReportScope, SignRequest, SignResponse,
};
use serde_json::json;

mod ris;
mod roster;
mod sign_in;

fn app(policy: PanelClosedPolicy) -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig {
        data_dir: dir.path().join("data"),
        demo: true,
        when_panel_closed: policy,
        idle_lock: radqc_app::DEFAULT_IDLE_LOCK,
    };
    let app = App::open(config, Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap()).unwrap();
    (dir, app)
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

fn sign_request(accession: &str, follow_up: bool) -> SignRequest {
    serde_json::from_value(json!({
        "exam": {"accession": accession, "modality": "CT", "exam_item": "CT胸部平扫", "department": "放射科",
                 "patient_source": "outpatient", "follow_up": follow_up, "film_printed": true,
                 "staff": {"technologist": "A2", "reporting_doctor": "D1"}},
        "signer": "D1"
    }))
    .unwrap()
}

#[test]
fn the_demo_department_is_seeded_once() {
    let (dir, mut app) = app(PanelClosedPolicy::Block);
    app.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap();
    let exams = app.find_exams(&serde_json::from_value::<FindExams>(json!({})).unwrap()).unwrap();
    assert_eq!(exams.len(), 140, "a week of exams");
    for m in ["DR", "CT", "MR"] {
        assert!(exams.iter().any(|e| e.exam.modality.as_str() == m), "{m} exams in the demo");
    }
    assert!(app.store().evaluations().unwrap().len() >= 15, "some already scored");
    assert_eq!(app.roster().unwrap().len(), 10);
    drop(app);
    let config = AppConfig {
        data_dir: dir.path().join("data"),
        demo: true,
        when_panel_closed: PanelClosedPolicy::Block,
        idle_lock: radqc_app::DEFAULT_IDLE_LOCK,
    };
    let mut again = App::open(config, now()).unwrap();
    again.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap();
    assert_eq!(
        again.find_exams(&serde_json::from_value::<FindExams>(json!({})).unwrap()).unwrap().len(),
        140,
        "reopening seeds nothing more"
    );
}

#[test]
fn roles_decide_which_items_a_person_may_score() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    app.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap();
    let exam = app
        .find_exams(&serde_json::from_value::<FindExams>(json!({"modality": "CT", "limit": 1})).unwrap())
        .unwrap()
        .remove(0);
    let acc = exam.exam.accession.clone();
    app.sign_out(now()).unwrap();
    assert_eq!(app.scorable_items(None, &acc).unwrap_err().code, "NOT_SIGNED_IN");
    app.sign_in("A1", radqc_app::DEMO_SECRET, now()).unwrap();
    let tech: Vec<String> = app.scorable_items(None, &acc).unwrap().iter().map(|i| i.to_string()).collect();
    assert_eq!(tech, ["AF"], "a technologist scores the application form only");
    let denied = app.save_panel(&panel(&acc, "IQ", &[], None), now()).unwrap_err();
    assert_eq!(denied.code, "NOT_PERMITTED", "and cannot save an item they may not score");
    app.sign_in("D1", radqc_app::DEMO_SECRET, now()).unwrap();
    let doctor: Vec<String> = app.scorable_items(None, &acc).unwrap().iter().map(|i| i.to_string()).collect();
    assert!(
        doctor.contains(&"IQ".to_owned()) && !doctor.contains(&"RQ".to_owned()),
        "a reporting doctor scores images, not reports: {doctor:?}"
    );
    app.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap();
    assert!(app.scorable_items(None, &acc).unwrap().len() >= 4, "a QC officer scores everything that applies");
    assert_eq!(app.sign_in("ZZ", radqc_app::DEMO_SECRET, now()).unwrap_err().code, "UNKNOWN_STAFF");
}

fn panel(accession: &str, item: &str, findings: &[&str], gate: Option<String>) -> PanelSave {
    serde_json::from_value(json!({
        "accession": accession, "mode": if gate.is_some() { "random" } else { "active" }, "gate_id": gate,
        "items": [{"item": item, "findings": findings, "not_applicable": [], "note": ""}]
    }))
    .unwrap()
}

#[test]
fn a_sampled_signing_is_held_until_the_panel_is_saved() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    app.sign_in("D1", radqc_app::DEMO_SECRET, now()).unwrap();
    // Follow-up cases are always sampled by the default rules (5.2).
    let SignResponse::Hold { gate, waiter, decision, .. } = app.sign(&sign_request("CT-FU-1", true), now()).unwrap()
    else {
        panic!("a follow-up case is sampled")
    };
    assert!(decision.sampled);
    assert_eq!(gate.rule.as_deref(), Some("随访病例全部抽取 (5.2)"));
    assert!(gate.items.iter().any(|i| i.as_str() == "IQ"), "the signer scores the images");
    assert_eq!(app.pending_gates().len(), 1);
    assert!(waiter.answer.try_recv().is_err(), "the signature waits");

    let saved = app.save_panel(&panel("CT-FU-1", "IQ", &["IQ-C2"], Some(gate.id.clone())), now()).unwrap();
    assert_eq!(saved[0].score.map(|s| s.get()), Some(4));
    assert_eq!(
        waiter.answer.try_recv().unwrap(),
        GateAnswer::Go { evaluations: vec![saved[0].id.clone()] },
        "released with the score"
    );
    assert!(app.pending_gates().is_empty());
    assert_eq!(
        app.store().outbox_counts().unwrap().pending as usize,
        app.store().outbox().unwrap().len() - app.store().outbox_counts().unwrap().sent as usize
    );
    let log = app.store().audit_log().unwrap();
    assert!(
        log.iter().any(|e| e.action == "sampled" && e.subject.as_deref() == Some("CT-FU-1")),
        "the decision is audited"
    );
}

#[test]
fn closing_the_panel_blocks_or_allows_as_configured() {
    for (policy, expect_blocked) in [(PanelClosedPolicy::Block, true), (PanelClosedPolicy::Allow, false)] {
        let (_dir, mut app) = app(policy);
        let SignResponse::Hold { gate, waiter, .. } = app.sign(&sign_request("CT-FU-2", true), now()).unwrap() else {
            panic!()
        };
        let released = app.close_gate(&gate.id, now()).unwrap();
        assert_eq!(matches!(released.answer, GateAnswer::Blocked { .. }), expect_blocked, "{policy:?}");
        assert_eq!(released.delivered, 1);
        assert_eq!(waiter.answer.try_recv().unwrap(), released.answer);
        assert_eq!(app.close_gate(&gate.id, now()).unwrap_err().code, "UNKNOWN_GATE");
    }
}

#[test]
fn a_decision_is_reproducible_and_audited() {
    let (_dir, mut app) = app(PanelClosedPolicy::Allow);
    let decide = |app: &mut App| match app.sign(&sign_request("OP-7", false), now()).unwrap() {
        SignResponse::Go { decision } => decision,
        SignResponse::Hold { gate, decision, .. } => {
            app.close_gate(&gate.id, now()).unwrap();
            decision
        }
    };
    let first = decide(&mut app);
    let second = decide(&mut app);
    assert_eq!(first.draw, second.draw, "the same exam, rules and key give the same draw");
    // D1 has no sampled report yet on the 20th: behind the monthly minimum of 4, so the 10 %
    // outpatient rule is raised to 50 % (catch-up).
    assert_eq!((first.threshold, first.why), (500_000, radqc_domain::Why::CatchUp { index: Some(1) }));
    let logged = app.store().audit_log().unwrap().into_iter().rfind(|e| e.subject.as_deref() == Some("OP-7")).unwrap();
    let detail: serde_json::Value = serde_json::from_str(logged.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["decision"]["draw"], json!(first.draw), "the audit log keeps what an auditor needs");
    assert_eq!(detail["rules_version"], json!("default-2026.1"));
}

#[test]
fn blind_review_hides_the_people() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    app.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap();
    let blind =
        app.find_exams(&serde_json::from_value::<FindExams>(json!({"limit": 5, "blind": true})).unwrap()).unwrap();
    assert!(blind.iter().all(|e| e.exam.staff.technologist.is_none() && e.exam.staff.reporting_doctor.is_none()));
    let seen = app.find_exams(&serde_json::from_value::<FindExams>(json!({"limit": 5})).unwrap()).unwrap();
    assert!(seen.iter().all(|e| e.exam.staff.technologist.is_some()));
    let scored = app.store().evaluations().unwrap().remove(0);
    let detail = app.exam_detail(&scored.accession, true).unwrap();
    assert!(detail.evaluations.iter().all(|e| e.scored_person.is_none()), "blind detail hides who was scored");
}

#[test]
fn the_site_report_is_for_roles_that_see_the_site() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    app.sign_in("A1", radqc_app::DEMO_SECRET, now()).unwrap();
    assert_eq!(app.report("2026-11").unwrap_err().code, "NOT_PERMITTED");
    app.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap();
    let report = app.report("2026-11").unwrap();
    assert!(report.workload.total > 0, "the demo week's exams count as workload");
    assert!(!report.quality_technologists.is_empty(), "and its evaluations as quality");
    assert_eq!(app.report("2026/11").unwrap_err().code, "INVALID_INPUT");
}

#[test]
fn a_held_signature_is_scored_on_the_signers_items_whoever_is_signed_in() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    let SignResponse::Hold { gate, waiter, .. } = app.sign(&sign_request("CT-FU-3", true), now()).unwrap() else {
        panic!()
    };
    app.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap(); // the QC officer at D1's workstation
    let saved = app.save_panel(&panel("CT-FU-3", "IQ", &[], Some(gate.id.clone())), now()).unwrap();
    assert_eq!(saved[0].reviewer.as_str(), "Q1", "the score is recorded as theirs");
    assert!(matches!(waiter.answer.try_recv().unwrap(), GateAnswer::Go { .. }));
    app.sign_in("A1", radqc_app::DEMO_SECRET, now()).unwrap();
    let SignResponse::Hold { gate, .. } = app.sign(&sign_request("CT-FU-4", true), now()).unwrap() else { panic!() };
    let err = app.save_panel(&panel("CT-FU-4", "RQ", &[], Some(gate.id)), now()).unwrap_err();
    assert_eq!(err.code, "NOT_PERMITTED", "only the gate's items");
}

#[test]
fn the_signer_scores_the_held_panel_without_signing_in_but_only_their_roles_items() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    // Nobody is signed in at the app: the technologist A1 signed at the RIS (its own sign-in).
    let mut req = sign_request("CT-FU-TECH", true);
    req.signer = "A1".parse().unwrap();
    let SignResponse::Hold { gate, waiter, .. } = app.sign(&req, now()).unwrap() else { panic!("sampled") };
    let items: Vec<&str> = gate.items.iter().map(|i| i.as_str()).collect();
    assert_eq!(items, ["AF"], "a technologist signer gets the technologist's items only");
    // Another role's item through the held panel is refused, and nothing is saved or released.
    for other in ["IQ", "RQ"] {
        let err = app.save_panel(&panel("CT-FU-TECH", other, &[], Some(gate.id.clone())), now()).unwrap_err();
        assert_eq!(err.code, "NOT_PERMITTED", "{other}: {err:?}");
    }
    assert!(waiter.answer.try_recv().is_err(), "still held");
    assert_eq!(app.pending_gates().len(), 1);
    let saved = app.save_panel(&panel("CT-FU-TECH", "AF", &[], Some(gate.id.clone())), now()).unwrap();
    assert_eq!(saved[0].reviewer.as_str(), "A1", "recorded as the signer's, without a second sign-in");
    assert!(matches!(waiter.answer.try_recv().unwrap(), GateAnswer::Go { .. }));
    // Without a held signature, a save still needs someone signed in.
    let err = app.save_panel(&panel("CT-FU-TECH", "AF", &[], None), now()).unwrap_err();
    assert_eq!(err.code, "NOT_SIGNED_IN");
    let err = app.save_panel(&panel("CT-FU-TECH", "AF", &[], Some(gate.id)), now()).unwrap_err();
    assert_eq!(err.code, "NOT_SIGNED_IN", "a released gate no longer speaks for its signer");
}

#[test]
fn a_rubric_the_center_published_is_used_after_sync() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    assert_eq!(app.store().rubric().version, "2026.1");
    let text = radqc_domain::Rubric::bundled_text().replacen("version = \"2026.1\"", "version = \"2026.2\"", 1);
    let item = radqc_protocol::FeedItem {
        cursor: 1,
        kind: radqc_protocol::FeedKind::Rubric,
        site: None,
        body: json!({"version": "2026.2", "toml": text}),
        published_at: now(),
    };
    app.store_mut().save_feed_items(&[item], now()).unwrap();
    app.apply_published_rubric().unwrap();
    assert_eq!(app.store().rubric().version, "2026.2");
    app.sign_in("D1", radqc_app::DEMO_SECRET, now()).unwrap();
    let exam = app
        .find_exams(&serde_json::from_value::<FindExams>(json!({"modality": "CT", "limit": 1})).unwrap())
        .unwrap()
        .remove(0);
    let saved = app.save_panel(&panel(&exam.exam.accession, "IQ", &[], None), now()).unwrap();
    assert_eq!(saved[0].rubric_version, "2026.2", "new scores record the version they were scored under");
}

/// Drills down every number of the report of `scope` and checks that each lists exactly that
/// many evaluations (or, for the workload, exams), each one matching what was clicked. Returns
/// how many numbers were checked.
fn check_every_number(app: &App, scope: &ReportScope) -> usize {
    let report = app.report_view(scope).unwrap();
    let drill = |d: serde_json::Value| {
        let d: Drill = serde_json::from_value(d).unwrap();
        app.report_evaluations(scope, &d).unwrap()
    };
    let mut checked = 0;

    // Figure 2: every cell, and the totals row, of both groups.
    for (group, counts) in [("technologists", &report.scores_technologists), ("doctors", &report.scores_doctors)] {
        for row in &counts.rows {
            for (modality, cell) in &row.cells {
                for (slot, &n) in cell.iter().enumerate() {
                    let score = 5 - slot as u8;
                    let list =
                        drill(json!({"group": group, "person": row.person, "modality": modality, "score": score}));
                    assert_eq!(list.len() as u64, n, "{scope:?}: figure 2 {group} {} {modality} {score}分", row.person);
                    assert!(list.iter().all(|f| f.score.map(|s| s.get()) == Some(score)
                        && f.scored_person.as_ref().map(|p| p.as_str()) == Some(row.person.as_str())));
                    checked += 1;
                }
            }
        }
        for (modality, total) in &counts.totals {
            for (slot, &n) in total.iter().enumerate() {
                let list = drill(json!({"group": group, "modality": modality, "score": 5 - slot as u8}));
                assert_eq!(list.len() as u64, n, "{scope:?}: figure 2 {group} total {modality} {}分", 5 - slot);
                checked += 1;
            }
        }
    }

    // Figure 3: every evaluation with a deduction.
    let details = drill(json!({"deducted_only": true}));
    assert_eq!(details, report.deduction_details, "{scope:?}: figure 3 is the deducted-only drill, in order");
    assert_eq!(details.len() as u64, report.deduction_details_total);

    // Figure 4: every criterion's count (of its rubric version).
    for d in &report.deductions {
        let list = drill(json!({"criterion": d.criterion, "rubric_version": d.rubric_version}));
        assert_eq!(list.len() as u64, d.count, "{scope:?}: figure 4 {}", d.criterion);
        checked += 1;
    }

    // Figure 7 and 6.5: each person's evaluations and each grade's count (behind each rate).
    for (group, rows) in [("technologists", &report.quality_technologists), ("doctors", &report.quality_doctors)] {
        for row in rows {
            let all = drill(json!({"group": group, "person": row.person}));
            assert_eq!(all.len() as u64, row.evaluations, "{scope:?}: figure 7 {group} {}", row.person);
            for (grade, &n) in ["excellent", "good", "pass", "fail"].iter().zip(&row.counts) {
                let list = drill(json!({"group": group, "person": row.person, "grade": grade}));
                assert_eq!(list.len() as u64, n, "{scope:?}: figure 7 {group} {} {grade}", row.person);
                checked += 1;
            }
        }
    }

    // Figure 5: every cell, each row's total and the grand total count exams.
    let exams = |person: Option<&str>, modality: Option<&str>| {
        app.report_workload_exams(scope, person, modality).unwrap().len() as u64
    };
    for row in &report.workload.rows {
        assert_eq!(exams(Some(&row.person), None), row.total, "{scope:?}: figure 5 {} total", row.person);
        for (modality, &n) in &row.by_modality {
            assert_eq!(exams(Some(&row.person), Some(modality)), n, "{scope:?}: figure 5 {} {modality}", row.person);
            checked += 1;
        }
    }
    for (modality, &n) in &report.workload.totals {
        assert_eq!(exams(None, Some(modality)), n, "{scope:?}: figure 5 total {modality}");
    }
    assert_eq!(exams(None, None), report.workload.total, "{scope:?}: figure 5 grand total");
    checked
}

fn scope(value: serde_json::Value) -> ReportScope {
    serde_json::from_value(value).unwrap()
}

/// The drill-down of every number of the demo month's report lists exactly that many
/// evaluations (or, for the workload, exams), and each one matches what was clicked.
#[test]
fn every_number_of_the_report_drills_down_to_as_many_evaluations() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    app.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap();
    let month = ReportScope::month("2026-11");
    let report = app.report_view(&month).unwrap();
    assert_eq!(report, app.report("2026-11").unwrap(), "report(month) is the unfiltered month");
    for (group, counts) in [("technologists", &report.scores_technologists), ("doctors", &report.scores_doctors)] {
        assert!(!counts.rows.is_empty(), "the demo month has {group}' scores");
    }
    assert!(
        report.scores_technologists.rows.iter().any(|r| !r.flagged.is_empty())
            && report.scores_doctors.rows.iter().any(|r| !r.flagged.is_empty()),
        "the demo has failing scores for technologists and doctors (the red cells)"
    );
    assert!(report.deductions.len() >= 6, "the demo deducts several criteria: {:?}", report.deductions);
    assert!(report.deductions.iter().any(|d| d.kind == "severe"), "and a severe one");
    assert!(report.quality_technologists.len() >= 3 && report.quality_doctors.len() >= 3, "several people");
    let checked = check_every_number(&app, &month);
    assert!(checked > 100, "the demo month has many numbers to check, not a handful: {checked}");
}

/// A filtered report counts less than the whole month, and every one of its numbers still
/// drills down to as many rows; a period of two months adds the second month's work.
#[test]
fn a_filtered_or_longer_report_drills_down_to_as_many_evaluations() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    app.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap();
    let whole = app.report_view(&ReportScope::month("2026-11")).unwrap();
    for filter in [
        json!({"modality": "CT"}),
        json!({"role": "technologist"}),
        json!({"role": "reporting_doctor"}),
        json!({"person": "A2"}),
        json!({"person": "D1"}),
        json!({"mode": "active"}),
        json!({"department": "放射科", "modality": "MR", "rubric_version": "2026.1"}),
        json!({"department": "急诊科"}),
    ] {
        let mut value = json!({"from": "2026-11", "to": "2026-11"});
        value.as_object_mut().unwrap().extend(filter.as_object().unwrap().clone());
        let scoped = scope(value);
        let report = app.report_view(&scoped).unwrap();
        assert!(
            report.quality_technologists.iter().map(|r| r.evaluations).sum::<u64>()
                <= whole.quality_technologists.iter().map(|r| r.evaluations).sum::<u64>()
                && report.workload.total <= whole.workload.total,
            "{filter}: a filter never adds"
        );
        check_every_number(&app, &scoped);
    }
    let ct = app.report_view(&scope(json!({"from": "2026-11", "to": "2026-11", "modality": "CT"}))).unwrap();
    assert!(ct.workload.total > 0 && ct.workload.total < whole.workload.total, "CT is some of the month's exams");
    assert_eq!(ct.workload.modalities, ["CT"]);
    assert_eq!(ct.indicators.by_modality.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["CT"]);
    let doctors =
        app.report_view(&scope(json!({"from": "2026-11", "to": "2026-11", "role": "reporting_doctor"}))).unwrap();
    assert!(
        doctors.quality_technologists.is_empty() && doctors.workload.total == 0,
        "a doctor's role has no technologist views"
    );
    assert_eq!(doctors.indicators, whole.indicators, "role does not restrict the sampled cases (exams)");

    // December: an RQ scored on a November exam, so the period has two months of cases.
    let december = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
    let exam = app
        .find_exams(&serde_json::from_value::<FindExams>(json!({"modality": "MR", "limit": 1})).unwrap())
        .unwrap()
        .remove(0);
    app.save_panel(&panel(&exam.exam.accession, "RQ", &["RQ-C1"], None), december).unwrap();
    let two = scope(json!({"from": "2026-11", "to": "2026-12"}));
    let report = app.report_view(&two).unwrap();
    assert_eq!(report.period, "2026-11..2026-12");
    assert_eq!(report.indicators.by_month.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["2026-11", "2026-12"]);
    assert_eq!(report.indicators.sampled, whole.indicators.sampled + 1, "December's case adds one");
    check_every_number(&app, &two);
    check_every_number(
        &app,
        &scope(json!({"from": "2026-11", "to": "2026-12", "modality": "MR", "role": "reporting_doctor"})),
    );
    check_every_number(&app, &scope(json!({"to": "2026-12"})));
}

/// Every field of a scope is parsed by the app: a bad value is refused with `INVALID_INPUT`
/// naming the field, and nothing is counted.
#[test]
fn a_report_scope_names_the_field_that_is_wrong() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    app.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap();
    for (input, field, says) in [
        (json!({"from": "2026-13", "to": "2026-11"}), "from", "2026-13"),
        (json!({"from": "2026-11", "to": "11/2026"}), "to", "11/2026"),
        (json!({"from": "2026-12", "to": "2026-11"}), "period", "after it ends"),
        (json!({"modality": "x"}), "modality", "invalid modality `x`"),
        (json!({"role": "nurse"}), "role", "unknown role `nurse`"),
        (json!({"role": "qc_officer"}), "role", "not a role the rubric scores"),
        (json!({"mode": "lucky"}), "mode", "lucky"),
        (json!({"person": "A".repeat(65)}), "person", "longer than 64"),
        (json!({"person": "A\u{7}1"}), "person", "control characters"),
        (json!({"department": "科".repeat(65)}), "department", "longer than 64"),
        (json!({"rubric_version": "v".repeat(65)}), "rubric_version", "longer than 64"),
    ] {
        let scope = scope(input.clone());
        for e in [
            app.report_view(&scope).unwrap_err(),
            app.report_evaluations(&scope, &Drill::default()).unwrap_err(),
            app.report_workload_exams(&scope, None, None).unwrap_err(),
        ] {
            assert_eq!(e.code, "INVALID_INPUT", "{input}");
            assert!(e.message_en.starts_with(&format!("`{field}`")), "names `{field}`: {}", e.message_en);
            assert!(e.message_en.contains(says), "says what is wrong ({says}): {}", e.message_en);
            assert!(e.message_zh.contains(field), "in Chinese too: {}", e.message_zh);
        }
    }
    let blank = scope(json!({"from": "2026-11", "to": "2026-11", "modality": " ", "person": "", "department": ""}));
    assert_eq!(app.report_view(&blank).unwrap(), app.report("2026-11").unwrap(), "blank filters do not restrict");
    assert!(serde_json::from_value::<ReportScope>(json!({"colour": "red"})).is_err(), "unknown fields are refused");
}

#[test]
fn the_drill_down_has_the_reports_permission_and_refuses_bad_input() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    let any = Drill::default();
    let month = ReportScope::month("2026-11");
    assert_eq!(app.report_evaluations(&month, &any).unwrap_err().code, "NOT_SIGNED_IN");
    app.sign_in("A1", radqc_app::DEMO_SECRET, now()).unwrap();
    assert_eq!(app.report_evaluations(&month, &any).unwrap_err().code, "NOT_PERMITTED");
    assert_eq!(app.report_workload_exams(&month, None, None).unwrap_err().code, "NOT_PERMITTED");
    app.sign_in("H1", radqc_app::DEMO_SECRET, now()).unwrap();
    assert!(!app.report_evaluations(&month, &any).unwrap().is_empty(), "the department head sees them");
    let bad = |d: serde_json::Value| {
        let d: Drill = serde_json::from_value(d).unwrap();
        app.report_evaluations(&month, &d).unwrap_err()
    };
    for (input, field) in [
        (json!({"grade": "superb"}), "grade"),
        (json!({"criterion": "IQ-C99"}), "criterion"),
        (json!({"criterion": "nonsense"}), "criterion"),
        (json!({"group": "nurses"}), "group"),
        (json!({"score": 6}), "score"),
        (json!({"modality": "ct"}), "modality"),
    ] {
        let e = bad(input.clone());
        assert_eq!(e.code, "INVALID_INPUT", "{input}");
        assert!(e.message_en.contains(field), "the error names the field `{field}`: {}", e.message_en);
    }
    assert!(serde_json::from_value::<Drill>(json!({"colour": "red"})).is_err(), "unknown fields are refused");
}

#[test]
fn the_monthly_maximum_counts_the_site_s_local_month() {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig {
        data_dir: dir.path().join("data"),
        demo: false,
        when_panel_closed: PanelClosedPolicy::Allow,
        idle_lock: radqc_app::DEFAULT_IDLE_LOCK,
    };
    let at = |s: &str| -> chrono::DateTime<Utc> { s.parse().unwrap() };
    let mut app = App::open(config, at("2026-10-31T12:00:00Z")).unwrap();
    let rules = json!({"version": "t-1", "monthly_min_per_staff": 0, "monthly_max_per_staff": 1,
                       "rules": [{"name": "all", "probability": 1.0}]});
    let item = radqc_protocol::FeedItem {
        cursor: 1,
        kind: radqc_protocol::FeedKind::Sampling,
        site: None,
        body: rules,
        published_at: at("2026-10-31T12:00:00Z"),
    };
    // The signer is in the site's roster (an unknown one is refused).
    let site = app.store().site().to_string();
    let roster = radqc_protocol::FeedItem {
        cursor: 1,
        kind: radqc_protocol::FeedKind::Roster,
        site: Some(site.clone()),
        body: json!({"staff": [{"site": site, "code": "D1", "name": "赵敏", "roles": ["reporting_doctor"], "active": true}]}),
        published_at: at("2026-10-31T12:00:00Z"),
    };
    app.store_mut().save_feed_items(&[item, roster], at("2026-10-31T12:00:00Z")).unwrap();
    let mut sampled = |accession: &str, now: &str| match app.sign(&sign_request(accession, false), at(now)).unwrap() {
        SignResponse::Go { decision } => decision.sampled,
        SignResponse::Hold { gate, decision, .. } => {
            app.close_gate(&gate.id, at(now)).unwrap();
            decision.sampled
        }
    };
    // 23:00 on 31 October in Beijing: October's one sample.
    assert!(sampled("CT-OCT", "2026-10-31T15:00:00Z"));
    // 07:30 on 1 November in Beijing (still 31 October in UTC): a new month, a new maximum.
    assert!(sampled("CT-NOV-1", "2026-10-31T23:30:00Z"), "November starts at 16:00 UTC in Beijing");
    assert!(!sampled("CT-NOV-2", "2026-11-01T01:00:00Z"), "November's maximum of 1 is reached");
}

#[test]
fn the_notices_feed_is_read_as_the_centers_typed_messages() {
    use radqc_protocol::{FeedItem, FeedKind, NoticeMessage};
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    let item = |cursor: i64, body: serde_json::Value| FeedItem {
        cursor,
        kind: FeedKind::Notices,
        site: Some("DEMO".into()),
        body,
        published_at: now(),
    };
    let failed = |id: &str, to: &str| NoticeMessage::FailedEvaluation {
        notice_id: id.into(),
        to: Some(to.into()),
        also_to: vec!["H1".into()],
        text: format!("{id} 不合格"),
        accession: "CT-1".into(),
        item: "IQ".into(),
        evaluation_id: "E-1".into(),
    };
    let closed = NoticeMessage::NoticeClosed {
        notice_id: "N-2".into(),
        to: Some("D1".into()),
        also_to: vec![],
        text: "N-2 已关闭".into(),
        accession: "CT-2".into(),
    };
    let items = [
        item(1, serde_json::to_value(failed("N-1", "D1")).unwrap()),
        item(2, serde_json::to_value(failed("N-2", "D1")).unwrap()),
        item(3, serde_json::to_value(closed).unwrap()),
        item(4, serde_json::to_value(failed("N-3", "A2")).unwrap()),
        item(5, json!({"text": "全体注意"})),
    ];
    assert_eq!(items[0].body["type"], "failed_evaluation", "the wire keeps its `type` tag");
    app.store_mut().save_feed_items(&items, now()).unwrap();
    app.sign_in("D1", radqc_app::DEMO_SECRET, now()).unwrap();
    let notices = app.my_notices().unwrap();
    let seen: Vec<(i64, Option<&str>, bool, &str)> =
        notices.iter().map(|n| (n.cursor, n.kind.as_deref(), n.open, n.text.as_str())).collect();
    assert_eq!(
        seen,
        [
            (1, Some("failed_evaluation"), true, "N-1 不合格"),
            (2, Some("failed_evaluation"), false, "N-2 不合格"),
            (3, Some("notice_closed"), false, "N-2 已关闭"),
            (5, None, false, "全体注意"),
        ],
        "D1's notices (not A2's), N-2 closed at the center, the plain message for everyone"
    );
    app.close_notice("N-1", "已复核", now()).unwrap();
    assert!(!app.my_notices().unwrap()[0].open, "closed here");
    assert_eq!(app.close_notice("N-9", "x", now()).unwrap_err().code, "UNKNOWN_NOTICE");
}
