//! The gold standard at a site (7.3.1): a reader's blind read of a case assigned to them (the
//! exam is usually another site's: only the case is named, the store keeps no other site's
//! exam), a person's dispute of a failed evaluation of theirs, both saved with their outbox entry
//! and audit line in one transaction like an evaluation; the assignments and settings the center
//! published in the `gold` feed; and a case's final result, kept as a revision of the exam's
//! evaluation (no outbox entry: the center made it) when the feed brings it.
//!
//! Architecture Invariant: a gold result supersedes the evaluation it names, or, when that one
//! was corrected here since (a correction the center has not taken yet), the latest revision, so
//! the gold result is what the site counts; the original stays readable. A case's result is
//! applied once, whatever the feed repeats.

use chrono::{DateTime, Duration, Utc};
use radqc_domain::{CriterionCode, Findings, QcMode, Rubric, StaffCode};
use radqc_protocol::{
    DisputeRecord, EvaluationRecord, FeedItem, FeedKind, GoldAssignment, GoldFinal, GoldMessage, GoldReadRecord,
    GoldSettings, GoldTask, SyncPayload,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::error::{invalid, StoreError};
use crate::store::{parse_ts, ts, Store};

/// The longest note of a read and the longest reason of a dispute, in characters.
const MAX_TEXT: usize = 2000;

/// A reader's read of a case as they give it: the score comes from the engine, under the
/// assignment's rubric version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGoldRead {
    pub case_id: String,
    pub task: GoldTask,
    pub reader: StaffCode,
    pub findings: Vec<CriterionCode>,
    #[serde(default)]
    pub not_applicable: Vec<CriterionCode>,
    #[serde(default)]
    pub note: String,
}

/// An open assignment of a reader: the center's task, and the read made here, if any (still to
/// reach the center, or refused by it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenAssignment {
    pub assignment: GoldAssignment,
    /// The read this store made of it, still to reach the center (or refused by it).
    pub read: Option<GoldReadRecord>,
}

/// A final case's result as this store applied it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedFinal {
    pub case_id: String,
    /// The gold result: an evaluation of mode `gold`.
    pub gold_evaluation_id: String,
    /// The case's original evaluation.
    pub original_id: String,
    /// The evaluation the gold result superseded here: the one the center named, or the local
    /// correction of it that was current.
    pub superseded: String,
    pub closed_at: DateTime<Utc>,
}

/// A task in English and Chinese, for messages.
pub(crate) fn task_words(task: GoldTask) -> (&'static str, &'static str) {
    match task {
        GoldTask::First => ("first read", "第一读"),
        GoldTask::Second => ("second read", "第二读"),
        GoldTask::Third => ("third read", "第三读（裁定）"),
    }
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serializes")
}

