//! The gold standard (7.3.1), decided once for both backends: a case is one original evaluation
//! (one item of one exam); two senior readers, neither its reviewer nor the person scored, read
//! it blind; equal results close it, else a third reader sees both reads (without names) and
//! decides. The final result is a gold evaluation that supersedes the exam's current evaluation
//! of the item, pushed by the site's gold device (`gold:<SITE>`) like any entry, so the reports,
//! notices and rollups count it with the same code as every other score.
//!
//! A case is stored whole, as JSON ([`CaseDoc`]), one row per case (`gold_cases`). Every change
//! runs on a [`GoldBook`]: what a transaction read of the cases, evaluations, staff and settings
//! it needs, and the writes it makes (cases to store, feed items to publish), which the backend
//! then runs in that transaction. Blindness is decided here too ([`view`], [`assignment`]):
//! a read's content is never in what another reader of the case, or the person scored, is
//! served before the case is final.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use radqc_domain::{Grants, ItemCode, Modality, QcMode, StaffCode};
use radqc_protocol::{
    BlindRead, DisputeRecord, DisputeView, ErrorBody, ErrorCode, EvaluationRecord, ExamRecord, FeedKind, FinalRead,
    GoldAssignment, GoldCaseView, GoldExam, GoldFinal, GoldMessage, GoldReadRecord, GoldReadView, GoldReaderView,
    GoldSettings, GoldSource, GoldState, GoldTask, NoticeMessage, StaffMember,
};
use serde::{Deserialize, Serialize};

use crate::db::Person;
use crate::error::ApiError;

/// The settings row's name (`settings`).
pub const SETTINGS_NAME: &str = "gold";

/// How far ahead of the center's clock a dispute's time may be (a workstation's clock).
const MAX_SKEW: Duration = Duration::minutes(5);

/// The gold device of a site: the center's own, which pushes the site's gold results.
pub fn device_id(site: &str) -> String {
    format!("gold:{site}")
}

/// Where a case stands, as stored: `decided` is final in substance (the result is chosen) but its
/// gold evaluation is not yet pushed (see `settle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    Reading,
    Adjudicating,
    Decided,
    Final,
}

impl CaseState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reading => "reading",
            Self::Adjudicating => "adjudicating",
            Self::Decided => "decided",
            Self::Final => "final",
        }
    }
    fn public(self) -> GoldState {
        match self {
            Self::Reading => GoldState::Reading,
            Self::Adjudicating => GoldState::Adjudicating,
            Self::Decided | Self::Final => GoldState::Final,
        }
    }
    /// Decided or final: the reads no longer change.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Decided | Self::Final)
    }
}

/// A reader assigned to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reader {
    pub task: GoldTask,
    pub site: String,
    pub code: String,
    pub assigned_at: DateTime<Utc>,
}

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseDoc {
    pub id: String,
    pub site: String,
    pub accession: String,
    pub item: ItemCode,
    pub modality: Modality,
    pub evaluation_id: String,
    pub source: GoldSource,
    pub dispute: Option<DisputeRecord>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// The original evaluation as it was when the case was made.
    pub original: EvaluationRecord,
    /// The exam as it was when the case was made (what the readers are shown of it).
    pub exam: ExamRecord,
    pub readers: Vec<Reader>,
    pub reads: Vec<GoldReadRecord>,
    pub state: CaseState,
    /// The task whose read is the result: `first` when the two blind reads agreed.
    pub decided_by: Option<GoldTask>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The gold evaluation's id, chosen when decided (so a retried settle sends the same one).
    pub gold_id: Option<String>,
    /// The gold evaluation as pushed.
    pub result: Option<EvaluationRecord>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Why the last settle could not push the result (kept until one does).
    pub settle_error: Option<ErrorBody>,
    /// No reader could be assigned (too few senior readers): the next settle tries again.
    pub waiting_for: Vec<GoldTask>,
}

