//! A store that is a copy: restored from a backup, or copied onto a second workstation. The
//! center tells it so (it holds entries of this device beyond the store's own, or other content
//! under a number the store used again); the store then becomes a device of its own and pulls
//! back what the center holds of the device it was.
//!
//! Architecture Invariant: outbox entries keep their local sequence numbers; the center sees
//! `seq - seq_base`, where `seq_base` is where the current device's sequence starts. A fork
//! moves `seq_base` to just before the first entry the center has not acknowledged and makes
//! every entry after it pending again, so the new device receives them from 1 with no gap; the
//! ones the center already holds are acknowledged as duplicates by content, never applied twice.
//!
//! Architecture Invariant: a fork is asked for with an id and token chosen and committed here
//! first (`fork_pending`), so a crash or a lost answer repeats the same request, and the center
//! answers the same device.

use chrono::{DateTime, Utc};
use radqc_protocol::{DeviceRecord, SyncPayload};
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::error::{invalid, StoreError};
use crate::store::{ts, Store};

/// A fork this store asked for (or is about to), kept until the center answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkPlan {
    /// The device this store was.
    pub parent: String,
    pub device_id: String,
    pub token: String,
    /// The parent's sequence number up to which the center had acknowledged this store's own
    /// entries: the new device starts after it, and the store pulls back what lies beyond it.
    pub parent_after: i64,
    /// Why: `restored` (the center holds more than this copy) or `reused` (other content under
    /// a number this copy used).
    pub why: String,
}

/// What the store still has to pull back from the center after a fork.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pullback {
    pub device: String,
    pub after: i64,
}

/// When and why this store last became a device of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ForkRecord {
    /// `restored` or `reused` (see [`ForkPlan::why`]).
    pub why: String,
    /// The device it was, and the one it is.
    pub was: String,
    pub device: String,
    pub at: DateTime<Utc>,
}

/// How a page of pulled-back records went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Restored {
    pub evaluations: u64,
    pub events: u64,
    /// Gold reads and disputes.
    pub gold: u64,
    /// Records this store already held.
    pub held: u64,
    /// Corrections whose original this store does not hold, or that collide with a local one.
    pub skipped: u64,
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serializes")
}

impl Store {
    fn meta_json<T: for<'de> Deserialize<'de>>(&self, key: &str) -> Result<Option<T>, StoreError> {
        self.meta(key)?
            .map(|t| serde_json::from_str(&t).map_err(|e| invalid(&format!("meta.{key}"), e.to_string())))
            .transpose()
    }

    /// Where the current device's sequence starts: the center sees `seq - seq_base`.
    pub fn seq_base(&self) -> Result<i64, StoreError> {
        self.meta("seq_base")?
            .map_or(Ok(0), |v| v.parse().map_err(|_| invalid("meta.seq_base", format!("`{v}` is not a number"))))
    }

    /// The last sequence number of the current device this store holds (0 when none).
    pub fn last_device_seq(&self) -> Result<i64, StoreError> {
        let max: i64 = self.conn.query_row("SELECT coalesce(max(seq), 0) FROM outbox", [], |r| r.get(0))?;
        Ok((max - self.seq_base()?).max(0))
    }

    /// The fork asked for and not yet answered, if any.
    pub fn fork_pending(&self) -> Result<Option<ForkPlan>, StoreError> {
        self.meta_json("fork_pending")
    }

    /// What is still to pull back after a fork, if anything.
    pub fn pullback(&self) -> Result<Option<Pullback>, StoreError> {
        self.meta_json("pullback")
    }

