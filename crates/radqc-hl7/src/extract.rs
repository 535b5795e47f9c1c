//! What a message says about exams, by a [`Mapping`]: its kind, the patient, and one
//! [`ExamFacts`] per order group (an ORC, or an OBR without one, with the OBR, IPC and OBX
//! segments after it), each field from the first of its paths that has a value: the group's
//! own segments first, then the message's (PID, PV1). A field that is wrong refuses the whole
//! message (`AE`, naming the field), so nothing is half-applied.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use radqc_domain::{Modality, PatientSource, Sex, SiteZone};
use serde::{Deserialize, Serialize};

use crate::ack::{ErrorCondition, Refusal};
use crate::mapping::{Kind, Mapping};
use crate::message::{Message, Path, Segment};

/// A report's status (OBR-25).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    /// `P`: preliminary (written, not yet verified).
    Preliminary,
    /// `F`: final (verified: 审核).
    Final,
    /// `C`: a correction of a final report.
    Corrected,
    /// Another OBR-25 value (e.g. `I`, `R`), kept as sent.
    Other(String),
}

/// The report of a result message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFacts {
    pub status: ResultStatus,
    /// 影像所见.
    pub findings: Option<String>,
    /// 诊断意见.
    pub impression: Option<String>,
    pub reported_at: Option<DateTime<Utc>>,
}

/// What one order group says about its exam; `None` where the message does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExamFacts {
    pub accession: String,
    pub exam_item: Option<String>,
    pub exam_code: Option<String>,
    pub modality: Option<Modality>,
    pub department: Option<String>,
    pub patient_source: Option<PatientSource>,
    pub follow_up: Option<bool>,
    /// Staff codes as the RIS sends them (mapped to the roster later, never dropped).
    pub ordering_clinician: Option<String>,
    pub technologist: Option<String>,
    pub reporting_doctor: Option<String>,
    pub auditing_doctor: Option<String>,
    /// ORC-1 and ORC-5 as sent.
    pub order_control: Option<String>,
    pub order_status: Option<String>,
    /// Performed (ORC-5 in the mapping's `performed_statuses`), or a result about it.
    pub performed: bool,
    /// Cancelled or discontinued (ORC-1 or ORC-5 in the mapping's `cancelled`).
    pub cancelled: bool,
    pub performed_at: Option<DateTime<Utc>>,
    pub report: Option<ReportFacts>,
}

/// The patient of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientFacts {
    pub id: Option<String>,
    pub name: Option<String>,
    pub sex: Option<Sex>,
    pub birth_date: Option<NaiveDate>,
    /// Age in whole years: as sent, or from the birth date at the exam's (or the message's) time.
    pub age: Option<u8>,
}

/// One message, read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbound {
    /// MSH-10: a repeated message (the same id from the same sender) is applied once.
    pub control_id: String,
    /// MSH-3 and MSH-4: who sent it.
    pub sender: String,
    /// `ORM^O01`.
    pub message_type: String,
    pub kind: Kind,
    /// MSH-7: the source time, by which a later message's field wins over an earlier one's.
    pub sent_at: Option<DateTime<Utc>>,
    pub patient: PatientFacts,
    /// ADT^A40: the patient id merged into `patient.id`.
    pub merge_from: Option<String>,
    pub exams: Vec<ExamFacts>,
}

