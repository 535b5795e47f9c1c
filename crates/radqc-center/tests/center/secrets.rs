//! People's secrets at the center, on each backend: an administrator sets one (the policy
//! checked, only the verifier kept and published with the roster), a device sends one a person
//! chose (applied once, superseded by a newer reset, refused when cheap or for another site).

use chrono::Utc;
use radqc_domain::credential;
use radqc_protocol::RosterBody;
use serde_json::{json, Value};

use crate::support::{each_backend, person_token, staff, Center};

async fn put(center: &Center, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = center.http.put(format!("{}{path}", center.url)).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// The newest roster the device receives.
async fn roster(center: &Center, device_token: &str) -> RosterBody {
    let (s, page) = center.get("/api/v1/feed/roster?after=0&limit=500", Some(device_token)).await;
    assert_eq!(s, 200, "{page}");
    let last = page["items"].as_array().unwrap().last().unwrap().clone();
    serde_json::from_value(last["body"].clone()).unwrap()
}

#[tokio::test]
async fn an_administrator_sets_a_secret_that_only_its_verifier_represents() {
    each_backend(|backend, center| async move {
        let code = center.site("SITE-A").await;
        center.db.add_site("SITE-B", "B", Utc::now()).await.unwrap();
        let (_device, device_token) = center.enroll(&code).await;
        staff(&center, "SITE-A", "D1", &["reporting_doctor"]).await;
        staff(&center, "SITE-A", "ADM", &["center_admin"]).await;
        let admin = person_token(&center, "SITE-A", "ADM").await;
        let doctor = person_token(&center, "SITE-A", "D1").await;
        let path = "/api/v1/staff/SITE-A/D1/secret";

        let (s, body) = put(&center, path, Some(&doctor), &json!({"secret": "Doctor-sets-own-1"})).await;
        assert_eq!((s, body["code"].as_str()), (403, Some("FORBIDDEN")), "{backend}: {body}");
        let (s, body) = put(&center, path, None, &json!({"secret": "Doctor-sets-own-1"})).await;
        assert_eq!((s, body["code"].as_str()), (401, Some("UNAUTHENTICATED")), "{backend}: {body}");
        let (s, body) = put(&center, path, Some(&admin), &json!({"secret": "short"})).await;
        assert_eq!((s, body["code"].as_str()), (400, Some("WEAK_SECRET")), "{backend}: {body}");
        let (s, body) =
            put(&center, "/api/v1/staff/SITE-A/NOBODY/secret", Some(&admin), &json!({"secret": "Long-enough-1"})).await;
        assert_eq!((s, body["code"].as_str()), (404, Some("UNKNOWN_STAFF")), "{backend}: {body}");

        let (s, body) = put(&center, path, Some(&admin), &json!({"secret": "Initial-2026-x"})).await;
        assert_eq!((s, body["version"].as_i64()), (200, Some(1)), "{backend}: {body}");
        let published = roster(&center, &device_token).await;
        let cred = published.credentials.iter().find(|c| c.code == "D1").expect("D1's verifier is published");
        assert!(cred.must_change && cred.version == 1, "{backend}: {cred:?}");
        assert_eq!(credential::verify(&cred.verifier, "Initial-2026-x"), Ok(true), "{backend}");
        assert!(!serde_json::to_string(&published).unwrap().contains("Initial-2026-x"), "{backend}");
        assert!(published.policy.is_some(), "{backend}: the policy travels with the roster");
        assert!(published.credentials.iter().all(|c| c.code != "ADM"), "{backend}: no secret set, none published");

        // A device of the site sends the secret the person chose: applied once, from version 1.
        let chosen = credential::make_verifier("Chosen-at-site-7", &[5; 16]);
        let change = json!({"staff": "D1", "verifier": chosen, "based_on": 1, "changed_at": Utc::now()});
        let (s, body) = center.post("/api/v1/device/secret", Some(&device_token), &change).await;
        assert_eq!(
            (s, body["status"].as_str(), body["version"].as_i64()),
            (200, Some("applied"), Some(2)),
            "{backend}: {body}"
        );
        let cred = roster(&center, &device_token).await.credentials.into_iter().find(|c| c.code == "D1").unwrap();
        assert_eq!((cred.version, cred.must_change, cred.verifier.as_str()), (2, false, chosen.as_str()), "{backend}");
        // The same change again (an answer lost): superseded, nothing changes.
        let (s, body) = center.post("/api/v1/device/secret", Some(&device_token), &change).await;
        assert_eq!(
            (s, body["status"].as_str(), body["version"].as_i64()),
            (200, Some("superseded"), Some(2)),
            "{backend}"
        );

        // A verifier cheaper than the minimum, and a person of another site, are refused.
        let cheap = credential::make_verifier_with(
            "x1234567",
            &[5; 16],
            credential::Argon2Cost { memory_kib: 64, iterations: 1, lanes: 1 },
        );
        let (s, body) = center
            .post(
                "/api/v1/device/secret",
                Some(&device_token),
                &json!({"staff": "D1", "verifier": cheap, "based_on": 2, "changed_at": Utc::now()}),
            )
            .await;
        assert_eq!((s, body["code"].as_str()), (400, Some("INVALID_VERIFIER")), "{backend}: {body}");
        staff(&center, "SITE-B", "B1", &["reporting_doctor"]).await;
        let (s, body) = center
            .post(
                "/api/v1/device/secret",
                Some(&device_token),
                &json!({"staff": "B1", "verifier": chosen, "based_on": 0, "changed_at": Utc::now()}),
            )
            .await;
        assert_eq!((s, body["code"].as_str()), (404, Some("UNKNOWN_STAFF")), "{backend}: {body}");

        // The policy: set, validated, and published to every site.
        let mut policy = radqc_center::staff_secrets::policy(&center.db).await.unwrap();
        policy.max_attempts = 0;
        assert!(radqc_center::staff_secrets::set_policy(&center.db, policy).await.is_err(), "{backend}");
        policy.max_attempts = 3;
        radqc_center::staff_secrets::set_policy(&center.db, policy).await.unwrap();
        assert_eq!(roster(&center, &device_token).await.policy.unwrap().max_attempts, 3, "{backend}");
    })
    .await;
}
