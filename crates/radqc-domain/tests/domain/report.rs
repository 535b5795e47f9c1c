//! Golden tests: data sets built so that the reports must reproduce the standard's figures 2, 5
//! and 7 cell by cell, totals and rates included; and the rounding and ordering rules.

use std::sync::atomic::{AtomicUsize, Ordering};

use radqc_domain::report::{self, EvaluationFact, Rate, ReportFilter, WorkFact};
use radqc_domain::{QcMode, Rubric, Score};

fn fact(person: &str, modality: &str, score: u8) -> EvaluationFact {
    static N: AtomicUsize = AtomicUsize::new(0);
    let s = Score::new(score).unwrap();
    EvaluationFact {
        id: format!("e{:05}", N.fetch_add(1, Ordering::Relaxed)),
        site: "S".into(),
        department: None,
        accession: format!("{person}-{modality}-{score}"),
        modality: modality.parse().unwrap(),
        exam_item: "x".into(),
        reporting_doctor: None,
        general_data_complete: true,
        item: "IQ".parse().unwrap(),
        scored_person: Some(person.parse().unwrap()),
        reviewer: "Q1".parse().unwrap(),
        mode: QcMode::Random,
        rubric_version: Rubric::bundled().version.clone(),
        at: "2026-11-05T08:00:00.000Z".into(),
        score: Some(s),
        grade: s.grade(),
        severe: vec![],
        unmet: vec![],
        note: String::new(),
    }
}

fn work(person: &str, modality: &str) -> WorkFact {
    WorkFact {
        site: "S".into(),
        department: None,
        person: person.parse().unwrap(),
        modality: modality.parse().unwrap(),
        performed_at: "2026-11-04T09:30:00.000Z".into(),
    }
}

