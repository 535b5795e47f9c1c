//! What the center reads back from its own database is checked: roles, a feed message, a record
//! or a time that does not parse, and a column of an unexpected type or NULL, are a 503
//! `STORAGE_UNAVAILABLE` (which a client retries), never a default (no roles, a null body, the
//! year 1970) and never a panic of the request. The database is changed from outside, as a
//! failing disk, an old tool or an operator would.

use chrono::Utc;
use radqc_protocol::StaffMember;
use serde_json::Value;

use crate::support::{each_place, Center, Clinic, Place};

fn storage_error(backend: &str, what: &str, (status, body): (u16, Value)) {
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("STORAGE_UNAVAILABLE")),
        "{backend}: {what} is a storage error the client retries: {body}"
    );
}

/// A staff member of SITE-A with a person token.
async fn person(center: &Center, code: &str, role: &str) -> String {
    let m = StaffMember {
        site: "SITE-A".into(),
        code: code.into(),
        name: code.into(),
        roles: vec![role.into()],
        active: true,
    };
    radqc_center::put_staff(&center.db, &m).await.unwrap();
    let token = radqc_center::secret::new_token();
    center.db.issue_person_token("SITE-A", code, &radqc_center::secret::hash(&token), Utc::now()).await.unwrap();
    token
}

#[tokio::test]
async fn roles_that_do_not_parse_are_a_storage_error_not_an_empty_role_list() {
    each_place(|backend, center, place| async move {
        let code = center.site("SITE-A").await;
        let (_, device) = center.enroll(&code).await;
        let officer = person(&center, "Q1", "qc_officer").await;
        person(&center, "H1", "department_head").await;
        let mut clinic = Clinic::new("SITE-A");
        clinic.save("CT-A1", "IQ", &[]);
        let (s, _) = center.push(&device, &clinic.entries(1, 1)).await;
        assert_eq!(s, 200, "{backend}");
        let (s, list) = center.get("/api/v1/evaluations", Some(&officer)).await;
        assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(1)), "{backend}: the officer reads the site");

        place.run("UPDATE staff SET roles = 'qc_officer, department_head'").await;
        // A person whose roles cannot be read is not a person without roles (who would see
        // only their own scores, an empty list here, answered 200).
        storage_error(backend, "a person's unreadable roles", center.get("/api/v1/evaluations", Some(&officer)).await);
        storage_error(backend, "a person's unreadable roles", center.get("/api/v1/notices", Some(&officer)).await);
        // The roster is not published without its roles.
        let published = radqc_center::publish_roster(&center.db, "SITE-A").await;
        assert_eq!(
            published.map_err(|e| e.body.code),
            Err("STORAGE_UNAVAILABLE".to_owned()),
            "{backend}: a roster of unreadable roles"
        );
        // A failed evaluation's notice goes to the department heads: the push waits for roles
        // it can read rather than notify nobody.
        clinic.save("CT-A2", "IQ", &["IQ-S1"]);
        storage_error(
            backend,
            "the department heads' unreadable roles",
            center.push(&device, &clinic.entries(2, 2)).await,
        );
        let (_, state) = center.get("/api/v1/device", Some(&device)).await;
        assert_eq!(state["last_seq"], 1, "{backend}: the entry was not consumed: {state}");

        place.run(r#"UPDATE staff SET roles = '["department_head"]' WHERE code = 'H1'"#).await;
        place.run(r#"UPDATE staff SET roles = '["qc_officer"]' WHERE code = 'Q1'"#).await;
        let (s, _) = center.push(&device, &clinic.entries(2, 2)).await;
        assert_eq!(s, 200, "{backend}: the retry goes in once the roles read again");
        let notices = center.db.notices(Some("SITE-A")).await.unwrap();
        assert_eq!(notices.len(), 1, "{backend}: {notices:?}");
        assert_eq!(notices[0].also_to, ["H1"], "{backend}: the head is told");
    })
    .await;
}

