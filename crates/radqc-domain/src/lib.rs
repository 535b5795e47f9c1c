//! RadQC's domain: the rubric of the standard's Appendix A as validated data, and the scoring engine.
//!
//! Architecture Invariant: this crate does no I/O. It knows nothing of files, SQLite, HTTP, Tauri,
//! the clock or randomness; callers hand it text, time and keys as arguments.

pub mod agreement;
mod codes;
pub mod credential;
mod error_code;
mod exam;
mod grants;
pub mod migrations;
pub mod precheck;
pub mod report;
pub mod rollup;
mod rubric;
mod sampling;
pub mod scope;
mod scoring;
#[cfg(feature = "ts")]
pub mod ts;
pub mod zone;

pub use codes::{Applicability, CodeError, CriterionCode, CriterionKind, Grade, ItemCode, ItemKind, Role, Score};
pub use error_code::ErrorCode;
pub use exam::{ExamEventKind, ExamStaff, Modality, PatientSource, QcMode, Sex, SiteCode, StaffCode};
pub use grants::{Grants, GrantsError, GrantsProblem};
pub use rubric::{Criterion, Item, Problem, Rubric, RubricError, Text, RUBRIC_SCHEMA};
pub use sampling::{decide, draw, Decision, SamplingRule, SamplingRules, Signing, StaffMonth, Why, PPM};
pub use scoring::{Findings, ScoringError, Verdict};
pub use zone::{SiteZone, Zones};
