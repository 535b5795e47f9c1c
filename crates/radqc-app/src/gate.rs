//! Held signatures: a sampled signing waits here until its panel is saved (or closed), and the
//! gate API's request thread waits on the answer.

use std::collections::BTreeMap;
use std::sync::mpsc;

use chrono::{DateTime, Utc};
use radqc_domain::{Decision, ItemCode, StaffCode};
use radqc_store::{ExamInput, StoredProposal};
use serde::{Deserialize, Serialize};

use crate::ExamView;

/// What the reading workstation sends before it commits a signature.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    pub exam: SignExam,
    /// The doctor signing.
    pub signer: StaffCode,
    /// The report being signed, for the report checks; without it, the text the RIS sent for
    /// the exam (HL7 ORU), if any.
    #[serde(default)]
    pub report: Option<SignReport>,
}

/// The report of a signing as the workstation sends it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignReport {
    /// 影像所见.
    pub findings: String,
    /// 诊断意见.
    pub impression: String,
    /// 病史 (what the checks read an operation from), when the workstation has it.
    pub history: Option<String>,
    /// Whether a prior exam was available to compare with (a follow-up's comparison check).
    pub prior_available: Option<bool>,
}

/// The most characters a report field of a signing may have: what the center takes.
pub use radqc_protocol::MAX_REPORT_CHARS;

impl<'de> Deserialize<'de> for SignReport {
    /// Read field by field so that each error names its field (`report.findings`, …).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SignReport, D::Error> {
        use serde::de::Error;
        let value = serde_json::Value::deserialize(d)?;
        let Some(object) = value.as_object() else {
            return Err(D::Error::custom(
                "report: expected an object {findings, impression, history?, prior_available?}",
            ));
        };
        let text = |name: &str, required: bool| -> Result<Option<String>, D::Error> {
            match object.get(name) {
                None | Some(serde_json::Value::Null) if required => {
                    Err(D::Error::custom(format!("report.{name} is missing (send \"\" for none)")))
                }
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) if s.chars().count() > MAX_REPORT_CHARS => {
                    Err(D::Error::custom(format!("report.{name} is longer than {MAX_REPORT_CHARS} characters")))
                }
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(D::Error::custom(format!("report.{name}: expected a string, got {other}"))),
            }
        };
        if let Some(unknown) =
            object.keys().find(|k| !["findings", "impression", "history", "prior_available"].contains(&k.as_str()))
        {
            return Err(D::Error::custom(format!(
                "report.{unknown}: unknown field (a report has findings, impression, history, prior_available)"
            )));
        }
        let prior_available = match object.get("prior_available") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::Bool(b)) => Some(*b),
            Some(other) => {
                return Err(D::Error::custom(format!("report.prior_available: expected true or false, got {other}")))
            }
        };
        Ok(SignReport {
            findings: text("findings", true)?.unwrap_or_default(),
            impression: text("impression", true)?.unwrap_or_default(),
            history: text("history", false)?,
            prior_available,
        })
    }
}

/// The report text the checks read at a signing, as the warning shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportText {
    pub findings: String,
    pub impression: String,
    pub history: String,
}

/// The exam of a signing: as the workstation knows it, or only its accession (and site) when the
/// RIS sent the exam already (HL7, a worklist): the panel then shows the exam as the RIS sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignExam {
    Full(Box<ExamInput>),
    Known { accession: String, site: Option<radqc_domain::SiteCode> },
}

impl SignExam {
    pub fn accession(&self) -> &str {
        match self {
            SignExam::Full(e) => &e.accession,
            SignExam::Known { accession, .. } => accession,
        }
    }
    pub fn site(&self) -> Option<&radqc_domain::SiteCode> {
        match self {
            SignExam::Full(e) => e.site.as_ref(),
            SignExam::Known { site, .. } => site.as_ref(),
        }
    }
}

