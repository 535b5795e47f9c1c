//! The grants the region publishes decide the center's reads and notices from the next request
//! on, with no restart: who reads a whole site, who reads the region, who is named on a failed
//! evaluation's notice. A document that does not validate is not published; one that reads back
//! broken is a storage error, never the bundled grants. Report filters are checked against the
//! rubric versions the center knows.

use chrono::Utc;
use radqc_protocol::{FeedKind, StaffMember};
use serde_json::{json, Value};

use crate::support::{each_backend, Center, Clinic};

/// A staff member of `site` with a person token.
async fn person(center: &Center, site: &str, code: &str, role: &str) -> String {
    let m =
        StaffMember { site: site.into(), code: code.into(), name: code.into(), roles: vec![role.into()], active: true };
    radqc_center::put_staff(&center.db, &m).await.unwrap();
    let token = radqc_center::secret::new_token();
    center.db.issue_person_token(site, code, &radqc_center::secret::hash(&token), Utc::now()).await.unwrap();
    token
}

/// The bundled document with `changes` applied.
fn grants(changes: Value) -> String {
    let mut g: Value = serde_json::from_str(radqc_domain::Grants::bundled_text()).unwrap();
    for (k, v) in changes.as_object().unwrap() {
        g[k] = v.clone();
    }
    g.to_string()
}

fn count(answer: &(u16, Value)) -> (u16, Option<usize>) {
    (answer.0, answer.1.as_array().map(Vec::len))
}

#[tokio::test]
async fn the_published_grants_decide_who_reads_a_site_the_region_and_who_is_notified() {
    each_backend(|backend, center| async move {
        let code = center.site("SITE-A").await;
        center.site("SITE-B").await;
        let (_, device) = center.enroll(&code).await;
        let head = person(&center, "SITE-A", "H1", "department_head").await;
        let officer = person(&center, "SITE-A", "Q1", "qc_officer").await;
        let mut clinic = Clinic::new("SITE-A");
        clinic.save("CT-A1", "IQ", &[]);
        clinic.save("CT-A2", "IQ", &["IQ-S1"]);
        assert_eq!(center.push(&device, &clinic.entries(1, 2)).await.0, 200, "{backend}");
        let month = Utc::now().format("%Y-%m").to_string();
        let site_report = format!("/api/v1/report?site=SITE-A&month={month}");
        let region_report = format!("/api/v1/report?month={month}");

        // The bundled grants: a department head reads the whole site and is named on notices;
        // a QC officer reads the site, not the region.
        assert_eq!(count(&center.get("/api/v1/evaluations", Some(&head)).await), (200, Some(2)), "{backend}");
        assert_eq!(center.get(&site_report, Some(&head)).await.0, 200, "{backend}");
        assert_eq!(center.get(&region_report, Some(&officer)).await.0, 403, "{backend}");
        assert_eq!(center.get("/api/v1/evaluations?site=SITE-B", Some(&officer)).await.0, 403, "{backend}");
        let (_, notices) = center.get("/api/v1/notices", Some(&officer)).await;
        assert_eq!(notices[0]["also_to"], json!(["H1"]), "{backend}: {notices}");

        // The region changes them: the running center obeys from the next request.
        let text = grants(json!({
            "version": "2026.2-region",
            "sees_site_scores": ["qc_officer", "center_admin"],
            "reads_region": ["center_admin", "qc_officer"],
            "department_notices": ["qc_officer"],
        }));
        let (version, _) = radqc_center::publish_grants(&center.db, &text, "region.json").await.unwrap();
        assert_eq!(version, "2026.2-region");
        assert_eq!(count(&center.get("/api/v1/evaluations", Some(&head)).await), (200, Some(0)), "{backend}: own only");
        let (status, body) = center.get(&site_report, Some(&head)).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("FORBIDDEN")), "{backend}: {body}");
        assert_eq!(center.get(&region_report, Some(&officer)).await.0, 200, "{backend}: the officer reads the region");
        assert_eq!(count(&center.get("/api/v1/evaluations?site=SITE-B", Some(&officer)).await), (200, Some(0)));
        let (_, notices) = center.get("/api/v1/notices", Some(&head)).await;
        assert_eq!(
            count(&(200, notices.clone())),
            (200, Some(1)),
            "{backend}: named on the old notice still: {notices}"
        );
        clinic.save("CT-A3", "IQ", &["IQ-S1"]);
        assert_eq!(center.push(&device, &clinic.entries(3, 3)).await.0, 200, "{backend}");
        let (_, notices) = center.get("/api/v1/notices", Some(&officer)).await;
        assert_eq!(notices[1]["also_to"], json!(["Q1"]), "{backend}: the new notice names the QC officer: {notices}");

        // The sites receive the document in the grants feed.
        let (status, page) = center.get("/api/v1/feed/grants", Some(&device)).await;
        assert_eq!(status, 200, "{backend}: {page}");
        assert_eq!(page["items"][0]["body"]["version"], "2026.2-region", "{backend}: {page}");
        assert_eq!(page["items"][0]["site"], Value::Null, "{backend}: for the whole region");
    })
    .await;
}

