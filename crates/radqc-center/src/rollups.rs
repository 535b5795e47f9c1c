//! Keeping the month-keyed rollups current as a push is applied, without I/O.
//!
//! A push changes some exams: it upserts their rows and adds evaluations (a correction replaces
//! the revision it supersedes). For each exam whose counted state changes, the rollups get its
//! contribution after the push minus its contribution before (both computed by
//! `radqc_domain::rollup`, the code a site's own reports use). The backend reads the stored
//! state of the batch's exams first, runs its writes, then asks [`delta`] what to add.
//!
//! An exam's stored row is read for every exam in the batch (one primary-key lookup); its
//! current evaluations only when the batch adds an evaluation to it or changes an attribute the
//! rollups group by, so a batch of exam events costs little more than before.

use std::collections::{BTreeMap, HashMap};

use radqc_domain::rollup::{Counted, ExamDims, Rollup};
use radqc_domain::{SiteZone, Zones};

use crate::error::ApiError;
use crate::rows::{EvaluationRow, ExamRow, Rows};

/// The attributes of a stored exam the rollups group by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExamState {
    pub modality: String,
    pub department: Option<String>,
    pub technologist: Option<String>,
    pub reporting_doctor: Option<String>,
    pub performed_at: Option<String>,
    pub auditing_doctor: Option<String>,
    pub patient_known: bool,
}

impl ExamState {
    /// What `sql::UPSERT_EXAM` leaves: the incoming modality; the other attributes the incoming
    /// row's where it has them, the stored ones where it has not.
    pub fn merged(old: Option<&ExamState>, new: &ExamRow) -> ExamState {
        let keep = |n: &Option<String>, o: Option<&Option<String>>| n.clone().or_else(|| o.cloned().flatten());
        ExamState {
            modality: new.modality.clone(),
            department: keep(&new.department, old.map(|o| &o.department)),
            technologist: keep(&new.technologist, old.map(|o| &o.technologist)),
            reporting_doctor: keep(&new.reporting_doctor, old.map(|o| &o.reporting_doctor)),
            // A cancelled exam has no performing time (`sql::UPSERT_EXAM` clears it).
            performed_at: if new.cancelled { None } else { keep(&new.performed_at, old.map(|o| &o.performed_at)) },
            auditing_doctor: keep(&new.auditing_doctor, old.map(|o| &o.auditing_doctor)),
            patient_known: new.patient_known || old.is_some_and(|o| o.patient_known),
        }
    }

    /// 5.3 a's general data, as far as the exam shows it.
    pub fn general_data_complete(&self) -> bool {
        radqc_domain::rollup::general_data_complete(
            self.patient_known,
            self.department.as_deref(),
            self.performed_at.is_some(),
            self.reporting_doctor.is_some(),
            self.auditing_doctor.is_some(),
        )
    }
}

/// A stored current evaluation, by id.
pub type StoredEvaluations = Vec<(String, Counted)>;

/// The distinct accessions of a batch, in first-seen order.
pub fn accessions(rows: &[Rows]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    rows.iter().map(|r| &r.exam.accession).filter(|a| seen.insert(a.as_str())).cloned().collect()
}

/// The exams whose current evaluations must be read before the batch is written: stored exams
/// that get an evaluation, or whose grouped attributes change.
pub fn needing_evaluations(stored: &HashMap<String, ExamState>, rows: &[Rows]) -> Vec<String> {
    let mut state: HashMap<&str, ExamState> = HashMap::new();
    let mut need = std::collections::BTreeSet::new();
    for r in rows {
        let acc = r.exam.accession.as_str();
        let Some(original) = stored.get(acc) else { continue };
        let old = state.get(acc).unwrap_or(original);
        let new = ExamState::merged(Some(old), &r.exam);
        if r.evaluation.is_some() || new != *original {
            need.insert(acc.to_owned());
        }
        state.insert(acc, new);
    }
    need.into_iter().collect()
}

/// An evaluation row as the rollups count it.
pub fn counted(v: &EvaluationRow) -> Result<Counted, ApiError> {
    let bad = |e: &dyn std::fmt::Display| ApiError::storage(format!("evaluation {}: {e}", v.id));
    Ok(Counted {
        item: v.item.parse().map_err(|e| bad(&e))?,
        person: v.scored_person.clone(),
        mode: v.mode.parse().map_err(|e| bad(&e))?,
        rubric_version: v.rubric_version.clone(),
        at: v.at.clone(),
        score: v.score.map(|s| radqc_domain::Score::new(s as u8)).transpose().map_err(|e| bad(&e))?,
        passes: v.grade.parse::<radqc_domain::Grade>().map_err(|e| bad(&e))?.passes(),
        deductions: v.deductions.iter().map(|c| c.parse()).collect::<Result<_, _>>().map_err(|e| bad(&e))?,
    })
}

/// One exam's contribution to the rollups, its months in its site's zone.
pub fn contribution(
    (site, accession, zone): (&str, &str, SiteZone),
    exam: &ExamState,
    evaluations: &[Counted],
    sign: i64,
    into: &mut Rollup,
) {
    let dims = ExamDims {
        site: site.to_owned(),
        accession: accession.to_owned(),
        zone,
        department: exam.department.clone(),
        modality: exam.modality.clone(),
        reporting_doctor: exam.reporting_doctor.clone(),
        general_data_complete: exam.general_data_complete(),
    };
    into.add_evaluations(&dims, evaluations, sign);
    if let (Some(t), Some(at)) = (&exam.technologist, &exam.performed_at) {
        into.add_work(zone, site, exam.department.as_deref(), &exam.modality, t, at, sign);
    }
}

