//! The gold standard at a workstation (7.3.1), on the demo store: a senior reader's blind tasks
//! and reads, who may read, a person's dispute of a failed score within the region's days, and
//! a reviewed score as 我的质控 and the site's report show it.

use chrono::Duration;
use radqc_app::{DisputeInput, GoldReadInput, PanelClosedPolicy};
use radqc_protocol::GoldTask;
use serde_json::json;

use crate::{app, now};

fn read(case_id: &str, task: GoldTask, findings: &[&str]) -> GoldReadInput {
    serde_json::from_value(json!({"case_id": case_id, "task": task, "findings": findings})).unwrap()
}

#[test]
fn a_senior_reader_reads_their_tasks_blind_once_each() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    app.sign_in("A1", radqc_app::DEMO_SECRET, now()).unwrap();
    assert!(!app.session().reads_gold, "a technologist has no 金标准 screen");
    assert_eq!(app.gold_tasks().unwrap_err().code, "NOT_PERMITTED");
    let refused = app.save_gold_read(&read("demo-gold-ct", GoldTask::First, &[]), now()).unwrap_err();
    assert_eq!(refused.code, "NOT_PERMITTED", "nor saves a read");
    assert!(refused.message_zh.contains("高级职称") || refused.message_zh.contains("高年资"), "{}", refused.message_zh);

    app.sign_in("D9", radqc_app::DEMO_SECRET, now()).unwrap();
    assert!(app.session().reads_gold);
    let tasks = app.gold_tasks().unwrap();
    let seen: Vec<(&str, GoldTask, usize)> =
        tasks.iter().map(|t| (t.assignment.case_id.as_str(), t.assignment.task, t.assignment.reads.len())).collect();
    assert_eq!(seen, [("demo-gold-ct", GoldTask::First, 0), ("demo-gold-dr", GoldTask::Third, 2)]);
    assert!(tasks.iter().all(|t| t.assignment.exam.staff.is_none()), "the region blinds the names by default");
    assert!(tasks.iter().all(|t| t.read.is_none() && t.rubric_item.code.as_str() == "IQ"));
    let labels: Vec<&str> = tasks[1].assignment.reads.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["甲", "乙"], "the third reader sees the two reads, not whose they are");

    let pending = app.store().outbox_counts().unwrap().pending;
    let saved = app.save_gold_read(&read("demo-gold-ct", GoldTask::First, &["IQ-C2"]), now()).unwrap();
    assert_eq!((saved.reader.as_str(), saved.score.map(|s| s.get())), ("D9", Some(4)), "scored by the engine");
    assert_eq!(app.store().outbox_counts().unwrap().pending, pending + 1, "an outbox entry, synced like any other");
    let again = app.save_gold_read(&read("demo-gold-ct", GoldTask::First, &[]), now()).unwrap_err();
    assert_eq!(again.code, "GOLD_ALREADY_READ", "a task is read once");
    let tasks = app.gold_tasks().unwrap();
    assert_eq!(tasks[0].read.as_ref().map(|r| r.id.as_str()), Some(saved.id.as_str()), "the task shows the read");
    let other = app.save_gold_read(&read("demo-gold-ct", GoldTask::Second, &[]), now()).unwrap_err();
    assert_eq!(other.code, "NOT_ASSIGNED", "another reader's task");
    let unknown = app.save_gold_read(&read("no-such-case", GoldTask::First, &[]), now()).unwrap_err();
    assert_eq!(unknown.code, "UNKNOWN_GOLD_CASE");
    let bad = app.save_gold_read(&read("demo-gold-dr", GoldTask::Third, &["RQ-C1"]), now()).unwrap_err();
    assert_eq!(bad.code, "CRITERION_OF_OTHER_ITEM", "a criterion of another item: {}", bad.message_en);
    assert!(
        serde_json::from_value::<GoldReadInput>(json!({"case_id": "x", "task": "fourth", "findings": []})).is_err(),
        "an unknown task is refused at the boundary"
    );
}

