//! The committed OpenAPI document (`crates/radqc-center/openapi.json`) is generated from the
//! code; this test fails when it is stale. Regenerate: `RADQC_UPDATE_OPENAPI=1 cargo test -p
//! radqc-center --test center openapi`.

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
