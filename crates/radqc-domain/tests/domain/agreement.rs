//! The gold standard's agreement figures: kappa against published worked examples (each names
//! its value and source), the undefined cases (no case, no variance: never 1 or 0), one case, an
//! empty period, and the report's rows, pairs and reviewer bias.
//!
//! Values marked "scikit-learn" were cross-checked by hand (not at test time) with
//! `sklearn.metrics.cohen_kappa_score` 1.9.1, `labels=[1, 2, 3, 4, 5]` for the fixed categories.

use radqc_domain::agreement::{
    cohen_kappa, pass_fail_kappa, quadratic_weighted_kappa, quadratic_weighted_kappa_table, AgreementError,
    AgreementReport, GoldOutcome, GoldReadOutcome, KappaFigure, KappaUndefined,
};
use radqc_domain::report::{Report, ReportFilter};
use radqc_domain::{Rubric, Score};

fn close(got: f64, want: f64, tolerance: f64, what: &str) {
    assert!((got - want).abs() <= tolerance, "{what}: got {got}, want {want} (± {tolerance})");
}

fn s(v: u8) -> Score {
    Score::new(v).unwrap()
}

fn pairs(a: &[u8], b: &[u8]) -> Vec<(Score, Score)> {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (s(*x), s(*y))).collect()
}

/// Table `[[yes-yes, yes-no], [no-yes, no-no]]` as verdict pairs (`true` = pass).
fn verdicts(t: [[u64; 2]; 2]) -> Vec<(bool, bool)> {
    let mut v = Vec::new();
    for (i, a) in [true, false].into_iter().enumerate() {
        for (j, b) in [true, false].into_iter().enumerate() {
            v.extend(std::iter::repeat_n((a, b), t[i][j] as usize));
        }
    }
    v
}

#[test]
fn unweighted_kappa_of_the_wikipedia_two_by_two_example_is_0_4() {
    // Wikipedia, "Cohen's kappa", worked example: 50 applications, both yes 20, A yes B no 5,
    // A no B yes 10, both no 15: p_o = 0.7, p_e = 0.5, κ = 0.4.
    let table = [[20, 5], [10, 15]];
    close(cohen_kappa(&table).unwrap(), 0.4, 1e-15, "Wikipedia 2×2 (20/5/10/15): κ 0.4");
    close(pass_fail_kappa(&verdicts(table)).unwrap(), 0.4, 1e-15, "the same as verdict pairs");
    let figure = KappaFigure::of_verdicts(&verdicts(table));
    assert_eq!((figure.cases, figure.agreed), (50, 35));
    close(figure.share.unwrap(), 0.7, 1e-15, "Wikipedia 2×2: p_o 0.7");
    assert_eq!(figure.kappa_text(), "0.400");
    assert_eq!(figure.share_text(), "0.700");
}

#[test]
fn unweighted_kappa_of_the_sas_skin_condition_table_is_0_3449() {
    // SAS/STAT User's Guide, PROC FREQ, Getting Started "Agreement Study" (Table: skin condition
    // data, two dermatologists, 88 patients, terrible/poor/marginal/clear): Simple Kappa 0.3449.
    let table = [[10, 4, 1, 0], [5, 10, 12, 2], [2, 4, 12, 5], [0, 2, 6, 13]];
    close(cohen_kappa(&table).unwrap(), 0.3449, 5e-5, "SAS skin condition: simple kappa 0.3449");
    // Quadratic (Fleiss-Cohen) weights on the same table: 0.6607228915662651 (scikit-learn).
    close(
        quadratic_weighted_kappa_table(&table).unwrap(),
        0.6607228915662651,
        1e-12,
        "SAS skin condition, quadratic weights (scikit-learn)",
    );
}