impl CaseDoc {
    pub fn parse(body: &str) -> Result<CaseDoc, ApiError> {
        serde_json::from_str(body).map_err(|e| ApiError::storage(format!("a stored gold case does not parse: {e}")))
    }
    pub fn body(&self) -> String {
        serde_json::to_string(self).expect("a gold case serializes")
    }
    pub fn read_of(&self, task: GoldTask) -> Option<&GoldReadRecord> {
        self.reads.iter().find(|r| r.task == task)
    }
    pub fn reader_of(&self, task: GoldTask) -> Option<&Reader> {
        self.readers.iter().find(|r| r.task == task)
    }
    fn is_reader(&self, site: &str, code: &str) -> bool {
        self.readers.iter().any(|r| r.site == site && r.code == code)
    }
    fn is_scored(&self, site: &str, code: &str) -> bool {
        self.site == site && self.original.scored_person.as_ref().is_some_and(|p| p.as_str() == code)
    }
    fn is_reviewer(&self, site: &str, code: &str) -> bool {
        self.site == site && self.original.reviewer.as_str() == code
    }
    /// The gold result for the exam's current evaluation `head` of the item: the deciding read's
    /// findings and score, mode `gold`, the person scored the original's.
    pub fn gold_record(&self, head: &EvaluationRecord) -> Option<EvaluationRecord> {
        let task = self.decided_by?;
        let read = self.read_of(task)?;
        let reviewer: StaffCode = read.reader.clone();
        Some(EvaluationRecord {
            id: self.gold_id.clone()?,
            site: self.original.site.clone(),
            accession: self.accession.clone(),
            item: self.item,
            reviewer,
            scored_person: self.original.scored_person.clone(),
            mode: QcMode::Gold,
            findings: read.findings.clone(),
            not_applicable: read.not_applicable.clone(),
            score: read.score,
            grade: read.grade,
            pass: read.pass,
            severe: read.severe.clone(),
            unmet: read.unmet.clone(),
            rubric_version: read.rubric_version.clone(),
            note: radqc_protocol::gold_note(&self.id, task, &self.original),
            at: self.decided_at?,
            supersedes: Some(head.id.clone()),
            superseded_by: None,
        })
    }
}

/// Two reads agree: equal scores for a scored item, equal verdicts for the application form.
pub fn agree(a: &GoldReadRecord, b: &GoldReadRecord) -> bool {
    match (a.score, b.score) {
        (Some(x), Some(y)) => x == y,
        (None, None) => a.pass == b.pass,
        _ => false,
    }
}

/// A stored evaluation, as a book holds it: the record, the revision that corrected it, and its
/// exam as stored.
#[derive(Debug, Clone)]
pub struct KnownEvaluation {
    pub record: EvaluationRecord,
    pub superseded_by: Option<String>,
    pub exam: ExamRecord,
}

/// What one gold transaction read, and what it writes.
#[derive(Debug, Default)]
pub struct GoldBook {
    /// Every case not final, and the cases the work names.
    pub cases: HashMap<String, CaseDoc>,
    /// The evaluations the work names, by id.
    pub evaluations: HashMap<String, KnownEvaluation>,
    /// Every active staff member of the region.
    pub staff: Vec<StaffMember>,
    pub settings: GoldSettings,
    /// Cases to store (inserted or updated), by id.
    pub changed: BTreeSet<String>,
    /// Feed items to publish: kind, site, body.
    pub publish: Vec<(FeedKind, Option<String>, String)>,
}

/// What a transaction must read for a piece of gold work.
#[derive(Debug, Default, Clone)]
pub struct GoldScope {
    pub case_ids: Vec<String>,
    pub evaluation_ids: Vec<String>,
}

impl GoldScope {
    /// What the gold entries of a push name.
    pub fn of_payloads<'a>(payloads: impl IntoIterator<Item = &'a radqc_protocol::SyncPayload>) -> GoldScope {
        let mut scope = GoldScope::default();
        for p in payloads {
            match p {
                radqc_protocol::SyncPayload::GoldRead { read } => scope.case_ids.push(read.case_id.clone()),
                radqc_protocol::SyncPayload::Dispute { dispute } => {
                    scope.evaluation_ids.push(dispute.evaluation_id.clone())
                }
                _ => {}
            }
        }
        scope
    }
    pub fn is_empty(&self) -> bool {
        self.case_ids.is_empty() && self.evaluation_ids.is_empty()
    }
}

/// The region's settings as stored (the default when none were set).
pub fn parse_settings(stored: Option<&str>) -> Result<GoldSettings, ApiError> {
    match stored {
        None => Ok(GoldSettings::default()),
        Some(text) => serde_json::from_str(text)
            .map_err(|e| ApiError::storage(format!("the stored gold settings do not parse: {e}"))),
    }
}

fn reason(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(code, message)
}

