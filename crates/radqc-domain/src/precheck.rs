//! The report checks' names and what each does at signing: codes in the one catalogue, so the
//! sampling rules a center publishes (`precheck`), the store and the reports name them alike.
//! The checks themselves are `radqc-precheck`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The checks, each with a stable name (what `radqc precheck` prints, a site's settings name and
/// the reports count by).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "PrecheckName"))]
pub enum Check {
    /// 左/右/双侧 of the exam item against the findings and impression, and findings against
    /// impression (RQ-S2).
    Laterality,
    /// Organs of the other sex (RQ-S3).
    SexOrgan,
    /// An organ described as present after the history says it was removed (RQ-S3).
    ResectedOrgan,
    /// A follow-up with a prior available and nothing that compares with it (RQ-S5).
    NoComparison,
    /// The impression empty or a placeholder (RQ-S6).
    EmptyImpression,
    /// A clearly positive finding that the impression never mentions (RQ-S6).
    FindingNotInImpression,
}

impl Check {
    pub const ALL: [Check; 6] = [
        Check::Laterality,
        Check::SexOrgan,
        Check::ResectedOrgan,
        Check::NoComparison,
        Check::EmptyImpression,
        Check::FindingNotInImpression,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Check::Laterality => "laterality",
            Check::SexOrgan => "sex_organ",
            Check::ResectedOrgan => "resected_organ",
            Check::NoComparison => "no_comparison",
            Check::EmptyImpression => "empty_impression",
            Check::FindingNotInImpression => "finding_not_in_impression",
        }
    }

    pub fn from_name(name: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.name() == name)
    }

    pub fn names() -> Vec<&'static str> {
        Check::ALL.iter().map(|c| c.name()).collect()
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a check does at signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "PrecheckMode"))]
pub enum Mode {
    /// Not run.
    Off,
    /// Only proposed in the QC panel.
    Panel,
    /// Shown to the signing doctor before the signature, and proposed in the panel.
    Warn,
}