#[test]
fn quadratic_kappa_of_the_maple_essaytools_examples() {
    // Maple help, EssayTools[QuadraticWeightedKappa], examples 1 and 2 (scores 1..10):
    // ([9,7,8,7,6,8,3,5,10], [8,8,6,6,7,6,1,4,8]) → 0.758620689655172,
    // ([9,7,8,7,6,8,3,5,10], [3,5,6,6,7,6,1,4,8]) → 0.438095238095238.
    let table = |a: [usize; 9], b: [usize; 9]| {
        let mut t = [[0u64; 10]; 10];
        for (x, y) in a.iter().zip(b) {
            t[x - 1][y - 1] += 1;
        }
        t
    };
    let first = [9, 7, 8, 7, 6, 8, 3, 5, 10];
    let one = quadratic_weighted_kappa_table(&table(first, [8, 8, 6, 6, 7, 6, 1, 4, 8])).unwrap();
    close(one, 0.758620689655172, 1e-14, "Maple EssayTools example 1: 0.758620689655172");
    let two = quadratic_weighted_kappa_table(&table(first, [3, 5, 6, 6, 7, 6, 1, 4, 8])).unwrap();
    close(two, 0.438095238095238, 1e-14, "Maple EssayTools example 2: 0.438095238095238");
}

#[test]
fn quadratic_kappa_on_scores_counts_every_category_from_1_to_5() {
    // The lodestar wiki (CyrilB1531/lodestar, "Metrics kappaweighting"): rater
    // [1,1,2,2,3,3,1,3], model [1,3,2,1,3,2,1,3]: unweighted 0.4285…, quadratic 0.5.
    let p = pairs(&[1, 1, 2, 2, 3, 3, 1, 3], &[1, 3, 2, 1, 3, 2, 1, 3]);
    close(quadratic_weighted_kappa(&p).unwrap(), 0.5, 1e-15, "lodestar example: quadratic 0.5");
    let mut table = [[0u64; 3]; 3];
    for (a, b) in &p {
        table[usize::from(a.get() - 1)][usize::from(b.get() - 1)] += 1;
    }
    close(cohen_kappa(&table).unwrap(), 3.0 / 7.0, 1e-15, "lodestar example: unweighted 0.4285…");

    // Scores 1, 2 and 5 only: weighted by value (1 → 5 is four steps), not by rank among the
    // observed scores. scikit-learn with labels 1..5: 0.4354838709677419 (= 27/62); with the
    // observed labels only it would be 0.5.
    let p = pairs(&[1, 2, 5, 2, 1, 5, 2], &[2, 2, 5, 1, 1, 2, 5]);
    let k = quadratic_weighted_kappa(&p).unwrap();
    close(k, 27.0 / 62.0, 1e-15, "scores 1, 2, 5 over the fixed categories 1..5 (scikit-learn 0.4354838709677419)");
    assert!((k - 0.5).abs() > 0.05, "not the observed-categories value 0.5: {k}");

    // A random-looking table of 12 cases (scikit-learn, labels 1..5): 0.8478260869565217.
    let p = pairs(&[5, 4, 4, 5, 3, 4, 5, 2, 1, 2, 2, 5], &[5, 3, 4, 5, 2, 5, 4, 2, 2, 1, 2, 4]);
    close(quadratic_weighted_kappa(&p).unwrap(), 0.8478260869565217, 1e-14, "12 cases (scikit-learn)");
}

#[test]
fn kappa_is_1_when_all_agree_with_variance() {
    let p = pairs(&[1, 3, 5, 3], &[1, 3, 5, 3]);
    assert_eq!(quadratic_weighted_kappa(&p), Ok(1.0));
    assert_eq!(pass_fail_kappa(&verdicts([[3, 0], [0, 2]])), Ok(1.0));
    let figure = KappaFigure::of_scores(&p);
    assert_eq!((figure.cases, figure.agreed, figure.share, figure.kappa), (4, 4, Some(1.0), Some(1.0)));
    assert_eq!(figure.kappa_undefined, None);
}

#[test]
fn kappa_without_variance_is_undefined_not_1_or_0() {
    // Both readers gave 4 to every case: p_e = 1, κ = 0 / 0.
    let p = pairs(&[4, 4, 4], &[4, 4, 4]);
    assert_eq!(quadratic_weighted_kappa(&p), Err(KappaUndefined::NoVariance));
    assert_eq!(cohen_kappa(&[[0, 0], [0, 7]]), Err(KappaUndefined::NoVariance));
    assert_eq!(pass_fail_kappa(&verdicts([[6, 0], [0, 0]])), Err(KappaUndefined::NoVariance));
    let figure = KappaFigure::of_scores(&p);
    assert_eq!(figure.kappa, None, "no variance: no value, neither 1 nor 0");
    assert_eq!(figure.kappa_undefined, Some(KappaUndefined::NoVariance));
    assert_eq!(figure.share, Some(1.0), "the share of agreement is still defined");
    assert_eq!(figure.kappa_text(), "无法计算（无变异）");
    let json = serde_json::to_value(&figure).unwrap();
    assert_eq!(json["kappa"], serde_json::Value::Null);
    assert_eq!(json["kappa_undefined"], "no_variance");

    // One reader without variance, the other with: defined (κ = 0 by the formula here).
    let p = pairs(&[3, 3, 3, 3], &[3, 4, 3, 2]);
    assert_eq!(quadratic_weighted_kappa(&p), Ok(0.0));
}

