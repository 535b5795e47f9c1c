//! The report checks' record (migration 10): one run per signing whose report was read (the
//! text read, from the signing request or the RIS), each proposal with the mode it ran in, the
//! signing doctor's choice at a warning (`returned`, `signed_anyway`, once) and the QC reviewer's
//! outcome in the panel (`accepted`, `dismissed`). Every write is audited in its transaction.
//! The checks themselves are `radqc-precheck`; the store only keeps what they said.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use radqc_domain::precheck::{Check, Mode};
use radqc_domain::{CriterionCode, SiteZone};
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::error::{invalid, StoreError};
use crate::store::{parse_ts, ts, Store};

/// Where the report text a run read came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "PrecheckSource"))]
pub enum ReportSource {
    /// The signing request carried it.
    Request,
    /// The RIS sent it (HL7 ORU) before the signing.
    Ris,
}

/// The signing doctor's answer to a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SignerChoice {
    /// 返回修改: the signature was not committed.
    Returned,
    /// 仍然签发: signed as it was (and the exam sampled for QC).
    SignedAnyway,
}

/// The QC reviewer's answer to a proposal in the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ProposalOutcome {
    /// 采纳: the criterion was ticked.
    Accepted,
    /// 忽略.
    Dismissed,
}

/// The report a run read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPrecheckRun {
    pub accession: String,
    /// The `report_signed` event of the signing.
    pub signing: String,
    pub signer: String,
    pub source: ReportSource,
    pub findings: String,
    pub impression: String,
    pub history: String,
}

/// One proposal of a run, as a check made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProposal {
    pub check: Check,
    pub criterion: CriterionCode,
    /// The same criterion in the AR item.
    pub twin: CriterionCode,
    pub evidence: Vec<String>,
    pub message_zh: String,
    pub message_en: String,
    /// `panel` or `warn` (a check `off` is not run).
    pub mode: Mode,
}

/// A kept proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoredProposal {
    pub id: i64,
    pub accession: String,
    pub check: Check,
    pub criterion: CriterionCode,
    pub twin: CriterionCode,
    pub evidence: Vec<String>,
    pub message_zh: String,
    pub message_en: String,
    pub mode: Mode,
    pub signer: String,
    pub created_at: DateTime<Utc>,
    pub signer_choice: Option<SignerChoice>,
    pub outcome: Option<ProposalOutcome>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// A run with its report text and proposals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PrecheckRun {
    pub accession: String,
    pub signing: String,
    pub signer: String,
    pub source: ReportSource,
    pub findings: String,
    pub impression: String,
    pub history: String,
    pub at: DateTime<Utc>,
    pub proposals: Vec<StoredProposal>,
}

/// Proposals of one check, month (the site's local one) and site, by what became of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PrecheckStatsRow {
    pub site: String,
    pub month: String,
    pub check: Check,
    pub accepted: u64,
    pub dismissed: u64,
    /// Not decided in a panel yet.
    pub open: u64,
    /// Of those shown to the signing doctor: returned to be corrected, and signed anyway.
    pub returned: u64,
    pub signed_anyway: u64,
}

fn word<T: Serialize>(v: T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).expect("a unit variant is a string")
}

fn from_word<T: for<'de> Deserialize<'de>>(s: &str) -> rusqlite::Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

const PROPOSAL_COLUMNS: &str = "id, accession, check_name, criterion, twin, evidence, message_zh, message_en, mode, \
     signer, created_at, signer_choice, outcome, decided_by, decided_at";

fn proposal_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredProposal> {
    let parse_code = |i: usize| -> rusqlite::Result<CriterionCode> {
        let s: String = r.get(i)?;
        s.parse().map_err(|e: radqc_domain::CodeError| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    let evidence: String = r.get(5)?;
    Ok(StoredProposal {
        id: r.get(0)?,
        accession: r.get(1)?,
        check: from_word(&r.get::<_, String>(2)?)?,
        criterion: parse_code(3)?,
        twin: parse_code(4)?,
        evidence: serde_json::from_str(&evidence)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e)))?,
        message_zh: r.get(6)?,
        message_en: r.get(7)?,
        mode: from_word(&r.get::<_, String>(8)?)?,
        signer: r.get(9)?,
        created_at: parse_ts(&r.get::<_, String>(10)?)?,
        signer_choice: r.get::<_, Option<String>>(11)?.map(|s| from_word(&s)).transpose()?,
        outcome: r.get::<_, Option<String>>(12)?.map(|s| from_word(&s)).transpose()?,
        decided_by: r.get(13)?,
        decided_at: r.get::<_, Option<String>>(14)?.map(|s| parse_ts(&s)).transpose()?,
    })
}

