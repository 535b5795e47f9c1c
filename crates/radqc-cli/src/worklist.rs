//! `radqc local import`: a worklist file read into rows of text (CSV in UTF-8, with or without a
//! BOM, or GB18030 as Chinese Excel saves it; XLSX's first sheet), then imported by the store
//! (`Store::import_worklist`), which checks each row by the mapping.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use calamine::{Data, Reader};
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
    let mut rows = read_rows(file)?;
    if rows.is_empty() {
        bail!("{} has no header row", file.display());
    }
    let header = rows.remove(0);
    let mut store = db.open()?;
    let report = store
        .import_worklist(&mapping, &header, &rows, dry_run, skip_bad, Utc::now())
        .map_err(|e| anyhow::anyhow!("{e} ({})", e.code()))?;
    for bad in &report.bad {
        eprintln!("radqc local import: {}: row {}: {}", file.display(), bad.row, bad.reason);
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

/// The file's rows as text cells.
fn read_rows(file: &Path) -> Result<Vec<Vec<String>>> {
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "xlsx" | "xlsm" => {
            let mut book =
                calamine::open_workbook_auto(file).with_context(|| format!("cannot open {}", file.display()))?;
            let sheet =
                book.sheet_names().first().cloned().with_context(|| format!("{} has no sheet", file.display()))?;
            let range = book.worksheet_range(&sheet).with_context(|| format!("cannot read sheet {sheet}"))?;
            Ok(range.rows().map(|r| r.iter().map(cell_text).collect()).collect())
        }
        "csv" | "txt" => {
            let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            let text = match std::str::from_utf8(bytes) {
                Ok(t) => t.to_owned(),
                Err(_) => {
                    let (t, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
                    if had_errors {
                        bail!("{} is neither UTF-8 nor GB18030 text", file.display());
                    }
                    t.into_owned()
                }
            };
            parse_csv(&text).with_context(|| format!("{} is not CSV", file.display()))
        }
        other => bail!("{}: a worklist is .csv or .xlsx, not `.{other}`", file.display()),
    }
}

/// A spreadsheet cell as the text a person sees (dates as `YYYY-MM-DD HH:MM:SS`).
fn cell_text(c: &Data) -> String {
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => {
            // Excel's serial date: days since 1899-12-30 (the 1900 system), the time as a fraction.
            let serial = d.as_f64();
            let base =
                chrono::NaiveDate::from_ymd_opt(1899, 12, 30).expect("a date").and_hms_opt(0, 0, 0).expect("a time");
            let secs = (serial * 86_400.0).round() as i64;
            (base + chrono::Duration::seconds(secs)).format("%Y-%m-%d %H:%M:%S").to_string()
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.replace('T', " "),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// RFC 4180: fields split by commas, quoted with `"` (a doubled `""` inside), rows by CR LF or LF.
fn parse_csv(text: &str) -> Result<Vec<Vec<String>>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') | (false, '\r') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                line += 1;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        bail!("a quoted field that starts on line {line} or before is not closed");
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::parse_csv;

    #[test]
    fn csv_fields_are_read_as_rfc_4180_writes_them() {
        let rows = parse_csv("a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,,\"two\nlines\"\n").unwrap();
        assert_eq!(rows, [vec!["a", "b", "c"], vec!["1", "x, y", "say \"hi\""], vec!["2", "", "two\nlines"]]);
        assert!(parse_csv("a,\"open\n").is_err());
    }
}