/// A new case id (UUIDv7: sorts by creation).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl GoldBook {
    /// The case of an evaluation, if the book holds one.
    pub fn case_of(&self, evaluation_id: &str) -> Option<&CaseDoc> {
        self.cases.values().find(|c| c.evaluation_id == evaluation_id)
    }

    /// How many tasks each reader holds in cases not final: the load the assignment spreads.
    fn loads(&self) -> HashMap<(String, String), usize> {
        let mut loads = HashMap::new();
        for c in self.cases.values().filter(|c| !c.state.is_closed()) {
            for r in &c.readers {
                *loads.entry((r.site.clone(), r.code.clone())).or_default() += 1;
            }
        }
        loads
    }

    /// `n` readers for `case`: active staff whose roles the grants let read gold, neither the
    /// original reviewer nor the person scored nor a reader of the case already, fewest open
    /// tasks first (ties broken by a hash of the case and the person, so no one is always first).
    fn choose(&self, case: &CaseDoc, n: usize, grants: &Grants) -> Vec<(String, String)> {
        let loads = self.loads();
        let mut candidates: Vec<(usize, String, String, String)> = self
            .staff
            .iter()
            .filter(|m| m.active && grants.reads_gold(&m.roles))
            .filter(|m| !case.is_reviewer(&m.site, &m.code) && !case.is_scored(&m.site, &m.code))
            .filter(|m| !case.is_reader(&m.site, &m.code))
            .map(|m| {
                let load = loads.get(&(m.site.clone(), m.code.clone())).copied().unwrap_or(0);
                let tie = radqc_domain::migrations::digest(&format!("{}\n{}\n{}", case.id, m.site, m.code));
                (load, tie, m.site.clone(), m.code.clone())
            })
            .collect();
        candidates.sort();
        candidates.into_iter().take(n).map(|(_, _, site, code)| (site, code)).collect()
    }

    /// Assigns `task` of `case` to the next reader, publishing the assignment to their site; or
    /// leaves the task waiting when no one may take it.
    fn assign(&mut self, case: &mut CaseDoc, task: GoldTask, grants: &Grants, now: DateTime<Utc>) -> bool {
        let Some((site, code)) = self.choose(case, 1, grants).into_iter().next() else {
            if !case.waiting_for.contains(&task) {
                case.waiting_for.push(task);
            }
            return false;
        };
        case.waiting_for.retain(|t| *t != task);
        case.readers.push(Reader { task, site: site.clone(), code, assigned_at: now });
        let message = GoldMessage::Assigned { assignment: Box::new(assignment(case, task, &self.settings)) };
        self.publish.push((FeedKind::Gold, Some(site), serde_json::to_string(&message).expect("a message serializes")));
        true
    }

    fn put(&mut self, case: CaseDoc) {
        self.changed.insert(case.id.clone());
        self.cases.insert(case.id.clone(), case);
    }

    /// Puts an evaluation into the gold standard. `created_by` says how (`staff:SITE/CODE`,
    /// `cli`, `draw:SEED`, `dispute:ID`).
    pub fn create(
        &mut self,
        evaluation_id: &str,
        source: GoldSource,
        created_by: String,
        dispute: Option<DisputeRecord>,
        grants: &Grants,
        now: DateTime<Utc>,
    ) -> Result<String, ErrorBody> {
        let Some(known) = self.evaluations.get(evaluation_id).cloned() else {
            return Err(reason(
                ErrorCode::UnknownEvaluation,
                format!("the center holds no evaluation {evaluation_id}"),
            ));
        };
        if let Some(existing) = self.case_of(evaluation_id) {
            return Err(reason(
                ErrorCode::GoldCaseExists,
                format!("evaluation {evaluation_id} is already in gold-standard case {}", existing.id),
            ));
        }
        if known.record.mode == QcMode::Gold {
            return Err(reason(
                ErrorCode::GoldCaseExists,
                format!("evaluation {evaluation_id} is itself a gold-standard result"),
            ));
        }
        if let Some(by) = &known.superseded_by {
            return Err(reason(
                ErrorCode::AlreadySuperseded,
                format!("evaluation {evaluation_id} was corrected by {by}; put the current revision in instead"),
            ));
        }
        let mut case = CaseDoc {
            id: new_id(),
            site: known.record.site.to_string(),
            accession: known.record.accession.clone(),
            item: known.record.item,
            modality: known.exam.modality.clone(),
            evaluation_id: evaluation_id.to_owned(),
            source,
            dispute,
            created_at: now,
            created_by,
            original: known.record.clone(),
            exam: known.exam.clone(),
            readers: Vec::new(),
            reads: Vec::new(),
            state: CaseState::Reading,
            decided_by: None,
            decided_at: None,
            gold_id: None,
            result: None,
            closed_at: None,
            settle_error: None,
            waiting_for: Vec::new(),
        };
        let chosen = self.choose(&case, 2, grants);
        if chosen.len() < 2 {
            return Err(reason(
                ErrorCode::NoGoldReaders,
                format!(
                    "a gold-standard case needs two readers with a gold-reading role ({}) who are neither the \
                     original reviewer nor the person scored; the roster has {}",
                    grants.gold_readers.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
                    chosen.len()
                ),
            ));
        }
        for task in [GoldTask::First, GoldTask::Second] {
            self.assign(&mut case, task, grants, now);
        }
        let id = case.id.clone();
        self.put(case);
        Ok(id)
    }

    /// A reader's read (a push entry of the device's site). A read already held (same id, same
    /// content: a resent entry) changes nothing.
    pub fn read(&mut self, read: &GoldReadRecord, grants: &Grants, now: DateTime<Utc>) -> Result<(), ErrorBody> {
        let Some(mut case) = self.cases.get(&read.case_id).cloned() else {
            return Err(reason(
                ErrorCode::UnknownGoldCase,
                format!("the center holds no gold-standard case {}", read.case_id),
            ));
        };
        if let Some(held) = case.read_of(read.task) {
            if held == read {
                return Ok(());
            }
            return Err(reason(
                ErrorCode::GoldAlreadyRead,
                format!("the {} read of case {} was already given ({})", read.task.as_str(), case.id, held.id),
            ));
        }
        if case.state.is_closed() {
            return Err(reason(ErrorCode::GoldCaseClosed, format!("case {} is already final", case.id)));
        }
        let assigned = case.reader_of(read.task);
        if !assigned.is_some_and(|r| r.site == read.site.as_str() && r.code == read.reader.as_str()) {
            return Err(reason(
                ErrorCode::NotAssigned,
                format!(
                    "{}/{} is not assigned the {} read of case {}",
                    read.site,
                    read.reader,
                    read.task.as_str(),
                    case.id
                ),
            ));
        }
        if read.item != case.item || read.rubric_version != case.original.rubric_version {
            return Err(reason(
                ErrorCode::InvalidPayload,
                format!(
                    "case {} is read as item {} under rubric {}; the read is of {} under {}",
                    case.id, case.item, case.original.rubric_version, read.item, read.rubric_version
                ),
            ));
        }
        case.reads.push(read.clone());
        match read.task {
            GoldTask::First | GoldTask::Second => {
                if let (Some(a), Some(b)) = (case.read_of(GoldTask::First), case.read_of(GoldTask::Second)) {
                    if agree(a, b) {
                        decide(&mut case, GoldTask::First, now);
                    } else {
                        case.state = CaseState::Adjudicating;
                        self.assign(&mut case, GoldTask::Third, grants, now);
                    }
                }
            }
            GoldTask::Third => decide(&mut case, GoldTask::Third, now),
        }
        self.put(case);
        Ok(())
    }

    /// The person scored disputes a failed evaluation: a new case, or (an open case of it made
    /// by hand or drawn) the dispute joins it, so it closes with a notice too.
    pub fn dispute(&mut self, d: &DisputeRecord, grants: &Grants, now: DateTime<Utc>) -> Result<(), ErrorBody> {
        let Some(known) = self.evaluations.get(&d.evaluation_id).cloned() else {
            return Err(reason(
                ErrorCode::UnknownEvaluation,
                format!("the center holds no evaluation {}", d.evaluation_id),
            ));
        };
        let e = &known.record;
        if e.site != d.site {
            return Err(reason(ErrorCode::SiteMismatch, format!("evaluation {} is of site {}", e.id, e.site)));
        }
        if e.scored_person.as_ref() != Some(&d.by) {
            return Err(reason(
                ErrorCode::DisputeRefused,
                format!("only the person scored may dispute evaluation {}; {} is not", e.id, d.by),
            ));
        }
        if e.pass {
            return Err(reason(
                ErrorCode::DisputeRefused,
                format!("evaluation {} passed: only a failed one is disputed", e.id),
            ));
        }
        if let Some(existing) = self.case_of(&d.evaluation_id).cloned() {
            return match &existing.dispute {
                Some(held) if held == d => Ok(()),
                Some(held) => Err(reason(
                    ErrorCode::DisputeRefused,
                    format!("evaluation {} is already disputed ({})", e.id, held.id),
                )),
                None if existing.state.is_closed() => Err(reason(
                    ErrorCode::DisputeRefused,
                    format!("evaluation {} was already decided by gold-standard case {}", e.id, existing.id),
                )),
                None => {
                    let mut case = existing;
                    case.dispute = Some(d.clone());
                    self.put(case);
                    Ok(())
                }
            };
        }
        if let Some(by) = &known.superseded_by {
            return Err(reason(
                ErrorCode::DisputeRefused,
                format!("evaluation {} was corrected by {by}; dispute the current revision", e.id),
            ));
        }
        let days = i64::from(self.settings.dispute_days);
        if d.at > now + MAX_SKEW || d.at < e.at {
            return Err(reason(
                ErrorCode::InvalidPayload,
                format!("dispute {} is dated {}, outside the evaluation's time and now", d.id, d.at),
            ));
        }
        if d.at > e.at + Duration::days(days) {
            return Err(reason(
                ErrorCode::DisputeWindowClosed,
                format!(
                    "evaluation {} of {} could be disputed for {days} days, until {}",
                    e.id,
                    e.at,
                    e.at + Duration::days(days)
                ),
            ));
        }
        self.create(&d.evaluation_id, GoldSource::Dispute, format!("dispute:{}", d.id), Some(d.clone()), grants, now)
            .map(|_| ())
    }

    /// Tasks still waiting for a reader get one, when the roster now has one.
    pub fn assign_waiting(&mut self, grants: &Grants, now: DateTime<Utc>) {
        let waiting: Vec<String> = self
            .cases
            .values()
            .filter(|c| !c.waiting_for.is_empty() && !c.state.is_closed())
            .map(|c| c.id.clone())
            .collect();
        for id in waiting {
            let mut case = self.cases[&id].clone();
            let before = case.readers.len();
            for task in case.waiting_for.clone() {
                self.assign(&mut case, task, grants, now);
            }
            if case.readers.len() != before {
                self.put(case);
            }
        }
    }

    /// A decided case whose gold evaluation is now at the center: final, and published to the
    /// exam's site (and, for a dispute, the notice of its outcome to the person scored).
    pub fn finish(&mut self, case_id: &str, result: EvaluationRecord, now: DateTime<Utc>) -> Result<(), ApiError> {
        let Some(mut case) = self.cases.get(case_id).cloned() else {
            return Err(ApiError::new(ErrorCode::UnknownGoldCase, format!("no gold-standard case {case_id}")));
        };
        if case.state != CaseState::Decided {
            return Ok(());
        }
        case.state = CaseState::Final;
        case.closed_at = Some(now);
        case.settle_error = None;
        case.result = Some(result.clone());
        let message = GoldMessage::Final { result: Box::new(final_of(&case, &result, now)) };
        self.publish.push((
            FeedKind::Gold,
            Some(case.site.clone()),
            serde_json::to_string(&message).expect("a message serializes"),
        ));
        if let Some(d) = &case.dispute {
            let (was_zh, was_en) = radqc_protocol::result_words(case.original.score, case.original.grade);
            let (now_zh, now_en) = radqc_protocol::result_words(result.score, result.grade);
            let text = format!(
                "您对检查 {acc} {item} 项评分的申诉已经金标准复核：原 {was_zh}，复核结果 {now_zh}。\
                 Your dispute of {item} on exam {acc} was reviewed by the gold standard: {was_en} became {now_en}.",
                acc = case.accession,
                item = case.item,
            );
            let notice = NoticeMessage::GoldOutcome {
                case_id: case.id.clone(),
                to: Some(d.by.to_string()),
                also_to: Vec::new(),
                text,
                accession: case.accession.clone(),
                item: case.item.to_string(),
                evaluation_id: case.evaluation_id.clone(),
                gold_evaluation_id: result.id.clone(),
            };
            self.publish.push((
                FeedKind::Notices,
                Some(case.site.clone()),
                serde_json::to_string(&notice).expect("a notice serializes"),
            ));
        }
        self.put(case);
        Ok(())
    }

    /// A decided case whose result could not be pushed: why, kept on the case.
    pub fn settle_failed(&mut self, case_id: &str, why: ErrorBody) {
        if let Some(mut case) = self.cases.get(case_id).cloned() {
            if case.settle_error.as_ref() != Some(&why) {
                case.settle_error = Some(why);
                self.put(case);
            }
        }
    }
}

