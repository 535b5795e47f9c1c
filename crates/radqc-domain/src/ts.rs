//! TypeScript bindings (ts-rs) of the domain's text-serialized types, behind the `ts` feature.
//!
//! These types serialize by hand (`as_str`), so ts-rs cannot derive them: each becomes a union
//! of its `ALL` values, or `string` / `number` for the open codes, computed from the same data
//! the Rust side parses with. No I/O: the declarations are strings.

use std::path::PathBuf;

use ts_rs::{Config, TS};

use crate::report::Rate;
use crate::{
    Applicability, CriterionCode, CriterionKind, ExamEventKind, Grade, ItemCode, ItemKind, Modality, PatientSource,
    QcMode, Role, Score, Sex, SiteCode, StaffCode,
};

/// `"a" | "b" | …` of the given words, in their order.
pub fn union<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    words.into_iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" | ")
}

macro_rules! ts_alias {
    ($ty:ty, $name:literal, $doc:literal, $inline:expr) => {
        impl TS for $ty {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;
            fn docs() -> Option<String> {
                Some(ts_rs::format_docs(&[$doc]))
            }
            fn name(_: &Config) -> String {
                $name.to_owned()
            }
            fn inline(_: &Config) -> String {
                $inline
            }
            fn decl(cfg: &Config) -> String {
                format!("type {} = {};", $name, Self::inline(cfg))
            }
            fn decl_concrete(cfg: &Config) -> String {
                Self::decl(cfg)
            }
            fn output_path() -> Option<PathBuf> {
                Some(PathBuf::from(concat!($name, ".ts")))
            }
        }
    };
}

ts_alias!(ItemCode, "ItemCode", " A QC item (质控项目) of Appendix A.", union(ItemCode::ALL.map(ItemCode::as_str)));
ts_alias!(
    ItemKind,
    "ItemKind",
    " `normative` items are 合格/不合格; `scored` items get 1-5.",
    union(["normative", "scored"])
);
ts_alias!(
    CriterionKind,
    "CriterionKind",
    " Severe (`S`): any one forces the score to 1. Compliance (`C`): met or unmet.",
    union(["severe", "compliance"])
);
ts_alias!(Role, "Role", " Who takes part in QC (7.2.2 分级质控).", union(Role::ALL.map(Role::as_str)));
ts_alias!(
    Applicability,
    "Applies",
    " When an item applies to an exam; an item that does not apply is not scored.",
    union(Applicability::ALL.map(Applicability::as_str))
);
ts_alias!(Grade, "Grade", " The grade of an evaluation (6.4).", union(Grade::ALL.map(Grade::as_str)));
ts_alias!(
    QcMode,
    "QcMode",
    " 随机质控 at signing, 主动质控, 集中质控, and the gold standard's reads.",
    union(QcMode::ALL.iter().map(|m| m.as_str()))
);
ts_alias!(
    PatientSource,
    "PatientSource",
    " Where the patient came from.",
    union(PatientSource::ALL.iter().map(|m| m.as_str()))
);
ts_alias!(Sex, "Sex", " The patient's sex as QC needs it.", union(Sex::ALL.iter().map(|m| m.as_str())));
ts_alias!(
    ExamEventKind,
    "ExamEventKind",
    " Something that happened to an exam's report.",
    union(ExamEventKind::ALL.iter().map(|m| m.as_str()))
);
ts_alias!(
    Modality,
    "Modality",
    " An imaging modality: DR, CT, MR, or another upper-case DICOM code (1-8 letters or digits).",
    "string".to_owned()
);
ts_alias!(StaffCode, "StaffCode", " A person's code in the site's roster (工号).", "string".to_owned());
ts_alias!(SiteCode, "SiteCode", " A site's code.", "string".to_owned());
ts_alias!(CriterionCode, "CriterionCode", " A criterion code of the rubric, e.g. `IQ-C2`.", "string".to_owned());
ts_alias!(Score, "Score", " A score of a scored item: 1 to 5.", "number".to_owned());
ts_alias!(
    Rate,
    "Rate",
    " A percentage with one decimal (half to even, computed by the shell), e.g. `94.7`.",
    "number".to_owned()
);