/// A row of figure 2: person → (modality, counts of 5, 4, 3, 2, 1).
type ScoreRow = (&'static str, &'static [(&'static str, [u64; 5])]);
/// A row of figure 5: person, total, (modality, exams).
type WorkRow = (&'static str, u64, &'static [(&'static str, u64)]);

/// Figure 2 of the standard.
const FIGURE_2: &[ScoreRow] = &[
    ("A1", &[("CT", [3, 1, 0, 0, 0]), ("DR", [1, 0, 0, 0, 0])]),
    ("A2", &[("CT", [4, 0, 1, 0, 0]), ("DR", [5, 1, 0, 0, 0])]),
    ("A3", &[("CT", [4, 1, 0, 0, 0]), ("DR", [5, 0, 0, 0, 0])]),
    ("A4", &[("CT", [7, 3, 0, 0, 0])]),
    ("A5", &[("CT", [6, 0, 0, 0, 0]), ("DR", [6, 1, 0, 0, 0])]),
    ("A6", &[("CT", [9, 0, 0, 0, 0]), ("DR", [4, 0, 0, 0, 0])]),
    ("A7", &[("CT", [6, 4, 0, 0, 0]), ("DR", [8, 1, 0, 0, 0])]),
    ("A8", &[("CT", [10, 1, 0, 0, 0]), ("DR", [0, 1, 0, 0, 0])]),
    ("A9", &[("CT", [7, 2, 0, 0, 0]), ("DR", [4, 0, 1, 0, 0]), ("MR", [3, 0, 0, 0, 0])]),
    ("A10", &[("CT", [11, 4, 0, 0, 0]), ("DR", [1, 0, 0, 0, 0])]),
];

#[test]
fn figure_2_is_reproduced_cell_by_cell() {
    // Built in reverse order, so the natural order of the rows comes from the report.
    let mut facts = Vec::new();
    for (person, cells) in FIGURE_2.iter().rev() {
        for (modality, counts) in *cells {
            for (i, n) in counts.iter().enumerate() {
                for _ in 0..*n {
                    facts.push(fact(person, modality, 5 - i as u8));
                }
            }
        }
    }
    let fig = report::score_counts(&facts);
    let persons: Vec<&str> = fig.rows.iter().map(|r| r.person.as_str()).collect();
    assert_eq!(persons, ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10"], "A2 before A10");
    for (row, (person, cells)) in fig.rows.iter().zip(FIGURE_2) {
        assert_eq!(row.person, *person);
        assert_eq!(row.cells.len(), cells.len(), "{person}: blank cells stay blank");
        for (modality, counts) in *cells {
            assert_eq!(row.cells[*modality], *counts, "{person} {modality}");
        }
        assert!(row.flagged.is_empty(), "no failing score in figure 2");
    }
    assert_eq!(fig.totals["CT"], [67, 16, 1, 0, 0]);
    assert_eq!(fig.totals["DR"], [34, 4, 1, 0, 0]);
    assert_eq!(fig.totals["MR"], [3, 0, 0, 0, 0]);
    let low = report::score_counts(&[fact("B1", "CT", 2), fact("B1", "DR", 5)]);
    assert_eq!(low.rows[0].flagged, ["CT"], "a failing score flags its cell");
}

/// Figure 5 of the standard.
const FIGURE_5: &[WorkRow] = &[
    ("A1", 2313, &[("DR", 2313)]),
    ("A2", 1083, &[("CT", 564), ("DR", 519)]),
    ("A3", 793, &[("CT", 364), ("DR", 429)]),
    ("A5", 751, &[("CT", 732), ("DR", 19)]),
    ("A6", 751, &[("DR", 751)]),
    ("A7", 748, &[("MR", 177), ("CT", 367), ("DR", 204)]),
    ("A8", 734, &[("CT", 591), ("DR", 143)]),
    ("A9", 725, &[("CT", 725)]),
    ("A10", 697, &[("CT", 314), ("DR", 383)]),
    ("A11", 682, &[("MR", 337), ("CT", 337), ("DR", 8)]),
];

#[test]
fn figure_5_is_reproduced_cell_by_cell() {
    let mut facts = Vec::new();
    for (person, _, cells) in FIGURE_5.iter().rev() {
        for (modality, n) in *cells {
            for _ in 0..*n {
                facts.push(work(person, modality));
            }
        }
    }
    let fig = report::workload(&facts);
    assert_eq!(fig.rows.len(), FIGURE_5.len());
    for (row, (person, total, cells)) in fig.rows.iter().zip(FIGURE_5) {
        assert_eq!(
            (row.person.as_str(), row.total),
            (*person, *total),
            "order: most work first, ties in natural order"
        );
        assert_eq!(row.by_modality.len(), cells.len());
        for (modality, n) in *cells {
            assert_eq!(row.by_modality[*modality], *n, "{person} {modality}");
        }
    }
    assert_eq!((fig.total, fig.totals["MR"], fig.totals["CT"], fig.totals["DR"]), (9277, 514, 3994, 4769));
}

/// Figure 7: person, evaluations, (excellent, good, pass, fail) as printed.
const FIGURE_7: &[(&str, u64, [&str; 4])] = &[
    ("A1", 4, ["100", "0", "0", "0"]),
    ("A2", 3, ["100", "0", "0", "0"]),
    ("A3", 19, ["94.7", "5.3", "0", "0"]),
    ("A4", 13, ["92.3", "7.7", "0", "0"]),
    ("A5", 10, ["90", "10", "0", "0"]),
    ("A6", 17, ["88.2", "5.9", "5.9", "0"]),
    ("A7", 8, ["87.5", "12.5", "0", "0"]),
    ("A8", 16, ["87.5", "6.2", "6.2", "0"]),
    ("A9", 13, ["84.6", "15.4", "0", "0"]),
    ("A10", 48, ["83.3", "8.3", "6.2", "2.1"]),
];

/// The counts behind figure 7 (excellent, good, pass, fail).
const FIGURE_7_COUNTS: &[[u64; 4]] = &[
    [4, 0, 0, 0],
    [3, 0, 0, 0],
    [18, 1, 0, 0],
    [12, 1, 0, 0],
    [9, 1, 0, 0],
    [15, 1, 1, 0],
    [7, 1, 0, 0],
    [14, 1, 1, 0],
    [11, 2, 0, 0],
    [40, 4, 3, 1],
];

#[test]
fn figure_7_is_reproduced_with_its_rounding_and_order() {
    let mut facts = Vec::new();
    for ((person, _, _), counts) in FIGURE_7.iter().zip(FIGURE_7_COUNTS).rev() {
        for (k, n) in counts.iter().enumerate() {
            for _ in 0..*n {
                facts.push(fact(person, "DR", [5, 4, 3, 2][k]));
            }
        }
    }
    let rows = report::quality(&facts);
    let got: Vec<(String, u64, [String; 4])> = rows
        .iter()
        .map(|r| {
            (
                r.person.clone(),
                r.evaluations,
                [r.excellent.to_string(), r.good.to_string(), r.pass.to_string(), r.fail.to_string()],
            )
        })
        .collect();
    let want: Vec<(String, u64, [String; 4])> =
        FIGURE_7.iter().map(|(p, n, rates)| (p.to_string(), *n, rates.map(str::to_owned))).collect();
    assert_eq!(got, want, "figure 7, row by row");
    assert_eq!(rows[9].counts.iter().sum::<u64>(), 48);
}

#[test]
fn rates_round_half_to_even_and_an_empty_period_has_none() {
    let check = |part, whole, shown: Option<&str>| {
        assert_eq!(Rate::of(part, whole).map(|r| r.to_string()).as_deref(), shown, "{part}/{whole}")
    };
    check(1, 16, Some("6.2"));
    check(3, 16, Some("18.8"));
    check(2, 13, Some("15.4"));
    check(1, 8, Some("12.5"));
    check(1, 3, Some("33.3"));
    check(2, 3, Some("66.7"));
    check(0, 5, Some("0"));
    check(5, 5, Some("100"));
    check(0, 0, None);
}

#[test]
fn qualification_counts_cases_with_a_report_evaluation() {
    let rq = |acc: &str, item: &str, grade: u8| {
        let mut f = fact("D1", "CT", grade);
        f.accession = acc.into();
        f.item = item.parse().unwrap();
        f
    };
    let facts = vec![
        rq("C1", "RQ", 5),
        rq("C1", "AR", 4),
        rq("C2", "RQ", 2),
        rq("C3", "RQ", 4),
        rq("C3", "AR", 1),
        rq("C4", "IQ", 1),
        rq("C5", "AR", 5),
    ];
    let ind = report::indicators(&facts);
    assert_eq!((ind.sampled, ind.qualified), (3, 1), "C1 qualifies; C2 fails RQ; C3 fails AR; C4 and C5 have no RQ");
    assert_eq!(ind.rate.map(|r| r.to_string()).as_deref(), Some("33.3"));
    let mut incomplete = facts.clone();
    for f in incomplete.iter_mut().filter(|f| f.accession == "C1") {
        f.general_data_complete = false;
    }
    let ind = report::indicators(&incomplete);
    assert_eq!((ind.sampled, ind.qualified), (3, 0), "C1's scores pass but its general data is incomplete (5.3 a)");
    assert_eq!(report::indicators(&[]).rate, None, "no sampled case: no rate");
}

#[test]
fn deductions_are_counted_severe_first_then_most_frequent() {
    let mut f1 = fact("A1", "DR", 3);
    f1.unmet = vec!["IQ-C1".parse().unwrap(), "IQ-C5".parse().unwrap()];
    let mut f2 = fact("A2", "DR", 4);
    f2.unmet = vec!["IQ-C5".parse().unwrap()];
    let mut f3 = fact("A3", "DR", 1);
    f3.severe = vec!["IQ-S2".parse().unwrap()];
    let list = report::deduction_counts(&[f1, f2, f3]);
    let got: Vec<(&str, &str, u64)> = list.iter().map(|d| (d.kind, d.criterion.as_str(), d.count)).collect();
    assert_eq!(got, [("severe", "IQ-S2", 1), ("compliance", "IQ-C5", 2), ("compliance", "IQ-C1", 1)]);
}

/// The whole report for a small mixed month, as JSON: every view at once, reviewed in the diff
/// when it changes (`INSTA_UPDATE=always cargo test -p radqc-domain`, or `cargo insta review`).
#[test]
fn report_snapshot() {
    let mut facts = Vec::new();
    for (person, modality, score) in
        [("A1", "CT", 5), ("A1", "CT", 4), ("A2", "DR", 2), ("A10", "MR", 5), ("A2", "DR", 5)]
    {
        facts.push(fact(person, modality, score));
    }
    let mut severe = fact("A2", "DR", 1);
    severe.severe = vec!["IQ-S2".parse().unwrap()];
    severe.note = "原片局部不清，已重拍".into();
    facts.push(severe);
    let mut unmet = fact("A1", "CT", 4);
    unmet.unmet = vec!["IQ-C5".parse().unwrap()];
    facts.push(unmet);
    let mut report_item = fact("D1", "CT", 3);
    report_item.item = "RQ".parse().unwrap();
    report_item.unmet = vec!["RQ-C2".parse().unwrap(), "RQ-C4".parse().unwrap()];
    facts.push(report_item);
    for (i, f) in facts.iter_mut().enumerate() {
        f.id = format!("e{i}"); // stable, whatever order the tests ran in
    }
    let work: Vec<WorkFact> =
        [("A1", "CT"), ("A1", "CT"), ("A2", "DR"), ("A10", "MR")].iter().map(|(p, m)| work(p, m)).collect();
    let report =
        report::Report::build(Rubric::bundled(), "2026-11".into(), ReportFilter::default(), &facts, &work, None);
    insta::assert_json_snapshot!(report);
}

#[test]
fn figure_4_lists_every_criterion_of_the_rubric_with_zeros_last_in_each_kind() {
    let mut f = fact("A1", "DR", 3);
    f.unmet = vec!["IQ-C5".parse().unwrap()];
    let rubric = Rubric::bundled();
    let report = report::Report::build(rubric, "2026-11".into(), ReportFilter::default(), &[f], &[], None);
    let all: usize = rubric.items.iter().map(|i| i.criteria.len()).sum();
    assert_eq!(report.deductions.len(), all, "every criterion of the rubric has a row");
    let first_compliance = report.deductions.iter().position(|d| d.kind == "compliance").unwrap();
    assert_eq!(
        (report.deductions[first_compliance].criterion.as_str(), report.deductions[first_compliance].count),
        ("IQ-C5", 1)
    );
    assert!(report.deductions.iter().filter(|d| d.criterion != "IQ-C5").all(|d| d.count == 0));

    let doctors = ReportFilter { role: Some("reporting_doctor".parse().unwrap()), ..Default::default() };
    let report = report::Report::build(rubric, "2026-11".into(), doctors, &[], &[], None);
    assert!(!report.deductions.is_empty() && report.deductions.iter().all(|d| d.criterion.starts_with("RQ-")));
    let old = ReportFilter { rubric_version: Some("2020.1".into()), ..Default::default() };
    let report = report::Report::build(rubric, "2026-11".into(), old, &[], &[], None);
    assert!(report.deductions.is_empty(), "no zero rows for a version whose criteria are not known here");
}

/// Data-driven: each filter, and what the report then counts.
#[test]
fn filters_restrict_every_view() {
    let mut facts = Vec::new();
    let mut add = |person: &str, modality: &str, score: u8, item: &str, mode: QcMode, dept: &str| {
        let mut f = fact(person, modality, score);
        f.item = item.parse().unwrap();
        f.mode = mode;
        f.department = Some(dept.into());
        f.accession = format!("{}-{}", f.accession, facts.len());
        f.reporting_doctor = Some("D1".parse().unwrap());
        facts.push(f);
    };
    add("A1", "CT", 5, "IQ", QcMode::Random, "放射科");
    add("A1", "DR", 2, "IQ", QcMode::Active, "放射科");
    add("A2", "CT", 4, "FL", QcMode::Random, "急诊");
    add("D1", "CT", 3, "RQ", QcMode::Random, "放射科");
    add("D2", "MR", 5, "AR", QcMode::Centralized, "放射科");
    let work = vec![work("A1", "CT"), work("A2", "DR")];
    let scored = |r: &report::Report| -> u64 {
        let sum = |s: &report::ScoreCounts| s.totals.values().flatten().sum::<u64>();
        sum(&r.scores_technologists) + sum(&r.scores_doctors)
    };
    let cases: &[(&str, ReportFilter, u64, u64)] = &[
        ("no filter", ReportFilter::default(), 5, 2),
        ("modality CT", ReportFilter { modality: Some("CT".parse().unwrap()), ..Default::default() }, 3, 1),
        ("role technologist", ReportFilter { role: Some("technologist".parse().unwrap()), ..Default::default() }, 3, 2),
        (
            "role reporting doctor",
            ReportFilter { role: Some("reporting_doctor".parse().unwrap()), ..Default::default() },
            1,
            0,
        ),
        ("person A1", ReportFilter { person: Some("A1".parse().unwrap()), ..Default::default() }, 2, 1),
        ("mode active", ReportFilter { mode: Some(QcMode::Active), ..Default::default() }, 1, 2),
        ("department 急诊", ReportFilter { department: Some("急诊".into()), ..Default::default() }, 1, 0),
        ("another version", ReportFilter { rubric_version: Some("x".into()), ..Default::default() }, 0, 2),
        ("another site", ReportFilter { site: Some("T".into()), ..Default::default() }, 0, 0),
    ];
    for (what, filter, evaluations, exams) in cases {
        let r = report::Report::build(Rubric::bundled(), "2026-11".into(), filter.clone(), &facts, &work, None);
        assert_eq!((scored(&r), r.workload.total), (*evaluations, *exams), "{what}");
        assert_eq!(r.filter, *filter, "{what}: the report says what it was filtered by");
    }
}

#[test]
fn indicators_break_down_by_site_department_modality_person_and_month() {
    let mut facts = Vec::new();
    for (i, (site, dept, modality, doctor, month, score)) in [
        ("S", "放射科", "CT", "D1", "2026-10", 5),
        ("S", "放射科", "CT", "D1", "2026-11", 2),
        ("S", "急诊", "DR", "D2", "2026-11", 4),
        ("T", "放射科", "CT", "D1", "2026-11", 4),
    ]
    .into_iter()
    .enumerate()
    {
        let mut f = fact(doctor, modality, score);
        f.item = "RQ".parse().unwrap();
        f.site = site.into();
        f.department = Some(dept.into());
        f.accession = format!("C{i}");
        f.reporting_doctor = Some(doctor.parse().unwrap());
        f.at = format!("{month}-15T08:00:00.000Z");
        facts.push(f);
    }
    let ind = report::indicators(&facts);
    let rows = |rows: &[report::IndicatorRow]| -> Vec<(Option<String>, String, u64, u64)> {
        rows.iter().map(|r| (r.site.clone(), r.key.clone(), r.sampled, r.qualified)).collect()
    };
    let s = |x: &str| Some(x.to_owned());
    assert_eq!((ind.sampled, ind.qualified), (4, 3));
    assert_eq!(rows(&ind.by_month), [(None, "2026-10".into(), 1, 1), (None, "2026-11".into(), 3, 2)]);
    assert_eq!(rows(&ind.by_site), [(None, "S".into(), 3, 2), (None, "T".into(), 1, 1)]);
    assert_eq!(
        rows(&ind.by_department),
        [(s("S"), "急诊".into(), 1, 1), (s("S"), "放射科".into(), 2, 1), (s("T"), "放射科".into(), 1, 1)]
    );
    assert_eq!(rows(&ind.by_modality), [(None, "CT".into(), 3, 2), (None, "DR".into(), 1, 1)]);
    assert_eq!(
        rows(&ind.by_person),
        [(s("S"), "D1".into(), 2, 1), (s("S"), "D2".into(), 1, 1), (s("T"), "D1".into(), 1, 1)],
        "people are told apart by site"
    );
}

#[test]
fn the_same_staff_code_at_two_sites_is_two_people() {
    let mut other = fact("A1", "CT", 5);
    other.site = "T".into();
    let facts = [fact("A1", "CT", 4), other];
    let fig = report::score_counts(&facts);
    let rows: Vec<(&str, &str)> = fig.rows.iter().map(|r| (r.site.as_str(), r.person.as_str())).collect();
    assert_eq!(rows, [("S", "A1"), ("T", "A1")]);
    let build = |facts: &[EvaluationFact]| {
        report::Report::build(Rubric::bundled(), "2026-11".into(), ReportFilter::default(), facts, &[], None)
    };
    let region = build(&facts);
    assert!(region.spans_sites());
    assert_eq!(region.names().person("T", "A1"), "T/A1", "several sites: people are SITE/CODE in every export");
    let one_site = build(&facts[..1]);
    assert!(!one_site.spans_sites());
    assert_eq!(one_site.names().person("S", "A1"), "A1");
}

#[test]
fn a_figure_3_limit_shows_the_oldest_and_counts_all() {
    let facts: Vec<EvaluationFact> = (0..5)
        .map(|i| {
            let mut f = fact("A1", "CT", 4);
            f.unmet = vec!["IQ-C5".parse().unwrap()];
            f.at = format!("2026-11-0{}T08:00:00.000Z", 5 - i);
            f
        })
        .collect();
    let r = report::Report::build(Rubric::bundled(), "2026-11".into(), ReportFilter::default(), &facts, &[], Some(2));
    assert_eq!(r.deduction_details_total, 5);
    let days: Vec<&str> = r.deduction_details.iter().map(|f| &f.at[..10]).collect();
    assert_eq!(days, ["2026-11-01", "2026-11-02"]);
}

/// Data-driven: what 5.3 a's general data needs, field by field.
#[test]
fn general_data_is_complete_with_patient_department_date_and_both_signatures() {
    use radqc_domain::rollup::{general_data_complete, patient_known};
    use radqc_domain::Sex;
    assert!(patient_known(true, Some(Sex::Female), Some(40)));
    assert!(!patient_known(false, Some(Sex::Female), Some(40)), "no patient id");
    assert!(!patient_known(true, Some(Sex::Unknown), Some(40)), "sex unknown");
    assert!(!patient_known(true, None, Some(40)), "no sex");
    assert!(!patient_known(true, Some(Sex::Male), None), "no age");
    /// What, patient known, department, exam date, writer, approver, complete.
    type Case<'a> = (&'a str, bool, Option<&'a str>, bool, bool, bool, bool);
    let cases: &[Case] = &[
        ("everything", true, Some("放射科"), true, true, true, true),
        ("patient unknown", false, Some("放射科"), true, true, true, false),
        ("no department", true, None, true, true, true, false),
        ("blank department", true, Some(" "), true, true, true, false),
        ("no exam date", true, Some("放射科"), false, true, true, false),
        ("not signed by the writer", true, Some("放射科"), true, false, true, false),
        ("not approved", true, Some("放射科"), true, true, false, false),
    ];
    for (what, patient, department, performed, writer, approver, want) in cases {
        assert_eq!(general_data_complete(*patient, *department, *performed, *writer, *approver), *want, "{what}");
    }
}

/// Data-driven: a report scope as typed, and the field its error names (the center, the CLI and
/// the app all parse it this way).
#[test]
fn a_scope_is_parsed_once_and_a_wrong_field_is_named() {
    use radqc_domain::scope::ReportScope;
    let scope = |v: serde_json::Value| serde_json::from_value::<ReportScope>(v).unwrap();
    let (period, filter) =
        scope(serde_json::json!({"from": "2026-01", "to": "2026-11", "modality": "CT", "site": " "}))
            .parse(Rubric::bundled())
            .unwrap();
    assert_eq!(period.to_string(), "2026-01..2026-11");
    assert_eq!(
        filter,
        ReportFilter { modality: Some("CT".parse().unwrap()), ..Default::default() },
        "blank is no filter"
    );
    for (input, field, says) in [
        (serde_json::json!({"from": "2026-13"}), "from", "2026-13"),
        (serde_json::json!({"from": "+202-11"}), "from", "+202-11"),
        (serde_json::json!({"to": "2026-+1"}), "to", "2026-+1"),
        (serde_json::json!({"from": "2026-12", "to": "2026-11"}), "period", "after it ends"),
        (serde_json::json!({"role": "qc_officer"}), "role", "not a role the rubric scores"),
        (serde_json::json!({"mode": "lucky"}), "mode", "lucky"),
        (serde_json::json!({"site": "S".repeat(65)}), "site", "longer than 64"),
    ] {
        let e = scope(input.clone()).parse(Rubric::bundled()).unwrap_err();
        assert_eq!(e.field, field, "{input}");
        assert!(e.to_string().starts_with(&format!("{field}: ")) && e.message.contains(says), "{input}: {e}");
    }
}

/// 5.1 over several months: an exam is one case of the period, sampled when any month has an
/// RQ and qualified when every month's RQ and AR pass; by month it is in each of its months.
/// Every breakdown but the month's, and every filter, see it once.
#[test]
fn a_case_scored_in_several_months_counts_once_in_the_period() {
    let case = |accession: &str, item: &str, score: u8, at: &str, department: &str| {
        let mut f = fact("D1", "CT", score);
        f.item = item.parse().unwrap();
        f.accession = accession.into();
        f.at = at.into();
        f.department = Some(department.into());
        f.reporting_doctor = Some("D1".parse().unwrap());
        f
    };
    let facts = vec![
        case("SPAN", "RQ", 5, "2026-10-15T02:00:00Z", "放射科"),
        case("SPAN", "RQ", 1, "2026-11-15T02:00:00Z", "放射科"),
        case("AR-LATE", "RQ", 5, "2026-10-15T02:00:00Z", "急诊科"),
        case("AR-LATE", "AR", 1, "2026-11-15T02:00:00Z", "急诊科"), // AR failing in a month without RQ
        case("PLAIN", "RQ", 5, "2026-11-20T02:00:00Z", "放射科"),
    ];
    let rows = |rows: &[report::IndicatorRow]| -> Vec<(String, u64, u64)> {
        rows.iter().map(|r| (r.key.clone(), r.sampled, r.qualified)).collect()
    };
    let ind = report::indicators(&facts);
    assert_eq!((ind.sampled, ind.qualified), (3, 1), "SPAN failed in November, AR-LATE by its AR");
    assert_eq!(rows(&ind.by_month), [("2026-10".into(), 2, 2), ("2026-11".into(), 2, 1)], "each month's own cases");
    assert_eq!(rows(&ind.by_department), [("急诊科".into(), 1, 0), ("放射科".into(), 2, 1)]);
    assert_eq!(rows(&ind.by_person), [("D1".into(), 3, 1)]);
    assert_eq!(rows(&ind.by_modality), [("CT".into(), 3, 1)]);
    let filtered = report::Report::build(
        Rubric::bundled(),
        "2026-10..2026-11".into(),
        ReportFilter { department: Some("急诊科".into()), ..Default::default() },
        &facts,
        &[],
        None,
    );
    assert_eq!((filtered.indicators.sampled, filtered.indicators.qualified), (1, 0));
    let other = ReportFilter { department: Some("放射科".into()), ..Default::default() };
    let filtered = report::Report::build(Rubric::bundled(), "p".into(), other, &facts, &[], None);
    assert_eq!((filtered.indicators.sampled, filtered.indicators.qualified), (2, 1));
    // The same exams with a month each: nothing to correct.
    let october: Vec<_> = facts.iter().filter(|f| f.at.starts_with("2026-10")).cloned().collect();
    assert_eq!(report::indicators(&october).sampled, 2);
}

/// A site's months and days in its zone: both sides of Beijing's midnight on the 1st.
#[test]
fn months_and_days_are_local_to_the_site_s_zone() {
    use radqc_domain::report::{Month, Period};
    use radqc_domain::SiteZone;
    let beijing = SiteZone::default();
    assert_eq!(beijing.name(), "Asia/Shanghai");
    assert_eq!(beijing.month_of("2026-10-31T23:30:00Z"), "2026-11", "07:30 on 1 November");
    assert_eq!(beijing.month_of("2026-10-31T15:59:59.999Z"), "2026-10", "23:59:59 on 31 October");
    assert_eq!(beijing.month_of("2026-11-01T07:30:00+08:00"), "2026-11");
    let utc: SiteZone = "UTC".parse().unwrap();
    assert_eq!(utc.month_of("2026-10-31T23:30:00Z"), "2026-10");
    let november = Month { year: 2026, month: 11 };
    assert_eq!(november.range(beijing), ("2026-10-31T16:00:00.000Z".to_owned(), "2026-11-30T16:00:00.000Z".to_owned()));
    let all = Period::all().range(beijing);
    assert_eq!(all.0, "0000-01-01T00:00:00.000Z");
    let at = |s: &str| -> chrono::DateTime<chrono::Utc> { s.parse().unwrap() };
    assert_eq!(beijing.day_of_month(at("2026-11-30T15:59:59Z")), (30, 30), "the last day of November");
    assert_eq!(beijing.day_of_month(at("2026-11-30T16:00:00Z")), (1, 31), "the first of December");
    assert_eq!(beijing.days_between(at("2026-10-31T15:59:00Z"), at("2026-10-31T16:01:00Z")), 1);
    let bad = "Mars/Olympus".parse::<SiteZone>().unwrap_err().to_string();
    assert!(bad.contains("unknown time zone `Mars/Olympus`"), "{bad}");
}
