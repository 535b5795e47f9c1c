//! Which field of which message carries what RadQC needs: data, because hospitals differ
//! (which OBX holds the findings, which field names the technologist). The default,
//! `assets/hl7/mapping.json`, follows IHE Radiology Scheduled Workflow; a hospital's file names
//! only what differs (`"extends": "default"`), and every path is checked when it is read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::message::Path;

/// The bundled default mapping (IHE Radiology Scheduled Workflow).
pub const DEFAULT_MAPPING: &str = include_str!("../../../assets/hl7/mapping.json");

/// What a message type is for RadQC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An order (ORM^O01, OMI^O23, OMG^O19), and with ORC-5 its status: scheduled, performed
    /// (with the technologist and time), cancelled.
    Order,
    /// A result (ORU^R01): the report's text, its doctors and status (OBR-25 P, F, C).
    Result,
    /// Patient data changed (ADT^A08, ADT^A31).
    PatientUpdate,
    /// Two patient ids merged (ADT^A40): MRG-1 into PID-3.
    PatientMerge,
}

/// The fields RadQC reads, each from the first path of its list that has a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fields {
    pub accession: Vec<String>,
    pub exam_item: Vec<String>,
    pub exam_code: Vec<String>,
    pub modality: Vec<String>,
    pub department: Vec<String>,
    pub patient_class: Vec<String>,
    pub ordering_clinician: Vec<String>,
    pub technologist: Vec<String>,
    pub performed_at: Vec<String>,
    pub order_control: Vec<String>,
    pub order_status: Vec<String>,
    pub result_status: Vec<String>,
    pub reporting_doctor: Vec<String>,
    pub auditing_doctor: Vec<String>,
    pub reported_at: Vec<String>,
    pub patient_id: Vec<String>,
    pub patient_name: Vec<String>,
    pub sex: Vec<String>,
    pub birth_date: Vec<String>,
    pub age: Vec<String>,
    pub follow_up: Vec<String>,
    pub merge_from: Vec<String>,
}

/// A hospital's mapping, as its file reads: anything absent is the default's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(default)]
    extends: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    messages: Option<BTreeMap<String, Kind>>,
    #[serde(default)]
    fields: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    findings_codes: Option<Vec<String>>,
    #[serde(default)]
    impression_codes: Option<Vec<String>>,
    #[serde(default)]
    patient_class: Option<BTreeMap<String, String>>,
    #[serde(default)]
    sex: Option<BTreeMap<String, String>>,
    #[serde(default)]
    performed_statuses: Option<Vec<String>>,
    #[serde(default)]
    cancelled: Option<Vec<String>>,
    #[serde(default)]
    follow_up_words: Option<Vec<String>>,
    #[serde(default)]
    modalities: Option<BTreeMap<String, String>>,
}

/// A mapping in force, every path parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mapping {
    pub name: String,
    /// `ORM^O01` → what it is; a type not listed is refused (`AR`).
    pub messages: BTreeMap<String, Kind>,
    pub fields: Fields,
    /// OBX-3 codes (identifier or text, any case) whose OBX-5 is the findings (影像所见).
    pub findings_codes: Vec<String>,
    /// OBX-3 codes whose OBX-5 is the impression (诊断意见).
    pub impression_codes: Vec<String>,
    /// PV1-2 (patient class) → `outpatient`, `emergency`, `inpatient`.
    pub patient_class: BTreeMap<String, String>,
    /// PID-8 → `F`, `M`, `O`, `U`.
    pub sex: BTreeMap<String, String>,
    /// ORC-5 values that mean the exam was performed (its technologist and time count).
    pub performed_statuses: Vec<String>,
    /// ORC-1 or ORC-5 values that cancel the order (it is not workload).
    pub cancelled: Vec<String>,
    /// Words in the follow-up field that make the exam a follow-up case (随访).
    pub follow_up_words: Vec<String>,
    /// A hospital's modality words → the code RadQC counts (e.g. `CR` → `DR`).
    pub modalities: BTreeMap<String, String>,
    #[serde(skip)]
    paths: BTreeMap<&'static str, Vec<Path>>,
}

/// Why a mapping file does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the HL7 mapping {what}: {message}")]
pub struct MappingError {
    pub what: String,
    pub message: String,
}

impl Mapping {
    /// The bundled default.
    pub fn bundled() -> Mapping {
        Mapping::from_json(DEFAULT_MAPPING, "assets/hl7/mapping.json").expect("the bundled HL7 mapping reads")
    }

