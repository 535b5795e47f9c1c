//! The application layer's error: a stable code and the message in both languages, exactly
//! what crosses IPC as the envelope.

use radqc_domain::ScoringError;
use radqc_store::StoreError;

macro_rules! error_codes {
    ($($variant:ident => $code:literal,)*) => {
        /// Every code an IPC error envelope carries: the store's, the scoring engine's, the app's
        /// and the shell's. The UI branches on these (generated into `ui/src/wire.ts`), never on
        /// the text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code),* }
            }
        }
    };
}

error_codes! {
    // the store (`StoreError::code`)
    NoDatabase => "NO_DATABASE",
    DatabaseExists => "DATABASE_EXISTS",
    NotADatabase => "NOT_A_DATABASE",
    ForeignDatabase => "FOREIGN_DATABASE",
    WrongKey => "WRONG_KEY",
    NewerSchema => "NEWER_SCHEMA",
    KeyFile => "KEY_FILE",
    DiskFull => "DISK_FULL",
    InvalidInput => "INVALID_INPUT",
    ItemNotApplicable => "ITEM_NOT_APPLICABLE",
    FactUnknown => "FACT_UNKNOWN",
    UnknownEvaluation => "UNKNOWN_EVALUATION",
    AlreadyCorrected => "ALREADY_CORRECTED",
    NotPending => "NOT_PENDING",
    Storage => "STORAGE",
    // the scoring engine (`ScoringError::code`)
    CriterionOfOtherItem => "CRITERION_OF_OTHER_ITEM",
    UnknownCriterion => "UNKNOWN_CRITERION",
    DuplicateCriterion => "DUPLICATE_CRITERION",
    FoundAndNotApplicable => "FOUND_AND_NOT_APPLICABLE",
    // the application layer
    DataDir => "DATA_DIR",
    RosterUnreadable => "ROSTER_UNREADABLE",
    UnknownStaff => "UNKNOWN_STAFF",
    NotSignedIn => "NOT_SIGNED_IN",
    UnknownExam => "UNKNOWN_EXAM",
    EmptyPanel => "EMPTY_PANEL",
    NotPermitted => "NOT_PERMITTED",
    UnknownGate => "UNKNOWN_GATE",
    UnknownNotice => "UNKNOWN_NOTICE",
    // the shell
    EnrollFailed => "ENROLL_FAILED",
    Autostart => "AUTOSTART",
}

/// The code a store error crosses IPC with: `StoreError::code`, which must be in the catalogue.
fn catalogued(code: &'static str) -> &'static str {
    debug_assert!(ErrorCode::ALL.iter().any(|c| c.as_str() == code), "error code {code} is not in ErrorCode");
    code
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message_en}")]
pub struct AppError {
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

impl AppError {
    pub fn new(code: ErrorCode, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self { code: code.as_str(), message_zh: zh.into(), message_en: en.into() }
    }
    pub fn invalid(field: &str, message: String) -> Self {
        Self::new(ErrorCode::InvalidInput, format!("输入有误（{field}）：{message}"), format!("`{field}`: {message}"))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        Self { code: catalogued(e.code()), message_zh: e.message_zh(), message_en: e.to_string() }
    }
}

impl From<ScoringError> for AppError {
    fn from(e: ScoringError) -> Self {
        Self {
            code: catalogued(e.code()), message_zh: format!("评分项填写有误：{e}"), message_en: e.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// Every store and engine error the app can hand the UI carries a catalogued code (the
    /// generated `ErrorCode` union is what the UI's branches are checked against).
    #[test]
    fn every_store_and_engine_code_is_in_the_catalogue() {
        let p = || PathBuf::from("qc.db");
        let s = || "x".to_owned();
        let code: radqc_domain::CriterionCode = "IQ-C2".parse().unwrap();
        let scoring = [
            ScoringError::OtherItem { code: code.clone(), item: radqc_domain::ItemCode::RQ },
            ScoringError::UnknownCriterion { code: code.clone(), item: radqc_domain::ItemCode::IQ, version: s() },
            ScoringError::Duplicate { code: code.clone(), list: "findings" },
            ScoringError::FoundAndNotApplicable { code },
        ];
        let mut store = vec![
            StoreError::NoDatabase(p()),
            StoreError::AlreadyExists(p()),
            StoreError::NotADatabase(p()),
            StoreError::ForeignDatabase(p()),
            StoreError::WrongKey(p()),
            StoreError::NewerSchema { path: p(), found: 9, supported: 1 },
            StoreError::KeyFile { path: p(), message: s() },
            StoreError::DiskFull,
            StoreError::Invalid { field: s(), message: s() },
            StoreError::NotApplicable { item: s(), accession: s(), why: s() },
            StoreError::FactUnknown { item: s(), accession: s(), fact: s() },
            StoreError::UnknownEvaluation(s()),
            StoreError::AlreadyCorrected { id: s(), by: s() },
            StoreError::NotPending(1),
        ];
        store.extend(scoring.iter().cloned().map(StoreError::Scoring));
        let known = |c: &str| ErrorCode::ALL.iter().any(|k| k.as_str() == c);
        for e in &store {
            assert!(known(e.code()), "{} ({e}) is not in ErrorCode", e.code());
        }
        for e in &scoring {
            assert!(known(e.code()), "{} ({e}) is not in ErrorCode", e.code());
        }
        // `StoreError::Sqlite` needs a rusqlite error to build; its code is listed by hand.
        assert!(known("STORAGE"));
    }

    #[test]
    fn codes_are_unique_and_screaming_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "{s} is listed twice");
            assert!(s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'), "{s} is not SCREAMING_SNAKE_CASE");
        }
    }
}