#[test]
fn one_case_is_computed_by_the_formula() {
    // Agreeing: no variance. Disagreeing: p_o = 0 = p_e, κ = 0 (scikit-learn gives 0.0 too).
    assert_eq!(quadratic_weighted_kappa(&pairs(&[3], &[3])), Err(KappaUndefined::NoVariance));
    assert_eq!(quadratic_weighted_kappa(&pairs(&[3], &[4])), Ok(0.0));
    assert_eq!(pass_fail_kappa(&[(true, false)]), Ok(0.0));
    assert_eq!(pass_fail_kappa(&[(false, false)]), Err(KappaUndefined::NoVariance));
}

#[test]
fn no_case_is_undefined() {
    assert_eq!(cohen_kappa(&[[0u64; 2]; 2]), Err(KappaUndefined::NoCases));
    assert_eq!(quadratic_weighted_kappa(&[]), Err(KappaUndefined::NoCases));
    assert_eq!(pass_fail_kappa(&[]), Err(KappaUndefined::NoCases));
    let figure = KappaFigure::of_scores(&[]);
    assert_eq!((figure.cases, figure.share, figure.kappa), (0, None, None));
    assert_eq!(figure.kappa_undefined, Some(KappaUndefined::NoCases));
    assert_eq!(figure.share_text(), "—");
}

fn read(reader: &str, score: Option<u8>, pass: bool) -> GoldReadOutcome {
    GoldReadOutcome { reader: reader.into(), score: score.map(s), pass }
}

/// A scored case: first and second blind scores, the final score, the original reviewer's.
fn scored(
    id: &str,
    item: &str,
    modality: &str,
    first: (&str, u8),
    second: (&str, u8),
    fin: u8,
    original: (&str, u8),
) -> GoldOutcome {
    let r = |(who, v): (&str, u8)| read(who, Some(v), v >= 3);
    GoldOutcome {
        case_id: id.into(),
        site: "NJGL".into(),
        modality: modality.parse().unwrap(),
        item: item.parse().unwrap(),
        first: r(first),
        second: r(second),
        third: (first.1 != second.1).then(|| r(("NJGL/G9", fin))),
        final_score: Some(s(fin)),
        final_pass: fin >= 3,
        original: r(original),
    }
}

fn form(id: &str, first: (&str, bool), second: (&str, bool), fin: bool, original: (&str, bool)) -> GoldOutcome {
    GoldOutcome {
        case_id: id.into(),
        site: "NJGL".into(),
        modality: "DR".parse().unwrap(),
        item: "AF".parse().unwrap(),
        first: read(first.0, None, first.1),
        second: read(second.0, None, second.1),
        third: (first.1 != second.1).then(|| read("NJGL/G9", None, fin)),
        final_score: None,
        final_pass: fin,
        original: read(original.0, None, original.1),
    }
}

const A: &str = "NJGL/G1";
const B: &str = "NJGL/G2";
const C: &str = "NJGL/G10";

fn cases() -> Vec<GoldOutcome> {
    vec![
        // IQ, CT: G1 and G2 (in both orders), 1 and 5 given.
        scored("c1", "IQ", "CT", (A, 5), (B, 5), 5, ("NJGL/Q1", 4)),
        scored("c2", "IQ", "CT", (B, 1), (A, 1), 1, ("NJGL/Q1", 3)),
        scored("c3", "IQ", "DR", (A, 4), (B, 3), 3, ("NJGL/Q2", 2)),
        // RQ, MR: G10 and G2: both 4 throughout (no variance).
        scored("c4", "RQ", "MR", (C, 4), (B, 4), 4, ("NJGL/Q2", 4)),
        scored("c5", "RQ", "MR", (B, 4), (C, 4), 4, ("NJGL/Q10", 5)),
        // AF, DR: the Wikipedia-like verdicts of G1 and G10.
        form("f1", (A, true), (C, true), true, ("NJGL/Q1", false)),
        form("f2", (C, false), (A, true), false, ("NJGL/Q1", true)),
        form("f3", (A, false), (C, false), false, ("NJGL/Q2", false)),
    ]
}

