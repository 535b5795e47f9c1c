//! Rubric validation: the bundled file loads; each kind of malformed file is refused with an
//! error naming the file, the item and the problem.

use radqc_domain::{Findings, Rubric};

const BUNDLED: &str = include_str!("../../../../assets/rubric.toml");

/// Applies `from → to` to the bundled rubric (the text must occur once) and expects a refusal
/// whose message contains every one of `words`.
fn check_refused(from: &str, to: &str, words: &[&str]) {
    assert_eq!(BUNDLED.matches(from).count(), 1, "test setup: `{from}` occurs once in the rubric");
    let text = BUNDLED.replacen(from, to, 1);
    let err = Rubric::from_toml_str(&text, "regional/rubric.toml").expect_err("malformed rubric is refused");
    let msg = err.to_string();
    assert!(msg.starts_with("rubric regional/rubric.toml:"), "error names the file: {msg}");
    for w in words {
        assert!(msg.contains(w), "error names `{w}`:\n{msg}");
    }
}

#[test]
fn bundled_rubric_is_valid_and_versioned() {
    let rubric = Rubric::from_toml_str(BUNDLED, "assets/rubric.toml").expect("bundled rubric validates");
    assert_eq!(rubric.version, "2026.1");
    assert_eq!(&rubric, Rubric::bundled(), "bundled() is the same file");
    let n: usize = rubric.items.iter().map(|i| i.criteria.len()).sum();
    assert_eq!(n, 50, "Appendix A has 50 criteria");
}

#[test]
fn malformed_rubrics_are_refused() {
    // Unknown item (and so the real one goes missing).
    check_refused("code = \"TR\"", "code = \"TX\"", &["item TX: unknown item `TX`", "item TR: item missing"]);
    // Duplicate code.
    check_refused("code = \"IQ-C2\"", "code = \"IQ-C1\"", &["item IQ: criterion IQ-C1: duplicate code"]);
    // Misnamed: a code of another item, a kind letter that contradicts `kind`, a malformed number.
    check_refused(
        "code = \"IQ-C2\"",
        "code = \"FL-C9\"",
        &["item IQ: criterion FL-C9: misnamed", "belongs to item FL"],
    );
    check_refused(
        "code = \"IQ-S1\"",
        "code = \"IQ-C9\"",
        &["item IQ: criterion IQ-C9: misnamed", "the code says compliance but `kind` is severe"],
    );
    check_refused("code = \"RQ-C4\"", "code = \"RQ-C04\"", &["item RQ: criterion RQ-C04: misnamed"]);
    check_refused("code = \"AF-1\"", "code = \"AF-S1\"", &["item AF: criterion AF-S1: misnamed"]);
    // Missing Chinese (or English) text.
    check_refused("zh = \"空白申请单\", ", "", &["item AF: criterion AF-1: missing Chinese text (text.zh)"]);
    check_refused("zh = \"明显误诊\"", "zh = \"  \"", &["item AR: criterion AR-S7: missing Chinese text"]);
    check_refused("en = \"Film layout\"", "en = \"\"", &["item FL: missing English text (name.en)"]);
    // Tables that do not cover u = 0 … n, rise, or leave 1-5.
    check_refused(
        "[5, 4, 3, 3, 2, 1]",
        "[5, 4, 3, 3, 2]",
        &["item IQ: `score_table` has 5 entries but must cover u = 0 … 5"],
    );
    check_refused(
        "[5, 4, 3, 3, 2, 1]",
        "[5, 4, 3, 4, 2, 1]",
        &["item IQ: `score_table` rises from 3 at u = 2 to 4 at u = 3"],
    );
    check_refused(
        "[5, 4, 3, 3, 2, 1]",
        "[5, 4, 3, 3, 2, 0]",
        &["item IQ: `score_table` u = 5: 0 is not a score from 1 to 5"],
    );
    check_refused("[5, 4, 3, 3, 2, 1]", "[4, 4, 3, 3, 2, 1]", &["item IQ: `score_table` u = 0 must be 5"]);
    // A normative item with a table; a scored item without one; the wrong kind.
    check_refused(
        "applies = \"always\"\ncriteria = [\n  { code = \"AF-1\"",
        "applies = \"always\"\nscore_table = [5]\ncriteria = [\n  { code = \"AF-1\"",
        &["item AF: a normative item has no `score_table`"],
    );
    check_refused("score_table = [5, 4, 3, 3, 2, 1]", "", &["item IQ: missing `score_table` (scores for u = 0 … 5)"]);
    check_refused(
        "code = \"IQ\"\nkind = \"scored\"",
        "code = \"IQ\"\nkind = \"normative\"",
        &["item IQ: `kind` must be `scored`"],
    );
    // Unknown roles and fields, schema, not TOML.
    check_refused(
        "scored_role = \"auditing_doctor\"",
        "scored_role = \"auditor\"",
        &["item AR: `scored_role`: unknown role `auditor`"],
    );
    check_refused("applies = \"film_printed\"", "aplies = \"film_printed\"", &["unknown field `aplies`"]);
    check_refused("schema = 1", "schema = 2", &["schema 2 is not supported"]);
    check_refused("version = \"2026.1\"", "version = \"2026 rev 1\"", &["`version`"]);
    check_refused("[[items]]\ncode = \"AF\"", "[[items]\ncode = \"AF\"", &["not a valid rubric file"]);
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = BUNDLED.replacen("code = \"IQ-C2\"", "code = \"IQ-C1\"", 1).replacen(
        "[5, 4, 3, 3, 2, 1]",
        "[5, 4, 3, 4, 2, 1]",
        1,
    );
    let err = Rubric::from_toml_str(&text, "r.toml").unwrap_err();
    assert_eq!(err.problems.len(), 2, "both problems listed: {err}");
}

#[test]
fn an_added_criterion_needs_and_uses_its_own_table() {
    // Figure 4 shows 造影剂充盈度 (contrast filling), which Appendix A lacks: a region adds it to IQ.
    let added = "  { code = \"IQ-C6\", kind = \"compliance\", text = { zh = \"造影剂充盈度\", en = \"contrast filling\" } },\n]\n\n[[items]]\ncode = \"FL\"";
    let with_criterion = BUNDLED.replacen("]\n\n[[items]]\ncode = \"FL\"", added, 1);
    let err = Rubric::from_toml_str(&with_criterion, "r.toml").unwrap_err();
    assert!(err.to_string().contains("item IQ: `score_table` has 6 entries but must cover u = 0 … 6"), "{err}");

    let extended = with_criterion.replacen("[5, 4, 3, 3, 2, 1]", "[5, 4, 3, 3, 2, 1, 1]", 1).replacen(
        "version = \"2026.1\"",
        "version = \"2026.1-js\"",
        1,
    );
    let rubric = Rubric::from_toml_str(&extended, "r.toml").expect("an extension with its table is valid");
    let f: Findings = serde_json::from_str(r#"{"item":"IQ","findings":["IQ-C6"]}"#).unwrap();
    let v = rubric.score(&f).unwrap();
    assert_eq!(v.score.map(|s| s.get()), Some(4), "the added criterion counts in u");
}
