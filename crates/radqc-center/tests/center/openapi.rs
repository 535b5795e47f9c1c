//! The committed OpenAPI document (`crates/radqc-center/openapi.json`) is generated from the
//! code; this test fails when it is stale. Regenerate: `RADQC_UPDATE_OPENAPI=1 cargo test -p
//! radqc-center --test center openapi`. The schemathesis run (`tests/api/fuzz.py`, a step of
//! `scripts/test.sh`) checks the served document against the center's answers.

use serde_json::Value;

#[test]
fn openapi_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let fresh = radqc_center::openapi_json() + "\n";
    if std::env::var("RADQC_UPDATE_OPENAPI").as_deref() == Ok("1") {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: run `RADQC_UPDATE_OPENAPI=1 cargo test -p radqc-center --test center openapi` and commit it",
        path.display()
    );
    for path in ["/api/v1/enroll", "/api/v1/push", "/api/v1/feed/{kind}", "/api/v1/evaluations"] {
        assert!(fresh.contains(path), "the document describes {path}");
    }
}

/// The document states the rules the center enforces, so a client (or a fuzzer) can know them.
#[test]
fn openapi_document_states_what_the_center_enforces() {
    let doc: Value = serde_json::from_str(&radqc_center::openapi_json()).unwrap();
    let schema = |name: &str| &doc["components"]["schemas"][name];
    let push = schema("PushRequest");
    let version = Value::from(radqc_protocol::SCHEMA_VERSION);
    assert_eq!(
        (&push["properties"]["schema"]["minimum"], &push["properties"]["schema"]["maximum"]),
        (&version, &version),
        "the one schema version"
    );
    assert_eq!(push["properties"]["entries"]["maxItems"], Value::from(radqc_protocol::MAX_PUSH_ENTRIES));
    assert_eq!(schema("PushEntry")["properties"]["seq"]["minimum"], Value::from(1), "seq ≥ 1");
    assert_eq!(schema("EnrollRequest")["properties"]["device_id"]["format"], "uuid");

    let param = |path: &str, name: &str| {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} takes {name}"))["schema"]
            .clone()
    };
    for name in ["month", "from", "to"] {
        assert_eq!(param("/api/v1/report", name)["pattern"], "^[0-9]{4}-(0[1-9]|1[0-2])$", "{name}: YYYY-MM");
    }
    // The enumerations the report's parameters take are the domain's own.
    let mut roles: Vec<&str> = Vec::new();
    for item in &radqc_domain::Rubric::bundled().items {
        if !roles.contains(&item.scored_role.as_str()) {
            roles.push(item.scored_role.as_str());
        }
    }
    assert_eq!(param("/api/v1/report", "role")["pattern"], format!("^({})$", roles.join("|")), "the scored roles");
    let modes: Vec<&str> = radqc_domain::QcMode::ALL.iter().map(|m| m.as_str()).collect();
    assert_eq!(param("/api/v1/report", "mode")["pattern"], format!("^({})$", modes.join("|")));
    assert_eq!(param("/api/v1/feed/{kind}", "limit")["maximum"], Value::from(500));
    assert_eq!(param("/api/v1/feed/{kind}", "after")["minimum"], Value::from(0));
    assert_eq!(param("/api/v1/notices", "overdue_days")["minimum"], Value::from(0));

    let schemes = &doc["components"]["securitySchemes"];
    for name in ["device_token", "person_token"] {
        assert_eq!((schemes[name]["type"].as_str(), schemes[name]["scheme"].as_str()), (Some("http"), Some("bearer")));
    }
    // Every operation lists its 4xx with the envelope, and the ones that read a body 413 and 415.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let secured = op.get("security").is_some();
            let mut want: Vec<&str> = Vec::new();
            if secured {
                want.extend(["401", "503"]);
            }
            if op.get("parameters").and_then(|p| p.as_array()).is_some_and(|p| !p.is_empty()) {
                want.push("400");
            }
            if method == "post" {
                want.extend(["400", "413", "415", "503"]);
            }
            for status in want {
                let envelope = &responses.get(status).unwrap_or_else(|| panic!("{method} {path} answers {status}"))
                    ["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(envelope, "#/components/schemas/ErrorBody", "{method} {path} {status}");
            }
            for (status, r) in responses.iter().filter(|(s, _)| !s.starts_with('2')) {
                assert!(
                    r["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} says which codes"
                );
            }
        }
    }
}
