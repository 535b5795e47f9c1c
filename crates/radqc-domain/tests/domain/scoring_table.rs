//! Exhaustive check of the scoring engine against `docs/spec/rubric.md`: for every item, every
//! assignment of each criterion to "absent / met", "found" or "not applicable" (3^k cases).
//!
//! The expected results come from the table below, copied from the spec by hand, not from the
//! rubric data, so a wrong edit of `assets/rubric.toml` shows up here.

use radqc_domain::{CriterionCode, Findings, Grade, ItemCode, Rubric};

struct SpecItem {
    item: &'static str,
    severe: &'static [&'static str],
    compliance: &'static [&'static str],
    /// `u → score`; `None` for the normative item (合格 / 不合格).
    table: Option<&'static [u8]>,
}

const SPEC: &[SpecItem] = &[
    SpecItem { item: "AF", severe: &["AF-1", "AF-2", "AF-3", "AF-4", "AF-5"], compliance: &[], table: None },
    SpecItem {
        item: "IQ",
        severe: &["IQ-S1", "IQ-S2", "IQ-S3"],
        compliance: &["IQ-C1", "IQ-C2", "IQ-C3", "IQ-C4", "IQ-C5"],
        table: Some(&[5, 4, 3, 3, 2, 1]),
    },
    SpecItem {
        item: "FL",
        severe: &["FL-S1", "FL-S2", "FL-S3"],
        compliance: &["FL-C1", "FL-C2", "FL-C3", "FL-C4"],
        table: Some(&[5, 4, 3, 2, 1]),
    },
    SpecItem {
        item: "TR",
        severe: &["TR-S1", "TR-S2", "TR-S3"],
        compliance: &["TR-C1", "TR-C2", "TR-C3", "TR-C4"],
        table: Some(&[5, 4, 3, 2, 1]),
    },
    SpecItem {
        item: "RQ",
        severe: &["RQ-S1", "RQ-S2", "RQ-S3", "RQ-S4", "RQ-S5", "RQ-S6", "RQ-S7"],
        compliance: &["RQ-C1", "RQ-C2", "RQ-C3", "RQ-C4"],
        table: Some(&[5, 4, 3, 2, 1]),
    },
    SpecItem {
        item: "AR",
        severe: &["AR-S1", "AR-S2", "AR-S3", "AR-S4", "AR-S5", "AR-S6", "AR-S7", "AR-S8"],
        compliance: &["AR-C1", "AR-C2", "AR-C3", "AR-C4"],
        table: Some(&[5, 4, 3, 2, 1]),
    },
];

fn codes(list: &[&str]) -> Vec<CriterionCode> {
    list.iter().map(|c| c.parse().expect("spec codes parse")).collect()
}

#[test]
fn bundled_rubric_has_exactly_the_spec_criteria_in_order() {
    let rubric = Rubric::bundled();
    let items: Vec<&str> = rubric.items.iter().map(|i| i.code.as_str()).collect();
    assert_eq!(items, ["AF", "IQ", "FL", "TR", "RQ", "AR"], "items in the standard's order");
    for spec in SPEC {
        let item = rubric.item(spec.item.parse().unwrap());
        let severe: Vec<&str> = item.severe().map(|c| c.code.as_str()).collect();
        let compliance: Vec<&str> = item.compliance().map(|c| c.code.as_str()).collect();
        assert_eq!(severe, spec.severe, "{}: severe criteria as in rubric.md", spec.item);
        assert_eq!(compliance, spec.compliance, "{}: compliance criteria as in rubric.md", spec.item);
        let table: Option<Vec<u8>> = item.score_table.as_ref().map(|t| t.iter().map(|s| s.get()).collect());
        assert_eq!(table.as_deref(), spec.table, "{}: u → score table as in rubric.md", spec.item);
    }
}

#[test]
fn chinese_text_is_the_standards_verbatim() {
    // Spot checks across items, including punctuation the standard uses (full-width, PACS).
    let check = |code: &str, zh: &str| {
        let c = Rubric::bundled().criterion(&code.parse().unwrap()).expect("criterion exists");
        assert_eq!(c.text.zh, zh, "{code}: Chinese text verbatim from the standard");
        assert!(!c.text.en.is_empty(), "{code}: has English text");
    };
    check("AF-1", "空白申请单");
    check("IQ-S1", "检查技术选择、摆放位置不当或操作过失，无诊断价值");
    check("IQ-C5", "伪影：无伪影（体外、呼吸运动、设备原因）");
    check("FL-S3", "排版图像张冠李戴，非本次检查图像");
    check("TR-C4", "重建图像无假阳性或假阴性病变");
    check("RQ-S7", "报告中患者信息或 PACS 上传图像与申请单明显不符，未发现");
    check("AR-S7", "明显误诊");
    check("AR-C4", "诊断全面，可为临床提供鉴别诊断和进一步检查的建议");
}

/// Expected verdict straight from rubric.md's rules.
fn expected(spec: &SpecItem, found: &[&str]) -> (Option<u8>, Grade) {
    let severe = found.iter().any(|c| spec.severe.contains(c));
    let u = found.iter().filter(|c| spec.compliance.contains(c)).count();
    match spec.table {
        None => (None, if severe { Grade::Fail } else { Grade::Pass }),
        Some(table) => {
            let score = if severe { 1 } else { table[u] };
            let grade = match score {
                5 => Grade::Excellent,
                4 => Grade::Good,
                3 => Grade::Pass,
                _ => Grade::Fail,
            };
            (Some(score), grade)
        }
    }
}

