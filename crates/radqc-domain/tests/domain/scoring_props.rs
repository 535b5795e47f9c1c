//! Properties of the scoring engine over random findings: monotone in unmet criteria, severe
//! criteria always give the floor, and not-applicable marks never lower a score.

use proptest::prelude::*;
use radqc_domain::{Criterion, CriterionKind, Findings, Grade, Item, ItemCode, Rubric};

/// A random item and, for each of its criteria, 0 = absent/met, 1 = found, 2 = not applicable.
fn item_and_marks() -> impl Strategy<Value = (ItemCode, Vec<u8>)> {
    (0..ItemCode::ALL.len()).prop_flat_map(|i| {
        let code = ItemCode::ALL[i];
        let k = Rubric::bundled().item(code).criteria.len();
        (Just(code), proptest::collection::vec(0u8..3, k))
    })
}

fn findings(item: &Item, marks: &[u8]) -> Findings {
    let pick = |m: u8| -> Vec<_> {
        item.criteria.iter().zip(marks).filter(|(_, &x)| x == m).map(|(c, _)| c.code.clone()).collect()
    };
    Findings { item: item.code, findings: pick(1), not_applicable: pick(2) }
}

/// The score as a number where a normative pass is 5 and a fail 1, so both kinds compare.
fn rank(rubric: &Rubric, f: &Findings) -> u8 {
    let v = rubric.score(f).expect("valid findings score");
    v.score.map(|s| s.get()).unwrap_or(if v.pass { 5 } else { 1 })
}

proptest! {
    #[test]
    fn one_more_unmet_criterion_never_raises_the_score((code, marks) in item_and_marks(), pick in any::<prop::sample::Index>()) {
        let rubric = Rubric::bundled();
        let item = rubric.item(code);
        let candidates: Vec<usize> = (0..marks.len()).filter(|&i| marks[i] == 0).collect();
        prop_assume!(!candidates.is_empty());
        let i = candidates[pick.index(candidates.len())];
        let mut worse = marks.clone();
        worse[i] = 1;
        prop_assert!(rank(rubric, &findings(item, &worse)) <= rank(rubric, &findings(item, &marks)),
            "marking {} found must not raise the score", item.criteria[i].code);
    }

    #[test]
    fn a_severe_criterion_always_gives_the_floor((code, mut marks) in item_and_marks(), pick in any::<prop::sample::Index>()) {
        let rubric = Rubric::bundled();
        let item = rubric.item(code);
        let severe: Vec<usize> = item.criteria.iter().enumerate()
            .filter(|(_, c): &(usize, &Criterion)| c.kind == CriterionKind::Severe).map(|(i, _)| i).collect();
        marks[severe[pick.index(severe.len())]] = 1;
        let v = rubric.score(&findings(item, &marks)).unwrap();
        prop_assert_eq!(v.grade, Grade::Fail, "a severe criterion fails the item");
        if item.score_table.is_some() {
            prop_assert_eq!(v.score.map(|s| s.get()), Some(1), "a severe criterion scores 1");
        }
    }

    #[test]
    fn not_applicable_never_lowers_the_score((code, marks) in item_and_marks(), pick in any::<prop::sample::Index>()) {
        let rubric = Rubric::bundled();
        let item = rubric.item(code);
        let i = pick.index(marks.len());
        let mut na = marks.clone();
        na[i] = 2;
        prop_assert!(rank(rubric, &findings(item, &na)) >= rank(rubric, &findings(item, &marks)));
    }
}
