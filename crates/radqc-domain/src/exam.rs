//! Exams and the people around them: modality, patient source, staff codes, QC modes, events.
//!
//! Parsed at every boundary (IPC, HTTP, CLI, files) into these types, never checked again.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::codes::{CodeError, Role};

/// An imaging modality: DR, CT, MR, or another DICOM modality code a region adds (DX, CR, MG …).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Modality(String);

impl Modality {
    /// The modalities the standard's figures name; a region may add others.
    pub const STANDARD: [&'static str; 3] = ["DR", "CT", "MR"];

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Modality {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(CodeError::new(format!(
                "invalid modality `{s}`: 1-8 upper-case letters or digits, such as DR, CT or MR"
            )))
        }
    }
}

/// A person's code in the site's roster (工号), e.g. `A10` or `D0042`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StaffCode(String);

impl StaffCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for StaffCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        check_label(s, 64, "staff code")?;
        Ok(Self(s.to_owned()))
    }
}

/// A site's code (a hospital department or a clinic), e.g. `NJGL` or `CLINIC-07`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteCode(String);

impl SiteCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SiteCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=32).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(CodeError::new(format!("invalid site code `{s}`: 1-32 letters, digits, '-', '_' or '.'")))
        }
    }
}

/// A free-text label that travels as an identifier: not empty, not too long, no control characters.
pub(crate) fn check_label(s: &str, max_chars: usize, what: &str) -> Result<(), CodeError> {
    if s.trim().is_empty() {
        return Err(CodeError::new(format!("{what} is empty")));
    }
    if s.chars().count() > max_chars {
        return Err(CodeError::new(format!("{what} `{s}` is longer than {max_chars} characters")));
    }
    if s.chars().any(char::is_control) || s != s.trim() {
        return Err(CodeError::new(format!(
            "{what} `{}` has control characters or surrounding spaces",
            s.escape_debug()
        )));
    }
    Ok(())
}

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal, $zh:literal;)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }
            pub fn label_zh(self) -> &'static str {
                match self { $(Self::$variant => $zh),* }
            }
        }

        impl FromStr for $name {
            type Err = CodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let known: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    CodeError::new(format!("unknown {} `{s}` (known: {})", $what, known.join(", ")))
                })
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

word_enum!(
    /// Where the patient came from (5.2 samples outpatient and emergency cases).
    PatientSource, "patient source" {
        Outpatient => "outpatient", "门诊";
        Emergency => "emergency", "急诊";
        Inpatient => "inpatient", "住院";
    }
);

word_enum!(
    /// How an evaluation started (7.2.1), plus the gold-standard double read (7.3.1).
    QcMode, "QC mode" {
        Random => "random", "随机质控";
        Active => "active", "主动质控";
        Centralized => "centralized", "集中质控";
        Gold => "gold", "金标准";
    }
);

word_enum!(
    /// Something that happened to an exam's report: the denominators of workload and sampling.
    ExamEventKind, "exam event" {
        ReportSigned => "report_signed", "报告签发";
        ReportAudited => "report_audited", "报告审核";
    }
);

word_enum!(
    /// The patient's sex as QC needs it.
    Sex, "sex" {
        Female => "F", "女";
        Male => "M", "男";
        Other => "O", "其他";
        Unknown => "U", "未知";
    }
);

macro_rules! string_serde {
    ($($ty:ty),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
string_serde!(Modality, StaffCode, SiteCode);

/// The staff of one exam, by the role they played in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExamStaff {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technologist: Option<StaffCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporting_doctor: Option<StaffCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auditing_doctor: Option<StaffCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering_clinician: Option<StaffCode>,
}

impl ExamStaff {
    /// The person who played `role` in the exam: whom an item scored against that role scores.
    pub fn person_in(&self, role: Role) -> Option<&StaffCode> {
        match role {
            Role::Technologist => self.technologist.as_ref(),
            Role::ReportingDoctor => self.reporting_doctor.as_ref(),
            Role::AuditingDoctor => self.auditing_doctor.as_ref(),
            Role::OrderingClinician => self.ordering_clinician.as_ref(),
            _ => None,
        }
    }
}