impl<'de> Deserialize<'de> for SignExam {
    /// `{"accession": …}` (with `site` at most) names a known exam; anything more is a whole
    /// exam, read with the exam's own rules (so its errors name the field that is wrong).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SignExam, D::Error> {
        use serde::de::Error;
        let value = serde_json::Value::deserialize(d)?;
        let only_names = value.as_object().is_some_and(|o| o.keys().all(|k| k == "accession" || k == "site"));
        if only_names {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Known {
                accession: String,
                #[serde(default)]
                site: Option<radqc_domain::SiteCode>,
            }
            let k: Known = serde_json::from_value(value).map_err(D::Error::custom)?;
            if k.accession.trim().is_empty() {
                return Err(D::Error::custom("exam.accession is empty"));
            }
            return Ok(SignExam::Known { accession: k.accession, site: k.site });
        }
        serde_json::from_value::<ExamInput>(value).map(|e| SignExam::Full(Box::new(e))).map_err(D::Error::custom)
    }
}

/// The answer the workstation finally gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum GateAnswer {
    /// Commit the signature.
    Go { evaluations: Vec<String> },
    /// Do not commit it: the panel was closed without a score and the site's setting blocks, or
    /// (`reason: "PRECHECK"`) the doctor chose to correct the report the checks warned about.
    Blocked {
        reason: String,
        /// What the checks found (only with `PRECHECK`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        #[cfg_attr(feature = "ts", ts(as = "Option<Vec<StoredProposal>>", optional))]
        proposals: Vec<StoredProposal>,
    },
}

/// What happens to the held signature when the reviewer closes the panel without saving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PanelClosedPolicy {
    /// The standard's rule: 评分完成后方可提交报告. The default.
    #[default]
    Block,
    /// Let the signature through (sites that prefer not to hold reports).
    Allow,
}

/// The result of asking.
pub enum SignResponse {
    Go {
        decision: Decision,
    },
    /// Wait on `waiter` for the answer; the UI shows `gate`. A retry of a signing that is
    /// already held (same site, accession and signer) joins that hold: `retry` is true, the gate
    /// and the decision are the first request's, and every waiter gets the same answer.
    Hold {
        gate: Box<GateView>,
        waiter: Waiter,
        decision: Decision,
        retry: bool,
    },
}

/// One waiting request of a held signature.
pub struct Waiter {
    pub gate: String,
    /// Which of the gate's waiting requests this is (to say that it gave up).
    pub id: u64,
    pub answer: mpsc::Receiver<GateAnswer>,
}

/// A held signature as the panel shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GateView {
    pub id: String,
    pub accession: String,
    pub exam: ExamView,
    pub signer: String,
    pub items: Vec<ItemCode>,
    /// The sampling rule that selected it.
    pub rule: Option<String>,
    pub waiting_since: DateTime<Utc>,
    /// The report checks' warnings (mode `warn`) the signing doctor answers first (返回修改 or
    /// 仍然签发); empty for an ordinary QC hold, and once the doctor signed anyway.
    pub precheck: Vec<StoredProposal>,
    /// The report text the checks read (with warnings).
    pub report: Option<ReportText>,
    /// False once every request waiting on it gave up (its connection closed or timed out at
    /// the workstation): the score is still saved and counts, but no answer reaches anyone.
    pub workstation_waiting: bool,
}

/// An answer and how many waiting requests got it (0: the workstation had stopped waiting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Released {
    #[serde(flatten)]
    pub answer: GateAnswer,
    pub delivered: usize,
}

struct Held {
    view: GateView,
    /// Site, accession and signer: what makes a retry the same signing.
    signing: (String, String, String),
    decision: Decision,
    waiters: BTreeMap<u64, mpsc::Sender<GateAnswer>>,
}

#[derive(Default)]
pub struct Gates {
    held: BTreeMap<String, Held>,
    next_waiter: u64,
    /// Answered gates whose answers are still on their way: how many requests took one. A
    /// request that finds its workstation gone before it can write the answer takes it back.
    answered: BTreeMap<String, (GateView, usize)>,
}

/// How many answered gates are remembered for `answer_lost`.
const ANSWERED_KEPT: usize = 64;

impl Gates {
    /// Joins the hold of this signing when one is waiting: a new waiter on the same gate.
    pub fn join(&mut self, site: &str, accession: &str, signer: &str) -> Option<(GateView, Waiter, Decision)> {
        let id = self
            .held
            .iter()
            .find(|(_, h)| h.signing == (site.to_owned(), accession.to_owned(), signer.to_owned()))
            .map(|(id, _)| id.clone())?;
        let waiter = self.add_waiter(&id)?;
        let held = self.held.get_mut(&id)?;
        held.view.workstation_waiting = true;
        Some((held.view.clone(), waiter, held.decision))
    }

