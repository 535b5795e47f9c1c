//! `radqc precheck`: the report checks for scripting and measurement. One report per line in
//! (JSON), one line of proposals out for each.
//!
//! A line that is not a report gets `line N: …` on stderr and no output line; the lines after it
//! go on, and the exit status is 1 when any line was refused. Blank lines are skipped.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use radqc_precheck::{Prechecker, Proposal, Report};
use serde::Serialize;

#[derive(Serialize)]
struct Line<'a> {
    proposals: &'a [Proposal],
}

pub fn run(lexicon: Option<&Path>) -> Result<ExitCode> {
    let owned;
    let checker = match lexicon {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            owned = Prechecker::parse(&path.display().to_string(), &text)?;
            &owned
        }
        None => Prechecker::bundled(),
    };
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut refused = 0usize;
    for (index, line) in stdin.lines().enumerate() {
        let number = index + 1;
        let line = line.with_context(|| format!("line {number}: cannot read stdin (not UTF-8?)"))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Report>(&line) {
            Ok(report) => {
                let proposals = checker.check(&report);
                serde_json::to_writer(&mut out, &Line { proposals: &proposals })?;
                out.write_all(b"\n")?;
            }
            Err(e) => {
                refused += 1;
                out.flush()?;
                eprintln!("line {number}: not a report: {e}");
            }
        }
    }
    out.flush()?;
    Ok(if refused == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