#[tokio::test]
async fn grants_that_do_not_validate_are_not_published_and_broken_ones_read_back_are_a_storage_error() {
    each_backend(|backend, center| async move {
        let code = center.site("SITE-A").await;
        let (_, device) = center.enroll(&code).await;
        let head = person(&center, "SITE-A", "H1", "department_head").await;
        let mut bad: Value =
            serde_json::from_str(&grants(json!({"sees_site_scores": ["chief"], "extra": {"technologist": ["XX"]}})))
                .unwrap();
        bad.as_object_mut().unwrap().remove("version");
        let bad = bad.to_string();
        let err = radqc_center::publish_grants(&center.db, &bad, "bad.json").await.unwrap_err();
        assert_eq!(err.body.code, "INVALID_GRANTS", "{backend}");
        for words in ["bad.json", "version: missing", "unknown role `chief`", "unknown item `XX`"] {
            assert!(err.body.message.contains(words), "{backend}: names `{words}`: {}", err.body.message);
        }
        let (_, page) = center.get("/api/v1/feed/grants", Some(&device)).await;
        assert_eq!(page["items"], json!([]), "{backend}: nothing published");
        assert_eq!(center.get("/api/v1/evaluations", Some(&head)).await.0, 200, "{backend}");

        // A row that reads back broken (a failing disk, an old tool): a retry, not the bundled grants.
        center.db.publish(FeedKind::Grants, None, &json!({"version": "x"}), Utc::now()).await.unwrap();
        let (status, body) = center.get("/api/v1/evaluations", Some(&head)).await;
        assert_eq!((status, body["code"].as_str()), (503, Some("STORAGE_UNAVAILABLE")), "{backend}: {body}");
    })
    .await;
}

#[tokio::test]
async fn report_filters_are_checked_against_the_rubric_versions_the_center_knows() {
    each_backend(|backend, center| async move {
        let code = center.site("SITE-A").await;
        center.enroll(&code).await;
        let officer = person(&center, "SITE-A", "Q1", "qc_officer").await;
        let path = "/api/v1/report?site=SITE-A&role=senior_radiologist";
        let (status, body) = center.get(path, Some(&officer)).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_QUERY")), "{backend}: {body}");
        assert!(body["message"].as_str().unwrap().starts_with("role:"), "{backend}: names the field: {body}");
        // A version in which senior radiologists are scored, published by another process: the
        // running center knows it at its next report.
        let text = radqc_domain::Rubric::bundled_text()
            .replacen("version = \"2026.1\"", "version = \"2026.2\"", 1)
            .replacen("scored_role = \"auditing_doctor\"", "scored_role = \"senior_radiologist\"", 1);
        let body = json!({"version": "2026.2", "toml": text});
        center.db.publish(FeedKind::Rubric, None, &body, Utc::now()).await.unwrap();
        let (status, report) = center.get(path, Some(&officer)).await;
        assert_eq!(status, 200, "{backend}: {report}");
    })
    .await;
}
