//! `radqc score`: evaluations in (JSON on stdin), verdicts out (JSON on stdout).
//!
//! All or nothing: if any evaluation is invalid, every problem goes to stderr, nothing to stdout.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use radqc_domain::{Findings, Rubric, Verdict};
use serde_json::Value;

pub fn run(rubric_file: Option<&Path>) -> Result<ExitCode> {
    let rubric = crate::rubric_cmd::load(rubric_file)?;
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).context("cannot read stdin")?;
    match score_text(&rubric, &input) {
        Ok(output) => {
            println!("{output}");
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            for p in problems {
                eprintln!("radqc score: {p}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Scores the JSON text: one evaluation object gives one result object, an array gives an array
/// of results in the same order. Errors name the evaluation's zero-based index.
pub fn score_text(rubric: &Rubric, input: &str) -> Result<String, Vec<String>> {
    let value: Value = serde_json::from_str(input).map_err(|e| vec![format!("stdin is not valid JSON: {e}")])?;
    let (single, list) = match value {
        Value::Array(list) => (false, list),
        obj @ Value::Object(_) => (true, vec![obj]),
        other => {
            return Err(vec![format!("expected an evaluation object or an array of them, found {}", kind_of(&other))])
        }
    };
    let mut verdicts: Vec<Verdict> = Vec::with_capacity(list.len());
    let mut problems = Vec::new();
    for (index, v) in list.into_iter().enumerate() {
        let scored = serde_json::from_value::<Findings>(v)
            .map_err(|e| e.to_string())
            .and_then(|f| rubric.score(&f).map_err(|e| e.to_string()));
        match scored {
            Ok(verdict) => verdicts.push(verdict),
            Err(e) => problems.push(format!("evaluation {index}: {e}")),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let out = if single { serde_json::to_string_pretty(&verdicts[0]) } else { serde_json::to_string_pretty(&verdicts) };
    Ok(out.expect("verdicts serialize"))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
