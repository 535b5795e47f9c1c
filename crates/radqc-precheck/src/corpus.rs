//! A labelled corpus (one report per line, with `labels` naming the checks that should fire) and
//! each check's precision and recall on it: what the corpus test asserts and the bench prints.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Deserialize;

use crate::{Check, Prechecker, Report};

#[derive(Deserialize)]
struct Labelled {
    #[serde(default)]
    id: Option<String>,
    labels: Vec<String>,
}

/// One report of a corpus with its labels.
pub struct Case {
    pub id: String,
    pub report: Report,
    pub labels: Vec<Check>,
}

/// Reads a corpus; a line that is no labelled report is an error naming the line.
pub fn parse(text: &str) -> Result<Vec<Case>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |e: String| format!("line {}: {e}", i + 1);
        let report: Report = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let labelled: Labelled = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let labels = labelled
            .labels
            .iter()
            .map(|l| Check::from_name(l).ok_or_else(|| bad(format!("no check is named {l:?}"))))
            .collect::<Result<_, _>>()?;
        out.push(Case { id: labelled.id.unwrap_or_else(|| format!("line {}", i + 1)), report, labels });
    }
    Ok(out)
}

/// True and false positives and false negatives of one check.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    pub fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
}

/// Each check's counts, and the cases each got wrong (`id`, check, `+` a false positive or `-`
/// a miss).
pub struct Score {
    pub counts: BTreeMap<Check, Counts>,
    pub errors: Vec<(String, Check, char)>,
}

pub fn score(checker: &Prechecker, cases: &[Case]) -> Score {
    let mut counts: BTreeMap<Check, Counts> = Check::ALL.iter().map(|c| (*c, Counts::default())).collect();
    let mut errors = Vec::new();
    for case in cases {
        let found: Vec<Check> = checker.check(&case.report).iter().map(|p| p.check).collect();
        for check in Check::ALL {
            let c = counts.get_mut(&check).expect("every check counted");
            match (found.contains(&check), case.labels.contains(&check)) {
                (true, true) => c.tp += 1,
                (true, false) => {
                    c.fp += 1;
                    errors.push((case.id.clone(), check, '+'));
                }
                (false, true) => {
                    c.fn_ += 1;
                    errors.push((case.id.clone(), check, '-'));
                }
                (false, false) => {}
            }
        }
    }
    Score { counts, errors }
}

/// The goals the issue set: recall and precision per check.
pub fn goal(check: Check) -> (f64, f64) {
    match check {
        Check::Laterality | Check::SexOrgan | Check::ResectedOrgan => (0.95, 0.90),
        _ => (0.90, 0.85),
    }
}

impl Score {
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<27} {:>4} {:>4} {:>4} {:>9} {:>7}  goal (recall/precision)",
            "check", "tp", "fp", "fn", "precision", "recall"
        );
        for (check, c) in &self.counts {
            let (r, p) = goal(*check);
            let met = c.recall() >= r && c.precision() >= p;
            let _ = writeln!(
                s,
                "{:<27} {:>4} {:>4} {:>4} {:>8.1}% {:>6.1}%  {:.0}%/{:.0}% {}",
                check.name(),
                c.tp,
                c.fp,
                c.fn_,
                100.0 * c.precision(),
                100.0 * c.recall(),
                100.0 * r,
                100.0 * p,
                if met { "met" } else { "NOT MET" }
            );
        }
        s
    }
}
