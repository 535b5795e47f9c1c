//! Agreement of the gold standard's reads (7.3.1): how far the two blind senior readers agree,
//! per QC item, modality and pair of readers (Cohen's kappa), and how each original reviewer's
//! score stands against the gold result (too harsh, too mild).
//!
//! Scored items (IQ, FL, TR, RQ, AR: 1-5) are compared with the quadratic-weighted kappa over
//! the fixed categories 1..5; the application form (AF: pass / fail) with the unweighted kappa.
//! A kappa the data cannot define (no case, or no variance: both readers gave one and the same
//! category throughout, so chance agreement is already 1) has no value and says why; it is
//! never shown as 1 or 0. Values keep full `f64` precision; the exports round for display.
//!
//! Pure: the caller reads the final gold cases of a period and hands them in.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::codes::{ItemCode, ItemKind, Score};
use crate::exam::Modality;
use crate::report::natural_cmp;

/// One read of a gold case: the reader (`SITE/CODE`), the score (scored items) and the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GoldReadOutcome {
    /// `SITE/CODE`.
    pub reader: String,
    /// The 1-5 score; `None` for the application form (pass / fail only).
    pub score: Option<Score>,
    pub pass: bool,
}

/// One final gold case (one original evaluation of one item of one exam) with its reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GoldOutcome {
    pub case_id: String,
    pub site: String,
    pub modality: Modality,
    pub item: ItemCode,
    /// The first blind reader.
    pub first: GoldReadOutcome,
    /// The second blind reader.
    pub second: GoldReadOutcome,
    /// The adjudicator, when the two blind readers disagreed.
    pub third: Option<GoldReadOutcome>,
    pub final_score: Option<Score>,
    pub final_pass: bool,
    /// The original QC evaluation; `reader` is its reviewer.
    pub original: GoldReadOutcome,
}

/// Why a kappa has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum KappaUndefined {
    /// No case to compare.
    NoCases,
    /// The expected disagreement is zero: both readers gave one and the same category to every
    /// case, so chance agreement is 1 and kappa is 0 / 0.
    NoVariance,
}

impl KappaUndefined {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoCases => "no_cases",
            Self::NoVariance => "no_variance",
        }
    }

    /// As the reports print it in place of the value.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::NoCases => "—（无病例）",
            Self::NoVariance => "无法计算（无变异）",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::NoCases => "undefined (no cases)",
            Self::NoVariance => "undefined (no variance)",
        }
    }
}

/// Cohen's (1960) unweighted kappa of a K × K table of counts, `table[i][j]` being the cases
/// rater 1 put in category i and rater 2 in category j:
///
/// ```text
/// κ = (p_o − p_e) / (1 − p_e),   p_o = Σ_i n_ii / n,   p_e = Σ_i n_i· n_·i / n²
/// ```
///
/// (`n_i·` row sums, `n_·i` column sums), computed exactly in integers as
/// `(n · Σ_i n_ii − Σ_i n_i· n_·i) / (n² − Σ_i n_i· n_·i)` with one division at the end.
/// Undefined with no case (`n = 0`) and when `p_e = 1` (both raters used one and the same
/// category for every case).
pub fn cohen_kappa<const K: usize>(table: &[[u64; K]; K]) -> Result<f64, KappaUndefined> {
    let (n, rows, cols) = margins(table);
    if n == 0 {
        return Err(KappaUndefined::NoCases);
    }
    let diagonal: u128 = (0..K).map(|i| u128::from(table[i][i])).sum();
    let chance: u128 = (0..K).map(|i| rows[i] * cols[i]).sum();
    let whole = n * n;
    if chance == whole {
        return Err(KappaUndefined::NoVariance);
    }
    Ok(ratio(signed(n * diagonal) - signed(chance), whole - chance))
}

