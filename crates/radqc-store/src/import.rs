//! A clinic's worklist (检查登记表) exported from its RIS as a spreadsheet: the rows, read by a
//! column mapping that is data (`assets/import/worklist.json`, Chinese and English headers by
//! default), become exam facts like an HL7 message's, kept in `exam_sources` (source `import`)
//! and merged into the exams the same way. A row is keyed by its content, so importing the same
//! file again, or one that overlaps it, adds nothing twice. A dry run checks every row and
//! writes nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use radqc_domain::{Modality, PatientSource, Sex, SiteZone};
use radqc_hl7::{ExamFacts, PatientFacts};
use rusqlite::{params, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{invalid, StoreError};
use crate::hl7::SourceFacts;
use crate::store::{ts, Store};

/// The bundled default worklist mapping.
pub const DEFAULT_WORKLIST_MAPPING: &str = include_str!("../../../assets/import/worklist.json");

/// Which column holds what, and what the cells' words mean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorklistMapping {
    pub name: String,
    /// Field → the headers it may have (the first present wins).
    pub columns: BTreeMap<String, Vec<String>>,
    /// Field → cell word → value (`sex`: F/M/O/U; `patient_source`; `follow_up`: true/false;
    /// `status`: performed/scheduled/cancelled).
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// How times are written (local to the site), tried in order.
    pub time_formats: Vec<String>,
    /// A clinic's modality words → the code RadQC counts.
    #[serde(default)]
    pub modalities: BTreeMap<String, String>,
}

const FIELDS: &[&str] = &[
    "accession",
    "modality",
    "exam_item",
    "department",
    "patient_source",
    "follow_up",
    "patient_id",
    "sex",
    "age",
    "birth_date",
    "technologist",
    "reporting_doctor",
    "auditing_doctor",
    "ordering_clinician",
    "performed_at",
    "status",
];

impl WorklistMapping {
    pub fn bundled() -> WorklistMapping {
        WorklistMapping::from_json(DEFAULT_WORKLIST_MAPPING).expect("the bundled worklist mapping reads")
    }

    /// A mapping file's text, checked: known fields only, an accession column.
    pub fn from_json(text: &str) -> Result<WorklistMapping, StoreError> {
        let m: WorklistMapping =
            serde_json::from_str(text).map_err(|e| invalid("mapping", format!("does not read: {e}")))?;
        for field in m.columns.keys().chain(m.values.keys()) {
            if !FIELDS.contains(&field.as_str()) {
                return Err(invalid("mapping", format!("`{field}` is not a worklist field ({})", FIELDS.join(", "))));
            }
        }
        if m.columns.get("accession").is_none_or(Vec::is_empty) {
            return Err(invalid("mapping", "names no accession column: every exam needs its accession"));
        }
        Ok(m)
    }
}

/// Why a row does not read, in both languages.
struct Why {
    zh: String,
    en: String,
}

/// A row that does not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BadRow {
    /// The row's number in the file (the header is row 1).
    pub row: usize,
    /// Why, naming the column (in English; the column as the file heads it).
    pub reason: String,
    /// The same in Chinese.
    pub reason_zh: String,
}

/// What an import did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    pub dry_run: bool,
    pub rows: usize,
    /// Rows not seen before (kept and merged).
    pub new_rows: usize,
    /// Rows already imported (from this file or another): nothing changed for them.
    pub unchanged: usize,
    pub bad: Vec<BadRow>,
}