fn decide(case: &mut CaseDoc, task: GoldTask, now: DateTime<Utc>) {
    case.state = CaseState::Decided;
    case.decided_by = Some(task);
    case.decided_at = Some(now);
    case.gold_id = Some(new_id());
}

/// `SITE/CODE`.
fn who(site: &str, code: &str) -> String {
    format!("{site}/{code}")
}

/// The final result for the exam's site.
pub fn final_of(case: &CaseDoc, result: &EvaluationRecord, now: DateTime<Utc>) -> GoldFinal {
    let reads = case
        .reads
        .iter()
        .map(|r| FinalRead {
            task: r.task,
            reader: who(r.site.as_str(), r.reader.as_str()),
            score: r.score,
            grade: r.grade,
            pass: r.pass,
        })
        .collect();
    GoldFinal {
        case_id: case.id.clone(),
        source: case.source,
        modality: case.modality.clone(),
        original: Box::new(case.original.clone()),
        gold: Box::new(result.clone()),
        reads,
        decided_by: case.decided_by.unwrap_or(GoldTask::First),
        closed_at: case.closed_at.unwrap_or(now),
    }
}

/// The exam as a reader sees it: the staff only when the region shows names.
fn blind_exam(exam: &ExamRecord, settings: &GoldSettings) -> GoldExam {
    GoldExam {
        site: exam.site.to_string(),
        accession: exam.accession.clone(),
        modality: exam.modality.clone(),
        exam_item: exam.exam_item.clone(),
        department: exam.department.clone(),
        patient_source: exam.patient_source,
        follow_up: exam.follow_up,
        patient_sex: exam.patient_sex,
        patient_age: exam.patient_age,
        performed_at: exam.performed_at,
        staff: settings.show_names.then(|| exam.staff.clone()),
    }
}

