//! The report checks (报告文本预检): a Chinese radiology report read against its exam item, the
//! patient's sex, the history and itself, before the signature and in the QC panel.
//!
//! Each check proposes a rubric criterion with the words that made it, quoted verbatim from the
//! report; a check never scores by itself. What the checks know (organs by sex, operations and
//! what they remove, sides, comparison phrases, placeholders, positive findings and negations) is
//! data in `assets/precheck.toml`: the code here only reads it.
//!
//! No segmenter: the lexicons are matched leftmost-longest in one pass (Aho-Corasick), which is
//! what a segmenter with this medical dictionary would do, without its general-language
//! dictionary splitting 左肾上腺 or 钙化灶 in the wrong place. Clauses (split at ，。；) bound a
//! side, a negation and an absence.

mod checks;
pub mod corpus;
mod lexicon;
mod text;

use std::sync::OnceLock;

pub use radqc_domain::precheck::{Check, Mode};
use radqc_domain::CriterionCode;
pub use radqc_domain::Sex;
use serde::{Deserialize, Deserializer, Serialize};

pub use lexicon::{LexiconError, LEXICON_SCHEMA};

const BUNDLED_NAME: &str = "assets/precheck.toml";
const BUNDLED_TEXT: &str = include_str!("../../../assets/precheck.toml");

/// One report as the checks read it: `radqc precheck`'s input line, and what the app builds from
/// the exam and the RIS's report. Fields other than these are ignored (a corpus line may carry
/// its labels); a field of the wrong type is an error naming it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Report {
    #[serde(default, deserialize_with = "nullable")]
    pub modality: String,
    #[serde(default, deserialize_with = "nullable")]
    pub exam_item: String,
    #[serde(default)]
    pub patient_sex: Option<Sex>,
    #[serde(default)]
    pub patient_age: Option<u32>,
    #[serde(default, deserialize_with = "nullable")]
    pub history: String,
    #[serde(default, deserialize_with = "nullable")]
    pub is_followup: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub prior_available: bool,
    /// 影像所见.
    #[serde(deserialize_with = "nullable")]
    pub findings: String,
    /// 诊断意见.
    #[serde(deserialize_with = "nullable")]
    pub impression: String,
}

/// `null` reads as the type's default (an RIS sends `"history": null` for none).
fn nullable<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// What a check proposes: a criterion, the words that made it (each verbatim from the report's
/// history, findings or impression), and why, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "PrecheckProposal"))]
pub struct Proposal {
    pub check: Check,
    /// The report-quality (RQ) criterion; the AR item's twin is [`Prechecker::twin`].
    pub criterion: CriterionCode,
    pub evidence: Vec<String>,
    pub message_zh: String,
    pub message_en: String,
}

/// The checks with their lexicons, compiled once.
pub struct Prechecker {
    lexicon: lexicon::Lexicon,
}

impl Prechecker {
    /// The lexicons this build carries (`assets/precheck.toml`), parsed once.
    pub fn bundled() -> &'static Prechecker {
        static BUNDLED: OnceLock<Prechecker> = OnceLock::new();
        BUNDLED.get_or_init(|| {
            Prechecker::parse(BUNDLED_NAME, BUNDLED_TEXT)
                .unwrap_or_else(|e| panic!("the bundled lexicon is invalid: {e}"))
        })
    }

    /// Lexicons from a file's text, validated whole.
    pub fn parse(name: &str, text: &str) -> Result<Prechecker, LexiconError> {
        Ok(Prechecker { lexicon: lexicon::Lexicon::parse(name, text)? })
    }

    /// Every check's proposals for one report, in the order of [`Check::ALL`]; none when the
    /// report is clean.
    pub fn check(&self, report: &Report) -> Vec<Proposal> {
        checks::run(&self.lexicon, report, &Check::ALL)
    }

    /// Only these checks' proposals.
    pub fn check_only(&self, report: &Report, only: &[Check]) -> Vec<Proposal> {
        checks::run(&self.lexicon, report, only)
    }

    /// What a check does at signing when a site sets nothing.
    pub fn default_mode(&self, check: Check) -> Mode {
        self.lexicon.checks[&check].default
    }

    /// The report-quality criterion a check proposes.
    pub fn criterion(&self, check: Check) -> &CriterionCode {
        &self.lexicon.checks[&check].criterion
    }

    /// The same criterion in the AR (report audit) item.
    pub fn twin(&self, check: Check) -> &CriterionCode {
        &self.lexicon.checks[&check].twin
    }
}

#[cfg(test)]
mod tests;