#[test]
fn a_reviewed_score_shows_its_gold_result_and_counts_in_the_report() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    let finals = app.store().gold_finals().unwrap();
    assert_eq!(finals.len(), 1, "the demo has one reviewed score");
    let original = app.store().evaluation(&finals[0].original_id).unwrap().unwrap();
    let person = original.scored_person.clone().unwrap();
    app.sign_in(person.as_str(), radqc_app::DEMO_SECRET, now()).unwrap();
    let mine = app.my_scores(now()).unwrap();
    let was = mine.iter().find(|s| s.evaluation.id == original.id).unwrap();
    let change = was.replaced_by_gold.as_ref().expect("the original names its gold result");
    assert!(!original.pass && change.pass, "a failed score became a pass");
    assert_eq!(was.evaluation.superseded_by.as_deref(), Some(change.evaluation_id.as_str()));
    assert_eq!(was.disputable_until, None, "a replaced score is not disputed any more");
    let gold = mine.iter().find(|s| s.evaluation.id == change.evaluation_id).unwrap();
    assert_eq!(gold.gold_case.as_deref(), Some("demo-gold-iq"));
    assert_eq!(gold.disputable_until, None, "a gold result is final");

    app.sign_in("Q1", radqc_app::DEMO_SECRET, now()).unwrap();
    let report = app.report("2026-11").unwrap();
    let agreement = report.agreement.expect("the month has a final case");
    assert_eq!(agreement.cases, 1);
    let iq = agreement.by_item.iter().find(|r| r.key == "IQ").unwrap();
    let scores = iq.scores.as_ref().unwrap();
    assert_eq!((scores.cases, scores.agreed), (1, 1), "the two readers agreed");
    assert!(scores.kappa.is_none() && scores.kappa_undefined.is_some(), "one case: kappa undefined, not 1 or 0");
    let bias = &agreement.reviewers[0];
    assert_eq!((bias.reviewer.as_str(), bias.cases), (format!("DEMO-RAD/{}", original.reviewer).as_str(), 1));
    assert!(bias.mean_difference.unwrap() < 0.0, "the original reviewer scored harsher than the gold result");
    let ct_only = app
        .report_view(&serde_json::from_value(json!({"from": "2026-11", "to": "2026-11", "modality": "XA"})).unwrap())
        .unwrap();
    assert!(ct_only.agreement.is_none(), "another modality's report has no cases");
    let evaluations = app.report_evaluations(&radqc_app::ReportScope::month("2026-11"), &Default::default()).unwrap();
    assert!(
        evaluations.iter().any(|e| e.id == change.evaluation_id) && evaluations.iter().all(|e| e.id != original.id),
        "the report counts the gold result, not the original"
    );
}

#[test]
fn the_person_scored_disputes_a_failed_score_within_the_regions_days() {
    let (_dir, mut app) = app(PanelClosedPolicy::Block);
    app.sign_in("D1", radqc_app::DEMO_SECRET, now()).unwrap();
    let mine = app.my_scores(now()).unwrap();
    assert!(mine.iter().all(|s| s.evaluation.scored_person.as_ref().unwrap().as_str() == "D1"), "only D1's own");
    let failed = mine.iter().find(|s| s.disputable_until.is_some()).expect("the demo has a failed score of D1's");
    assert!(!failed.evaluation.pass);
    let until = failed.disputable_until.unwrap();
    assert_eq!(until, failed.evaluation.at + Duration::days(14), "the default is 14 days");
    assert!(mine.iter().filter(|s| s.evaluation.pass).all(|s| s.disputable_until.is_none()), "a pass is not disputed");
    let id = failed.evaluation.id.clone();

    let dispute = |app: &mut radqc_app::App, reason: &str, at| {
        app.dispute(&DisputeInput { evaluation_id: id.clone(), reason: reason.to_owned() }, at)
    };
    assert_eq!(dispute(&mut app, "  ", now()).unwrap_err().code, "INVALID_INPUT", "a reason is required");
    assert_eq!(
        dispute(&mut app, "x", until + Duration::seconds(1)).unwrap_err().code,
        "DISPUTE_WINDOW_CLOSED",
        "past the region's days"
    );
    app.sign_in("D2", radqc_app::DEMO_SECRET, now()).unwrap();
    assert_eq!(dispute(&mut app, "不是我", now()).unwrap_err().code, "DISPUTE_REFUSED", "only the person scored");
    app.sign_in("D1", radqc_app::DEMO_SECRET, now()).unwrap();
    let pending = app.store().outbox_counts().unwrap().pending;
    let made = dispute(&mut app, "图像质量评价与实际不符，请复核", now()).unwrap();
    assert_eq!((made.by.as_str(), made.evaluation_id.as_str()), ("D1", id.as_str()));
    assert_eq!(app.store().outbox_counts().unwrap().pending, pending + 1, "it reaches the center by sync");
    let after = app.my_scores(now()).unwrap();
    let row = after.iter().find(|s| s.evaluation.id == id).unwrap();
    assert_eq!(row.dispute.as_ref().map(|d| d.id.as_str()), Some(made.id.as_str()));
    assert_eq!(row.disputable_until, None, "disputed once");
    assert_eq!(dispute(&mut app, "again", now()).unwrap_err().code, "DISPUTE_REFUSED");
    let later = app.my_scores(until + Duration::days(1)).unwrap();
    assert!(
        later.iter().filter(|s| s.evaluation.at <= failed.evaluation.at).all(|s| s.disputable_until.is_none()),
        "nothing scored before it is disputable once its days are past"
    );
}
