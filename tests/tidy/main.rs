//! Tidy: the rules ARCHITECTURE.md states about the code, checked (rust-analyzer's `tidy.rs`
//! way): which of our crates may depend on which (over `cargo metadata`), only `src-tauri` on
//! Tauri, only the center on axum; every `.rs` file opens with a `//!` line; no `todo!`,
//! `unimplemented!` or `dbg!` outside tests; no error code written as a free string literal.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Every dependency between our crates that is allowed, by kind: `normal` (and `build`) edges
/// are the architecture (ARCHITECTURE.md's diagram); `dev` edges are what the tests of a crate
/// use. The test fails on an edge missing here (a new dependency: decide, then add it) and on an
/// edge here that the manifests no longer have (keep the table exact).
const ALLOWED: &[(&str, &[&str], &[&str])] = &[
    // (crate, normal dependencies of ours, dev-dependencies of ours)
    ("radqc-domain", &[], &[]),
    ("radqc-protocol", &["radqc-domain"], &[]),
    ("radqc-store", &["radqc-domain", "radqc-hl7", "radqc-protocol"], &[]),
    ("radqc-sync", &["radqc-domain", "radqc-protocol", "radqc-store"], &[]),
    ("radqc-pdf", &["radqc-domain"], &[]),
    ("radqc-export", &["radqc-domain", "radqc-pdf"], &[]),
    // HL7 v2 without I/O: the listener that owns the socket and the store is elsewhere.
    ("radqc-hl7", &["radqc-domain"], &[]),
    // Its tests feed it from real stores through the real client.
    ("radqc-center", &["radqc-domain", "radqc-export", "radqc-protocol"], &["radqc-store", "radqc-sync"]),
    // The report checks over text, without I/O.
    ("radqc-precheck", &["radqc-domain"], &[]),
    ("radqc-app", &["radqc-domain", "radqc-hl7", "radqc-precheck", "radqc-protocol", "radqc-store", "radqc-sync"], &[]),
    // Its tests run `radqc gate` against the app's real gate API.
    (
        "radqc-cli",
        &[
            "radqc-center",
            "radqc-domain",
            "radqc-export",
            "radqc-hl7",
            "radqc-pdf",
            "radqc-precheck",
            "radqc-protocol",
            "radqc-store",
            "radqc-sync",
        ],
        &["radqc-app"],
    ),
    // Its tests generate ui/src/wire.ts: they turn on the `ts` feature of each crate whose types
    // cross IPC.
    (
        "radqc-desktop",
        &["radqc-app", "radqc-domain", "radqc-protocol", "radqc-store", "radqc-sync"],
        &["radqc-app", "radqc-domain", "radqc-protocol", "radqc-store", "radqc-sync"],
    ),
    ("radqc-e2e", &["radqc-center", "radqc-domain", "radqc-protocol", "radqc-store", "radqc-sync"], &[]),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// Each workspace crate's dependencies: (name, kind) with kind `normal`, `build` or `dev`.
fn dependencies() -> BTreeMap<String, BTreeSet<(String, String)>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let metadata: Value = serde_json::from_slice(&out.stdout).unwrap();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| (d["name"].as_str().unwrap().to_owned(), d["kind"].as_str().unwrap_or("normal").to_owned()))
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

fn ours(name: &str) -> bool {
    name.starts_with("radqc-")
}

#[test]
fn our_crates_depend_only_along_the_allowed_edges() {
    let crates = dependencies();
    let allowed: BTreeMap<&str, _> = ALLOWED.iter().map(|(c, normal, dev)| (*c, (*normal, *dev))).collect();
    let mut problems = Vec::new();
    for (name, deps) in &crates {
        let Some((normal, dev)) = allowed.get(name.as_str()) else {
            problems.push(format!("{name} is a workspace crate missing from ALLOWED: add its edges"));
            continue;
        };
        let have = |kinds: &[&str]| -> BTreeSet<&str> {
            deps.iter().filter(|(d, k)| ours(d) && kinds.contains(&k.as_str())).map(|(d, _)| d.as_str()).collect()
        };
        for (kinds, want) in [(&["normal", "build"][..], normal), (&["dev"][..], dev)] {
            let (have, want): (BTreeSet<&str>, BTreeSet<&str>) = (have(kinds), want.iter().copied().collect());
            for d in have.difference(&want) {
                problems.push(format!("{name} depends on {d} ({}): not an allowed edge", kinds.join("/")));
            }
            for d in want.difference(&have) {
                problems.push(format!(
                    "{name} no longer depends on {d} ({}): remove the edge from ALLOWED",
                    kinds.join("/")
                ));
            }
        }
    }
    for name in allowed.keys() {
        if !crates.contains_key(*name) {
            problems.push(format!("ALLOWED names {name}, which is not a workspace crate"));
        }
    }
    assert!(problems.is_empty(), "dependency rules (ARCHITECTURE.md) broken:\n{}", problems.join("\n"));
}