    fn add_waiter(&mut self, id: &str) -> Option<Waiter> {
        let held = self.held.get_mut(id)?;
        self.next_waiter += 1;
        let (tx, rx) = mpsc::channel();
        held.waiters.insert(self.next_waiter, tx);
        Some(Waiter { gate: id.to_owned(), id: self.next_waiter, answer: rx })
    }

    /// Holds a new signing (the caller checked with `join` that it is not held already).
    pub fn hold(&mut self, site: &str, view: GateView, decision: Decision) -> (GateView, Waiter) {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the OS has randomness");
        let id = hex::encode(bytes);
        let view = GateView { id: id.clone(), workstation_waiting: true, ..view };
        let signing = (site.to_owned(), view.accession.clone(), view.signer.clone());
        self.held.insert(id.clone(), Held { view: view.clone(), signing, decision, waiters: BTreeMap::new() });
        let waiter = self.add_waiter(&id).expect("just held");
        (view, waiter)
    }

    /// Answers a held signature, every request waiting on it the same; `None` when there is
    /// none with this id.
    pub fn release(&mut self, id: &str, answer: GateAnswer) -> Option<Released> {
        let held = self.held.remove(id)?;
        // A waiter whose request gave up a moment ago may still be listed: its receiver is gone
        // and the send fails, so it is not counted.
        let delivered = held.waiters.values().filter(|tx| tx.send(answer.clone()).is_ok()).count();
        if delivered > 0 {
            if self.answered.len() >= ANSWERED_KEPT {
                let oldest = self.answered.iter().min_by_key(|(_, (v, _))| v.waiting_since).map(|(id, _)| id.clone());
                oldest.map(|id| self.answered.remove(&id));
            }
            self.answered.insert(id.to_owned(), (held.view, delivered));
        }
        Some(Released { answer, delivered })
    }

    /// The items a held signature is to be scored on.
    pub fn items_of(&self, id: &str) -> Option<Vec<ItemCode>> {
        self.held.get(id).map(|h| h.view.items.clone())
    }

    /// The held signature's view and sampling decision.
    pub fn held(&self, id: &str) -> Option<(&GateView, Decision)> {
        self.held.get(id).map(|h| (&h.view, h.decision))
    }

    /// The doctor signed anyway: the hold goes on as an ordinary QC hold (its items to score).
    pub fn warnings_answered(&mut self, id: &str) -> Option<GateView> {
        let held = self.held.get_mut(id)?;
        held.view.precheck.clear();
        held.view.report = None;
        Some(held.view.clone())
    }

    /// Who signed the held signature (the gate API trusted them: the RIS authenticated them).
    pub fn signer_of(&self, id: &str) -> Option<String> {
        self.held.get(id).map(|h| h.view.signer.clone())
    }

    pub fn pending(&self) -> Vec<GateView> {
        let mut list: Vec<GateView> = self.held.values().map(|h| h.view.clone()).collect();
        list.sort_by_key(|v| v.waiting_since);
        list
    }

    /// A request got its gate's answer but its workstation was gone before it could be written.
    /// Returns the gate's view when no request is left that got the answer: nobody received it.
    pub fn answer_lost(&mut self, gate: &str) -> Option<GateView> {
        let (_, left) = self.answered.get_mut(gate)?;
        *left -= 1;
        if *left > 0 {
            return None;
        }
        let (view, _) = self.answered.remove(gate)?;
        Some(GateView { workstation_waiting: false, ..view })
    }

    /// One waiting request gave up (its connection closed). Returns the gate's view when that
    /// was the last one: the workstation no longer waits, and the panel must say so.
    pub fn gave_up(&mut self, gate: &str, waiter: u64) -> Option<GateView> {
        let held = self.held.get_mut(gate)?;
        held.waiters.remove(&waiter)?;
        if !held.waiters.is_empty() {
            return None;
        }
        held.view.workstation_waiting = false;
        Some(held.view.clone())
    }
}