/// Cohen's (1968) weighted kappa with quadratic disagreement weights (Fleiss-Cohen) of a K × K
/// table of counts whose categories are K equally spaced ordered values (category i at
/// position i; `table[i][j]` as in [`cohen_kappa`]):
///
/// ```text
/// κ_w = 1 − Σ_ij w_ij n_ij / Σ_ij w_ij e_ij,   w_ij = (i − j)²,   e_ij = n_i· n_·j / n
/// ```
///
/// (the weights `(i − j)² / (K − 1)²` or the agreement weights `1 − (i − j)² / (K − 1)²` give
/// the same κ: the scale cancels), computed exactly in integers as
/// `(Σ_ij w_ij n_i· n_·j − n · Σ_ij w_ij n_ij) / Σ_ij w_ij n_i· n_·j`. Every category of the
/// table counts, observed or not. Undefined with no case and when the expected disagreement
/// `Σ_ij w_ij e_ij` is 0 (both raters used one and the same category for every case).
pub fn quadratic_weighted_kappa_table<const K: usize>(table: &[[u64; K]; K]) -> Result<f64, KappaUndefined> {
    let (n, rows, cols) = margins(table);
    if n == 0 {
        return Err(KappaUndefined::NoCases);
    }
    let weight = |i: usize, j: usize| (i.abs_diff(j) as u128).pow(2);
    let mut observed = 0u128;
    let mut expected = 0u128;
    for i in 0..K {
        for j in 0..K {
            observed += weight(i, j) * u128::from(table[i][j]);
            expected += weight(i, j) * rows[i] * cols[j];
        }
    }
    if expected == 0 {
        return Err(KappaUndefined::NoVariance);
    }
    Ok(ratio(signed(expected) - signed(n * observed), expected))
}

/// The quadratic-weighted kappa of pairs of 1-5 scores (rater 1's, rater 2's) over the fixed
/// categories 1, 2, 3, 4, 5: [`quadratic_weighted_kappa_table`] of their 5 × 5 table, so a
/// category nobody gave still counts by its value (scores 1, 3 and 5 are two steps apart,
/// not one).
pub fn quadratic_weighted_kappa(pairs: &[(Score, Score)]) -> Result<f64, KappaUndefined> {
    let mut table = [[0u64; 5]; 5];
    for (a, b) in pairs {
        table[usize::from(a.get() - 1)][usize::from(b.get() - 1)] += 1;
    }
    quadratic_weighted_kappa_table(&table)
}

/// The unweighted kappa of pairs of verdicts (rater 1's, rater 2's; `true` = pass):
/// [`cohen_kappa`] of their 2 × 2 table.
pub fn pass_fail_kappa(pairs: &[(bool, bool)]) -> Result<f64, KappaUndefined> {
    let mut table = [[0u64; 2]; 2];
    for (a, b) in pairs {
        table[usize::from(!*a)][usize::from(!*b)] += 1;
    }
    cohen_kappa(&table)
}

/// The total, row sums and column sums of a table, widened so no product overflows.
fn margins<const K: usize>(table: &[[u64; K]; K]) -> (u128, [u128; K], [u128; K]) {
    let mut rows = [0u128; K];
    let mut cols = [0u128; K];
    for i in 0..K {
        for j in 0..K {
            rows[i] += u128::from(table[i][j]);
            cols[j] += u128::from(table[i][j]);
        }
    }
    (rows.iter().sum(), rows, cols)
}

fn signed(x: u128) -> i128 {
    i128::try_from(x).expect("kappa terms fit in i128 (counts below 2^60)")
}

fn ratio(num: i128, den: u128) -> f64 {
    num as f64 / den as f64
}

/// An agreement figure: the cases behind it, how many the two readers rated alike, the share
/// and kappa (`None` with `kappa_undefined` saying why).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KappaFigure {
    pub cases: u64,
    pub agreed: u64,
    /// `agreed / cases`; `None` with no case.
    pub share: Option<f64>,
    pub kappa: Option<f64>,
    pub kappa_undefined: Option<KappaUndefined>,
}

impl KappaFigure {
    fn of(cases: u64, agreed: u64, kappa: Result<f64, KappaUndefined>) -> KappaFigure {
        KappaFigure {
            cases,
            agreed,
            share: (cases > 0).then(|| agreed as f64 / cases as f64),
            kappa: kappa.ok(),
            kappa_undefined: kappa.err(),
        }
    }

    /// Exact agreement and quadratic-weighted kappa of pairs of 1-5 scores.
    pub fn of_scores(pairs: &[(Score, Score)]) -> KappaFigure {
        let agreed = pairs.iter().filter(|(a, b)| a == b).count() as u64;
        KappaFigure::of(pairs.len() as u64, agreed, quadratic_weighted_kappa(pairs))
    }

    /// Equal verdicts and unweighted kappa of pairs of pass / fail verdicts.
    pub fn of_verdicts(pairs: &[(bool, bool)]) -> KappaFigure {
        let agreed = pairs.iter().filter(|(a, b)| a == b).count() as u64;
        KappaFigure::of(pairs.len() as u64, agreed, pass_fail_kappa(pairs))
    }

