//! The UI's IPC types, generated from the Rust types (ts-rs) into `ui/src/wire.ts`, and the
//! test that fails when that file is stale (Cap's and GitButler's way: regenerate in memory,
//! compare with the committed file). `RADQC_UPDATE_TS=1` rewrites it instead.
//!
//! Every type a command takes or answers, every event payload and the error envelope is listed
//! here; the test also fails when a listed type names one that is not (a missing type would be
//! an unresolved name in TypeScript). The word lists (`QC_MODES`, `ROLES`, …), the event names
//! and the error codes come from the same Rust constants the shell and the domain use.

use std::collections::BTreeSet;
use std::path::PathBuf;

use radqc_app::ErrorCode;
use radqc_domain::{Grade, ItemCode, Modality, PatientSource, QcMode, Role};
use ts_rs::{Config, TS};

/// The generated file, relative to this crate.
const WIRE_TS: &str = "../ui/src/wire.ts";

const HEADER: &str = "\
// GENERATED from the Rust types by src-tauri/src/bindings.rs (ts-rs): DO NOT EDIT.
// After changing a type that crosses IPC: RADQC_UPDATE_TS=1 cargo test -p radqc-desktop --lib bindings
// (cargo test fails while this file is stale).

";

struct Out {
    cfg: Config,
    text: String,
    declared: BTreeSet<String>,
    needed: Vec<(String, String)>,
}

impl Out {
    fn add<T: TS + 'static>(&mut self) {
        let name = T::ident(&self.cfg);
        if let Some(docs) = T::docs() {
            self.text.push_str(&docs);
        }
        self.text.push_str("export ");
        self.text.push_str(&T::decl(&self.cfg));
        self.text.push_str("\n\n");
        for dep in T::dependencies(&self.cfg) {
            self.needed.push((name.clone(), dep.ts_name));
        }
        assert!(self.declared.insert(name.clone()), "{name} is listed twice");
    }

    fn words(&mut self, docs: &str, name: &str, ty: &str, words: impl IntoIterator<Item = impl AsRef<str>>) {
        let list: Vec<String> = words.into_iter().map(|w| format!("\"{}\"", w.as_ref())).collect();
        self.text
            .push_str(&format!("/** {docs} */\nexport const {name}: readonly {ty}[] = [{}];\n\n", list.join(", ")));
    }
}