    /// Chooses the new device (id and token) and commits the plan before the center is asked;
    /// a plan already pending is returned as it is.
    pub fn plan_fork(&mut self, why: &str, now: DateTime<Utc>) -> Result<ForkPlan, StoreError> {
        if let Some(plan) = self.fork_pending()? {
            return Ok(plan);
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let base = self.seq_base()?;
        let first_pending: Option<i64> =
            tx.query_row("SELECT min(seq) FROM outbox WHERE state = 'pending'", [], |r| r.get(0))?;
        let max: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM outbox", [], |r| r.get(0))?;
        let settled = first_pending.map_or(max, |s| s - 1).max(base);
        let mut token = [0u8; 32];
        getrandom::fill(&mut token).map_err(|e| invalid("token", e.to_string()))?;
        let plan = ForkPlan {
            parent: self.device_id.clone(),
            device_id: uuid::Uuid::new_v4().to_string(),
            token: format!("rq_{}", hex::encode(token)),
            parent_after: settled - base,
            why: why.to_owned(),
        };
        Self::set_meta(&tx, "fork_pending", Some(&json(&plan)))?;
        tx.execute(
            "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?1, 'sync', 'fork_planned', ?2, ?3)",
            params![ts(now), plan.device_id, format!("{why}: a copy of device {}", plan.parent)],
        )?;
        tx.commit()?;
        Ok(plan)
    }

    /// The center made the planned device: this store is that device from now on. Every entry
    /// after the parent's acknowledged ones is pending again, numbered for the new device.
    pub fn complete_fork(&mut self, plan: &ForkPlan, now: DateTime<Utc>) -> Result<(), StoreError> {
        if self.fork_pending()?.as_ref() != Some(plan) {
            return Err(invalid("fork", "no such fork is pending"));
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let base = self.seq_base()? + plan.parent_after;
        let reopened = tx.execute(
            "UPDATE outbox SET state = 'pending', reason = NULL, state_at = ?2 WHERE seq > ?1 AND state <> 'pending'",
            params![base, ts(now)],
        )?;
        Self::set_meta(&tx, "device_id", Some(&plan.device_id))?;
        Self::set_meta(&tx, "device_token", Some(&plan.token))?;
        Self::set_meta(&tx, "seq_base", Some(&base.to_string()))?;
        Self::set_meta(&tx, "fork_pending", None)?;
        let pullback = Pullback { device: plan.parent.clone(), after: plan.parent_after };
        Self::set_meta(&tx, "pullback", Some(&json(&pullback)))?;
        let record = ForkRecord {
            why: plan.why.clone(),
            was: plan.parent.clone(),
            device: plan.device_id.clone(),
            at: crate::store::parse_ts(&ts(now))?,
        };
        Self::set_meta(&tx, "forked", Some(&json(&record)))?;
        tx.execute(
            "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?1, 'sync', 'forked', ?2, ?3)",
            params![
                ts(now),
                plan.device_id,
                format!(
                    "{}: was device {} (acknowledged up to its entry {}); {reopened} entries to send again",
                    plan.why, plan.parent, plan.parent_after
                )
            ],
        )?;
        tx.commit()?;
        self.device_id = plan.device_id.clone();
        Ok(())
    }

    /// When and why this store last became a device of its own, if it did.
    pub fn last_fork(&self) -> Result<Option<ForkRecord>, StoreError> {
        self.meta_json("forked")
    }

    /// Keeps records pulled back from the center (a page of them, in sequence order): the ones
    /// this store lacks go in as they are, without outbox entries (the center has them). Then
    /// `after` moves on; `done` ends the pull-back.
    pub fn restore_records(
        &mut self,
        records: &[DeviceRecord],
        after: i64,
        done: bool,
        now: DateTime<Utc>,
    ) -> Result<Restored, StoreError> {
        let Some(mut pullback) = self.pullback()? else {
            return Err(invalid("pullback", "nothing is being pulled back"));
        };
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let mut out = Restored::default();
        for record in records {
            match &record.payload {
                SyncPayload::Evaluation { exam, evaluation: e } => {
                    if e.site != self.site || exam.site != self.site {
                        return Err(invalid("record", format!("evaluation {} is of site {}", e.id, e.site)));
                    }
                    let held: bool =
                        tx.query_row("SELECT count(*) > 0 FROM evaluations WHERE id = ?1", [&e.id], |r| r.get(0))?;
                    if held {
                        out.held += 1;
                        continue;
                    }
                    if let Some(previous) = &e.supersedes {
                        let (known, taken): (bool, bool) = tx.query_row(
                            "SELECT EXISTS (SELECT 1 FROM evaluations WHERE id = ?1),
                                    EXISTS (SELECT 1 FROM evaluations WHERE supersedes = ?1)",
                            [previous],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )?;
                        if !known || taken {
                            out.skipped += 1;
                            continue;
                        }
                    }
                    let exam_id = restore_exam(&tx, exam, now)?;
                    let codes = |v: &[radqc_domain::CriterionCode]| serde_json::to_string(v).expect("codes serialize");
                    tx.execute(
                        "INSERT INTO evaluations (id, exam_id, item, reviewer, scored_person, mode, findings, not_applicable,
                             score, grade, pass, severe, unmet, rubric_version, note, at, supersedes)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                        params![
                            e.id,
                            exam_id,
                            e.item.as_str(),
                            e.reviewer.as_str(),
                            e.scored_person.as_ref().map(|p| p.as_str()),
                            e.mode.as_str(),
                            codes(&e.findings),
                            codes(&e.not_applicable),
                            e.score.map(|s| s.get()),
                            e.grade.as_str(),
                            e.pass,
                            codes(&e.severe),
                            codes(&e.unmet),
                            e.rubric_version,
                            e.note,
                            ts(e.at),
                            e.supersedes,
                        ],
                    )?;
                    out.evaluations += 1;
                }
                SyncPayload::ExamEvent { exam, event } => {
                    if event.site != self.site || exam.site != self.site {
                        return Err(invalid("record", format!("event {} is of site {}", event.id, event.site)));
                    }
                    let held: bool =
                        tx.query_row("SELECT count(*) > 0 FROM exam_events WHERE id = ?1", [&event.id], |r| r.get(0))?;
                    if held {
                        out.held += 1;
                        continue;
                    }
                    let exam_id = restore_exam(&tx, exam, now)?;
                    tx.execute(
                        "INSERT INTO exam_events (id, exam_id, kind, staff, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![event.id, exam_id, event.kind.as_str(), event.staff.as_str(), ts(event.at)],
                    )?;
                    out.events += 1;
                }
                SyncPayload::GoldRead { read } if read.site == self.site => {
                    if Self::restore_gold_read(&tx, read)? {
                        out.gold += 1;
                    } else {
                        out.held += 1;
                    }
                }
                SyncPayload::Dispute { dispute } if dispute.site == self.site => {
                    if Self::restore_dispute(&tx, dispute)? {
                        out.gold += 1;
                    } else {
                        out.skipped += 1;
                    }
                }
                SyncPayload::NoticeClosed { .. }
                | SyncPayload::GoldRead { .. }
                | SyncPayload::Dispute { .. }
                | SyncPayload::Exam { .. } => out.skipped += 1,
            }
        }
        pullback.after = after;
        Self::set_meta(&tx, "pullback", if done { None } else { Some(json(&pullback)) }.as_deref())?;
        if out.evaluations + out.events + out.gold > 0 || done {
            tx.execute(
                "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?1, 'sync', 'restored', ?2, ?3)",
                params![
                    ts(now),
                    pullback.device,
                    format!(
                        "{} evaluations, {} exam events and {} gold reads and disputes from the center (up to entry {after}; {} already here, {} skipped)",
                        out.evaluations, out.events, out.gold, out.held, out.skipped
                    )
                ],
            )?;
        }
        tx.commit()?;
        Ok(out)
    }
}

/// The exam of a pulled-back record: the store's own row when it has one (what it knows wins),
/// else the center's.
fn restore_exam(tx: &Transaction, x: &radqc_protocol::ExamRecord, now: DateTime<Utc>) -> Result<i64, StoreError> {
    let found: Option<i64> = tx
        .query_row(
            "SELECT id FROM exams WHERE site = ?1 AND accession = ?2",
            params![x.site.as_str(), x.accession],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    let s = &x.staff;
    let code = |c: &Option<radqc_domain::StaffCode>| c.as_ref().map(|c| c.as_str().to_owned());
    Ok(tx.query_row(
        "INSERT INTO exams (site, accession, modality, exam_item, department, patient_source, follow_up,
             film_printed, reconstruction, technologist, reporting_doctor, auditing_doctor, ordering_clinician,
             patient_hash, patient_sex, patient_age, performed_at, performed_at_source, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) RETURNING id",
        params![
            x.site.as_str(),
            x.accession,
            x.modality.as_str(),
            x.exam_item,
            x.department,
            x.patient_source.map(|p| p.as_str()),
            x.follow_up,
            x.film_printed,
            x.reconstruction,
            code(&s.technologist),
            code(&s.reporting_doctor),
            code(&s.auditing_doctor),
            code(&s.ordering_clinician),
            x.patient_hash,
            x.patient_sex.map(|p| p.as_str()),
            x.patient_age,
            x.performed_at.map(ts),
            x.performed_at_source.map(|s| s.as_str()),
            ts(now),
        ],
        |r| r.get(0),
    )?)
}