#[test]
fn the_rules_of_architecture_md_hold() {
    let crates = dependencies();
    let depends = |name: &str, on: &dyn Fn(&str) -> bool| -> Vec<String> {
        crates[name].iter().filter(|(d, _)| on(d)).map(|(d, k)| format!("{d} ({k})")).collect()
    };
    let mut problems = Vec::new();
    let domain = depends("radqc-domain", &|d| ours(d));
    if !domain.is_empty() {
        problems.push(format!("radqc-domain depends on nothing of ours, but on {domain:?}"));
    }
    let center = depends("radqc-center", &|d| d == "radqc-store" || d == "radqc-sync");
    let center: Vec<_> = center.into_iter().filter(|d| !d.ends_with("(dev)")).collect();
    if !center.is_empty() {
        problems.push(format!("radqc-center never depends on the store or the sync client, but on {center:?}"));
    }
    for name in crates.keys() {
        let tauri = depends(name, &|d| d == "tauri" || d.starts_with("tauri-"));
        if name != "radqc-desktop" && !tauri.is_empty() {
            problems.push(format!("only src-tauri (radqc-desktop) depends on Tauri, but {name} on {tauri:?}"));
        }
        let axum = depends(name, &|d| d == "axum" || d.starts_with("axum-"));
        if name != "radqc-center" && !axum.is_empty() {
            problems.push(format!("only radqc-center depends on axum, but {name} on {axum:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every `.rs` file of ours (generated and third-party folders left out), relative to the root.
fn rust_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if name.starts_with('.') || name == "target" || name == "node_modules" || name == "gen" {
                continue;
            }
            if path.is_dir() {
                walk(&path, found);
            } else if name.ends_with(".rs") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&root(), &mut found);
    found.sort();
    assert!(found.len() > 50, "the walk found our sources ({} files)", found.len());
    found.into_iter().map(|p| p.strip_prefix(root()).unwrap().to_owned()).collect()
}

#[test]
fn every_rust_file_opens_with_a_module_comment() {
    let missing: Vec<_> = rust_files()
        .into_iter()
        .filter(|f| !std::fs::read_to_string(root().join(f)).unwrap().starts_with("//!"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "these files do not open with a `//!` line saying what they are:\n{}",
        missing.join("\n")
    );
}

/// The part of a file that is not test code: nothing of a test crate (`tests/`, a crate's
/// `tests/` and `benches/`) or a test module file (`tests.rs`, `*_tests.rs`); in other files,
/// what comes before the first `#[cfg(test)]`.
fn non_test_code(file: &Path, text: &str) -> Option<String> {
    let test_folder = file.components().any(|c| matches!(c.as_os_str().to_str(), Some("tests" | "benches")));
    let name = file.file_name().unwrap().to_string_lossy();
    if test_folder || name == "tests.rs" || name.ends_with("_tests.rs") {
        return None;
    }
    Some(text.lines().take_while(|l| l.trim() != "#[cfg(test)]").collect::<Vec<_>>().join("\n"))
}

#[test]
fn no_todo_unimplemented_or_dbg_outside_tests() {
    let mut found = Vec::new();
    for file in rust_files() {
        let text = std::fs::read_to_string(root().join(&file)).unwrap();
        let Some(code) = non_test_code(&file, &text) else { continue };
        for (i, line) in code.lines().enumerate() {
            for mac in ["todo!", "unimplemented!", "dbg!"] {
                let at = line
                    .match_indices(mac)
                    .any(|(j, _)| !line[..j].ends_with(|c: char| c.is_alphanumeric() || c == '_'));
                if at {
                    found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "`todo!`, `unimplemented!` and `dbg!` do not ship:\n{}", found.join("\n"));
}

/// The catalogue's file: the one place an error code's text is written.
const CATALOGUE: &str = "crates/radqc-domain/src/error_code.rs";

/// The string literals of `line` (outside a `//` comment) that are a catalogued code's text.
fn free_codes(line: &str) -> Vec<&str> {
    let code = line.split("//").next().unwrap_or("");
    // An OpenAPI response's `description = "UNKNOWN_DEVICE"` is documentation, not a code.
    if code.trim_start().starts_with("(status =") {
        return Vec::new();
    }
    code.split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| radqc_protocol::ErrorCode::ALL.iter().any(|c| c.as_str() == *s))
        .collect()
}

#[test]
fn no_error_code_is_a_free_string_literal_outside_tests() {
    let mut found = Vec::new();
    for file in rust_files() {
        if file == Path::new(CATALOGUE) {
            continue;
        }
        let text = std::fs::read_to_string(root().join(&file)).unwrap();
        let Some(code) = non_test_code(&file, &text) else { continue };
        for (i, line) in code.lines().enumerate() {
            for c in free_codes(line) {
                found.push(format!("{}:{}: {c}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "name error codes with `ErrorCode` (the catalogue, {CATALOGUE}), not as text:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checks_see_what_they_are_for() {
    // The test folders are left out of the macro check, the code before `#[cfg(test)]` kept.
    assert_eq!(non_test_code(Path::new("crates/radqc-store/tests/store/main.rs"), "todo!()"), None);
    assert_eq!(non_test_code(Path::new("crates/radqc-center/src/db/migration_tests.rs"), "dbg!(1)"), None);
    let code = non_test_code(Path::new("crates/radqc-domain/src/lib.rs"), "a\n#[cfg(test)]\ndbg!(1)").unwrap();
    assert_eq!(code, "a");
    // A code's text is seen in a call, not in a comment or a response's documentation.
    assert_eq!(free_codes(r#"ApiError::conflict("SITE_MISMATCH", "x")"#), ["SITE_MISMATCH"]);
    assert_eq!(free_codes(r#"if b.code == "SEQUENCE_GAP" { // "DISK_FULL""#), ["SEQUENCE_GAP"]);
    assert!(free_codes(r#"(status = 404, description = "UNKNOWN_DEVICE", body = ErrorBody),"#).is_empty());
    assert!(free_codes(r#"let s = "NOT_A_CODE";"#).is_empty());
    // The dependency table covers every workspace crate, and the metadata has the real edges.
    let crates = dependencies();
    assert!(crates["radqc-center"].contains(&("radqc-export".to_owned(), "normal".to_owned())));
    assert!(crates["radqc-desktop"].contains(&("tauri".to_owned(), "normal".to_owned())));
}
