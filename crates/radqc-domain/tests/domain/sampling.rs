//! Sampling at signing: rule order, reproducibility, unpredictability without the key, the
//! rate a rule promises, and the monthly limits.

use radqc_domain::{decide, draw, Modality, PatientSource, SamplingRules, Signing, StaffCode, StaffMonth, Why};

fn rules() -> SamplingRules {
    SamplingRules::from_json(
        r#"{
        "version": "2026.11",
        "monthly_min_per_staff": 4,
        "monthly_max_per_staff": 40,
        "rules": [
            {"name": "随访病例全部抽取", "follow_up": true, "probability": 1.0},
            {"name": "急诊 CT 抽 20%", "modality": ["CT"], "patient_source": ["emergency"], "probability": 0.2},
            {"name": "D7 新入职，抽 50%", "staff": ["D7"], "probability": 0.5},
            {"name": "住院不抽", "patient_source": ["inpatient"], "probability": 0.0},
            {"name": "其余门急诊 5%", "patient_source": ["outpatient", "emergency"], "probability": 0.05}
        ]
    }"#,
    )
    .unwrap()
}

struct Case {
    modality: &'static str,
    source: Option<PatientSource>,
    follow_up: bool,
    signer: &'static str,
}

fn check(case: Case, month: StaffMonth, expect_why: Why, expect_threshold: u32) {
    let modality: Modality = case.modality.parse().unwrap();
    let signer: StaffCode = case.signer.parse().unwrap();
    let s = Signing {
        accession: "CT20261102001",
        modality: &modality,
        exam_item: "CT胸部平扫",
        department: Some("放射科"),
        patient_source: case.source,
        follow_up: case.follow_up,
        signer: &signer,
    };
    let d = decide(&rules(), &s, month, b"site key");
    assert_eq!(
        (d.why, d.threshold),
        (expect_why, expect_threshold),
        "{}/{:?}/{}/{}",
        case.modality,
        case.source,
        case.follow_up,
        case.signer
    );
    assert_eq!(d.sampled, d.draw < d.threshold, "sampled iff the draw is below the threshold");
}

const MID: StaffMonth = StaffMonth { sampled: 10, day: 15, days_in_month: 30 };

#[test]
fn the_first_matching_rule_decides() {
    use PatientSource::*;
    check(
        Case { modality: "DR", source: Some(Outpatient), follow_up: true, signer: "D1" },
        MID,
        Why::Rule { index: 0 },
        1_000_000,
    );
    check(
        Case { modality: "CT", source: Some(Emergency), follow_up: false, signer: "D7" },
        MID,
        Why::Rule { index: 1 },
        200_000,
    );
    check(
        Case { modality: "MR", source: Some(Emergency), follow_up: false, signer: "D7" },
        MID,
        Why::Rule { index: 2 },
        500_000,
    );
    check(
        Case { modality: "MR", source: Some(Inpatient), follow_up: false, signer: "D1" },
        MID,
        Why::Rule { index: 3 },
        0,
    );
    check(
        Case { modality: "DR", source: Some(Outpatient), follow_up: false, signer: "D1" },
        MID,
        Why::Rule { index: 4 },
        50_000,
    );
    check(Case { modality: "DR", source: None, follow_up: false, signer: "D1" }, MID, Why::NoRuleMatched, 0);
}

#[test]
fn monthly_limits_bound_the_rules() {
    use PatientSource::*;
    let case = || Case { modality: "DR", source: Some(Outpatient), follow_up: true, signer: "D1" };
    check(case(), StaffMonth { sampled: 40, day: 10, days_in_month: 30 }, Why::MonthlyMaximum, 0);
    let behind = StaffMonth { sampled: 0, day: 15, days_in_month: 30 };
    let low = || Case { modality: "DR", source: Some(Outpatient), follow_up: false, signer: "D1" };
    check(low(), behind, Why::CatchUp { index: Some(4) }, 500_000);
    check(low(), StaffMonth { sampled: 3, day: 29, days_in_month: 30 }, Why::CatchUp { index: Some(4) }, 1_000_000);
    check(low(), StaffMonth { sampled: 4, day: 29, days_in_month: 30 }, Why::Rule { index: 4 }, 50_000);
}

#[test]
fn a_decision_is_reproducible_and_keyed() {
    let a = draw(b"site key", "2026.11", "CT1");
    assert_eq!(a, draw(b"site key", "2026.11", "CT1"), "same inputs, same draw");
    assert_ne!(a, draw(b"other key", "2026.11", "CT1"), "another site's key gives another draw");
    assert_ne!(a, draw(b"site key", "2026.12", "CT1"), "new rules, new draws");
    assert!(a < 1_000_000);
}

#[test]
fn a_rule_samples_at_its_rate() {
    // 200,000 accessions at 5 %: the share sampled is within 0.2 points of it.
    let n = 200_000u32;
    let hits = (0..n).filter(|i| draw(b"k", "v", &format!("ACC{i}")) < 50_000).count() as f64;
    let share = hits / f64::from(n);
    assert!((share - 0.05).abs() < 0.002, "sampled share {share}");
}

#[test]
fn bad_rules_are_refused_with_the_rule_named() {
    let err =
        SamplingRules::from_json(r#"{"version": "1", "rules": [{"name": "x", "probability": 1.5}]}"#).unwrap_err();
    assert!(err.to_string().contains("rule 0 (x)"), "{err}");
    let err = SamplingRules::from_json(
        r#"{"version": "1", "rules": [{"name": "x", "probability": 0.1, "modalty": ["CT"]}]}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `modalty`"), "{err}");
    let err = SamplingRules::from_json(
        r#"{"version": "1", "rules": [], "monthly_min_per_staff": 5, "monthly_max_per_staff": 2}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("below the minimum"), "{err}");
}
