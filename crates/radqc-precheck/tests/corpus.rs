//! The checks on the project's labelled corpus: the goals the issue set, each check by its own,
//! and every evidence string verbatim in its report.

use radqc_precheck::{corpus, Prechecker};

fn cases(name: &str) -> Vec<corpus::Case> {
    let path = format!("{}/../../tests/precheck/{name}", env!("CARGO_MANIFEST_DIR"));
    corpus::parse(&std::fs::read_to_string(&path).expect("the corpus")).expect("a labelled corpus")
}

#[test]
fn the_corpus_meets_the_goals() {
    let cases = cases("corpus.jsonl");
    assert!(cases.len() >= 300, "at least 300 reports, {} here", cases.len());
    let score = corpus::score(Prechecker::bundled(), &cases);
    println!("{}", score.table());
    for (check, c) in &score.counts {
        assert!(c.tp + c.fn_ >= 30, "{check}: at least 30 reports with the error, {} here", c.tp + c.fn_);
        let (recall, precision) = corpus::goal(*check);
        assert!(c.recall() >= recall, "{check}: recall {:.3} < {recall}\n{}", c.recall(), score.table());
        assert!(c.precision() >= precision, "{check}: precision {:.3} < {precision}\n{}", c.precision(), score.table());
    }
}

#[test]
fn every_evidence_is_verbatim_in_its_report() {
    for name in ["corpus.jsonl", "holdout.jsonl"] {
        for case in cases(name) {
            let r = &case.report;
            for p in Prechecker::bundled().check(r) {
                for e in &p.evidence {
                    assert!(
                        r.history.contains(e.as_str())
                            || r.findings.contains(e.as_str())
                            || r.impression.contains(e.as_str()),
                        "{}: {} evidence {e:?} is not in the report",
                        case.id,
                        p.check
                    );
                }
            }
        }
    }
}