    /// A mapping file's text: a whole mapping, or one that `extends` the default and names
    /// only what differs.
    pub fn from_json(text: &str, what: &str) -> Result<Mapping, MappingError> {
        let err = |message: String| MappingError { what: what.to_owned(), message };
        let file: MappingFile = serde_json::from_str(text).map_err(|e| err(e.to_string()))?;
        let base = match file.extends.as_deref() {
            None => None,
            Some("default") => Some(Mapping::bundled()),
            Some(other) => return Err(err(format!("`extends` may name only \"default\", not `{other}`"))),
        };
        let mut fields: BTreeMap<String, Vec<String>> = match &base {
            Some(b) => serde_json::from_value(serde_json::to_value(&b.fields).expect("fields serialize"))
                .expect("fields read back"),
            None => BTreeMap::new(),
        };
        for (k, v) in &file.fields {
            fields.insert(k.clone(), v.clone());
        }
        let fields: Fields = serde_json::from_value(serde_json::to_value(&fields).expect("a map serializes"))
            .map_err(|e| err(format!("fields: {e}")))?;
        let pick = |own: Option<Vec<String>>, base: Option<&Vec<String>>, name: &str| {
            own.or_else(|| base.cloned()).ok_or_else(|| err(format!("`{name}` is missing")))
        };
        let pick_map = |own: Option<BTreeMap<String, String>>, base: Option<&BTreeMap<String, String>>, name: &str| {
            own.or_else(|| base.cloned()).ok_or_else(|| err(format!("`{name}` is missing")))
        };
        let b = base.as_ref();
        let mut m = Mapping {
            name: file.name.or_else(|| b.map(|b| b.name.clone())).unwrap_or_else(|| what.to_owned()),
            messages: file
                .messages
                .or_else(|| b.map(|b| b.messages.clone()))
                .ok_or_else(|| err("`messages` is missing".to_owned()))?,
            fields,
            findings_codes: pick(file.findings_codes, b.map(|b| &b.findings_codes), "findings_codes")?,
            impression_codes: pick(file.impression_codes, b.map(|b| &b.impression_codes), "impression_codes")?,
            patient_class: pick_map(file.patient_class, b.map(|b| &b.patient_class), "patient_class")?,
            sex: pick_map(file.sex, b.map(|b| &b.sex), "sex")?,
            performed_statuses: pick(file.performed_statuses, b.map(|b| &b.performed_statuses), "performed_statuses")?,
            cancelled: pick(file.cancelled, b.map(|b| &b.cancelled), "cancelled")?,
            follow_up_words: pick(file.follow_up_words, b.map(|b| &b.follow_up_words), "follow_up_words")?,
            modalities: pick_map(file.modalities, b.map(|b| &b.modalities), "modalities")?,
            paths: BTreeMap::new(),
        };
        let mut paths = BTreeMap::new();
        for (name, list) in m.field_lists() {
            let parsed = list
                .iter()
                .map(|p| p.parse::<Path>().map_err(|e| err(format!("fields.{name}: {e}"))))
                .collect::<Result<Vec<_>, _>>()?;
            paths.insert(name, parsed);
        }
        m.paths = paths;
        for t in m.messages.keys() {
            if !t.contains('^') {
                return Err(err(format!("messages: `{t}` is not a type like ORM^O01")));
            }
        }
        for (k, v) in &m.patient_class {
            if v.parse::<radqc_domain::PatientSource>().is_err() {
                return Err(err(format!("patient_class.{k}: `{v}` is not outpatient, emergency or inpatient")));
            }
        }
        for (k, v) in &m.sex {
            if v.parse::<radqc_domain::Sex>().is_err() {
                return Err(err(format!("sex.{k}: `{v}` is not F, M, O or U")));
            }
        }
        if m.fields.accession.is_empty() {
            return Err(err("fields.accession names no field: every exam needs its accession".to_owned()));
        }
        Ok(m)
    }

    fn field_lists(&self) -> Vec<(&'static str, &Vec<String>)> {
        let f = &self.fields;
        vec![
            ("accession", &f.accession),
            ("exam_item", &f.exam_item),
            ("exam_code", &f.exam_code),
            ("modality", &f.modality),
            ("department", &f.department),
            ("patient_class", &f.patient_class),
            ("ordering_clinician", &f.ordering_clinician),
            ("technologist", &f.technologist),
            ("performed_at", &f.performed_at),
            ("order_control", &f.order_control),
            ("order_status", &f.order_status),
            ("result_status", &f.result_status),
            ("reporting_doctor", &f.reporting_doctor),
            ("auditing_doctor", &f.auditing_doctor),
            ("reported_at", &f.reported_at),
            ("patient_id", &f.patient_id),
            ("patient_name", &f.patient_name),
            ("sex", &f.sex),
            ("birth_date", &f.birth_date),
            ("age", &f.age),
            ("follow_up", &f.follow_up),
            ("merge_from", &f.merge_from),
        ]
    }

    /// The parsed paths of a field.
    pub(crate) fn paths(&self, name: &str) -> &[Path] {
        self.paths.get(name).map(Vec::as_slice).unwrap_or(&[])
    }
}
