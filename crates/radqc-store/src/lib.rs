//! RadQC's local store: one SQLCipher-encrypted SQLite file per workstation or clinic holding
//! exams, exam events, evaluations (append-only, corrections as revisions), an outbox for the
//! regional center, and an audit log.
//!
//! Architecture Invariant: a score the reviewer saw as saved is on disk (WAL, `synchronous =
//! FULL`, one transaction with its outbox entry), and its outbox entry has the next sequence
//! number with no gap.

mod center_link;
mod error;
mod fork;
mod gold;
mod hl7;
mod import;
mod keystore;
mod model;
mod open;
mod precheck;
mod report_facts;
mod schema;
mod share;
mod sign_in;
mod store;

pub use center_link::{is_loopback_host, CenterLink, CenterTrust, SyncStatus};
pub use error::StoreError;
pub use fork::{ForkPlan, ForkRecord, Pullback, Restored};
pub use gold::{AppliedFinal, NewGoldRead, OpenAssignment};
pub use hl7::{ExamReport, Hl7Intake, Hl7Logged, Hl7Receipt};
pub use import::{BadRow, ImportReport, WorklistMapping, DEFAULT_WORKLIST_MAPPING};
pub use keystore::{
    key_source, move_key, KeyMoved, KeyPlacement, KeySource, KeystoreEntry, LoadedKey, KEYSTORE_SERVICE,
};
pub use model::{
    AuditEntry, EvaluationRecord, ExamEventRecord, ExamFilter, ExamInput, ExamRecord, NewEvaluation, OutboxCounts,
    OutboxEntry, OutboxState, PatientInput, SyncPayload,
};
pub use open::{create_private_file, default_key_path, latest_schema, remove_leftover_stage, Key};
pub use precheck::{
    NewPrecheckRun, NewProposal, PrecheckRun, PrecheckStatsRow, ProposalOutcome, ReportSource, SignerChoice,
    StoredProposal,
};
pub use schema::{APPLICATION_ID, MIGRATIONS};
pub use share::{Sharing, StaffAlias};
pub use sign_in::{Failure, LocalSecret};
pub use store::{applicable_items, check_applies, Store, MAX_CLOCK_SKEW};