#[test]
fn report_rows_come_in_item_modality_and_pair_order() {
    let r = AgreementReport::build("2026-11", &cases()).unwrap();
    assert_eq!((r.period.as_str(), r.cases), ("2026-11", 8));
    let keys = |rows: &[radqc_domain::agreement::AgreementRow]| rows.iter().map(|r| r.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&r.by_item), ["AF", "IQ", "RQ"], "the rubric's item order");
    assert_eq!(keys(&r.by_modality), ["CT", "DR", "MR"]);
    assert_eq!(
        keys(&r.by_pair),
        ["NJGL/G1 × NJGL/G2", "NJGL/G1 × NJGL/G10", "NJGL/G2 × NJGL/G10"],
        "each pair once, readers in natural order (G2 before G10)"
    );

    let af = &r.by_item[0];
    assert_eq!(af.scores, None, "AF has no 1-5 cases");
    let v = af.verdicts.as_ref().unwrap();
    assert_eq!((v.cases, v.agreed), (3, 2));
    // Table first × second: pass-pass 1, fail-pass 1, fail-fail 1: p_o 2/3, p_e 4/9, κ 0.4.
    close(v.kappa.unwrap(), 0.4, 1e-15, "AF verdicts");

    let iq = r.by_item[1].scores.as_ref().unwrap();
    assert_eq!((iq.cases, iq.agreed), (3, 2));
    // (5,5), (1,1), (4,3): n = 3, n·D_o = 3 · 1; rows 5, 1, 4 against columns 5, 1, 3:
    // D_e = Σ (i − j)² = 51; κ = (51 − 3) / 51.
    close(iq.kappa.unwrap(), 48.0 / 51.0, 1e-15, "IQ scores");
    assert_eq!(r.by_item[1].verdicts, None);

    let rq = r.by_item[2].scores.as_ref().unwrap();
    assert_eq!((rq.kappa, rq.kappa_undefined), (None, Some(KappaUndefined::NoVariance)));

    let dr = &r.by_modality[1];
    assert_eq!(dr.scores.as_ref().map(|f| f.cases), Some(1), "the IQ case of DR");
    assert_eq!(dr.verdicts.as_ref().map(|f| f.cases), Some(3), "the AF cases of DR");
    assert_eq!(dr.scores.as_ref().unwrap().kappa, Some(0.0), "one disagreeing case: 0 by the formula");

    // G1 × G2: (5,5), (1,1) from G1's side whichever read first, and (4,3).
    let pair = r.by_pair[0].scores.as_ref().unwrap();
    assert_eq!((pair.cases, pair.agreed), (3, 2));
    close(pair.kappa.unwrap(), 48.0 / 51.0, 1e-15, "G1 × G2");
    // G1 × G10: verdicts oriented G1 first: (T,T), (T,F), (F,F): p_o 2/3, p_e 4/9, κ 0.4.
    close(r.by_pair[1].verdicts.as_ref().unwrap().kappa.unwrap(), 0.4, 1e-15, "G1 × G10 verdicts");
    assert_eq!(r.by_pair[2].scores.as_ref().unwrap().kappa_undefined, Some(KappaUndefined::NoVariance));
}

