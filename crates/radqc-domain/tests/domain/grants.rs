//! The grants document: the bundled file loads and says what the product did before it was
//! data; each kind of malformed document is refused whole, every problem named.

use radqc_domain::{Grants, ItemCode, Role, Rubric};

fn roles(list: &[&str]) -> Vec<String> {
    list.iter().map(|r| (*r).to_owned()).collect()
}

#[test]
fn the_bundled_grants_are_valid_versioned_and_decide_what_the_code_used_to() {
    let g = Grants::from_json(Grants::bundled_text(), "assets/grants.json").expect("the bundled grants validate");
    assert_eq!(&g, Grants::bundled());
    assert_eq!(g.version, "2026.1");
    let rubric = Rubric::bundled();
    assert!(g.may_score(rubric, &roles(&["qc_officer"]), ItemCode::AR), "a QC officer scores every item");
    assert!(g.may_score(rubric, &roles(&["technologist"]), ItemCode::AF), "the rubric's own scorers");
    assert!(!g.may_score(rubric, &roles(&["technologist"]), ItemCode::IQ));
    for (role, site, region, notices) in [
        ("center_admin", true, true, false),
        ("qc_officer", true, false, false),
        ("department_head", true, false, true),
        ("reporting_doctor", false, false, false),
        ("technologist", false, false, false),
    ] {
        let r = roles(&[role]);
        assert_eq!(
            (g.sees_whole_site(&r), g.reads_every_site(&r), g.gets_department_notices(&r)),
            (site, region, notices),
            "{role}"
        );
    }
    assert_eq!(g.site_score_roles(), ["qc_officer", "department_head", "center_admin"]);
    assert!(g.sets_secrets(&roles(&["center_admin"])) && !g.sets_secrets(&roles(&["qc_officer"])));
    assert!(!g.sees_whole_site(&roles(&["not_a_role"])), "a role nobody grants sees nothing");
}

#[test]
fn a_changed_document_decides_differently() {
    let text = Grants::bundled_text()
        .replace(r#""version": "2026.1""#, r#""version": "2026.2""#)
        .replace(
            r#""sees_site_scores": ["qc_officer", "department_head", "center_admin"]"#,
            r#""sees_site_scores": ["qc_officer"]"#,
        )
        .replace(r#""extra": {"#, r#""extra": { "technologist": ["IQ"],"#);
    let g = Grants::from_json(&text, "region.json").unwrap();
    assert_eq!(g.version, "2026.2");
    assert!(!g.sees_whole_site(&roles(&["department_head"])));
    assert!(g.may_score(Rubric::bundled(), &roles(&["technologist"]), ItemCode::IQ));
    assert_eq!(g.extra[&Role::Technologist], [ItemCode::IQ]);
}

#[test]
fn malformed_documents_are_refused_with_every_problem_named() {
    let err = Grants::from_json(
        r#"{"extra": {"technologist": ["IQ", "XX"], "janitor": ["AF"]},
            "sees_site_scores": ["qc_officer", "boss"], "reads_region": "center_admin",
            "department_notice": []}"#,
        "bad.json",
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("grants bad.json: "), "names the source: {msg}");
    for words in [
        "version: missing",
        "extra.technologist: unknown item `XX`",
        "extra: unknown role `janitor`",
        "sees_site_scores: unknown role `boss`",
        "reads_region: is not a list of roles",
        "department_notice: unknown field",
        "department_notices: missing",
        "sets_secrets: missing",
    ] {
        assert!(msg.contains(words), "names `{words}`:\n{msg}");
    }
    assert_eq!(err.problems.len(), 8, "{msg}");

    for (text, words) in [
        ("[]", "a grants document is a JSON object"),
        ("{not json", "not JSON"),
        (
            r#"{"version": " ", "extra": {}, "sees_site_scores": [], "reads_region": [], "department_notices": [], "sets_secrets": []}"#,
            "version: is empty",
        ),
        (
            r#"{"version": 3, "extra": {}, "sees_site_scores": [], "reads_region": [], "department_notices": [], "sets_secrets": []}"#,
            "version: is not text",
        ),
        (
            r#"{"version": "v", "extra": [], "sees_site_scores": [1], "reads_region": [], "department_notices": [], "sets_secrets": []}"#,
            "sees_site_scores: 1 is not a role",
        ),
    ] {
        let msg = Grants::from_json(text, "x").unwrap_err().to_string();
        assert!(msg.contains(words), "{text}: names `{words}`:\n{msg}");
    }
    let empty = r#"{"version": "v", "extra": {}, "sees_site_scores": [], "reads_region": [], "department_notices": [], "sets_secrets": []}"#;
    let g = Grants::from_json(empty, "x").expect("empty lists are a document that grants nothing");
    assert!(!g.sees_whole_site(&roles(&["center_admin"])));
}

#[test]
fn a_document_published_before_the_gold_lists_reads_with_their_defaults_and_a_bad_one_is_named() {
    let mut doc: serde_json::Value = serde_json::from_str(Grants::bundled_text()).unwrap();
    let fields = doc.as_object_mut().unwrap();
    fields.remove("gold_readers");
    fields.remove("manages_gold");
    let g = Grants::from_value(&doc, "old").unwrap();
    assert!(g.reads_gold(&["senior_radiologist".to_owned()]) && !g.reads_gold(&["technologist".to_owned()]));
    assert!(g.manages_gold(&["qc_officer".to_owned()]) && !g.manages_gold(&["reporting_doctor".to_owned()]));
    doc["gold_readers"] = serde_json::json!(["no_such_role"]);
    doc["manages_gold"] = serde_json::json!("qc_officer");
    let e = Grants::from_value(&doc, "bad").unwrap_err();
    let fields: Vec<_> = e.problems.iter().filter_map(|p| p.field.as_deref()).collect();
    assert!(fields.contains(&"gold_readers") && fields.contains(&"manages_gold"), "{e}");
}