impl Store {
    /// Keeps a run and its proposals (none: the report was clean) in one transaction, audited
    /// (`precheck`, with the checks that proposed).
    pub fn save_precheck(
        &mut self,
        run: &NewPrecheckRun,
        proposals: &[NewProposal],
        now: DateTime<Utc>,
    ) -> Result<Vec<StoredProposal>, StoreError> {
        if let Some(p) = proposals.iter().find(|p| p.mode == Mode::Off) {
            return Err(invalid("mode", format!("check {} is off: it is not run, so it proposes nothing", p.check)));
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let site = self.site.as_str();
        tx.execute(
            "INSERT INTO precheck_runs (site, accession, signing, signer, source, findings, impression, history, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                site,
                run.accession,
                run.signing,
                run.signer,
                word(run.source),
                run.findings,
                run.impression,
                run.history,
                ts(now)
            ],
        )?;
        let run_id = tx.last_insert_rowid();
        let mut ids = Vec::with_capacity(proposals.len());
        for p in proposals {
            tx.execute(
                "INSERT INTO precheck_proposals (run, site, accession, check_name, criterion, twin, evidence, message_zh,
                     message_en, mode, signer, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    run_id,
                    site,
                    run.accession,
                    p.check.name(),
                    p.criterion.as_str(),
                    p.twin.as_str(),
                    serde_json::to_string(&p.evidence).expect("strings serialize"),
                    p.message_zh,
                    p.message_en,
                    word(p.mode),
                    run.signer,
                    ts(now)
                ],
            )?;
            ids.push(tx.last_insert_rowid());
        }
        let detail = serde_json::json!({
            "signing": run.signing,
            "source": run.source,
            "proposals": proposals.iter().map(|p| serde_json::json!({"check": p.check, "criterion": p.criterion.as_str(), "mode": p.mode})).collect::<Vec<_>>(),
        });
        Self::log(&tx, &run.signer, "precheck", Some(&run.accession), Some(&detail.to_string()), now)?;
        tx.commit()?;
        ids.iter().map(|id| self.proposal(*id)?.ok_or_else(|| invalid("proposal", "just saved"))).collect()
    }

    /// One kept proposal.
    pub fn proposal(&self, id: i64) -> Result<Option<StoredProposal>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {PROPOSAL_COLUMNS} FROM precheck_proposals WHERE id = ?1 AND site = ?2"),
                params![id, self.site.as_str()],
                proposal_row,
            )
            .optional()?)
    }

    /// The signing doctor's choice at a warning, on each of its proposals (shown to them: mode
    /// `warn`), audited (`precheck_returned` or `precheck_signed_anyway`). A choice is made once.
    pub fn record_signer_choice(
        &mut self,
        ids: &[i64],
        choice: SignerChoice,
        actor: &str,
        accession: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        for id in ids {
            let n = tx.execute(
                "UPDATE precheck_proposals SET signer_choice = ?2 WHERE id = ?1 AND site = ?3 AND mode = 'warn'
                     AND signer_choice IS NULL",
                params![id, word(choice), self.site.as_str()],
            )?;
            if n != 1 {
                return Err(invalid(
                    "proposal",
                    format!("proposal {id} is not a warning waiting for the doctor's choice"),
                ));
            }
        }
        let action = match choice {
            SignerChoice::Returned => "precheck_returned",
            SignerChoice::SignedAnyway => "precheck_signed_anyway",
        };
        Self::log(
            &tx,
            actor,
            action,
            Some(accession),
            Some(&serde_json::json!({ "proposals": ids }).to_string()),
            now,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The QC reviewer's outcome of a proposal (a later one replaces it: each is audited,
    /// `precheck_accepted` or `precheck_dismissed`).
    pub fn decide_proposal(
        &mut self,
        id: i64,
        outcome: ProposalOutcome,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredProposal, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let accession: Option<String> = tx
            .query_row(
                "SELECT accession FROM precheck_proposals WHERE id = ?1 AND site = ?2",
                params![id, self.site.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(accession) = accession else {
            return Err(invalid("proposal", format!("no proposal {id} at this site")));
        };
        tx.execute(
            "UPDATE precheck_proposals SET outcome = ?2, decided_by = ?3, decided_at = ?4 WHERE id = ?1",
            params![id, word(outcome), actor, ts(now)],
        )?;
        let action = match outcome {
            ProposalOutcome::Accepted => "precheck_accepted",
            ProposalOutcome::Dismissed => "precheck_dismissed",
        };
        Self::log(&tx, actor, action, Some(&accession), Some(&serde_json::json!({ "proposal": id }).to_string()), now)?;
        tx.commit()?;
        self.proposal(id)?.ok_or_else(|| invalid("proposal", "just decided"))
    }

    /// The run of the exam's latest signing, when its report was read: the text and proposals
    /// the panel shows. A later signing that was not read (no report) shows none.
    pub fn latest_precheck(&self, accession: &str) -> Result<Option<PrecheckRun>, StoreError> {
        let run = self
            .conn
            .query_row(
                "SELECT r.id, r.accession, r.signing, r.signer, r.source, r.findings, r.impression, r.history, r.created_at
                 FROM precheck_runs r
                 WHERE r.site = ?1 AND r.accession = ?2 AND r.signing = (
                     SELECT ev.id FROM exam_events ev JOIN exams x ON x.id = ev.exam_id
                     WHERE x.site = ?1 AND x.accession = ?2 AND ev.kind = 'report_signed'
                     ORDER BY ev.at DESC, ev.id DESC LIMIT 1)",
                params![self.site.as_str(), accession],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        PrecheckRun {
                            accession: r.get(1)?,
                            signing: r.get(2)?,
                            signer: r.get(3)?,
                            source: from_word(&r.get::<_, String>(4)?)?,
                            findings: r.get(5)?,
                            impression: r.get(6)?,
                            history: r.get(7)?,
                            at: parse_ts(&r.get::<_, String>(8)?)?,
                            proposals: Vec::new(),
                        },
                    ))
                },
            )
            .optional()?;
        let Some((id, mut run)) = run else { return Ok(None) };
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {PROPOSAL_COLUMNS} FROM precheck_proposals WHERE run = ?1 ORDER BY id"))?;
        run.proposals = stmt.query_map([id], proposal_row)?.collect::<Result<_, _>>()?;
        Ok(Some(run))
    }

    /// What became of the proposals, by site, month (the site's local one, of the signing) and
    /// check: precision in real use is accepted / (accepted + dismissed).
    pub fn precheck_stats(&self, zone: SiteZone) -> Result<Vec<PrecheckStatsRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT site, check_name, created_at, outcome, signer_choice FROM precheck_proposals ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                from_word::<Check>(&r.get::<_, String>(1)?)?,
                parse_ts(&r.get::<_, String>(2)?)?,
                r.get::<_, Option<String>>(3)?.map(|s| from_word::<ProposalOutcome>(&s)).transpose()?,
                r.get::<_, Option<String>>(4)?.map(|s| from_word::<SignerChoice>(&s)).transpose()?,
            ))
        })?;
        let mut by: BTreeMap<(String, String, Check), PrecheckStatsRow> = BTreeMap::new();
        for row in rows {
            let (site, check, at, outcome, choice) = row?;
            let month = zone.month_at(at).to_string();
            let entry = by.entry((site.clone(), month.clone(), check)).or_insert_with(|| PrecheckStatsRow {
                site,
                month,
                check,
                accepted: 0,
                dismissed: 0,
                open: 0,
                returned: 0,
                signed_anyway: 0,
            });
            match outcome {
                Some(ProposalOutcome::Accepted) => entry.accepted += 1,
                Some(ProposalOutcome::Dismissed) => entry.dismissed += 1,
                None => entry.open += 1,
            }
            match choice {
                Some(SignerChoice::Returned) => entry.returned += 1,
                Some(SignerChoice::SignedAnyway) => entry.signed_anyway += 1,
                None => {}
            }
        }
        Ok(by.into_values().collect())
    }
}
