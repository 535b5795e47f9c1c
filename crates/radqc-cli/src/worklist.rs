//! `radqc local import`: a worklist file read into rows of text (`radqc_hl7::worklist`: CSV in
//! UTF-8 or GB18030, XLSX's first sheet), then imported by the store (`Store::import_worklist`),
//! which checks each row by the mapping.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use radqc_store::WorklistMapping;

use crate::local_cmd::DbArgs;

pub fn import(db: &DbArgs, mapping: Option<&Path>, dry_run: bool, skip_bad: bool, file: &Path) -> Result<ExitCode> {
    let mapping = match mapping {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
            WorklistMapping::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e} ({})", p.display(), e.code()))?
        }
        None => WorklistMapping::bundled(),
    };
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let mut rows = radqc_hl7::worklist::read_rows(name, &bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    if rows.is_empty() {
        bail!("{} has no header row", file.display());
    }
    let header = rows.remove(0);
    let mut store = db.open()?;
    let report = store
        .import_worklist(&mapping, &header, &rows, dry_run, skip_bad, Utc::now())
        .map_err(|e| anyhow::anyhow!("{e} ({})", e.code()))?;
    for bad in &report.bad {
        eprintln!("radqc local import: {}: row {}: {} / {}", file.display(), bad.row, bad.reason, bad.reason_zh);
    }
    println!("{}", serde_json::to_string(&report)?);
    if !report.bad.is_empty() && !skip_bad && !dry_run {
        eprintln!(
            "radqc local import: {} bad rows: nothing was imported (fix them, or import the others with --skip-bad)",
            report.bad.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
