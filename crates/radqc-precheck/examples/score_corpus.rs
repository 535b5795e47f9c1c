//! Precision and recall of each check on a labelled corpus, with the cases each got wrong:
//! `cargo run -p radqc-precheck --example score_corpus -- tests/precheck/corpus.jsonl`.

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "tests/precheck/corpus.jsonl".into());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases = radqc_precheck::corpus::parse(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let score = radqc_precheck::corpus::score(radqc_precheck::Prechecker::bundled(), &cases);
    println!("{path}: {} reports\n{}", cases.len(), score.table());
    if std::env::var_os("RADQC_PRECHECK_ERRORS").is_some() {
        for (id, check, kind) in &score.errors {
            println!("{kind} {check} {id}");
        }
    }
}
