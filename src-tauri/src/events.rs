//! The events the shell emits to the window: their names and payloads, one place for Rust and
//! (generated into `ui/src/wire.ts`) for the UI.

use serde::Serialize;

/// A signing was sampled: the panel must come up at once. Payload: `GateView`.
pub const GATE_REQUESTED: &str = "gate-requested";
/// Every request waiting on a held signature gave up (the workstation stopped waiting).
/// Payload: `GateView`.
pub const GATE_GAVE_UP: &str = "gate-gave-up";
/// The shell asks for a screen (tray menu, `radqc://` link). Payload: [`Navigate`].
pub const NAVIGATE: &str = "navigate";
/// A `radqc://score?accession=…` link: open active QC on that exam. Payload: [`OpenExam`].
pub const OPEN_EXAM: &str = "open-exam";

/// The session locked (idle time, or the OS session locked): show the lock prompt. Payload:
/// [`SessionLocked`].
pub const SESSION_LOCKED: &str = "session-locked";

/// An event's constant's name (as the bindings name it), its name, and its payload's type.
macro_rules! event {
    ($constant:ident, $payload:ident) => {
        (stringify!($constant), $constant, stringify!($payload))
    };
}

/// Every event, its constant's name and its payload's TypeScript type (for the bindings).
pub const ALL: [(&str, &str, &str); 5] = [
    event!(GATE_REQUESTED, GateView),
    event!(GATE_GAVE_UP, GateView),
    event!(NAVIGATE, Navigate),
    event!(OPEN_EXAM, OpenExam),
    event!(SESSION_LOCKED, SessionLocked),
];

/// Why the session locked: `idle` or `os`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SessionLocked {
    pub why: String,
}

/// The screen to show: `home`, `active`, `sync`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Navigate {
    pub route: String,
}

/// The exam a `radqc://score` link names.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct OpenExam {
    pub accession: String,
}