impl Store {
    /// Imports a worklist's rows (`header` and the rows' cells as text, rows numbered from 2).
    /// With bad rows, nothing is written unless `skip_bad` (then the good ones are); a dry run
    /// writes nothing and reports what an import would do.
    pub fn import_worklist(
        &mut self,
        mapping: &WorklistMapping,
        header: &[String],
        rows: &[Vec<String>],
        dry_run: bool,
        skip_bad: bool,
        now: DateTime<Utc>,
    ) -> Result<ImportReport, StoreError> {
        let zone = self.time_zone()?;
        let columns = column_index(mapping, header)?;
        let mut good = Vec::new();
        let mut bad = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, cells) in rows.iter().enumerate() {
            let number = i + 2;
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            match read_row(mapping, &columns, cells, zone) {
                Ok(facts) => {
                    let key = row_key(&facts);
                    if seen.insert(key.clone()) {
                        good.push((number, key, facts));
                    }
                }
                Err(why) => bad.push(BadRow { row: number, reason: why.en, reason_zh: why.zh }),
            }
        }
        let total = good.len() + bad.len();
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let mut new_rows = 0;
        let mut unchanged = 0;
        for (_, key, _) in &good {
            let known: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM exam_sources WHERE source = 'import' AND source_ref = ?1)",
                [key],
                |r| r.get(0),
            )?;
            if known {
                unchanged += 1;
            } else {
                new_rows += 1;
            }
        }
        let report = ImportReport { dry_run, rows: total, new_rows, unchanged, bad };
        if dry_run || (!report.bad.is_empty() && !skip_bad) {
            drop(tx);
            return Ok(report);
        }
        for (_, key, facts) in &good {
            let time = facts.exam.performed_at.unwrap_or(now);
            let inserted = tx.execute(
                "INSERT INTO exam_sources (site, accession, source, source_ref, source_time, facts, received_at)
                 VALUES (?1, ?2, 'import', ?3, ?4, ?5, ?6) ON CONFLICT (source, source_ref, accession) DO NOTHING",
                params![
                    self.site.as_str(),
                    facts.exam.accession,
                    key,
                    ts(time),
                    serde_json::to_string(facts).expect("facts serialize"),
                    ts(now)
                ],
            )?;
            if inserted > 0 {
                self.merge_exam(&tx, &facts.exam.accession, now)?;
            }
        }
        let detail = format!("{} new, {} unchanged, {} bad", report.new_rows, report.unchanged, report.bad.len());
        Self::log(&tx, "import", "worklist_imported", Some(&mapping.name), Some(&detail), now)?;
        tx.commit()?;
        Ok(report)
    }
}

/// Each field's column, by the mapping's headers (trimmed, any case).
fn column_index(mapping: &WorklistMapping, header: &[String]) -> Result<BTreeMap<String, usize>, StoreError> {
    let mut out = BTreeMap::new();
    for (field, names) in &mapping.columns {
        let found = names.iter().find_map(|n| header.iter().position(|h| h.trim().eq_ignore_ascii_case(n.trim())));
        if let Some(i) = found {
            out.insert(field.clone(), i);
        }
    }
    for required in ["accession", "modality", "exam_item"] {
        if !out.contains_key(required) {
            let names = mapping.columns.get(required).map(|n| n.join(" / ")).unwrap_or_default();
            return Err(invalid(
                "worklist",
                format!("has no column for {required} (looked for {names}; the header has {})", header.join(", ")),
            ));
        }
    }
    Ok(out)
}