#[test]
fn every_combination_of_every_item_scores_as_the_spec_says() {
    let rubric = Rubric::bundled();
    let mut cases = 0usize;
    for spec in SPEC {
        let all: Vec<&str> = spec.severe.iter().chain(spec.compliance).copied().collect();
        let k = all.len() as u32;
        // Each criterion: 0 = absent / met, 1 = found (severe present / compliance unmet), 2 = not applicable.
        for mut n in 0..3usize.pow(k) {
            let (mut found, mut na) = (Vec::new(), Vec::new());
            for code in &all {
                match n % 3 {
                    1 => found.push(*code),
                    2 => na.push(*code),
                    _ => {}
                }
                n /= 3;
            }
            let input =
                Findings { item: spec.item.parse().unwrap(), findings: codes(&found), not_applicable: codes(&na) };
            let verdict = rubric.score(&input).unwrap_or_else(|e| panic!("{found:?} / n.a. {na:?}: {e}"));
            let (score, grade) = expected(spec, &found);
            assert_eq!(verdict.score.map(|s| s.get()), score, "{}: found {found:?}, n.a. {na:?}", spec.item);
            assert_eq!(verdict.grade, grade, "{}: found {found:?}, n.a. {na:?}", spec.item);
            assert_eq!(verdict.pass, grade != Grade::Fail, "pass follows the grade");
            let severe: Vec<&str> = verdict.severe.iter().map(|c| c.as_str()).collect();
            let unmet: Vec<&str> = verdict.unmet.iter().map(|c| c.as_str()).collect();
            let want_severe: Vec<&str> = found.iter().copied().filter(|c| spec.severe.contains(c)).collect();
            let want_unmet: Vec<&str> = found.iter().copied().filter(|c| spec.compliance.contains(c)).collect();
            assert_eq!(severe, want_severe, "severe deductions in rubric order");
            assert_eq!(unmet, want_unmet, "unmet deductions in rubric order");
            cases += 1;
        }
    }
    assert_eq!(cases, 3usize.pow(5) + 3usize.pow(8) + 2 * 3usize.pow(7) + 3usize.pow(11) + 3usize.pow(12));
}

/// One refused input: the findings, and the words the error must contain.
fn check_refused(item: &str, findings: &[&str], not_applicable: &[&str], code: &str, words: &[&str]) {
    let input =
        Findings { item: item.parse().unwrap(), findings: codes(findings), not_applicable: codes(not_applicable) };
    let err = Rubric::bundled().score(&input).expect_err("nonsense findings are refused");
    assert_eq!(err.code(), code, "stable error code for {findings:?} / {not_applicable:?}");
    let msg = err.to_string();
    for w in words {
        assert!(msg.contains(w), "error `{msg}` names `{w}`");
    }
}

#[test]
fn nonsense_findings_are_refused_with_a_reason() {
    check_refused("IQ", &["FL-S1"], &[], "CRITERION_OF_OTHER_ITEM", &["FL-S1", "item FL", "item IQ"]);
    check_refused("IQ", &[], &["RQ-C1"], "CRITERION_OF_OTHER_ITEM", &["RQ-C1"]);
    check_refused("IQ", &["IQ-C6"], &[], "UNKNOWN_CRITERION", &["IQ-C6", "2026.1"]);
    check_refused("AF", &["AF-6"], &[], "UNKNOWN_CRITERION", &["AF-6"]);
    check_refused("IQ", &["IQ-C2", "IQ-C2"], &[], "DUPLICATE_CRITERION", &["IQ-C2", "findings"]);
    check_refused("IQ", &[], &["IQ-C5", "IQ-C5"], "DUPLICATE_CRITERION", &["not_applicable"]);
    check_refused("IQ", &["IQ-C5"], &["IQ-C5"], "FOUND_AND_NOT_APPLICABLE", &["IQ-C5"]);
    check_refused("RQ", &["RQ-S1"], &["RQ-S1"], "FOUND_AND_NOT_APPLICABLE", &["RQ-S1"]);
}

#[test]
fn malformed_codes_do_not_parse() {
    for bad in ["IQ", "IQ-", "IQ-X1", "IQ-C0", "IQ-C01", "IQ-1", "XX-S1", "iq-s1", "AF-S1", "IQ-C1 ", "IQ-C-1"] {
        assert!(bad.parse::<CriterionCode>().is_err(), "`{bad}` is not a criterion code");
    }
    for good in ["IQ-C1", "AF-5", "RQ-S7", "IQ-C12"] {
        assert!(good.parse::<CriterionCode>().is_ok(), "`{good}` is a criterion code");
    }
    assert!("iq".parse::<ItemCode>().is_err(), "item codes are upper case");
}

#[test]
fn criterion_codes_sort_by_item_kind_and_number() {
    let mut list = codes(&["IQ-C10", "IQ-C2", "AF-2", "IQ-S1"]);
    list.sort();
    let sorted: Vec<&str> = list.iter().map(|c| c.as_str()).collect();
    assert_eq!(sorted, ["AF-2", "IQ-S1", "IQ-C2", "IQ-C10"], "natural order, not text order");
}