/// Reads `message` by `mapping`; times without an offset are the site's (`zone`).
pub fn extract(message: &Message, mapping: &Mapping, zone: SiteZone) -> Result<Inbound, Refusal> {
    let (ty, trigger) = message.message_type();
    let message_type = format!("{ty}^{trigger}");
    let Some(kind) = mapping.messages.get(&message_type).copied() else {
        let known: Vec<&str> = mapping.messages.keys().map(String::as_str).collect();
        let condition = if mapping.messages.keys().any(|k| k.starts_with(&format!("{ty}^"))) {
            ErrorCondition::UnsupportedEventCode
        } else {
            ErrorCondition::UnsupportedMessageType
        };
        return Err(Refusal::reject(
            condition,
            format!("message type {message_type} is not taken (taken: {})", known.join(", ")),
        ));
    };
    let control_id = message.control_id().ok_or_else(|| {
        Refusal::error(ErrorCondition::RequiredFieldMissing, Some("MSH-10"), "MSH-10 (the message control id) is empty")
    })?;
    if control_id.chars().count() > 199 {
        return Err(Refusal::error(
            ErrorCondition::DataTypeError,
            Some("MSH-10"),
            "MSH-10 is longer than 199 characters",
        ));
    }
    let sender = format!("{}^{}", message.header(3).unwrap_or_default(), message.header(4).unwrap_or_default());
    let sent_at = match message.header(7) {
        Some(t) => {
            Some(time(&t, zone).ok_or_else(|| bad("MSH-7", &t, "a time like 20261202073000 or 20261202073000+0800"))?)
        }
        None => None,
    };
    let top = Context { message, mapping, group: &[] };
    let mut patient = PatientFacts {
        id: top.text("patient_id")?,
        name: top.text("patient_name")?,
        sex: None,
        birth_date: None,
        age: None,
    };
    if let Some((path, raw)) = top.first("sex") {
        let code = mapping.sex.get(&raw.to_uppercase()).or_else(|| mapping.sex.get(&raw));
        let code = code.ok_or_else(|| {
            Refusal::error(
                ErrorCondition::TableValueNotFound,
                Some(&path),
                format!("{path} `{raw}` is not a sex the mapping knows ({})", keys(&mapping.sex)),
            )
        })?;
        patient.sex = Some(code.parse().expect("the mapping's sex values were checked"));
    }
    if let Some((path, raw)) = top.first("birth_date") {
        let day = raw.get(..8).and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok());
        patient.birth_date = Some(day.ok_or_else(|| bad(&path, &raw, "a date like 19700131"))?);
    }
    if let Some((path, raw)) = top.first("age") {
        let digits: String = raw.chars().take_while(char::is_ascii_digit).collect();
        patient.age = Some(
            digits
                .parse::<u8>()
                .ok()
                .filter(|a| *a <= 150)
                .ok_or_else(|| bad(&path, &raw, "an age in years, 0-150"))?,
        );
    }
    if patient.id.as_ref().is_some_and(|id| id.chars().count() > 64) {
        return Err(bad(
            &field_path(mapping, "patient_id"),
            patient.id.as_deref().unwrap_or(""),
            "at most 64 characters",
        ));
    }
    let merge_from = top.text("merge_from")?;
    if kind == Kind::PatientMerge && (merge_from.is_none() || patient.id.is_none()) {
        return Err(Refusal::error(
            ErrorCondition::RequiredFieldMissing,
            Some(&field_path(mapping, if patient.id.is_none() { "patient_id" } else { "merge_from" })),
            "a merge (ADT^A40) needs the surviving patient id and the merged one (MRG-1)",
        ));
    }
    let mut exams = Vec::new();
    if matches!(kind, Kind::Order | Kind::Result) {
        for group in groups(&message.segments) {
            let ctx = Context { message, mapping, group };
            exams.push(ctx.exam(kind, zone)?);
        }
        if exams.is_empty() {
            return Err(Refusal::error(
                ErrorCondition::SegmentSequence,
                Some("ORC"),
                format!("{message_type} has no order (no ORC or OBR segment)"),
            ));
        }
    }
    if patient.age.is_none() {
        let at = exams.iter().find_map(|e| e.performed_at).or(sent_at);
        patient.age = patient.birth_date.zip(at).and_then(|(b, at)| years(b, at.date_naive()));
    }
    Ok(Inbound { control_id, sender, message_type, kind, sent_at, patient, merge_from, exams })
}

fn keys(m: &std::collections::BTreeMap<String, String>) -> String {
    m.keys().cloned().collect::<Vec<_>>().join(", ")
}

fn bad(path: &str, raw: &str, want: &str) -> Refusal {
    let shown: String = raw.chars().take(40).collect();
    Refusal::error(ErrorCondition::DataTypeError, Some(path), format!("{path} `{shown}` is not {want}"))
}

/// The first path of a field, for a message naming it.
fn field_path(mapping: &Mapping, name: &str) -> String {
    mapping.paths(name).first().map_or_else(|| name.to_owned(), |p| format!("{}-{}", p.segment, p.field))
}

/// Whole years from `birth` to `at`.
fn years(birth: NaiveDate, at: NaiveDate) -> Option<u8> {
    use chrono::Datelike;
    let mut y = at.year() - birth.year();
    if (at.month(), at.day()) < (birth.month(), birth.day()) {
        y -= 1;
    }
    u8::try_from(y).ok().filter(|y| *y <= 150)
}