/// The facts of one row, or why it does not read (naming the column).
fn read_row(
    m: &WorklistMapping,
    columns: &BTreeMap<String, usize>,
    cells: &[String],
    zone: SiteZone,
) -> Result<SourceFacts, Why> {
    let cell = |field: &str| -> Option<String> {
        let i = *columns.get(field)?;
        let v = cells.get(i)?.trim();
        (!v.is_empty()).then(|| v.to_owned())
    };
    let header =
        |field: &str| m.columns.get(field).and_then(|n| n.first()).cloned().unwrap_or_else(|| field.to_owned());
    let word = |field: &str, v: &str| -> Result<String, Why> {
        match m.values.get(field) {
            Some(words) => words.get(v).or_else(|| words.get(&v.to_lowercase())).cloned().ok_or_else(|| {
                let known: Vec<&str> = words.keys().map(String::as_str).filter(|k| !k.is_empty()).collect();
                Why {
                    zh: format!("{}「{v}」不是以下之一：{}", header(field), known.join("、")),
                    en: format!("{} `{v}` is not one of {}", header(field), known.join(", ")),
                }
            }),
            None => Ok(v.to_owned()),
        }
    };
    let text = |field: &str| -> Result<Option<String>, Why> {
        match cell(field) {
            Some(v) if v.chars().count() > 200 || v.chars().any(char::is_control) => Err(Why {
                zh: format!("{}超过 200 个字符或含控制字符", header(field)),
                en: format!("{} is longer than 200 characters or has control characters", header(field)),
            }),
            other => Ok(other),
        }
    };
    let staff = |field: &str| -> Result<Option<String>, Why> {
        match text(field)? {
            Some(v) => v.parse::<radqc_domain::StaffCode>().map(|_| Some(v.clone())).map_err(|e| Why {
                zh: format!("{}「{v}」不是有效的工号", header(field)),
                en: format!("{}: {e}", header(field)),
            }),
            None => Ok(None),
        }
    };
    let empty = |field: &str| Why { zh: format!("{}为空", header(field)), en: format!("{} is empty", header(field)) };
    let accession = text("accession")?.ok_or_else(|| empty("accession"))?;
    if accession.chars().count() > 64 {
        return Err(Why {
            zh: format!("{}「{accession}」超过 64 个字符", header("accession")),
            en: format!("{} `{accession}` is longer than 64 characters", header("accession")),
        });
    }
    let modality = text("modality")?.ok_or_else(|| empty("modality"))?;
    let modality = modality.to_uppercase();
    let modality = m.modalities.get(&modality).cloned().unwrap_or(modality);
    let modality: Modality = modality.parse().map_err(|e: radqc_domain::CodeError| Why {
        zh: format!("{}「{modality}」不是设备类型（1-8 个大写字母或数字，如 DR、CT、MR）", header("modality")),
        en: format!("{}: {e}", header("modality")),
    })?;
    let exam_item = text("exam_item")?.ok_or_else(|| empty("exam_item"))?;
    let unknown = |field: &str, v: &str, e: &dyn std::fmt::Display| Why {
        zh: format!("{}「{v}」无法识别", header(field)),
        en: format!("{}: {e}", header(field)),
    };
    let patient_source = match cell("patient_source") {
        Some(v) => {
            Some(word("patient_source", &v)?.parse::<PatientSource>().map_err(|e| unknown("patient_source", &v, &e))?)
        }
        None => None,
    };
    let follow_up = match cell("follow_up") {
        Some(v) => Some(word("follow_up", &v)? == "true"),
        None => None,
    };
    let sex = match cell("sex") {
        Some(v) => Some(word("sex", &v)?.parse::<Sex>().map_err(|e| unknown("sex", &v, &e))?),
        None => None,
    };
    let age = match cell("age") {
        Some(v) => {
            let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
            Some(digits.parse::<u8>().ok().filter(|a| *a <= 150).ok_or_else(|| Why {
                zh: format!("{}「{v}」不是年龄（0-150 岁）", header("age")),
                en: format!("{} `{v}` is not an age", header("age")),
            })?)
        }
        None => None,
    };
    let birth_date = match cell("birth_date") {
        Some(v) => Some(
            ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"].iter().find_map(|f| NaiveDate::parse_from_str(&v, f).ok()).ok_or_else(
                || Why {
                    zh: format!("{}「{v}」不是日期（如 1970-03-15）", header("birth_date")),
                    en: format!("{} `{v}` is not a date like 1970-03-15", header("birth_date")),
                },
            )?,
        ),
        None => None,
    };
    let performed_at = match cell("performed_at") {
        Some(v) => Some(
            m.time_formats
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(&v, f).ok())
                .map(|t| zone.at_local(t))
                .ok_or_else(|| Why {
                    zh: format!("{}「{v}」不是时间（如 2026-11-18 08:30）", header("performed_at")),
                    en: format!("{} `{v}` is not a time like 2026-11-18 08:30", header("performed_at")),
                })?,
        ),
        None => None,
    };
    let status = match cell("status") {
        Some(v) => word("status", &v)?,
        None => "performed".to_owned(),
    };
    if !["performed", "scheduled", "cancelled"].contains(&status.as_str()) {
        return Err(Why {
            zh: format!("{}「{status}」不是 已检查、已登记 或 已取消", header("status")),
            en: format!("{} `{status}` is not performed, scheduled or cancelled", header("status")),
        });
    }
    let exam = ExamFacts {
        accession,
        exam_item: Some(exam_item),
        exam_code: None,
        modality: Some(modality),
        department: text("department")?,
        patient_source,
        follow_up,
        ordering_clinician: staff("ordering_clinician")?,
        technologist: staff("technologist")?,
        reporting_doctor: staff("reporting_doctor")?,
        auditing_doctor: staff("auditing_doctor")?,
        order_control: None,
        order_status: Some(status.clone()),
        performed: status == "performed",
        cancelled: status == "cancelled",
        performed_at,
        report: None,
    };
    let patient = PatientFacts { id: text("patient_id")?, name: None, sex, birth_date, age };
    Ok(SourceFacts { exam, patient })
}

/// A row's key: the SHA-256 of what it says (the same row in any file is the same source).
fn row_key(facts: &SourceFacts) -> String {
    let text = serde_json::to_string(facts).expect("facts serialize");
    hex::encode(Sha256::digest(text.as_bytes()))
}