fn from_json<T: for<'de> Deserialize<'de>>(s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

impl Store {
    /// The rubric of `version`, as this store knows it: the one it scores with, the bundled one,
    /// or one the center published (the `rubric` feed). `None` when none of them is that version.
    pub fn rubric_of_version(&self, version: &str) -> Result<Option<Rubric>, StoreError> {
        if self.rubric().version == version {
            return Ok(Some(self.rubric().clone()));
        }
        if Rubric::bundled().version == version {
            return Ok(Some(Rubric::bundled().clone()));
        }
        for item in self.feed_items(FeedKind::Rubric)?.iter().rev() {
            let Some(text) = item.body["toml"].as_str() else { continue };
            if let Ok(r) = Rubric::from_toml_str(text, "the rubric the center published") {
                if r.version == version {
                    return Ok(Some(r));
                }
            }
        }
        Ok(None)
    }

    /// The gold feed's messages of one type, in cursor order (an item that does not read is left
    /// out: it names nothing this build knows).
    fn gold_messages(&self, kind: &str) -> Result<Vec<(FeedItem, GoldMessage)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT cursor, site, body, published_at FROM center_feed
             WHERE kind = 'gold' AND json_extract(body, '$.type') = ?1 ORDER BY cursor",
        )?;
        let rows = stmt.query_map([kind], |r| {
            let body: String = r.get(2)?;
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?, body, r.get::<_, String>(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (cursor, site, body, published_at) = row?;
            let value: serde_json::Value = from_json(&body)?;
            let Ok(message) = GoldMessage::deserialize(&value) else { continue };
            let item =
                FeedItem { cursor, kind: FeedKind::Gold, site, body: value, published_at: parse_ts(&published_at)? };
            out.push((item, message));
        }
        Ok(out)
    }

    /// The region's gold-standard settings in force: the last the center published, else the
    /// defaults (14 days to dispute, readers blind to names).
    pub fn gold_settings(&self) -> Result<GoldSettings, StoreError> {
        Ok(self
            .gold_messages("settings")?
            .into_iter()
            .rev()
            .find_map(|(i, m)| match m {
                GoldMessage::Settings { settings } if i.site.is_none() => Some(settings),
                _ => None,
            })
            .unwrap_or_default())
    }

    /// The latest assignment of each task of each case published to this site.
    fn assignments(&self) -> Result<Vec<GoldAssignment>, StoreError> {
        let mut latest: std::collections::BTreeMap<(String, GoldTask), (i64, GoldAssignment)> = Default::default();
        for (item, message) in self.gold_messages("assigned")? {
            if item.site.as_deref() != Some(self.site.as_str()) {
                continue;
            }
            if let GoldMessage::Assigned { assignment } = message {
                latest.insert((assignment.case_id.clone(), assignment.task), (item.cursor, *assignment));
            }
        }
        let mut list: Vec<(i64, GoldAssignment)> = latest.into_values().collect();
        list.sort_by_key(|(cursor, _)| *cursor);
        Ok(list.into_iter().map(|(_, a)| a).collect())
    }

    /// The cases whose final result the center published to this site.
    fn final_cases(&self) -> Result<std::collections::HashSet<String>, StoreError> {
        Ok(self
            .gold_messages("final")?
            .into_iter()
            .filter_map(|(_, m)| match m {
                GoldMessage::Final { result } => Some(result.case_id),
                _ => None,
            })
            .collect())
    }

    /// The final results the center published for this site's exams, once per case, in the
    /// order published: the reads behind each, for the site's agreement figures.
    pub fn gold_results(&self) -> Result<Vec<GoldFinal>, StoreError> {
        let mut seen = std::collections::HashSet::new();
        Ok(self
            .gold_messages("final")?
            .into_iter()
            .filter(|(item, _)| item.site.as_deref() == Some(self.site.as_str()))
            .filter_map(|(_, m)| match m {
                GoldMessage::Final { result } => Some(*result),
                _ => None,
            })
            .filter(|r| r.original.site == self.site && seen.insert(r.case_id.clone()))
            .collect())
    }

    /// `reader`'s open assignments (the latest assignment of a task is the one in force), in the
    /// order assigned, each with the read made here. A task is done once the center took its read
    /// (its outbox entry sent, or the read pulled back from the center), or when the case's final
    /// result came: that comes only to the exam's site, so a reader at another site would
    /// otherwise keep every task they ever read.
    pub fn gold_assignments(&self, reader: &str) -> Result<Vec<OpenAssignment>, StoreError> {
        let finals = self.final_cases()?;
        let reads = self.gold_reads()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT ref_id FROM outbox WHERE kind = 'gold_read' AND state IN ('pending', 'rejected')",
        )?;
        let unsent: std::collections::HashSet<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(self
            .assignments()?
            .into_iter()
            .filter(|a| a.to == reader && !finals.contains(&a.case_id))
            .map(|assignment| {
                let read = reads
                    .iter()
                    .find(|r| {
                        r.case_id == assignment.case_id && r.task == assignment.task && r.reader.as_str() == reader
                    })
                    .cloned();
                OpenAssignment { assignment, read }
            })
            .filter(|open| open.read.as_ref().is_none_or(|r| unsent.contains(&r.id)))
            .collect())
    }

    /// Every gold read made here, in the order saved.
    pub fn gold_reads(&self) -> Result<Vec<GoldReadRecord>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT record FROM gold_reads ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| from_json::<GoldReadRecord>(&r.get::<_, String>(0)?))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Scores and saves a reader's read of a case assigned to them, with its outbox entry and
    /// audit line, in one durable transaction. Refused: a case this site was never assigned
    /// (`UNKNOWN_GOLD_CASE`), a task that is not the reader's (`NOT_ASSIGNED`), a case already
    /// final (`GOLD_CASE_CLOSED`), a second read (`GOLD_ALREADY_READ`), a rubric version this
    /// store does not know (`UNKNOWN_RUBRIC_VERSION`), findings the engine refuses.
    pub fn save_gold_read(&mut self, input: &NewGoldRead, now: DateTime<Utc>) -> Result<GoldReadRecord, StoreError> {
        if input.note.chars().count() > MAX_TEXT {
            return Err(invalid("note", format!("is longer than {MAX_TEXT} characters")));
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let assignments = self.assignments()?;
        let of_case: Vec<&GoldAssignment> = assignments.iter().filter(|a| a.case_id == input.case_id).collect();
        if of_case.is_empty() {
            return Err(StoreError::UnknownGoldCase(input.case_id.clone()));
        }
        let Some(assignment) =
            of_case.iter().find(|a| a.task == input.task && a.to == input.reader.as_str()).copied().cloned()
        else {
            return Err(StoreError::NotAssigned {
                case_id: input.case_id.clone(),
                task: input.task,
                reader: input.reader.to_string(),
            });
        };
        if self.final_cases()?.contains(&input.case_id) {
            return Err(StoreError::GoldCaseClosed(input.case_id.clone()));
        }
        let earlier: Option<String> = tx
            .query_row(
                "SELECT at FROM gold_reads WHERE case_id = ?1 AND task = ?2",
                params![input.case_id, input.task.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(at) = earlier {
            return Err(StoreError::GoldAlreadyRead { case_id: input.case_id.clone(), task: input.task, at });
        }
        let rubric = self
            .rubric_of_version(&assignment.rubric_version)?
            .ok_or_else(|| StoreError::UnknownRubricVersion(assignment.rubric_version.clone()))?;
        let verdict = rubric.score(&Findings {
            item: assignment.item,
            findings: input.findings.clone(),
            not_applicable: input.not_applicable.clone(),
        })?;
        let mut findings = input.findings.clone();
        findings.sort();
        let at = parse_ts(&ts(now))?;
        let record = GoldReadRecord {
            id: uuid::Uuid::now_v7().to_string(),
            case_id: input.case_id.clone(),
            site: self.site.clone(),
            reader: input.reader.clone(),
            task: input.task,
            item: assignment.item,
            findings,
            not_applicable: verdict.not_applicable.clone(),
            score: verdict.score,
            grade: verdict.grade,
            pass: verdict.pass,
            severe: verdict.severe.clone(),
            unmet: verdict.unmet.clone(),
            rubric_version: rubric.version.clone(),
            note: input.note.clone(),
            at,
        };
        tx.execute(
            "INSERT INTO gold_reads (id, case_id, task, reader, record, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![record.id, record.case_id, record.task.as_str(), record.reader.as_str(), json(&record), ts(at)],
        )?;
        Self::enqueue(&tx, "gold_read", &record.id, &SyncPayload::GoldRead { read: Box::new(record.clone()) }, now)?;
        let detail = format!(
            "case {} {} {} {} {}",
            record.case_id,
            record.task.as_str(),
            record.item,
            record.grade,
            record.score.map(|s| s.to_string()).unwrap_or_default()
        );
        Self::log(&tx, record.reader.as_str(), "gold_read", Some(&record.id), Some(detail.trim_end()), now)?;
        tx.commit()?;
        Ok(record)
    }

    /// Every dispute made here, in the order saved.
    pub fn disputes(&self) -> Result<Vec<DisputeRecord>, StoreError> {
        let mut stmt =
            self.conn.prepare("SELECT id, evaluation_id, by_staff, reason, at FROM disputes ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| {
            Ok(DisputeRecord {
                id: r.get(0)?,
                site: self.site.clone(),
                evaluation_id: r.get(1)?,
                by: r.get::<_, String>(2)?.parse().map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
                })?,
                reason: r.get(3)?,
                at: parse_ts(&r.get::<_, String>(4)?)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Until when the person scored may dispute `evaluation`: its time plus the region's days,
    /// for a failed, current evaluation that is not itself a gold result and is not disputed
    /// yet; `None` for any other.
    pub fn disputable_until(
        &self,
        evaluation: &EvaluationRecord,
        settings: &GoldSettings,
        disputed: bool,
    ) -> Option<DateTime<Utc>> {
        let open = !evaluation.pass
            && evaluation.superseded_by.is_none()
            && evaluation.mode != QcMode::Gold
            && evaluation.scored_person.is_some()
            && !disputed;
        open.then(|| evaluation.at + Duration::days(i64::from(settings.dispute_days)))
    }

    /// Saves `by`'s dispute of a failed evaluation of theirs with its reason (1-2000 characters),
    /// its outbox entry and audit line, in one durable transaction. Refused (`DISPUTE_REFUSED`,
    /// saying why): someone else's evaluation, one that passed, one revised since, a gold result,
    /// one already disputed; past the region's days (`DISPUTE_WINDOW_CLOSED`).
    pub fn save_dispute(
        &mut self,
        evaluation_id: &str,
        by: &StaffCode,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<DisputeRecord, StoreError> {
        let reason = reason.trim();
        let chars = reason.chars().count();
        if chars == 0 || chars > MAX_TEXT {
            return Err(invalid("reason", format!("must say why, in 1-{MAX_TEXT} characters (has {chars})")));
        }
        let settings = self.gold_settings()?;
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let e = self.evaluation(evaluation_id)?.ok_or_else(|| StoreError::UnknownEvaluation(evaluation_id.into()))?;
        let refuse = |en: String, zh: String| StoreError::DisputeRefused { evaluation: e.id.clone(), en, zh };
        if e.scored_person.as_ref() != Some(by) {
            return Err(refuse(
                format!("{by} is not the person scored by it: only the person scored may dispute an evaluation"),
                format!("{by} 不是该评分的被评人：只有被评人本人可以申诉"),
            ));
        }
        if e.mode == QcMode::Gold {
            return Err(refuse(
                "it is a gold-standard result, which is final".to_owned(),
                "这是金标准复核的最终结果，不能再申诉".to_owned(),
            ));
        }
        if e.pass {
            return Err(refuse(
                format!("it passed ({}): only a failed evaluation may be disputed", e.grade),
                "该评分已合格：只有不合格的评分可以申诉".to_owned(),
            ));
        }
        if let Some(next) = &e.superseded_by {
            return Err(refuse(
                format!("it was revised by {next}: dispute the current revision"),
                format!("该评分已被 {next} 更正：请对最新的版本申诉"),
            ));
        }
        let earlier: Option<String> =
            tx.query_row("SELECT at FROM disputes WHERE evaluation_id = ?1", [&e.id], |r| r.get(0)).optional()?;
        if let Some(at) = earlier {
            return Err(refuse(format!("it was already disputed at {at}"), format!("已于 {at} 申诉过")));
        }
        let until = e.at + Duration::days(i64::from(settings.dispute_days));
        if now > until {
            return Err(StoreError::DisputeWindowClosed {
                evaluation: e.id.clone(),
                until,
                days: settings.dispute_days,
            });
        }
        let record = DisputeRecord {
            id: uuid::Uuid::now_v7().to_string(),
            site: self.site.clone(),
            evaluation_id: e.id.clone(),
            by: by.clone(),
            reason: reason.to_owned(),
            at: parse_ts(&ts(now))?,
        };
        tx.execute(
            "INSERT INTO disputes (id, evaluation_id, by_staff, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![record.id, record.evaluation_id, by.as_str(), record.reason, ts(record.at)],
        )?;
        Self::enqueue(&tx, "dispute", &record.id, &SyncPayload::Dispute { dispute: record.clone() }, now)?;
        Self::log(&tx, by.as_str(), "disputed", Some(&e.id), Some(reason), now)?;
        tx.commit()?;
        Ok(record)
    }

    /// The final cases applied here, in the order applied.
    pub fn gold_finals(&self) -> Result<Vec<AppliedFinal>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT case_id, gold_evaluation_id, original_id, superseded, json_extract(body, '$.closed_at')
             FROM gold_finals ORDER BY rowid",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(AppliedFinal {
                case_id: r.get(0)?,
                gold_evaluation_id: r.get(1)?,
                original_id: r.get(2)?,
                superseded: r.get(3)?,
                closed_at: parse_ts(&r.get::<_, String>(4)?)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Keeps a final case's gold result (a `Final` of the gold feed, inside the feed's saving
    /// transaction) as a revision of the exam's evaluation, without an outbox entry. A case
    /// applied before, another site's result, or one whose evaluation this store does not hold
    /// changes nothing but the audit log.
    pub(crate) fn apply_gold_final(
        &self,
        tx: &Connection,
        result: &GoldFinal,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let g = &result.gold;
        let done: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM gold_finals WHERE case_id = ?1)", [&result.case_id], |r| {
                r.get(0)
            })?;
        if done {
            return Ok(());
        }
        let skip = |why: String| Self::log(tx, "sync", "gold_final_skipped", Some(&result.case_id), Some(&why), now);
        if g.site != self.site {
            return skip(format!("the result is of site {}, this store is site {}", g.site, self.site));
        }
        if g.mode != QcMode::Gold {
            return skip(format!("the result {} is of mode {}, not gold", g.id, g.mode));
        }
        let held: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM evaluations WHERE id = ?1)", [&g.id], |r| r.get(0))?;
        if held {
            return skip(format!("evaluation {} is already held", g.id));
        }
        let named = g.supersedes.clone().unwrap_or_else(|| result.original.id.clone());
        let found: Option<(i64, String, String)> = tx
            .query_row(
                "SELECT e.exam_id, x.accession, e.item FROM evaluations e JOIN exams x ON x.id = e.exam_id
                 WHERE e.id = ?1 AND x.site = ?2",
                params![named, self.site.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((exam_id, accession, item)) = found else {
            return skip(format!("evaluation {named}, which the result supersedes, is not held here"));
        };
        if accession != g.accession || item != g.item.as_str() {
            return skip(format!(
                "the result is of {}/{}, but evaluation {named} is of {accession}/{item}",
                g.accession, g.item
            ));
        }
        // The current revision: the named one, or a correction of it made here since.
        let mut head = named.clone();
        while let Some(next) = tx
            .query_row("SELECT id FROM evaluations WHERE supersedes = ?1", [&head], |r| r.get::<_, String>(0))
            .optional()?
        {
            head = next;
        }
        let codes = |v: &[CriterionCode]| serde_json::to_string(v).expect("codes serialize");
        tx.execute(
            "INSERT INTO evaluations (id, exam_id, item, reviewer, scored_person, mode, findings, not_applicable,
                 score, grade, pass, severe, unmet, rubric_version, note, at, supersedes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                g.id,
                exam_id,
                g.item.as_str(),
                g.reviewer.as_str(),
                g.scored_person.as_ref().map(StaffCode::as_str),
                g.mode.as_str(),
                codes(&g.findings),
                codes(&g.not_applicable),
                g.score.map(|s| s.get()),
                g.grade.as_str(),
                g.pass,
                codes(&g.severe),
                codes(&g.unmet),
                g.rubric_version,
                g.note,
                ts(g.at),
                head,
            ],
        )?;
        tx.execute(
            "INSERT INTO gold_finals (case_id, gold_evaluation_id, original_id, superseded, body, applied_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![result.case_id, g.id, result.original.id, head, json(result), ts(now)],
        )?;
        let score = g.score.map(|s| s.to_string()).unwrap_or_default();
        let detail = format!("case {}: {} {} {score}, supersedes {head}", result.case_id, g.item, g.grade);
        Self::log(tx, "sync", "gold_final", Some(&g.id), Some(detail.trim_end()), now)?;
        if head != named {
            Self::log(
                tx,
                "sync",
                "gold_over_correction",
                Some(&g.id),
                Some(&format!(
                    "case {}: the center's result supersedes {named}, corrected here by {head} before the center had \
                     that correction (it will refuse it: ALREADY_SUPERSEDED); the gold result supersedes {head}",
                    result.case_id
                )),
                now,
            )?;
        }
        Ok(())
    }

    /// A gold read pulled back from the center after a fork: kept as it was sent, without an
    /// outbox entry. `false` when this store already holds a read of that case and task.
    pub(crate) fn restore_gold_read(tx: &Transaction, read: &GoldReadRecord) -> Result<bool, StoreError> {
        Ok(tx.execute(
            "INSERT INTO gold_reads (id, case_id, task, reader, record, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT DO NOTHING",
            params![read.id, read.case_id, read.task.as_str(), read.reader.as_str(), json(read), ts(read.at)],
        )? == 1)
    }

    /// A dispute pulled back from the center after a fork: kept as it was sent, without an
    /// outbox entry. `false` when already held, or its evaluation is not.
    pub(crate) fn restore_dispute(tx: &Transaction, d: &DisputeRecord) -> Result<bool, StoreError> {
        let known: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM evaluations WHERE id = ?1)", [&d.evaluation_id], |r| r.get(0))?;
        if !known {
            return Ok(false);
        }
        Ok(tx.execute(
            "INSERT INTO disputes (id, evaluation_id, by_staff, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT DO NOTHING",
            params![d.id, d.evaluation_id, d.by.as_str(), d.reason, ts(d.at)],
        )? == 1)
    }
}