#[test]
fn reviewer_bias_is_original_minus_gold() {
    let r = AgreementReport::build("2026-11", &cases()).unwrap();
    let names: Vec<&str> = r.reviewers.iter().map(|b| b.reviewer.as_str()).collect();
    assert_eq!(names, ["NJGL/Q1", "NJGL/Q2", "NJGL/Q10"]);
    let q1 = &r.reviewers[0];
    // c1: 4 − 5 = −1 (harsher), c2: 3 − 1 = +2 (milder); f1 fail where gold passes (harsher),
    // f2 pass where gold fails (milder).
    assert_eq!((q1.cases, q1.mean_difference, q1.harsher, q1.milder, q1.verdict_cases), (2, Some(0.5), 2, 2, 2));
    let q2 = &r.reviewers[1];
    // c3: 2 − 3 = −1, c4: 0; f3 agrees.
    assert_eq!((q2.cases, q2.mean_difference, q2.harsher, q2.milder, q2.verdict_cases), (2, Some(-0.5), 1, 0, 1));
    let q10 = &r.reviewers[2];
    assert_eq!((q10.cases, q10.mean_difference, q10.harsher, q10.milder), (1, Some(1.0), 0, 1));

    let only_forms = AgreementReport::build("2026-11", &cases()[5..]).unwrap();
    assert_eq!(only_forms.reviewers[0].mean_difference, None, "no 1-5 case: no mean difference");
}

#[test]
fn an_empty_period_has_no_figure() {
    let r = AgreementReport::build("2026-12", &[]).unwrap();
    assert_eq!(r.cases, 0);
    assert!(r.by_item.is_empty() && r.by_modality.is_empty() && r.by_pair.is_empty() && r.reviewers.is_empty());
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"period": "2026-12", "cases": 0, "by_item": [], "by_modality": [], "by_pair": [], "reviewers": []})
    );
}

#[test]
fn cases_that_do_not_fit_their_item_are_refused_by_name() {
    let mut c = cases();
    c[0].second.score = None;
    let e = AgreementReport::build("2026-11", &c).unwrap_err();
    assert!(matches!(&e, AgreementError::MissingScore { case_id, read: "second", .. } if case_id == "c1"), "{e:?}");
    assert_eq!(e.to_string(), "gold case `c1`: the second read has no score, but IQ is scored 1-5");

    let mut c = cases();
    c[5].original.score = Some(s(3));
    let e = AgreementReport::build("2026-11", &c).unwrap_err();
    assert_eq!(e.to_string(), "gold case `f1`: the original read has a score, but AF is pass / fail only");

    let mut c = cases();
    c[2].third.as_mut().unwrap().score = None;
    let e = AgreementReport::build("2026-11", &c).unwrap_err();
    assert!(matches!(&e, AgreementError::MissingScore { case_id, read: "third", .. } if case_id == "c3"), "{e:?}");

    let mut c = cases();
    c[3].second.reader = C.into();
    let e = AgreementReport::build("2026-11", &c).unwrap_err();
    assert_eq!(e, AgreementError::SameReader { case_id: "c4".into(), reader: C.into() });
}

#[test]
fn figures_keep_full_precision_in_json() {
    let mut c = Vec::new();
    let first = [9u8, 7, 8, 7, 6, 8, 3, 5, 10].map(|v| v.div_ceil(2));
    let second = [8u8, 8, 6, 6, 7, 6, 1, 4, 8].map(|v| v.div_ceil(2));
    for (i, (a, b)) in first.iter().zip(second).enumerate() {
        c.push(scored(&format!("p{i}"), "FL", "CT", (A, *a), (B, b), b, ("NJGL/Q1", *a)));
    }
    let r = AgreementReport::build("2026-11", &c).unwrap();
    let k = r.by_item[0].scores.as_ref().unwrap().kappa.unwrap();
    assert_eq!(k, quadratic_weighted_kappa(&pairs(&first, &second)).unwrap());
    let back: AgreementReport = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r, "the JSON round-trips to the same f64 values");
    assert!(format!("{k}").len() > 6, "not rounded: {k}");
}

#[test]
fn the_report_carries_agreement_only_when_given() {
    let report = Report::build(Rubric::bundled(), "2026-11".into(), ReportFilter::default(), &[], &[], None);
    let json = serde_json::to_value(&report).unwrap();
    assert!(json.get("agreement").is_none(), "no key without agreement, so existing JSON holds");
    let agreement = AgreementReport::build("2026-11", &cases()).unwrap();
    let with = report.with_agreement(agreement.clone());
    assert_eq!(with.agreement.as_ref(), Some(&agreement));
    let json = serde_json::to_value(&with).unwrap();
    assert_eq!(json["agreement"]["cases"], 8);
    assert_eq!(json["agreement"]["by_item"][2]["scores"]["kappa_undefined"], "no_variance");
}
