//! The API's promises: enrollment, exactly-once push, gaps, rejections, revocation, feeds,
//! site isolation and roles, the error envelope, HTTPS.

use chrono::Utc;
use radqc_protocol::{FeedKind, StaffMember};
use serde_json::{json, Value};

use crate::support::*;

fn statuses(body: &Value) -> Vec<(i64, String)> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["seq"].as_i64().unwrap(), r["status"].as_str().unwrap().to_owned()))
        .collect()
}

fn s(list: &[(i64, &str)]) -> Vec<(i64, String)> {
    list.iter().map(|(n, st)| (*n, st.to_string())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn enrollment_codes_work_once_and_only_before_they_expire() {
    each_backend(|backend, c| async move {
        let code = c.site("NJGL").await;
        let (device, token) = c.enroll(&code).await;
        assert!(token.starts_with("rq_"), "{backend}: a token");
        let (status, body) = c.post("/api/v1/enroll", None, &json!({"code": code, "device_id": uuid_v4()})).await;
        assert_eq!((status, body["code"].as_str()), (401, Some("UNAUTHENTICATED")), "{backend}: a used code: {body}");
        assert!(body["message"].as_str().unwrap().contains("already used"), "{backend}: says why");
        let (status, _) =
            c.post("/api/v1/enroll", None, &json!({"code": "AAAA-BBBB-CCCC", "device_id": uuid_v4()})).await;
        assert_eq!(status, 401, "{backend}: an unknown code");
        let (status, body) = c.post("/api/v1/enroll", None, &json!({"code": code, "device_id": "not-a-uuid"})).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_BODY")), "{backend}");

        // Typed codes are forgiving about case and dashes.
        let code2 = radqc_center::http::new_enrollment_code(&c.db, "NJGL", 1).await.unwrap();
        let typed = code2.replace('-', "").to_lowercase();
        let (status, body) = c.post("/api/v1/enroll", None, &json!({"code": typed, "device_id": device})).await;
        assert_eq!(status, 200, "{backend}: re-enrolling the same device: {body}");
        assert_eq!(body["next_seq"], json!(1));
        let (status, _) = c.push(&token, &[]).await;
        assert_eq!(status, 401, "{backend}: the old token stops working after re-enrollment");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pushes_apply_exactly_once_and_gaps_are_refused() {
    each_backend(|backend, c| async move {
        let code = c.site("NJGL").await;
        let (_, token) = c.enroll(&code).await;
        let mut clinic = Clinic::new("NJGL");
        let ids: Vec<String> = (1..=5).map(|i| clinic.save(&format!("CT{i}"), "IQ", &["IQ-C1"])).collect();

        let (status, body) = c.push(&token, &clinic.entries(1, 3)).await;
        assert_eq!(status, 200, "{backend}: {body}");
        assert_eq!(statuses(&body), s(&[(1, "applied"), (2, "applied"), (3, "applied")]));
        let (_, body) = c.push(&token, &clinic.entries(1, 3)).await;
        assert_eq!(
            statuses(&body),
            s(&[(1, "duplicate"), (2, "duplicate"), (3, "duplicate")]),
            "{backend}: a retry applies nothing"
        );
        let (_, body) = c.push(&token, &clinic.entries(3, 4)).await;
        assert_eq!(statuses(&body), s(&[(3, "duplicate"), (4, "applied")]), "{backend}: overlap");
        assert_eq!(body["last_seq"], json!(4));

        let (status, body) = c.push(&token, &clinic.entries(5, 5)[..0]).await;
        assert_eq!(status, 200, "{backend}: an empty push is fine: {body}");
        let mut gap = clinic.entries(5, 5);
        gap[0].seq = 6;
        let (status, body) = c.push(&token, &gap).await;
        assert_eq!(
            (status, body["code"].as_str(), body["expected_seq"].as_i64()),
            (409, Some("SEQUENCE_GAP"), Some(5)),
            "{backend}: {body}"
        );
        let mut holes = clinic.entries(4, 5);
        holes[1].seq = 7;
        let (status, body) = c.push(&token, &holes).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("BAD_BATCH")), "{backend}: not consecutive");

        let held: Vec<String> = c.db.evaluations(Some("NJGL")).await.unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(held, ids[..4], "{backend}: each applied entry once, in order");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_entry_consumes_its_sequence_and_keeps_its_reason() {
    each_backend(|backend, c| async move {
        let code = c.site("NJGL").await;
        let (device, token) = c.enroll(&code).await;
        let mut clinic = Clinic::new("NJGL");
        clinic.save("CT1", "IQ", &["IQ-C1"]);
        clinic.save("CT2", "RQ", &[]);
        clinic.save("CT3", "AR", &[]);
        let mut entries = clinic.entries(1, 3);
        edit(&mut entries[0], |p| p["evaluation"]["score"] = json!(5)); // a tampered score
        edit(&mut entries[1], |p| *p = json!({"kind": "something else"}));
        let (status, body) = c.push(&token, &entries).await;
        assert_eq!(status, 200, "{backend}: {body}");
        assert_eq!(
            statuses(&body),
            s(&[(1, "rejected"), (2, "rejected"), (3, "applied")]),
            "{backend}: the entries behind go on"
        );
        assert_eq!(body["results"][0]["reason"]["code"], json!("SCORE_MISMATCH"));
        assert_eq!(body["results"][1]["reason"]["code"], json!("INVALID_PAYLOAD"));
        let (_, again) = c.push(&token, &entries[..1]).await;
        assert_eq!(again["results"][0]["status"], json!("duplicate"));
        assert_eq!(
            again["results"][0]["reason"]["code"],
            json!("SCORE_MISMATCH"),
            "{backend}: a retry learns the same reason"
        );

        // Another site's data is refused for its content too.
        let mut other = Clinic::new("OTHER");
        other.save("X1", "IQ", &[]);
        let mut e = other.entries(1, 1);
        e[0].seq = 4;
        let (_, body) = c.push(&token, &e).await;
        assert_eq!(body["results"][0]["reason"]["code"], json!("SITE_MISMATCH"), "{backend}");

        let stats = c.db.stats().await.unwrap();
        let mine = stats.iter().find(|s| s.device == device).unwrap();
        assert_eq!((mine.last_seq, mine.evaluations, mine.rejected), (4, 1, 3), "{backend}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_device_is_told_so() {
    each_backend(|backend, c| async move {
        let code = c.site("NJGL").await;
        let (device, token) = c.enroll(&code).await;
        c.db.revoke_device(&device).await.unwrap();
        let (status, body) = c.push(&token, &[]).await;
        assert_eq!((status, body["code"].as_str()), (401, Some("TOKEN_REVOKED")), "{backend}: {body}");
        let (status, body) = c.push("rq_nonsense", &[]).await;
        assert_eq!((status, body["code"].as_str()), (401, Some("UNAUTHENTICATED")), "{backend}");
        let resp = c.http.post(format!("{}/api/v1/push", c.url)).json(&json!({})).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 401, "{backend}: no token");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn feeds_give_each_site_exactly_what_it_missed() {
    each_backend(|backend, c| async move {
        let a = c.site("SITE-A").await;
        let _b = c.site("SITE-B").await;
        let (_, token) = c.enroll(&a).await;
        let now = Utc::now();
        for text in ["A: 1", "A: 2", "A: 3"] {
            c.db.publish(FeedKind::Notices, Some("SITE-A"), &json!({"text": text}), now).await.unwrap();
        }
        c.db.publish(FeedKind::Notices, Some("SITE-B"), &json!({"text": "B only"}), now).await.unwrap();
        c.db.publish(FeedKind::Notices, None, &json!({"text": "everyone"}), now).await.unwrap();
        let (_, page) = c.get("/api/v1/feed/notices?after=0&limit=2", Some(&token)).await;
        let texts = |p: &Value| {
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["body"]["text"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(texts(&page), ["A: 1", "A: 2"], "{backend}");
        assert_eq!(page["more"], json!(true));
        let (_, page) = c.get(&format!("/api/v1/feed/notices?after={}", page["cursor"]), Some(&token)).await;
        assert_eq!(texts(&page), ["A: 3", "everyone"], "{backend}: never another site's");
        let (_, page) = c.get(&format!("/api/v1/feed/notices?after={}", page["cursor"]), Some(&token)).await;
        assert_eq!(texts(&page).len(), 0, "{backend}: nothing new");

        let (status, body) = c.get("/api/v1/feed/gossip", Some(&token)).await;
        assert_eq!((status, body["code"].as_str()), (404, Some("UNKNOWN_FEED")));
        let (status, body) = c.get("/api/v1/feed/notices?limit=100000", Some(&token)).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_QUERY")));

        radqc_center::put_staff(
            &c.db,
            &StaffMember {
                site: "SITE-A".into(),
                code: "A1".into(),
                name: "王技师".into(),
                roles: vec!["technologist".into()],
                active: true,
            },
        )
        .await
        .unwrap();
        let (_, page) = c.get("/api/v1/feed/roster", Some(&token)).await;
        assert_eq!(page["items"][0]["body"]["staff"][0]["name"], json!("王技师"), "{backend}: the roster is published");
        let err = radqc_center::put_staff(
            &c.db,
            &StaffMember {
                site: "SITE-A".into(),
                code: "A2".into(),
                name: "x".into(),
                roles: vec!["wizard".into()],
                active: true,
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.body.code, "INVALID_ROLE");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_published_rubric_version_is_accepted_and_an_unknown_one_rejected() {
    each_backend(|backend, c| async move {
        let code = c.site("NJGL").await;
        let (_, token) = c.enroll(&code).await;
        let mut clinic = Clinic::new("NJGL");
        clinic.save("CT1", "IQ", &["IQ-C1"]);
        clinic.save("CT2", "IQ", &["IQ-C1"]);
        let mut entries = clinic.entries(1, 2);
        for e in &mut entries {
            edit(e, |p| p["evaluation"]["rubric_version"] = json!("2026.2"));
        }
        let (_, body) = c.push(&token, &entries[..1]).await;
        assert_eq!(body["results"][0]["reason"]["code"], json!("UNKNOWN_RUBRIC_VERSION"), "{backend}");
        let text = radqc_domain::Rubric::bundled_text().replacen("version = \"2026.1\"", "version = \"2026.2\"", 1);
        radqc_center::publish_rubric(&c.db, &text, "r.toml").await.unwrap();
        let (_, body) = c.push(&token, &entries[1..]).await;
        assert_eq!(body["results"][0]["status"], json!("applied"), "{backend}: known once published: {body}");
        let bad = radqc_center::publish_rubric(&c.db, "schema = 1", "bad.toml").await.unwrap_err();
        assert_eq!(bad.body.code, "INVALID_RUBRIC");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nobody_reads_another_sites_data_without_a_regional_role() {
    each_backend(|backend, c| async move {
        let a = c.site("SITE-A").await;
        let b = c.site("SITE-B").await;
        let (_, token_a) = c.enroll(&a).await;
        let (_, token_b) = c.enroll(&b).await;
        let mut clinic_a = Clinic::new("SITE-A");
        clinic_a.save("A1", "IQ", &[]); // scores technologist A1, reviewer D1
        let mut clinic_b = Clinic::new("SITE-B");
        clinic_b.save("B1", "IQ", &[]);
        c.push(&token_a, &clinic_a.entries(1, 1)).await;
        c.push(&token_b, &clinic_b.entries(1, 1)).await;

        let person = |site: &str, code: &str, role: &str| StaffMember {
            site: site.into(),
            code: code.into(),
            name: code.into(),
            roles: vec![role.into()],
            active: true,
        };
        let token_for = |m: StaffMember| {
            let db = c.db.clone();
            async move {
                radqc_center::put_staff(&db, &m).await.unwrap();
                let t = radqc_center::secret::new_token();
                db.issue_person_token(&m.site, &m.code, &radqc_center::secret::hash(&t), Utc::now()).await.unwrap();
                t
            }
        };
        let officer = token_for(person("SITE-A", "Q1", "qc_officer")).await;
        let tech = token_for(person("SITE-A", "A1", "technologist")).await;
        let other_tech = token_for(person("SITE-A", "A7", "technologist")).await;
        let admin = token_for(person("SITE-A", "ADM", "center_admin")).await;

        let count = |(status, body): (u16, Value)| (status, body.as_array().map(Vec::len).unwrap_or(0));
        assert_eq!(
            count(c.get("/api/v1/evaluations", Some(&token_a)).await),
            (200, 1),
            "{backend}: a device reads its site"
        );
        assert_eq!(
            c.get("/api/v1/evaluations?site=SITE-B", Some(&token_a)).await.0,
            403,
            "{backend}: not another site"
        );
        assert_eq!(
            count(c.get("/api/v1/evaluations", Some(&officer)).await),
            (200, 1),
            "{backend}: QC officer sees the site"
        );
        assert_eq!(c.get("/api/v1/evaluations?site=SITE-B", Some(&officer)).await.0, 403, "{backend}");
        assert_eq!(
            count(c.get("/api/v1/evaluations", Some(&tech)).await),
            (200, 1),
            "{backend}: the person scored sees their score"
        );
        assert_eq!(
            count(c.get("/api/v1/evaluations", Some(&other_tech)).await),
            (200, 0),
            "{backend}: others' scores are hidden"
        );
        assert_eq!(
            count(c.get("/api/v1/evaluations?site=SITE-B", Some(&admin)).await),
            (200, 1),
            "{backend}: the region reads all"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_center_names_the_correction_of_each_evaluation_as_the_site_does() {
    each_backend(|backend, c| async move {
        let code = c.site("NJGL").await;
        let (_, token) = c.enroll(&code).await;
        let mut clinic = Clinic::new("NJGL");
        let first = clinic.save("CT1", "IQ", &["IQ-C1"]);
        let other = clinic.save("CT2", "IQ", &[]);
        let second = clinic.correct(&first, "CT1", "IQ", &[]);
        let third = clinic.correct(&second, "CT1", "IQ", &["IQ-C2"]);
        // The correction arrives in a later push than the evaluation it corrects.
        c.push(&token, &clinic.entries(1, 2)).await;
        c.push(&token, &clinic.entries(3, 4)).await;
        let site: Vec<(String, Option<String>)> =
            clinic.store.evaluations().unwrap().into_iter().map(|e| (e.id, e.superseded_by)).collect();
        let want = vec![
            (first.clone(), Some(second.clone())),
            (other.clone(), None),
            (second.clone(), Some(third.clone())),
            (third.clone(), None),
        ];
        assert_eq!(site, want, "the site's own export");

        let (status, body) = c.get("/api/v1/evaluations", Some(&token)).await;
        assert_eq!(status, 200, "{backend}: {body}");
        let http: Vec<(String, Option<String>)> = body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["id"].as_str().unwrap().to_owned(), e["superseded_by"].as_str().map(str::to_owned)))
            .collect();
        assert_eq!(http, want, "{backend}: GET /api/v1/evaluations says what the site says");

        let mut export: Vec<(String, Option<String>)> =
            c.db.export()
                .await
                .unwrap()
                .into_iter()
                .map(|l| {
                    let by = l.record["superseded_by"].as_str().map(str::to_owned);
                    (l.record["id"].as_str().unwrap().to_owned(), by)
                })
                .collect();
        export.sort_by_key(|(id, _)| want.iter().position(|(w, _)| w == id));
        assert_eq!(export, want, "{backend}: `radqc center export` says it too");
    })
    .await;
}

/// An answer as the client sees it: status, content type, `Allow`, the body as JSON.
async fn answer(resp: reqwest::Response) -> (u16, String, String, Value) {
    let header = |name: &str| resp.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let (content_type, allow) = (header("content-type"), header("allow"));
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, content_type, allow, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_failure_is_the_envelope() {
    each_backend(|backend, c| async move {
        let code = c.site("NJGL").await;
        let (_, token) = c.enroll(&code).await;
        let url = |path: &str| format!("{}{path}", c.url);
        let push = || c.http.post(url("/api/v1/push")).bearer_auth(&token);
        let json = "application/json";
        // (what, request, status, code, Allow)
        let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str, &str)> = vec![
            ("unknown path", c.http.get(url("/api/v1/nothing")), 404, "NOT_FOUND", ""),
            ("unknown path, POST", c.http.post(url("/api/v2/push")).body("{}"), 404, "NOT_FOUND", ""),
            (
                "GET of a POST route",
                c.http.get(url("/api/v1/push")).bearer_auth(&token),
                405,
                "METHOD_NOT_ALLOWED",
                "POST",
            ),
            ("DELETE of a GET route", c.http.delete(url("/api/v1/evaluations")), 405, "METHOD_NOT_ALLOWED", "GET,HEAD"),
            ("PUT of health", c.http.put(url("/api/v1/health")), 405, "METHOD_NOT_ALLOWED", "GET,HEAD"),
            ("not JSON", push().header("content-type", json).body("{not json"), 400, "INVALID_BODY", ""),
            (
                "JSON of the wrong shape",
                push().header("content-type", json).body(r#"{"schema": 1, "entries": "none"}"#),
                400,
                "INVALID_BODY",
                "",
            ),
            ("an unknown field", push().json(&json!({"schema": 1, "entries": [], "x": 1})), 400, "INVALID_BODY", ""),
            ("another schema", push().json(&json!({"schema": 99, "entries": []})), 400, "UNSUPPORTED_SCHEMA", ""),
            (
                "the last sequence number there is, and one after it",
                push().json(
                    &json!({"schema": 1, "entries": [{"seq": i64::MAX, "payload": {}}, {"seq": 1, "payload": {}}]}),
                ),
                400,
                "BAD_BATCH",
                "",
            ),
            ("no content type", push().body(r#"{"schema": 1, "entries": []}"#), 415, "UNSUPPORTED_MEDIA_TYPE", ""),
            (
                "text, not JSON",
                push().header("content-type", "text/plain").body(r#"{"schema": 1, "entries": []}"#),
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                "",
            ),
            (
                "an encoding the center does not read",
                push().header("content-type", json).header("content-encoding", "br").body("xx"),
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                "",
            ),
            (
                "gzip that is not gzip",
                push().header("content-type", json).header("content-encoding", "gzip").body("plain"),
                400,
                "INVALID_BODY",
                "",
            ),
            (
                "over 32 MiB once unzipped",
                push().header("content-type", json).header("content-encoding", "gzip").body(gzip(&vec![
                    b' ';
                    radqc_center::http::MAX_BODY_BYTES
                        + 1
                ])),
                413,
                "PAYLOAD_TOO_LARGE",
                "",
            ),
            (
                "over 32 MiB",
                push().header("content-type", json).body(vec![b' '; radqc_center::http::MAX_BODY_BYTES + 1]),
                413,
                "PAYLOAD_TOO_LARGE",
                "",
            ),
            (
                "a query of the wrong type",
                c.http.get(url("/api/v1/feed/roster?after=abc")).bearer_auth(&token),
                400,
                "INVALID_QUERY",
                "",
            ),
            (
                "a NUL in a query",
                c.http.get(url("/api/v1/evaluations?site=%00")).bearer_auth(&token),
                400,
                "INVALID_QUERY",
                "",
            ),
            (
                "a NUL in a report filter",
                c.http.get(url("/api/v1/report?site=NJGL&department=a%00")).bearer_auth(&token),
                400,
                "INVALID_QUERY",
                "",
            ),
            (
                "a NUL in the device name",
                c.http
                    .post(url("/api/v1/enroll"))
                    .json(&json!({"code": code, "device_id": uuid_v4(), "device_name": "pc\u{0}"})),
                400,
                "INVALID_BODY",
                "",
            ),
            (
                "a feed path that is not UTF-8",
                c.http.get(url("/api/v1/feed/%FF")).bearer_auth(&token),
                404,
                "UNKNOWN_FEED",
                "",
            ),
            (
                "a device id that only looks like a UUID",
                c.http.post(url("/api/v1/enroll")).json(&json!({"code": code, "device_id": "-".repeat(36)})),
                400,
                "INVALID_BODY",
                "",
            ),
        ];
        for (what, request, status, code, allow) in cases {
            let (got, content_type, got_allow, body) = answer(request.send().await.unwrap()).await;
            assert_eq!(
                (got, content_type.as_str(), body["code"].as_str(), got_allow.as_str()),
                (status, json, Some(code), allow),
                "{backend}: {what}: {body}"
            );
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{backend}: {what}: a message: {body}");
        }
        // A GET never reads a body, so its Content-Encoding does not matter.
        let (status, _, _, body) = answer(
            c.http
                .get(url("/api/v1/feed/roster"))
                .bearer_auth(&token)
                .header("content-encoding", "br")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{backend}: {body}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_center_serves_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_pem, cert.cert.pem()).unwrap();
    std::fs::write(&key_pem, cert.signing_key.serialize_pem()).unwrap();
    let db = radqc_center::Db::open_sqlite(&dir.path().join("c.db")).unwrap();
    let state = radqc_center::AppState::new(db).await.unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let tls = radqc_center::Tls { cert_pem, key_pem };
    tokio::spawn(radqc_center::serve(listener, state, Some(tls), std::future::pending()));
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap()])
        .build()
        .unwrap();
    let mut last = None;
    for _ in 0..50 {
        match client.get(format!("https://localhost:{port}/api/v1/health")).send().await {
            Ok(r) => {
                last = Some(r.text().await.unwrap());
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    assert_eq!(last.as_deref(), Some("ok"), "health over HTTPS");
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/api/v1/health")).await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success(), "plain HTTP is not served on the TLS port");
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_are_read_by_roles_that_see_the_site() {
    each_backend(|backend, c| async move {
        let a = c.site("SITE-A").await;
        let (_, device) = c.enroll(&a).await;
        let mut clinic = Clinic::new("SITE-A");
        clinic.save("A1", "IQ", &["IQ-C1"]);
        c.push(&device, &clinic.entries(1, 1)).await;
        let month = Utc::now().format("%Y-%m").to_string();
        let token_for = |code: &str, role: &str| {
            let db = c.db.clone();
            let m = StaffMember {
                site: "SITE-A".into(),
                code: code.into(),
                name: code.into(),
                roles: vec![role.into()],
                active: true,
            };
            async move {
                radqc_center::put_staff(&db, &m).await.unwrap();
                let t = radqc_center::secret::new_token();
                db.issue_person_token(&m.site, &m.code, &radqc_center::secret::hash(&t), Utc::now()).await.unwrap();
                t
            }
        };
        let head = token_for("H1", "department_head").await;
        let tech = token_for("A1", "technologist").await;
        let admin = token_for("ADM", "center_admin").await;
        let (status, body) = c.get(&format!("/api/v1/report?month={month}&site=SITE-A"), Some(&head)).await;
        assert_eq!(status, 200, "{backend}: {body}");
        assert_eq!(body["quality_technologists"][0]["person"], json!("A1"));
        assert_eq!(
            c.get(&format!("/api/v1/report?month={month}&site=SITE-A"), Some(&tech)).await.0,
            403,
            "{backend}: a technologist does not read everyone's figures"
        );
        assert_eq!(
            c.get(&format!("/api/v1/report?month={month}"), Some(&head)).await.0,
            403,
            "{backend}: the region needs a regional role"
        );
        assert_eq!(c.get(&format!("/api/v1/report?month={month}"), Some(&admin)).await.0, 200);
        for query in
            ["month=2026-13", "month=+202-11", "to=", "month=%202026-11", "modality=", "role=", "department=%20"]
        {
            let (status, body) = c.get(&format!("/api/v1/report?{query}&site=SITE-A"), Some(&head)).await;
            assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_QUERY")), "{backend}: {query}: {body}");
        }

        // The same report as files to download; each is the format it says.
        let files: &[(&str, &str, &[u8])] = &[
            ("csv", "text/csv; charset=utf-8", "5.1 评估指标".as_bytes()),
            ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
            ("pdf", "application/pdf", b"%PDF-"),
        ];
        for (format, mime, starts) in files {
            let path = format!("/api/v1/report?month={month}&site=SITE-A&format={format}");
            let (status, content_type, disposition, bytes) = c.get_file(&path, &head).await;
            assert_eq!((status, content_type.as_str()), (200, *mime), "{backend} {format}");
            assert_eq!(disposition, format!("attachment; filename=\"radqc-report-{month}.{format}\""));
            assert!(bytes.starts_with(starts), "{backend} {format}: {:?}", &bytes[..bytes.len().min(16)]);
        }
        let (status, body) = c.get(&format!("/api/v1/report?month={month}&site=SITE-A&format=doc"), Some(&head)).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_QUERY")), "{backend}: {body}");
        assert!(body["message"].as_str().unwrap().starts_with("format:"), "names the parameter: {body}");
        let tech_file = c.get_file(&format!("/api/v1/report?month={month}&site=SITE-A&format=xlsx"), &tech).await;
        assert_eq!(tech_file.0, 403, "{backend}: files follow the same permission");
    })
    .await;
}

/// Data-driven: which notices the open, overdue and department selections keep.
#[test]
fn notices_are_selected_by_state_age_and_department() {
    let now = chrono::Utc::now();
    let notice = |id: &str, department: Option<&str>, days_old: i64, closed: bool| radqc_protocol::MonitoringNotice {
        id: id.into(),
        site: "S".into(),
        evaluation_id: format!("e-{id}"),
        accession: "A".into(),
        item: "IQ".into(),
        to: Some("A1".into()),
        also_to: vec!["H1".into()],
        department: department.map(str::to_owned),
        grade: "fail".into(),
        score: Some(2),
        created_at: now - chrono::Duration::days(days_old),
        closed,
        correction: closed.then(|| "已整改".to_owned()),
        closed_by: closed.then(|| "H1".to_owned()),
        closed_at: closed.then_some(now),
    };
    let all = vec![
        notice("n1", Some("放射科"), 1, false),
        notice("n2", Some("放射科"), 20, false),
        notice("n3", Some("急诊"), 20, false),
        notice("n4", Some("放射科"), 40, true),
        notice("n5", None, 40, false),
    ];
    /// What, open only, overdue days, department, the notices kept.
    type Case<'a> = (&'a str, bool, Option<i64>, Option<&'a str>, &'a [&'a str]);
    let cases: &[Case] = &[
        ("everything", false, None, None, &["n1", "n2", "n3", "n4", "n5"]),
        ("open", true, None, None, &["n1", "n2", "n3", "n5"]),
        ("overdue past 14 days (open only)", false, Some(14), None, &["n2", "n3", "n5"]),
        ("open in 放射科", true, None, Some("放射科"), &["n1", "n2"]),
        ("overdue in 急诊", false, Some(14), Some("急诊"), &["n3"]),
        ("overdue past more days than the calendar has", false, Some(97_865_679_314), None, &[]),
        ("overdue past i64::MAX days", false, Some(i64::MAX), None, &[]),
    ];
    for (what, open, overdue, department, want) in cases {
        let got: Vec<String> =
            radqc_center::http::select_notices(all.clone(), *open, *overdue, *department, now, &Default::default())
                .into_iter()
                .map(|n| n.id)
                .collect();
        assert_eq!(got, *want, "{what}");
    }
}

/// A notice is due on the site's local day it opened plus `overdue_days`, and overdue from the
/// next local day: both sides of Beijing's midnight (16:00 UTC), and a site in UTC.
#[test]
fn notices_are_due_by_the_site_s_local_days() {
    let at = |s: &str| -> chrono::DateTime<chrono::Utc> { s.parse().unwrap() };
    let notice = |id: &str, site: &str, created: &str| radqc_protocol::MonitoringNotice {
        id: id.into(),
        site: site.into(),
        evaluation_id: format!("e-{id}"),
        accession: "A".into(),
        item: "IQ".into(),
        to: Some("A1".into()),
        also_to: vec![],
        department: None,
        grade: "fail".into(),
        score: Some(2),
        created_at: at(created),
        closed: false,
        correction: None,
        closed_by: None,
        closed_at: None,
    };
    let all = vec![
        notice("bj-31-oct", "BJ", "2026-10-31T15:50:00Z"), // 23:50 on 31 October in Beijing: due 14 November
        notice("bj-1-nov", "BJ", "2026-10-31T16:10:00Z"),  // 00:10 on 1 November in Beijing: due 15 November
        notice("utc-31-oct", "UTC-SITE", "2026-10-31T16:10:00Z"), // 31 October in UTC: due 14 November
    ];
    let mut zones = radqc_domain::Zones::default();
    zones.sites.insert("UTC-SITE".into(), "UTC".parse().unwrap());
    let overdue = |now: &str| -> Vec<String> {
        radqc_center::http::select_notices(all.clone(), false, Some(14), None, at(now), &zones)
            .into_iter()
            .map(|n| n.id)
            .collect()
    };
    // 23:00 on 15 November in Beijing (15:00 UTC): the 1 November notice is due today.
    assert_eq!(overdue("2026-11-15T15:00:00Z"), ["bj-31-oct", "utc-31-oct"]);
    // 00:30 on 16 November in Beijing (16:30 UTC on the 15th): now it is overdue too.
    assert_eq!(overdue("2026-11-15T16:30:00Z"), ["bj-31-oct", "bj-1-nov", "utc-31-oct"]);
    // 23:30 on 14 November in Beijing: nothing is past its due date yet.
    assert_eq!(overdue("2026-11-14T15:30:00Z"), Vec::<String>::new());
}