    /// Kappa as the reports print it: three decimals, or why it has no value (Chinese).
    pub fn kappa_text(&self) -> String {
        match (self.kappa, self.kappa_undefined) {
            (Some(k), _) => decimals3(k),
            (None, Some(why)) => why.label_zh().to_owned(),
            (None, None) => "—".to_owned(),
        }
    }

    /// The share of agreement, three decimals ("—" with no case).
    pub fn share_text(&self) -> String {
        self.share.map_or_else(|| "—".to_owned(), decimals3)
    }
}

/// A value rounded to three decimals for display, without a negative zero (`-0.0001` → `0.000`).
pub fn decimals3(x: f64) -> String {
    let s = format!("{x:.3}");
    if s.strip_prefix('-').is_some_and(|r| r.bytes().all(|b| b == b'0' || b == b'.')) {
        s[1..].to_owned()
    } else {
        s
    }
}

/// One row of agreement between the two blind readers: an item, a modality or a pair of readers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AgreementRow {
    /// The item code, the modality code, or the pair of readers `SITE/A × SITE/B` (in order).
    pub key: String,
    /// The row's cases of scored items (1-5); `None` when it has none.
    pub scores: Option<KappaFigure>,
    /// The row's application-form cases (pass / fail); `None` when it has none.
    pub verdicts: Option<KappaFigure>,
}

/// An original reviewer's scores against the gold results of their cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReviewerBias {
    /// `SITE/CODE`.
    pub reviewer: String,
    /// Cases of scored items (1-5).
    pub cases: u64,
    /// Mean of original − gold score over those cases: positive = too mild, negative = too
    /// harsh; `None` with no such case.
    pub mean_difference: Option<f64>,
    /// Original score lower than the gold score, or a fail where gold passes.
    pub harsher: u64,
    /// Original score higher than the gold score, or a pass where gold fails.
    pub milder: u64,
    /// Application-form cases (pass / fail).
    pub verdict_cases: u64,
}

/// The gold standard's agreement figures of one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AgreementReport {
    pub period: String,
    /// Final gold cases in all.
    pub cases: u64,
    /// In the rubric's item order.
    pub by_item: Vec<AgreementRow>,
    /// In modality order.
    pub by_modality: Vec<AgreementRow>,
    /// Pairs of blind readers, each pair once whichever read first, in natural order.
    pub by_pair: Vec<AgreementRow>,
    /// Original reviewers, in natural order.
    pub reviewers: Vec<ReviewerBias>,
}