/// The whole of `ui/src/wire.ts`, from the types as they are compiled now.
fn render() -> String {
    let mut out = Out {
        cfg: Config::new().with_large_int("number"),
        text: HEADER.to_owned(),
        declared: BTreeSet::new(),
        needed: Vec::new(),
    };
    macro_rules! types { ($($t:ty),* $(,)?) => { $(out.add::<$t>();)* }; }

    out.text.push_str("// The domain's words.\n\n");
    use radqc_domain::report::{self, Rate};
    types!(
        ItemCode,
        radqc_domain::ItemKind,
        radqc_domain::CriterionKind,
        radqc_domain::CriterionCode,
        Role,
        radqc_domain::Applicability,
        Grade,
        radqc_domain::Score,
        QcMode,
        Modality,
        PatientSource,
        radqc_domain::Sex,
        radqc_domain::StaffCode,
        radqc_domain::SiteCode,
    );
    out.words(
        "The QC items (质控项目), in the standard's order.",
        "ITEM_CODES",
        "ItemCode",
        ItemCode::ALL.map(ItemCode::as_str),
    );
    out.words("Every role.", "ROLES", "Role", Role::ALL.map(Role::as_str));
    out.words("QC modes (质控方式).", "QC_MODES", "QcMode", QcMode::ALL.iter().map(|m| m.as_str()));
    out.words("Grades, in the order of `QualityRow.counts`.", "GRADES", "Grade", Grade::ALL.map(Grade::as_str));
    out.words("Patient sources.", "PATIENT_SOURCES", "PatientSource", PatientSource::ALL.iter().map(|m| m.as_str()));
    out.words(
        "The modalities the standard's figures name (a site may have others).",
        "MODALITIES",
        "Modality",
        Modality::STANDARD,
    );

    out.text.push_str("// The rubric and the scoring engine.\n\n");
    types!(
        radqc_domain::Text,
        radqc_domain::Criterion,
        radqc_domain::Item,
        radqc_domain::Rubric,
        radqc_domain::Findings,
        radqc_domain::Verdict,
    );

    out.text.push_str("// Exams, evaluations, the panel, the gate.\n\n");
    types!(
        radqc_domain::ExamStaff,
        radqc_protocol::PerformedAtSource,
        radqc_protocol::ExamRecord,
        radqc_protocol::EvaluationRecord,
        radqc_protocol::StaffMember,
        radqc_store::ExamFilter,
        radqc_domain::credential::SecretPolicy,
        radqc_app::Session,
        radqc_app::ExamView,
        radqc_app::ExamDetail,
        radqc_app::FindExams,
        radqc_app::PanelItem,
        radqc_app::StatedFacts,
        radqc_app::PanelSave,
        radqc_domain::precheck::Check,
        radqc_domain::precheck::Mode,
        radqc_store::ReportSource,
        radqc_store::SignerChoice,
        radqc_store::ProposalOutcome,
        radqc_store::StoredProposal,
        radqc_store::PrecheckRun,
        radqc_store::PrecheckStatsRow,
        radqc_app::ReportText,
        radqc_app::ExamPrecheck,
        radqc_app::GateView,
        radqc_app::GateAnswer,
        radqc_app::Released,
        radqc_app::PrecheckChosen,
        radqc_app::Notice,
    );

    out.text.push_str("// The gold standard (7.3.1): a reader's tasks and reads, disputes, 我的质控.\n\n");
    types!(
        radqc_protocol::GoldTask,
        radqc_protocol::GoldExam,
        radqc_protocol::BlindRead,
        radqc_protocol::GoldAssignment,
        radqc_protocol::GoldReadRecord,
        radqc_protocol::DisputeRecord,
        radqc_app::GoldTaskView,
        radqc_app::GoldReadInput,
        radqc_app::DisputeInput,
        radqc_app::GoldChange,
        radqc_app::MyScore,
    );

    out.text.push_str("// Sync.\n\n");
    types!(
        radqc_store::OutboxCounts,
        radqc_store::ForkRecord,
        radqc_store::CenterTrust,
        radqc_store::SyncStatus,
        radqc_app::RejectedEntry,
        radqc_app::SyncView,
        radqc_sync::CopyRecovery,
        radqc_sync::Outcome,
        crate::commands::Enrollment,
    );

    out.text.push_str("// The report (报表) and its drill-down.\n\n");
    types!(
        Rate,
        radqc_domain::scope::ReportScope,
        radqc_domain::report::ReportFilter,
        report::IndicatorRow,
        report::Indicators,
        report::ScoreCountRow,
        report::ScoreCounts,
        report::EvaluationFact,
        report::DeductionCount,
        report::WorkloadRow,
        report::Workload,
        report::QualityRow,
        radqc_domain::agreement::KappaUndefined,
        radqc_domain::agreement::KappaFigure,
        radqc_domain::agreement::AgreementRow,
        radqc_domain::agreement::ReviewerBias,
        radqc_domain::agreement::AgreementReport,
        report::Report,
        radqc_app::Drill,
    );

    out.text.push_str("// The worklist import (导入).\n\n");
    types!(radqc_app::ImportRequest, radqc_store::BadRow, radqc_store::ImportReport);

    out.text.push_str("// Errors: the envelope every command rejects with, and its codes.\n\n");
    types!(crate::IpcError);
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    out.text.push_str(&format!(
        "/** Every error code, of the one catalogue `radqc_protocol::ErrorCode`. */\nexport type ErrorCode = {};\n\n",
        radqc_domain::ts::union(codes.iter().copied())
    ));
    out.text.push_str("/** The codes by name, for the UI's branches: `error.code === ERROR_CODES.DISK_FULL`. */\n");
    out.text.push_str("export const ERROR_CODES = {\n");
    for code in &codes {
        out.text.push_str(&format!("  {code}: \"{code}\",\n"));
    }
    out.text.push_str("} as const satisfies Record<string, ErrorCode>;\n\n");
    out.declared.insert("ErrorCode".to_owned());

    out.text.push_str("// The events the shell emits (src-tauri/src/events.rs).\n\n");
    types!(crate::events::Navigate, crate::events::OpenExam, crate::events::SessionLocked);
    for (constant, name, _) in crate::events::ALL {
        out.text.push_str(&format!("export const {constant} = \"{name}\";\n"));
    }
    out.text.push_str("\n/** Each event's payload. */\nexport interface ShellEventPayloads {\n");
    for (_, name, payload) in crate::events::ALL {
        out.text.push_str(&format!("  \"{name}\": {payload};\n"));
        out.needed.push((name.to_owned(), payload.to_owned()));
    }
    out.text.push_str("}\n");

    let missing: Vec<String> = out
        .needed
        .iter()
        .filter(|(_, dep)| !out.declared.contains(dep))
        .map(|(user, dep)| format!("{dep} (used by {user})"))
        .collect();
    assert!(missing.is_empty(), "types used over IPC but not listed in bindings.rs: {}", missing.join(", "));
    out.text
}

#[test]
fn ui_wire_ts_is_generated_from_the_rust_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(WIRE_TS);
    let fresh = render();
    if std::env::var_os("RADQC_UPDATE_TS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh).expect("write ui/src/wire.ts");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "ui/src/wire.ts is stale: a type that crosses IPC changed. Regenerate it with\n  \
         RADQC_UPDATE_TS=1 cargo test -p radqc-desktop --lib bindings\nand commit it. First differing line: {}",
        first_difference(&committed, &fresh)
    );
}

fn first_difference(a: &str, b: &str) -> String {
    let (mut la, mut lb) = (a.lines(), b.lines());
    for n in 1.. {
        match (la.next(), lb.next()) {
            (None, None) => return "none (line endings?)".to_owned(),
            (x, y) if x == y => continue,
            (x, y) => return format!("{n}: committed {x:?}, generated {y:?}"),
        }
    }
    unreachable!()
}
