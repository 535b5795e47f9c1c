//! The small vocabulary every other part speaks: item and criterion codes, roles, scores, grades.
//!
//! Each type is parsed once from text and cannot hold an invalid value afterwards.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A code or value that did not parse; the message names the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CodeError(String);

impl CodeError {
    pub(crate) fn new(message: String) -> Self {
        Self(message)
    }
}

/// A QC item (质控项目) of Appendix A. The set is fixed by the standard; a region extends
/// an item's criteria, never the list of items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemCode {
    /// 申请单书写规范, application form (normative: pass / fail).
    AF,
    /// 图像质量分析, image quality.
    IQ,
    /// 胶片排版, film layout.
    FL,
    /// 三维重建质量分析, 3D reconstruction.
    TR,
    /// 报告质量, report quality.
    RQ,
    /// 审核报告质量, audited-report quality.
    AR,
}

impl ItemCode {
    /// Every item, in the standard's order.
    pub const ALL: [ItemCode; 6] = [Self::AF, Self::IQ, Self::FL, Self::TR, Self::RQ, Self::AR];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AF => "AF",
            Self::IQ => "IQ",
            Self::FL => "FL",
            Self::TR => "TR",
            Self::RQ => "RQ",
            Self::AR => "AR",
        }
    }

    /// The kind the standard gives the item (4.1): the application form is normative, the rest scored.
    pub fn kind(self) -> ItemKind {
        if self == Self::AF {
            ItemKind::Normative
        } else {
            ItemKind::Scored
        }
    }
}

impl FromStr for ItemCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| CodeError(format!("unknown item `{s}` (known: AF, IQ, FL, TR, RQ, AR)")))
    }
}

/// Normative items give a verdict (合格 / 不合格); scored items a score from 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    Normative,
    Scored,
}

/// Severe criteria (严重扣分项) force the lowest result when present; compliance criteria
/// (符合项) are met or unmet and the score follows from how many are unmet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CriterionKind {
    Severe,
    Compliance,
}

/// A criterion code such as `IQ-S1`, `RQ-C3` or `AF-2`: the item, the kind letter (none for the
/// normative item, whose criteria are all severe) and a number from 1.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CriterionCode {
    // Field order is the sort order: item, severe before compliance, then number (C2 before C10).
    item: ItemCode,
    kind: CriterionKind,
    number: u16,
    text: String,
}

impl CriterionCode {
    pub fn as_str(&self) -> &str {
        &self.text
    }
    pub fn item(&self) -> ItemCode {
        self.item
    }
    pub fn kind(&self) -> CriterionKind {
        self.kind
    }
    pub fn number(&self) -> u16 {
        self.number
    }
}

impl FromStr for CriterionCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| CodeError(format!("invalid criterion code `{s}`: {why}"));
        let (item, rest) = s.split_once('-').ok_or_else(|| bad("expected ITEM-S<n>, ITEM-C<n> or AF-<n>"))?;
        let item: ItemCode = item.parse().map_err(|e: CodeError| bad(&e.0))?;
        let (kind, digits) = match (item.kind(), rest.as_bytes().first()) {
            (ItemKind::Normative, _) => (CriterionKind::Severe, rest),
            (ItemKind::Scored, Some(b'S')) => (CriterionKind::Severe, &rest[1..]),
            (ItemKind::Scored, Some(b'C')) => (CriterionKind::Compliance, &rest[1..]),
            (ItemKind::Scored, _) => {
                return Err(bad(&format!(
                    "a criterion of {} is {}-S<n> (severe) or {}-C<n> (compliance)",
                    item.as_str(),
                    item.as_str(),
                    item.as_str()
                )))
            }
        };
        let number_ok = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
        let number: u16 = match digits.parse() {
            Ok(n) if number_ok => n,
            _ => return Err(bad("the number must be 1, 2, 3 … without leading zeros")),
        };
        Ok(Self { text: s.to_owned(), item, kind, number })
    }
}

