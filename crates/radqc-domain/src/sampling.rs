//! Random QC at signing (随机质控 / 强制质控): whether a signed report is sampled for scoring.
//!
//! Rules are data, published by the center: an ordered list, the first matching rule gives the
//! probability; monthly limits per staff member bound the result. The draw is an HMAC of the
//! accession under the site's secret key and the rules' version, so the same exam, rules and key
//! always give the same answer (an auditor recomputes it), while nobody without the key can
//! predict it, and it needs no network.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use std::collections::BTreeMap;

use crate::codes::CodeError;
use crate::exam::{Modality, PatientSource, StaffCode};
use crate::precheck::{Check, Mode};

/// Probabilities and draws are in parts per million, so decisions are exact integers.
pub const PPM: u32 = 1_000_000;

/// One ordered rule. Each list narrows (empty: any); `follow_up` narrows when set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplingRule {
    /// Shown to QC officers and auditors, e.g. "随访病例全部抽取".
    pub name: String,
    #[serde(default)]
    pub modality: Vec<Modality>,
    #[serde(default)]
    pub exam_item: Vec<String>,
    #[serde(default)]
    pub department: Vec<String>,
    #[serde(default)]
    pub patient_source: Vec<PatientSource>,
    #[serde(default)]
    pub follow_up: Option<bool>,
    /// The signing doctor.
    #[serde(default)]
    pub staff: Vec<StaffCode>,
    /// From 0 to 1.
    pub probability: f64,
}

/// A site's sampling rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplingRules {
    pub version: String,
    pub rules: Vec<SamplingRule>,
    /// Each signing doctor should have at least this many sampled reports a month.
    #[serde(default)]
    pub monthly_min_per_staff: u32,
    /// And at most this many.
    #[serde(default)]
    pub monthly_max_per_staff: Option<u32>,
    /// What each report check does at signing here (`off`, `panel`, `warn`); a check not named
    /// does what the lexicon's default says.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub precheck: BTreeMap<Check, Mode>,
}

impl SamplingRules {
    /// Parses and checks rules from JSON (the center's feed) with errors naming the rule.
    pub fn from_json(text: &str) -> Result<SamplingRules, CodeError> {
        let rules: SamplingRules =
            serde_json::from_str(text).map_err(|e| CodeError::new(format!("sampling rules: {e}")))?;
        rules.check()?;
        Ok(rules)
    }

    pub fn check(&self) -> Result<(), CodeError> {
        if self.version.trim().is_empty() {
            return Err(CodeError::new("sampling rules: `version` is empty".into()));
        }
        for (i, r) in self.rules.iter().enumerate() {
            if !(0.0..=1.0).contains(&r.probability) || r.probability.is_nan() {
                return Err(CodeError::new(format!(
                    "sampling rule {i} ({}): probability {} is not between 0 and 1",
                    r.name, r.probability
                )));
            }
        }
        if let Some(max) = self.monthly_max_per_staff {
            if max < self.monthly_min_per_staff {
                return Err(CodeError::new(format!(
                    "sampling rules: monthly maximum {max} is below the minimum {}",
                    self.monthly_min_per_staff
                )));
            }
        }
        Ok(())
    }
}

/// The facts of one signing that rules match on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signing<'a> {
    pub accession: &'a str,
    pub modality: &'a Modality,
    pub exam_item: &'a str,
    pub department: Option<&'a str>,
    pub patient_source: Option<PatientSource>,
    pub follow_up: bool,
    pub signer: &'a StaffCode,
}

/// Where the signing doctor stands this month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffMonth {
    /// Reports of this doctor already sampled this month.
    pub sampled: u32,
    /// Day of the month (1-based) and the month's length.
    pub day: u32,
    pub days_in_month: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Why {
    /// The rule at this index matched and the draw fell below its probability (or not).
    Rule {
        index: usize,
    },
    NoRuleMatched,
    /// The doctor already reached the monthly maximum.
    MonthlyMaximum,
    /// The doctor is behind the monthly minimum: the probability was raised.
    CatchUp {
        index: Option<usize>,
    },
}

/// A sampling decision, with everything an auditor needs to recompute it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub sampled: bool,
    /// The draw, 0 ≤ draw < 1,000,000.
    pub draw: u32,
    /// Sampled when draw < threshold (parts per million).
    pub threshold: u32,
    #[serde(flatten)]
    pub why: Why,
}

fn matches(rule: &SamplingRule, s: &Signing) -> bool {
    (rule.modality.is_empty() || rule.modality.contains(s.modality))
        && (rule.exam_item.is_empty() || rule.exam_item.iter().any(|i| i == s.exam_item))
        && (rule.department.is_empty() || s.department.is_some_and(|d| rule.department.iter().any(|x| x == d)))
        && (rule.patient_source.is_empty() || s.patient_source.is_some_and(|p| rule.patient_source.contains(&p)))
        && rule.follow_up.is_none_or(|f| f == s.follow_up)
        && (rule.staff.is_empty() || rule.staff.contains(s.signer))
}

/// The draw for an accession: HMAC-SHA256 under the site key of the rules' version and the
/// accession, reduced to parts per million.
pub fn draw(site_key: &[u8], rules_version: &str, accession: &str) -> u32 {
    let mut mac = Hmac::<Sha256>::new_from_slice(site_key).expect("HMAC takes any key length");
    mac.update(rules_version.as_bytes());
    mac.update(&[0]);
    mac.update(accession.as_bytes());
    let bytes = mac.finalize().into_bytes();
    let n = u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
    (n % u64::from(PPM)) as u32
}

/// The days at the end of a month when a doctor still below the minimum is always sampled.
const LAST_DAYS: u32 = 3;

/// Decides whether a signing is sampled.
pub fn decide(rules: &SamplingRules, signing: &Signing, month: StaffMonth, site_key: &[u8]) -> Decision {
    let draw = draw(site_key, &rules.version, signing.accession);
    if rules.monthly_max_per_staff.is_some_and(|max| month.sampled >= max) {
        return Decision { sampled: false, draw, threshold: 0, why: Why::MonthlyMaximum };
    }
    let rule = rules.rules.iter().position(|r| matches(r, signing));
    let base = rule.map_or(0, |i| (rules.rules[i].probability * f64::from(PPM)).round() as u32);
    let min = rules.monthly_min_per_staff;
    // Behind schedule: the share of the minimum due by today is not reached yet.
    let due = (u64::from(min) * u64::from(month.day)).div_ceil(u64::from(month.days_in_month.max(1)));
    let behind = min > 0 && u64::from(month.sampled) < due;
    let (threshold, why) = if behind && month.day + LAST_DAYS > month.days_in_month {
        (PPM, Why::CatchUp { index: rule })
    } else if behind && base < PPM / 2 {
        (PPM / 2, Why::CatchUp { index: rule })
    } else {
        (base, rule.map_or(Why::NoRuleMatched, |index| Why::Rule { index }))
    };
    Decision { sampled: draw < threshold, draw, threshold, why }
}