#[tokio::test]
async fn a_feed_message_record_or_time_that_does_not_parse_is_a_storage_error() {
    each_place(|backend, center, place| async move {
        let code = center.site("SITE-A").await;
        let (_, device) = center.enroll(&code).await;
        let officer = person(&center, "Q1", "qc_officer").await;
        let mut clinic = Clinic::new("SITE-A");
        let failed = clinic.save("CT-A1", "IQ", &["IQ-S1"]);
        let (s, _) = center.push(&device, &clinic.entries(1, 1)).await;
        assert_eq!(s, 200, "{backend}");
        let (s, page) = center.get("/api/v1/feed/roster?after=0", Some(&device)).await;
        assert_eq!((s, page["items"][0]["body"]["staff"][0]["code"].as_str()), (200, Some("Q1")), "{backend}: {page}");

        // A feed message that does not parse is not a null message.
        place.run("UPDATE feed SET body = '{\"staff\": [' WHERE kind = 'roster'").await;
        storage_error(
            backend,
            "a feed message that does not parse",
            center.get("/api/v1/feed/roster?after=0", Some(&device)).await,
        );
        // A publishing time that does not parse is not 1970.
        place.run(r#"UPDATE feed SET body = '{"staff": []}', published_at = 'yesterday' WHERE kind = 'roster'"#).await;
        storage_error(
            backend,
            "a time that does not parse",
            center.get("/api/v1/feed/roster?after=0", Some(&device)).await,
        );

        // A notice that does not parse is not left out of the list; nor a closing time 1970.
        let (s, list) = center.get("/api/v1/notices", Some(&officer)).await;
        assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(1)), "{backend}: {list}");
        place.run("UPDATE notices SET correction = '已整改', closed_by = 'Q1', closed_at = 'soon'").await;
        storage_error(
            backend,
            "a closing time that does not parse",
            center.get("/api/v1/notices", Some(&officer)).await,
        );
        place.run("UPDATE notices SET correction = NULL, closed_by = NULL, closed_at = NULL, body = '{'").await;
        storage_error(backend, "a notice that does not parse", center.get("/api/v1/notices", Some(&officer)).await);

        // An enrollment code whose expiry does not parse is neither expired nor valid.
        let code = radqc_center::http::new_enrollment_code(&center.db, "SITE-A", 1).await.unwrap();
        place.run("UPDATE enrollment_codes SET expires_at = 'next week' WHERE used_by IS NULL").await;
        let device_id = crate::support::uuid_v4();
        let answer =
            center.post("/api/v1/enroll", None, &serde_json::json!({"code": code, "device_id": device_id})).await;
        storage_error(backend, "an expiry that does not parse", answer);

        // An exported record that does not parse is not a null record.
        assert!(center.db.export().await.is_ok(), "{backend}: the export reads");
        place.run(&format!("UPDATE evaluations SET body = 'IQ-S1' WHERE id = '{failed}'")).await;
        let export = center.db.export().await;
        assert_eq!(
            export.map(|lines| lines.len()).map_err(|e| e.body.code),
            Err("STORAGE_UNAVAILABLE".to_owned()),
            "{backend}: an exported record that does not parse"
        );
    })
    .await;
}

#[tokio::test]
async fn a_column_of_an_unexpected_type_or_null_is_a_storage_error_not_a_panic() {
    each_place(|backend, center, place| async move {
        let code = center.site("SITE-A").await;
        let (_, device) = center.enroll(&code).await;
        person(&center, "Q1", "qc_officer").await;
        let (s, _) = center.get("/api/v1/device", Some(&device)).await;
        assert_eq!(s, 200, "{backend}");

        // A NULL where the center expects a time.
        match &place {
            Place::Postgres(_) => {
                place
                    .run(
                        "ALTER TABLE feed ALTER COLUMN published_at DROP NOT NULL; UPDATE feed SET published_at = NULL",
                    )
                    .await
            }
            // SQLite keeps the NOT NULL (and stores the number as text): a time that is none.
            Place::Sqlite(_) => place.run("UPDATE feed SET published_at = 20260101").await,
        }
        storage_error(backend, "a NULL time", center.get("/api/v1/feed/roster?after=0", Some(&device)).await);

        // A column of another type than the center's (an old tool's migration).
        match &place {
            Place::Postgres(_) => {
                place.run("ALTER TABLE devices ALTER COLUMN revoked DROP DEFAULT, ALTER COLUMN revoked TYPE INTEGER USING revoked::int").await
            }
            Place::Sqlite(_) => place.run("UPDATE devices SET revoked = 'no'").await,
        }
        storage_error(backend, "a column of another type", center.get("/api/v1/device", Some(&device)).await);
        // The center still answers (a panic would have killed only the request, but said 500).
        let (s, _) = center.get("/api/v1/health", None).await;
        assert_eq!(s, 200, "{backend}");
    })
    .await;
}

#[tokio::test]
async fn a_published_rubric_that_does_not_parse_is_a_retry_not_an_unknown_rubric() {
    each_place(|backend, center, _| async move {
        let code = center.site("SITE-A").await;
        let (_, device) = center.enroll(&code).await;
        // Another center process published 2026.2 after this one started; the row reads back
        // cut short.
        let body = serde_json::json!({"version": "2026.2", "toml": "version = \"2026.2\"\n[[items]"});
        center.db.publish(radqc_protocol::FeedKind::Rubric, None, &body, Utc::now()).await.unwrap();
        let mut clinic = Clinic::new("SITE-A");
        clinic.save("CT-A1", "IQ", &[]);
        let mut entries = clinic.entries(1, 1);
        crate::support::edit(&mut entries[0], |v| v["evaluation"]["rubric_version"] = "2026.2".into());
        // Not a dead letter (UNKNOWN_RUBRIC): the client retries until the rubric reads.
        storage_error(backend, "a published rubric that does not parse", center.push(&device, &entries).await);
        let (_, state) = center.get("/api/v1/device", Some(&device)).await;
        assert_eq!(state["last_seq"], 0, "{backend}: the entry was not consumed: {state}");
    })
    .await;
}
