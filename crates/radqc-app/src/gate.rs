//! Held signatures: a sampled signing waits here until its panel is saved (or closed), and the
//! gate API's request thread waits on the answer.

use std::collections::BTreeMap;
use std::sync::mpsc;

use chrono::{DateTime, Utc};
use radqc_domain::{Decision, ItemCode, StaffCode};
use radqc_store::ExamInput;
use serde::{Deserialize, Serialize};

use crate::ExamView;

/// What the reading workstation sends before it commits a signature.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    pub exam: ExamInput,
    /// The doctor signing.
    pub signer: StaffCode,
}

/// The answer the workstation finally gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum GateAnswer {
    /// Commit the signature.
    Go { evaluations: Vec<String> },
    /// Do not commit it (the panel was closed without a score and the site's setting blocks).
    Blocked { reason: String },
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
    /// Wait on `waiter` for the answer; the UI shows `gate`.
    Hold {
        gate: Box<GateView>,
        waiter: mpsc::Receiver<GateAnswer>,
        decision: Decision,
    },
}

/// A held signature as the panel shows it.
#[derive(Debug, Clone, Serialize)]
pub struct GateView {
    pub id: String,
    pub accession: String,
    pub exam: ExamView,
    pub signer: String,
    pub items: Vec<ItemCode>,
    /// The sampling rule that selected it.
    pub rule: Option<String>,
    pub waiting_since: DateTime<Utc>,
}

#[derive(Default)]
pub struct Gates {
    held: BTreeMap<String, (GateView, mpsc::Sender<GateAnswer>)>,
}

impl Gates {
    pub fn hold(
        &mut self,
        exam: ExamView,
        signer: String,
        items: Vec<ItemCode>,
        rule: Option<String>,
        now: DateTime<Utc>,
    ) -> (GateView, mpsc::Receiver<GateAnswer>) {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the OS has randomness");
        let id = hex::encode(bytes);
        let view = GateView {
            id: id.clone(),
            accession: exam.exam.accession.clone(),
            exam,
            signer,
            items,
            rule,
            waiting_since: now,
        };
        let (tx, rx) = mpsc::channel();
        self.held.insert(id, (view.clone(), tx));
        (view, rx)
    }

    /// Answers a held signature; false when there is none with this id.
    pub fn release(&mut self, id: &str, answer: GateAnswer) -> bool {
        match self.held.remove(id) {
            // The waiter may have given up (timeout): the answer then goes nowhere, harmlessly.
            Some((_, tx)) => {
                let _ = tx.send(answer);
                true
            }
            None => false,
        }
    }

    /// The items a held signature is to be scored on.
    pub fn items_of(&self, id: &str) -> Option<Vec<ItemCode>> {
        self.held.get(id).map(|(v, _)| v.items.clone())
    }

    pub fn pending(&self) -> Vec<GateView> {
        let mut list: Vec<GateView> = self.held.values().map(|(v, _)| v.clone()).collect();
        list.sort_by_key(|v| v.waiting_since);
        list
    }

    /// Forgets a held signature whose waiter gave up.
    pub fn forget(&mut self, id: &str) {
        self.held.remove(id);
    }
}