/// What the batch adds to the rollups (the site's months in its `zone`). `inserted[i]` says
/// whether `rows[i]`'s evaluation was new (an id the center already had is not counted twice).
pub fn delta(
    site: &str,
    zone: SiteZone,
    stored: &HashMap<String, ExamState>,
    evaluations: &HashMap<String, StoredEvaluations>,
    rows: &[Rows],
    inserted: &[bool],
) -> Result<Rollup, ApiError> {
    struct Exam {
        before: Option<ExamState>,
        now: ExamState,
        evaluations: StoredEvaluations,
        changed: bool,
    }
    let mut exams: BTreeMap<&str, Exam> = BTreeMap::new();
    for (r, inserted) in rows.iter().zip(inserted) {
        let acc = r.exam.accession.as_str();
        let exam = exams.entry(acc).or_insert_with(|| {
            let before = stored.get(acc).cloned();
            Exam {
                now: before.clone().unwrap_or_else(|| ExamState::merged(None, &r.exam)),
                evaluations: evaluations.get(acc).cloned().unwrap_or_default(),
                changed: before.is_none(),
                before,
            }
        });
        let merged = ExamState::merged(Some(&exam.now), &r.exam);
        exam.changed |= merged != exam.now;
        exam.now = merged;
        if let (Some(v), true) = (&r.evaluation, *inserted) {
            if let Some(old) = &v.supersedes {
                exam.evaluations.retain(|(id, _)| id != old);
            }
            exam.evaluations.push((v.id.clone(), counted(v)?));
            exam.changed = true;
        }
    }
    let mut rollup = Rollup::default();
    for (acc, exam) in exams.iter().filter(|(_, e)| e.changed) {
        if let Some(before) = &exam.before {
            let old = evaluations.get(*acc).map(|l| l.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>());
            contribution((site, acc, zone), before, &old.unwrap_or_default(), -1, &mut rollup);
        }
        let now: Vec<Counted> = exam.evaluations.iter().map(|(_, c)| c.clone()).collect();
        contribution((site, acc, zone), &exam.now, &now, 1, &mut rollup);
    }
    rollup.prune();
    Ok(rollup)
}

/// The deductions recorded in an evaluation's stored body.
pub fn body_deductions(body: &str) -> Result<Vec<radqc_domain::CriterionCode>, ApiError> {
    #[derive(serde::Deserialize)]
    struct Body {
        severe: Vec<radqc_domain::CriterionCode>,
        unmet: Vec<radqc_domain::CriterionCode>,
    }
    let b: Body = serde_json::from_str(body)
        .map_err(|e| ApiError::storage(format!("a stored evaluation does not parse: {e}")))?;
    Ok(b.severe.into_iter().chain(b.unmet).collect())
}

/// A rebuild's pass over every exam and its current evaluations, in exam order.
#[derive(Default)]
pub struct Rebuild {
    /// Each site's zone (read from `sites` first).
    zones: Zones,
    rollup: Rollup,
    exam: Option<((String, String), ExamState, Vec<Counted>)>,
    deducted: Vec<String>,
    exams: u64,
}

impl Rebuild {
    pub fn new(zones: Zones) -> Rebuild {
        Rebuild { zones, ..Rebuild::default() }
    }

    /// One row of `sql::REBUILD_SCAN`: an exam, and one of its current evaluations if it has any.
    pub fn row(&mut self, key: (String, String), exam: ExamState, evaluation: Option<(String, Counted)>) {
        if self.exam.as_ref().is_none_or(|(k, _, _)| *k != key) {
            self.flush();
            self.exam = Some((key, exam, Vec::new()));
        }
        if let (Some((id, c)), Some((_, _, list))) = (evaluation, self.exam.as_mut()) {
            if !c.deductions.is_empty() {
                self.deducted.push(id);
            }
            list.push(c);
        }
    }

    fn flush(&mut self) {
        if let Some(((site, accession), exam, list)) = self.exam.take() {
            contribution((&site, &accession, self.zones.of(&site)), &exam, &list, 1, &mut self.rollup);
            self.exams += 1;
        }
    }

    /// The rollup, the current evaluations with a deduction, and the number of exams.
    pub fn finish(mut self) -> (Rollup, Vec<String>, u64) {
        self.flush();
        self.rollup.prune();
        (self.rollup, self.deducted, self.exams)
    }
}

/// Whether a stored exam body identifies the patient (for data stored before the column).
pub fn body_patient_known(body: &str) -> bool {
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Patient {
        patient_hash: Option<String>,
        patient_sex: Option<radqc_domain::Sex>,
        patient_age: Option<u8>,
    }
    let p: Patient = serde_json::from_str(body).unwrap_or_default();
    radqc_domain::rollup::patient_known(p.patient_hash.is_some(), p.patient_sex, p.patient_age)
}

/// The zones of the stored sites, from the rows of `sql::SITE_ZONES`.
pub fn zones(rows: impl IntoIterator<Item = (String, String)>) -> Result<Zones, ApiError> {
    let mut zones = Zones::default();
    for (site, zone) in rows {
        let zone = zone.parse().map_err(|e| ApiError::storage(format!("site {site}: {e}")))?;
        zones.sites.insert(site, zone);
    }
    Ok(zones)
}

/// One site's zone, from its `sites.time_zone` (the default for a site the center lacks).
pub fn zone(site: &str, stored: Option<String>) -> Result<SiteZone, ApiError> {
    stored.map_or(Ok(SiteZone::default()), |z| z.parse().map_err(|e| ApiError::storage(format!("site {site}: {e}"))))
}