/// A gold case that cannot be counted, naming the case and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgreementError {
    #[error("gold case `{case_id}`: the {read} read has no score, but {item} is scored 1-5")]
    MissingScore { case_id: String, item: ItemCode, read: &'static str },
    #[error("gold case `{case_id}`: the {read} read has a score, but {item} is pass / fail only")]
    ScoreOnVerdict { case_id: String, item: ItemCode, read: &'static str },
    #[error("gold case `{case_id}`: both blind reads are by {reader}; they must be two different readers")]
    SameReader { case_id: String, reader: String },
}

/// The pairs of one row, scored and pass / fail apart.
#[derive(Default)]
struct Pairs {
    scores: Vec<(Score, Score)>,
    verdicts: Vec<(bool, bool)>,
}

impl Pairs {
    fn add(&mut self, a: &GoldReadOutcome, b: &GoldReadOutcome) {
        match (a.score, b.score) {
            (Some(x), Some(y)) => self.scores.push((x, y)),
            _ => self.verdicts.push((a.pass, b.pass)),
        }
    }

    fn row(&self, key: String) -> AgreementRow {
        AgreementRow {
            key,
            scores: (!self.scores.is_empty()).then(|| KappaFigure::of_scores(&self.scores)),
            verdicts: (!self.verdicts.is_empty()).then(|| KappaFigure::of_verdicts(&self.verdicts)),
        }
    }
}

#[derive(Default)]
struct Bias {
    cases: u64,
    difference: i64,
    harsher: u64,
    milder: u64,
    verdict_cases: u64,
}

/// Each read of a case that must have a score exactly when its item is scored.
fn check(o: &GoldOutcome) -> Result<(), AgreementError> {
    let scored = o.item.kind() == ItemKind::Scored;
    let reads = [
        ("first", Some(o.first.score)),
        ("second", Some(o.second.score)),
        ("third", o.third.as_ref().map(|t| t.score)),
        ("final", Some(o.final_score)),
        ("original", Some(o.original.score)),
    ];
    for (read, score) in reads {
        let Some(score) = score else { continue };
        let (case_id, item) = (o.case_id.clone(), o.item);
        match (scored, score.is_some()) {
            (true, false) => return Err(AgreementError::MissingScore { case_id, item, read }),
            (false, true) => return Err(AgreementError::ScoreOnVerdict { case_id, item, read }),
            _ => {}
        }
    }
    if o.first.reader == o.second.reader {
        return Err(AgreementError::SameReader { case_id: o.case_id.clone(), reader: o.first.reader.clone() });
    }
    Ok(())
}

impl AgreementReport {
    /// The figures of the final gold cases of one period (the caller chose them). A case whose
    /// reads do not fit its item (a scored item without a score, a score on the application
    /// form) or whose blind reads are by one reader is refused, naming the case.
    pub fn build(period: impl Into<String>, outcomes: &[GoldOutcome]) -> Result<AgreementReport, AgreementError> {
        let mut items: BTreeMap<ItemCode, Pairs> = BTreeMap::new();
        let mut modalities: BTreeMap<Modality, Pairs> = BTreeMap::new();
        let mut pairs: BTreeMap<(String, String), Pairs> = BTreeMap::new();
        let mut reviewers: BTreeMap<String, Bias> = BTreeMap::new();
        for o in outcomes {
            check(o)?;
            items.entry(o.item).or_default().add(&o.first, &o.second);
            modalities.entry(o.modality.clone()).or_default().add(&o.first, &o.second);
            // A pair's rater 1 is the same person in every case of the pair: the first in order.
            let (a, b) = if natural_cmp(&o.first.reader, &o.second.reader) == Ordering::Greater {
                (&o.second, &o.first)
            } else {
                (&o.first, &o.second)
            };
            pairs.entry((a.reader.clone(), b.reader.clone())).or_default().add(a, b);

            let bias = reviewers.entry(o.original.reader.clone()).or_default();
            let (original, gold) = match (o.original.score, o.final_score) {
                (Some(x), Some(y)) => {
                    bias.cases += 1;
                    bias.difference += i64::from(x.get()) - i64::from(y.get());
                    (i32::from(x.get()), i32::from(y.get()))
                }
                _ => {
                    bias.verdict_cases += 1;
                    (i32::from(o.original.pass), i32::from(o.final_pass))
                }
            };
            match original.cmp(&gold) {
                Ordering::Less => bias.harsher += 1,
                Ordering::Greater => bias.milder += 1,
                Ordering::Equal => {}
            }
        }
        let mut pairs: Vec<((String, String), Pairs)> = pairs.into_iter().collect();
        pairs.sort_by(|((a1, b1), _), ((a2, b2), _)| natural_cmp(a1, a2).then_with(|| natural_cmp(b1, b2)));
        let by_pair = pairs.iter().map(|((a, b), p)| p.row(format!("{a} × {b}"))).collect();
        let mut reviewers: Vec<ReviewerBias> = reviewers
            .into_iter()
            .map(|(reviewer, b)| ReviewerBias {
                reviewer,
                cases: b.cases,
                mean_difference: (b.cases > 0).then(|| b.difference as f64 / b.cases as f64),
                harsher: b.harsher,
                milder: b.milder,
                verdict_cases: b.verdict_cases,
            })
            .collect();
        reviewers.sort_by(|a, b| natural_cmp(&a.reviewer, &b.reviewer));
        Ok(AgreementReport {
            period: period.into(),
            cases: outcomes.len() as u64,
            by_item: items.iter().map(|(item, p)| p.row(item.to_string())).collect(),
            by_modality: modalities.iter().map(|(m, p)| p.row(m.as_str().to_owned())).collect(),
            by_pair,
            reviewers,
        })
    }

    /// The three breakdowns with their Chinese and English titles and the key's column name.
    pub fn breakdowns(&self) -> [(&'static str, &'static str, &'static str, &[AgreementRow]); 3] {
        [
            ("按质控项目", "By item", "质控项目 Item", &self.by_item),
            ("按设备类型", "By modality", "设备类型 Modality", &self.by_modality),
            ("按读片者组合", "By reader pair", "读片者 Readers", &self.by_pair),
        ]
    }
}