/// An HL7 time (DTM): `YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]`; without an offset, the site's.
pub fn time(raw: &str, zone: SiteZone) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    let (body, offset) = match raw.find(['+', '-']) {
        Some(i) => (&raw[..i], Some(&raw[i..])),
        None => (raw, None),
    };
    let (main, _fraction) = body.split_once('.').unwrap_or((body, ""));
    if !main.chars().all(|c| c.is_ascii_digit()) || !matches!(main.len(), 8 | 10 | 12 | 14) {
        return None;
    }
    let padded = format!("{main:0<14}");
    let naive = NaiveDateTime::parse_from_str(&padded, "%Y%m%d%H%M%S").ok()?;
    match offset {
        Some(o) => {
            if o.len() != 5 || !o[1..].chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let h: i32 = o[1..3].parse().ok()?;
            let m: i32 = o[3..5].parse().ok()?;
            let secs = (h * 3600 + m * 60) * if o.starts_with('-') { -1 } else { 1 };
            let fixed = chrono::FixedOffset::east_opt(secs)?;
            Some(naive.and_local_timezone(fixed).single()?.with_timezone(&Utc))
        }
        None => Some(zone.at_local(naive)),
    }
}

/// The order groups: from each ORC (or an OBR with no ORC before it in its group) to the next.
fn groups(segments: &[Segment]) -> Vec<&[Segment]> {
    let mut starts = Vec::new();
    let mut has_obr = false;
    for (i, s) in segments.iter().enumerate() {
        match s.id.as_str() {
            "ORC" => {
                starts.push(i);
                has_obr = false;
            }
            "OBR" if has_obr || starts.is_empty() => {
                starts.push(i);
                has_obr = true;
            }
            "OBR" => has_obr = true,
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (n, start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(segments.len());
        out.push(&segments[*start..end]);
    }
    out
}

struct Context<'a> {
    message: &'a Message,
    mapping: &'a Mapping,
    group: &'a [Segment],
}

impl Context<'_> {
    /// The first path of `field` with a value: in the group, then in the message.
    fn first(&self, field: &str) -> Option<(String, String)> {
        for path in self.mapping.paths(field) {
            if let Some(v) = self.lookup(path) {
                return Some((format!("{}-{}", path.segment, path.field), v));
            }
        }
        None
    }

    fn lookup(&self, path: &Path) -> Option<String> {
        let in_group = self.group.iter().filter(|s| s.id == path.segment).find_map(|s| self.message.value(s, path));
        if in_group.is_some() {
            return in_group;
        }
        // Order-level segments are the group's own: an ORC/OBR/IPC/OBX of another order never
        // speaks for this one.
        if matches!(path.segment.as_str(), "ORC" | "OBR" | "IPC" | "OBX" | "TQ1" | "NTE") {
            return None;
        }
        self.message.get(path)
    }

    /// A text field, at most 200 characters.
    fn text(&self, field: &str) -> Result<Option<String>, Refusal> {
        match self.first(field) {
            Some((path, v)) if v.chars().count() > 200 => Err(bad(&path, &v, "at most 200 characters")),
            Some((_, v)) => Ok(Some(v)),
            None => Ok(None),
        }
    }

    /// A staff code as sent, checked to be a code RadQC can keep.
    fn staff(&self, field: &str) -> Result<Option<String>, Refusal> {
        match self.first(field) {
            Some((path, v)) => match v.parse::<radqc_domain::StaffCode>() {
                Ok(_) => Ok(Some(v)),
                Err(e) => Err(bad(&path, &v, &format!("a staff code ({e})"))),
            },
            None => Ok(None),
        }
    }

    fn time(&self, field: &str, zone: SiteZone) -> Result<Option<DateTime<Utc>>, Refusal> {
        match self.first(field) {
            Some((path, v)) => Ok(Some(time(&v, zone).ok_or_else(|| bad(&path, &v, "a time like 20261202073000"))?)),
            None => Ok(None),
        }
    }

    fn exam(&self, kind: Kind, zone: SiteZone) -> Result<ExamFacts, Refusal> {
        let m = self.mapping;
        let accession = self.text("accession")?.ok_or_else(|| {
            Refusal::error(
                ErrorCondition::RequiredFieldMissing,
                Some(&field_path(m, "accession")),
                format!("the order has no accession number (looked in {})", m.fields.accession.join(", ")),
            )
        })?;
        if accession.chars().count() > 64 || accession.chars().any(char::is_control) {
            return Err(bad(&field_path(m, "accession"), &accession, "an accession number of at most 64 characters"));
        }
        let modality = match self.first("modality") {
            Some((path, raw)) => {
                let word = raw.trim().to_uppercase();
                let word = m.modalities.get(&word).cloned().unwrap_or(word);
                Some(word.parse::<Modality>().map_err(|e| bad(&path, &raw, &e.to_string()))?)
            }
            None => None,
        };
        let patient_source = match self.first("patient_class") {
            Some((path, raw)) => match m.patient_class.get(&raw.to_uppercase()) {
                Some(s) => Some(s.parse().expect("the mapping's patient classes were checked")),
                None => {
                    return Err(Refusal::error(
                        ErrorCondition::TableValueNotFound,
                        Some(&path),
                        format!("{path} `{raw}` is not a patient class the mapping knows ({})", keys(&m.patient_class)),
                    ))
                }
            },
            None => None,
        };
        let follow_up = self.first("follow_up").map(|(_, v)| {
            let v = v.to_uppercase();
            m.follow_up_words.iter().any(|w| v.contains(&w.to_uppercase()))
        });
        let order_control = self.text("order_control")?;
        let order_status = self.text("order_status")?;
        let is = |v: &Option<String>, list: &[String]| {
            v.as_ref().is_some_and(|v| list.iter().any(|l| l.eq_ignore_ascii_case(v)))
        };
        let cancelled = is(&order_control, &m.cancelled) || is(&order_status, &m.cancelled);
        let report = if kind == Kind::Result {
            let status = match self.first("result_status") {
                Some((_, s)) => match s.to_uppercase().as_str() {
                    "P" => ResultStatus::Preliminary,
                    "F" => ResultStatus::Final,
                    "C" => ResultStatus::Corrected,
                    other => ResultStatus::Other(other.to_owned()),
                },
                None => {
                    return Err(Refusal::error(
                        ErrorCondition::RequiredFieldMissing,
                        Some(&field_path(m, "result_status")),
                        "a result has no status (OBR-25: P, F or C)",
                    ))
                }
            };
            Some(ReportFacts {
                status,
                findings: self.observations(&m.findings_codes),
                impression: self.observations(&m.impression_codes),
                reported_at: self.time("reported_at", zone)?,
            })
        } else {
            None
        };
        let performed = !cancelled && (is(&order_status, &m.performed_statuses) || kind == Kind::Result);
        let performed_at = self.time("performed_at", zone)?;
        let facts = ExamFacts {
            accession,
            exam_item: self.text("exam_item")?,
            exam_code: self.text("exam_code")?,
            modality,
            department: self.text("department")?,
            patient_source,
            follow_up,
            ordering_clinician: self.staff("ordering_clinician")?,
            technologist: self.staff("technologist")?,
            reporting_doctor: self.staff("reporting_doctor")?,
            auditing_doctor: self.staff("auditing_doctor")?,
            order_control,
            order_status,
            performed,
            cancelled,
            performed_at,
            report,
        };
        // An order names what is done: without its modality and item the exam cannot be counted
        // (a result or a cancel may leave them to the order).
        if kind == Kind::Order && !facts.cancelled {
            for (name, missing) in [("modality", facts.modality.is_none()), ("exam_item", facts.exam_item.is_none())] {
                if missing {
                    let list = self
                        .mapping
                        .paths(name)
                        .iter()
                        .map(|p| format!("{}-{}", p.segment, p.field))
                        .collect::<Vec<_>>();
                    return Err(Refusal::error(
                        ErrorCondition::RequiredFieldMissing,
                        Some(&field_path(m, name)),
                        format!("order {} has no {name} (looked in {})", facts.accession, list.join(", ")),
                    ));
                }
            }
        }
        Ok(facts)
    }

    /// The OBX-5 values of the group's OBX segments whose OBX-3 (identifier or text) is one of
    /// `codes`, in order, repetitions and segments joined by line breaks.
    fn observations(&self, codes: &[String]) -> Option<String> {
        let d = &self.message.delimiters;
        let id = |c: usize| Path { segment: "OBX".into(), field: 3, repetition: 1, component: c, subcomponent: 1 };
        let mut parts = Vec::new();
        for s in self.group.iter().filter(|s| s.id == "OBX") {
            let matches = [1, 2].iter().any(|c| {
                self.message.value(s, &id(*c)).is_some_and(|v| codes.iter().any(|code| code.eq_ignore_ascii_case(&v)))
            });
            if !matches {
                continue;
            }
            for r in 1..=s.repetitions(5, d) {
                let path = Path { segment: "OBX".into(), field: 5, repetition: r, component: 1, subcomponent: 1 };
                // A text value (TX, FT, ST) is the whole repetition, components and all.
                let raw = s.raw_field_repetition(5, r, d);
                if let Some(raw) = raw {
                    let v = d.unescape(raw, self.message.charset);
                    let v = v.trim();
                    if !v.is_empty() && v != "\"\"" {
                        parts.push(v.to_owned());
                    }
                } else if let Some(v) = self.message.value(s, &path) {
                    parts.push(v);
                }
            }
        }
        (!parts.is_empty()).then(|| parts.join("\n"))
    }
}