/// A reader's task, blind: the third reader gets the two reads as 甲 and 乙, without names; the
/// first and second get no read, and no one the original score.
pub fn assignment(case: &CaseDoc, task: GoldTask, settings: &GoldSettings) -> GoldAssignment {
    let reads = if task == GoldTask::Third {
        [(GoldTask::First, "甲"), (GoldTask::Second, "乙")]
            .into_iter()
            .filter_map(|(t, label)| {
                case.read_of(t).map(|r| BlindRead {
                    label: label.to_owned(),
                    findings: r.findings.clone(),
                    not_applicable: r.not_applicable.clone(),
                    score: r.score,
                    grade: r.grade,
                    pass: r.pass,
                    note: r.note.clone(),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let reader = case.reader_of(task);
    GoldAssignment {
        case_id: case.id.clone(),
        task,
        to: reader.map(|r| r.code.clone()).unwrap_or_default(),
        item: case.item,
        rubric_version: case.original.rubric_version.clone(),
        exam: blind_exam(&case.exam, settings),
        reads,
        assigned_at: reader.map_or(case.created_at, |r| r.assigned_at),
    }
}

/// The open tasks of a person (not yet read), blind.
pub fn tasks_of<'a>(
    cases: impl IntoIterator<Item = &'a CaseDoc>,
    person: &Person,
    settings: &GoldSettings,
) -> Vec<GoldAssignment> {
    let mut out = Vec::new();
    for case in cases {
        if case.state.is_closed() {
            continue;
        }
        for r in case.readers.iter().filter(|r| r.site == person.site && r.code == person.staff) {
            if case.read_of(r.task).is_none() {
                out.push(assignment(case, r.task, settings));
            }
        }
    }
    out.sort_by(|a, b| a.assigned_at.cmp(&b.assigned_at).then_with(|| a.case_id.cmp(&b.case_id)));
    out
}

/// What `person` may see of a case, or `None` when they may not see it at all.
///
/// - A reader of a case not final sees their own task and read only: no other read, no other
///   reader, not the original score.
/// - The person scored of a case not final sees that it is under review and their original
///   evaluation, never a read or a reader.
/// - A manager (the grants' `manages_gold`) of a site they may read sees everything, unless
///   they are a reader or the person scored of that case (then the rules above).
/// - Once final, the readers, the person scored, the original reviewer and whoever sees the
///   site's scores see the reads; reader names only managers.
pub fn view(case: &CaseDoc, person: &Person, grants: &Grants) -> Option<GoldCaseView> {
    let (site, code) = (person.site.as_str(), person.staff.as_str());
    let reader = case.is_reader(site, code);
    let scored = case.is_scored(site, code);
    let manager = grants.manages_gold(&person.roles) && person.may_read_site(grants, &case.site);
    let site_viewer = person.may_read_site(grants, &case.site) && person.sees_all_of_site(grants);
    if manager && !reader && !scored {
        return Some(full_view(case));
    }
    // Built up from the case without anything blind, so a field added later stays hidden.
    let mut v = bare_view(case);
    if !case.state.is_closed() {
        if reader {
            let mine = |s: &str, c: &str| s == site && c == code;
            v.readers = reader_views(case).into_iter().filter(|r| mine(&r.site, &r.reader)).collect();
            v.reads = read_views(case, true).into_iter().filter(|r| mine(&r.site, &r.reader)).collect();
            return Some(v);
        }
        if scored {
            v.original = Some(Box::new(case.original.clone()));
            return Some(v);
        }
        return None;
    }
    if !(reader || scored || manager || site_viewer || case.is_reviewer(site, code)) {
        return None;
    }
    v.original = Some(Box::new(case.original.clone()));
    v.reads = read_views(case, false);
    v.result = case.result.clone().map(Box::new);
    v.decided_by = case.decided_by;
    Some(v)
}

/// A case whole, as a manager (or the center's operator) sees it: every reader, read and
/// the original, and the result once final.
pub fn full_view(case: &CaseDoc) -> GoldCaseView {
    GoldCaseView {
        readers: reader_views(case),
        original: Some(Box::new(case.original.clone())),
        reads: read_views(case, true),
        result: case.result.clone().map(Box::new),
        decided_by: case.decided_by,
        ..bare_view(case)
    }
}

/// What anyone who may see a case sees of it: no reader, read, original or result.
fn bare_view(case: &CaseDoc) -> GoldCaseView {
    GoldCaseView {
        id: case.id.clone(),
        site: case.site.clone(),
        accession: case.accession.clone(),
        item: case.item,
        modality: case.modality.clone(),
        evaluation_id: case.evaluation_id.clone(),
        source: case.source,
        dispute: case.dispute.as_ref().map(|d| DisputeView {
            id: d.id.clone(),
            by: d.by.to_string(),
            reason: d.reason.clone(),
            at: d.at,
        }),
        state: case.state.public(),
        created_at: case.created_at,
        created_by: case.created_by.clone(),
        readers: Vec::new(),
        original: None,
        reads: Vec::new(),
        result: None,
        decided_by: None,
        closed_at: case.closed_at,
    }
}

fn reader_views(case: &CaseDoc) -> Vec<GoldReaderView> {
    case.readers
        .iter()
        .map(|r| GoldReaderView {
            task: r.task,
            site: r.site.clone(),
            reader: r.code.clone(),
            assigned_at: r.assigned_at,
            read_at: case.read_of(r.task).map(|x| x.at),
        })
        .collect()
}

/// The case's reads, with the readers' site and code when `named`.
fn read_views(case: &CaseDoc, named: bool) -> Vec<GoldReadView> {
    case.reads
        .iter()
        .map(|r| GoldReadView {
            task: r.task,
            site: if named { r.site.to_string() } else { String::new() },
            reader: if named { r.reader.to_string() } else { String::new() },
            findings: r.findings.clone(),
            score: r.score,
            grade: r.grade,
            pass: r.pass,
            note: r.note.clone(),
            at: r.at,
        })
        .collect()
}

/// Whether a gold feed item may be served to `person` (a person's token reading the feed): an
/// assignment only to its reader; a final result to those who may see the case once final.
pub fn feed_item_for(body: &serde_json::Value, person: &Person, grants: &Grants) -> bool {
    match serde_json::from_value::<GoldMessage>(body.clone()) {
        Ok(GoldMessage::Assigned { assignment }) => assignment.to == person.staff,
        Ok(GoldMessage::Settings { .. }) => true,
        Ok(GoldMessage::Final { result }) => {
            let on = |c: &Option<StaffCode>| c.as_ref().is_some_and(|c| c.as_str() == person.staff);
            grants.manages_gold(&person.roles)
                || person.sees_all_of_site(grants)
                || on(&result.original.scored_person)
                || result.original.reviewer.as_str() == person.staff
        }
        Err(_) => false,
    }
}

/// A push entry's gold step, when it is a gold read or a dispute (`None` for any other entry):
/// applied to the book, or the reason it is refused.
pub fn apply_entry(
    book: &mut GoldBook,
    payload: &radqc_protocol::SyncPayload,
    grants: &Grants,
    now: DateTime<Utc>,
) -> Option<Result<(), ErrorBody>> {
    match payload {
        radqc_protocol::SyncPayload::GoldRead { read } => Some(book.read(read, grants, now)),
        radqc_protocol::SyncPayload::Dispute { dispute } => Some(book.dispute(dispute, grants, now)),
        _ => None,
    }
}

/// Whether a payload is a gold entry.
pub fn is_gold(payload: &radqc_protocol::SyncPayload) -> bool {
    matches!(payload, radqc_protocol::SyncPayload::GoldRead { .. } | radqc_protocol::SyncPayload::Dispute { .. })
}

/// Marks an entry of a push refused by its gold step: its result says why.
pub fn refuse(results: &mut [radqc_protocol::EntryResult], seq: i64, why: ErrorBody) {
    if let Some(r) = results.iter_mut().find(|r| r.seq == seq) {
        r.status = radqc_protocol::EntryStatus::Rejected;
        r.reason = Some(why);
    }
}

/// What one settle did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Settled {
    /// Cases made final.
    pub finished: Vec<String>,
    /// Decided cases whose result the center refused (the reason kept on the case).
    pub failed: Vec<String>,
}

/// An error body as an HTTP answer: its catalogue status (409 for a code that has none).
pub fn http_error(why: ErrorBody) -> ApiError {
    let code: ErrorCode = why.code.parse().unwrap_or(ErrorCode::InternalError);
    ApiError { status: code.status().unwrap_or(409), body: why }
}

/// Finishes every decided case: its gold evaluation is pushed by the site's gold device (so the
/// rollups, notices and feeds treat it like every evaluation, exactly once: a retried settle
/// sends the same record, which the center then holds), then the case is final and published.
/// Tasks left waiting for a reader are assigned first, when the roster has one now. Run after
/// every push with gold entries, at the center's start and by `radqc center gold settle`; a
/// settle stopped anywhere is finished by the next.
pub async fn settle(
    db: &crate::Db,
    rubrics: &crate::db::RubricSet,
    grants: &Grants,
    now: DateTime<Utc>,
) -> Result<Settled, ApiError> {
    let mut out = Settled::default();
    let waiting = open_cases(db).await?.iter().any(|c| !c.waiting_for.is_empty());
    if waiting {
        let g = grants.clone();
        db.gold_run(
            GoldScope::default(),
            now,
            Box::new(move |book| {
                book.assign_waiting(&g, now);
                Ok(Vec::new())
            }),
        )
        .await?;
    }
    for case in db.gold_cases(Some(CaseState::Decided)).await? {
        let Some(head) = db.evaluation_head(&case.evaluation_id).await? else {
            return Err(ApiError::storage(format!("case {}'s evaluation {} is gone", case.id, case.evaluation_id)));
        };
        let result = if Some(&head.id) == case.gold_id.as_ref() {
            head
        } else {
            let record = case
                .gold_record(&head)
                .ok_or_else(|| ApiError::storage(format!("decided case {} has no deciding read", case.id)))?;
            match push_result(db, &case, &record, rubrics, grants, now).await? {
                Ok(()) => record,
                Err(why) => {
                    let id = case.id.clone();
                    db.gold_run(
                        GoldScope { case_ids: vec![id.clone()], ..GoldScope::default() },
                        now,
                        Box::new(move |book| {
                            book.settle_failed(&id, why);
                            Ok(Vec::new())
                        }),
                    )
                    .await?;
                    out.failed.push(case.id.clone());
                    continue;
                }
            }
        };
        let id = case.id.clone();
        db.gold_run(
            GoldScope { case_ids: vec![id.clone()], ..GoldScope::default() },
            now,
            Box::new(move |book| {
                book.finish(&id, result, now)?;
                Ok(vec![id])
            }),
        )
        .await?;
        out.finished.push(case.id.clone());
    }
    Ok(out)
}

/// The cases still being read (final ones, which only grow, are not read).
pub async fn open_cases(db: &crate::Db) -> Result<Vec<CaseDoc>, ApiError> {
    let mut open = db.gold_cases(Some(CaseState::Reading)).await?;
    open.extend(db.gold_cases(Some(CaseState::Adjudicating)).await?);
    Ok(open)
}

/// Pushes a case's gold evaluation as the next entry of its site's gold device.
async fn push_result(
    db: &crate::Db,
    case: &CaseDoc,
    record: &EvaluationRecord,
    rubrics: &crate::db::RubricSet,
    grants: &Grants,
    now: DateTime<Utc>,
) -> Result<Result<(), ErrorBody>, ApiError> {
    let exam = db.exam_record(&case.site, &case.accession).await?.unwrap_or_else(|| case.exam.clone());
    let id = device_id(&case.site);
    db.ensure_device(&id, &case.site, "金标准 gold standard (the center's own)", now).await?;
    let state =
        db.device_state(&id).await?.ok_or_else(|| ApiError::storage(format!("the gold device {id} was not made")))?;
    let payload = radqc_protocol::SyncPayload::Evaluation { exam, evaluation: Box::new(record.clone()) };
    let raw = serde_json::value::to_raw_value(&payload).expect("a payload serializes");
    let device = crate::db::Device { id, site: case.site.clone(), revoked: false };
    let entry = radqc_protocol::PushEntry { seq: state.last_seq + 1, payload: raw };
    let answer = db.push(&device, vec![entry], rubrics, grants, now).await?;
    use radqc_protocol::EntryStatus;
    match answer.results.first() {
        Some(r) if matches!(r.status, EntryStatus::Applied) => Ok(Ok(())),
        Some(r) if matches!(r.status, EntryStatus::Duplicate) && r.reason.is_none() => Ok(Ok(())),
        Some(r) => Ok(Err(r.reason.clone().unwrap_or_else(|| {
            ErrorBody::new(ErrorCode::InvalidPayload, format!("the gold result was answered {:?}", r.status))
        }))),
        None => Err(ApiError::storage("a push of one entry answered nothing")),
    }
}
/// The domain's outcome of a final case, for the agreement figures: the one the exam's site
/// counts from the same case's `Final` (`GoldFinal::outcome`).
pub fn outcome(case: &CaseDoc) -> Option<radqc_domain::agreement::GoldOutcome> {
    if case.state != CaseState::Final {
        return None;
    }
    final_of(case, case.result.as_ref()?, case.closed_at?).outcome()
}

/// The agreement figures (7.3.1) of the final cases closed in `period` (each site's local
/// months), of one site or the region, of one modality.
pub async fn agreement(
    db: &crate::Db,
    period: radqc_domain::report::Period,
    site: Option<&str>,
    modality: Option<&Modality>,
) -> Result<radqc_domain::agreement::AgreementReport, ApiError> {
    let zones = db.site_zones().await?;
    let mut outcomes = Vec::new();
    for case in db.gold_cases(Some(CaseState::Final)).await? {
        if site.is_some_and(|s| s != case.site) || modality.is_some_and(|m| m != &case.modality) {
            continue;
        }
        let (from, to) = period.range(zones.of(&case.site));
        let parse = |t: &str| DateTime::parse_from_rfc3339(t).map(|t| t.with_timezone(&Utc)).ok();
        let Some(closed) = case.closed_at else { continue };
        if parse(&from).is_some_and(|f| closed < f) || parse(&to).is_some_and(|t| closed >= t) {
            continue;
        }
        outcomes.extend(outcome(&case));
    }
    radqc_domain::agreement::AgreementReport::build(period.to_string(), &outcomes)
        .map_err(|e| ApiError::storage(format!("a final gold case does not count: {e}")))
}