/// Who takes part in QC (7.2.2 分级质控): the people scored and the people who score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Technologist,
    ReportingDoctor,
    AuditingDoctor,
    QcOfficer,
    DepartmentHead,
    SeniorRadiologist,
    CenterAdmin,
    OrderingClinician,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Self::Technologist,
        Self::ReportingDoctor,
        Self::AuditingDoctor,
        Self::QcOfficer,
        Self::DepartmentHead,
        Self::SeniorRadiologist,
        Self::CenterAdmin,
        Self::OrderingClinician,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Technologist => "technologist",
            Self::ReportingDoctor => "reporting_doctor",
            Self::AuditingDoctor => "auditing_doctor",
            Self::QcOfficer => "qc_officer",
            Self::DepartmentHead => "department_head",
            Self::SeniorRadiologist => "senior_radiologist",
            Self::CenterAdmin => "center_admin",
            Self::OrderingClinician => "ordering_clinician",
        }
    }

    /// The standard's Chinese name of the role.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Technologist => "技师",
            Self::ReportingDoctor => "报告医生",
            Self::AuditingDoctor => "审核医生",
            Self::QcOfficer => "质控员",
            Self::DepartmentHead => "科主任",
            Self::SeniorRadiologist => "高级职称医师",
            Self::CenterAdmin => "中心管理员",
            Self::OrderingClinician => "申请医生",
        }
    }
}

impl FromStr for Role {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|r| r.as_str()).collect();
            CodeError(format!("unknown role `{s}` (known: {})", known.join(", ")))
        })
    }
}

/// When an item applies to an exam. An item that does not apply is not scored and not counted;
/// it is never a 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Applicability {
    Always,
    /// Only where film was printed (FL).
    FilmPrinted,
    /// Only where a 3D reconstruction was requested or made (TR).
    Reconstruction,
}

impl Applicability {
    pub const ALL: [Applicability; 3] = [Self::Always, Self::FilmPrinted, Self::Reconstruction];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::FilmPrinted => "film_printed",
            Self::Reconstruction => "reconstruction",
        }
    }
}

impl FromStr for Applicability {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| {
            CodeError(format!("unknown applicability `{s}` (known: always, film_printed, reconstruction)"))
        })
    }
}

/// A score of a scored item: 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Score(u8);

impl Score {
    pub const MIN: Score = Score(1);
    pub const MAX: Score = Score(5);

    pub fn new(value: u8) -> Result<Self, CodeError> {
        if (1..=5).contains(&value) {
            Ok(Self(value))
        } else {
            Err(CodeError(format!("score {value} is outside 1-5")))
        }
    }
    pub fn get(self) -> u8 {
        self.0
    }
    /// The grade of section 6.4: 5 优秀, 4 良好, 3 合格, 2 and 1 不合格.
    pub fn grade(self) -> Grade {
        match self.0 {
            5 => Grade::Excellent,
            4 => Grade::Good,
            3 => Grade::Pass,
            _ => Grade::Fail,
        }
    }
}

/// The grade of an evaluation. Normative items are only ever `Pass` or `Fail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grade {
    Excellent,
    Good,
    Pass,
    Fail,
}

impl Grade {
    pub const ALL: [Grade; 4] = [Self::Excellent, Self::Good, Self::Pass, Self::Fail];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Excellent => "excellent",
            Self::Good => "good",
            Self::Pass => "pass",
            Self::Fail => "fail",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Excellent => "优秀",
            Self::Good => "良好",
            Self::Pass => "合格",
            Self::Fail => "不合格",
        }
    }
    pub fn passes(self) -> bool {
        self != Self::Fail
    }
}

impl FromStr for Grade {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| CodeError(format!("unknown grade `{s}` (known: excellent, good, pass, fail)")))
    }
}

impl FromStr for ItemKind {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "normative" => Ok(Self::Normative),
            "scored" => Ok(Self::Scored),
            _ => Err(CodeError(format!("unknown item kind `{s}` (known: normative, scored)"))),
        }
    }
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normative => "normative",
            Self::Scored => "scored",
        }
    }
}

impl FromStr for CriterionKind {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "severe" => Ok(Self::Severe),
            "compliance" => Ok(Self::Compliance),
            _ => Err(CodeError(format!("unknown criterion kind `{s}` (known: severe, compliance)"))),
        }
    }
}

impl CriterionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Severe => "severe",
            Self::Compliance => "compliance",
        }
    }
}

/// Every code type travels as its text form (JSON, TOML, SQL) and is parsed on the way in.
macro_rules! text_serde {
    ($($ty:ty),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
text_serde!(ItemCode, CriterionCode, Role, Applicability, Grade, ItemKind, CriterionKind);

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl Serialize for Score {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.0)
    }
}
impl<'de> Deserialize<'de> for Score {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Score::new(u8::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}
