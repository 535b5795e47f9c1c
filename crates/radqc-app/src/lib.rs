//! The desktop app's application layer: who is signed in and what their roles let them score
//! and see, random QC at signing (the held signature and its release), the panels' saves,
//! centralized queues, and sync. The Tauri shell turns each call into an IPC command; nothing
//! here knows Tauri.
//!
//! Architecture Invariant: time comes in as arguments (`now`); randomness only from the OS for
//! keys and ids, never for a sampling decision (those are keyed draws from the domain crate).

mod auth;
mod demo;
mod drill;
mod error;
mod exams;
mod gate;
pub mod gate_http;
mod gate_token;
mod gold;
mod hl7;
mod import;
mod notices;
mod panel;
mod precheck;
mod reports;
mod scope;
mod session;
mod signing;
mod sync;

use std::path::PathBuf;

use radqc_protocol::StaffMember;
use radqc_store::Store;

pub use auth::{ChangeWhy, Directory, InForce, RosterDirectory, Verdict};
pub use demo::seed_demo;
pub use drill::Drill;
pub use error::{AppError, ErrorCode};
pub use exams::{ExamDetail, ExamView, FindExams};
pub use gate::{
    GateAnswer, GateView, PanelClosedPolicy, Released, ReportText, SignExam, SignReport, SignRequest, SignResponse,
    Waiter, MAX_REPORT_CHARS,
};
pub use gate_token::{GateToken, GATE_TOKEN_FILE};
pub use gold::{DisputeInput, GoldChange, GoldReadInput, GoldTaskView, MyScore};
pub use hl7::start_hl7;
pub use import::{ImportRequest, MAX_WORKLIST_BYTES};
pub use notices::Notice;
pub use panel::{PanelItem, PanelSave, StatedFacts};
pub use precheck::{mode_of, ExamPrecheck, PrecheckChosen, PRECHECK_BLOCKED};
/// Who may do what, by role: the grants the center published (`Store::grants`).
pub use radqc_domain::Grants;
pub use scope::ReportScope;
pub use session::{Session, DEMO_SECRET};
pub use sync::{RejectedEntry, SyncView};

/// Where the app keeps its files and how it behaves.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub data_dir: PathBuf,
    /// Seed a demo department on a new database.
    pub demo: bool,
    /// What a closed panel does to the held signature.
    pub when_panel_closed: PanelClosedPolicy,
    /// How long without a key or the mouse before the session locks (default 10 minutes).
    pub idle_lock: std::time::Duration,
}

/// The idle time after which a session locks unless configured otherwise.
pub const DEFAULT_IDLE_LOCK: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// The running app's state.
pub struct App {
    store: Store,
    config: AppConfig,
    user: Option<StaffMember>,
    gates: gate::Gates,
    gate_url: String,
    gate_token: GateToken,
    /// Who checks secrets: the roster's verifiers unless a hospital's directory is plugged in.
    directory: Box<dyn Directory>,
    /// Signed in, but locked to a prompt for the same person's secret.
    locked: bool,
    /// The last key or mouse movement in the window (or the sign-in).
    last_activity: chrono::DateTime<chrono::Utc>,
}
