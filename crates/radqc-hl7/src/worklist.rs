//! A worklist file's bytes as rows of text cells: CSV (UTF-8, with or without a BOM, or GB18030
//! as Chinese Excel saves it) or XLSX (its first sheet; dates as `YYYY-MM-DD HH:MM:SS`). No I/O:
//! the caller reads the file (the CLI) or is sent its bytes (the app's 导入 screen).

use calamine::{Data, Reader};

/// The rows of a worklist named `name` (its extension says the format), or why it does not read.
pub fn read_rows(name: &str, bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "xlsx" | "xlsm" => {
            let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec()))
                .map_err(|e| format!("{name} is not an XLSX workbook: {e}"))?;
            let sheet = book.sheet_names().first().cloned().ok_or_else(|| format!("{name} has no sheet"))?;
            let range =
                book.worksheet_range(&sheet).map_err(|e| format!("cannot read sheet {sheet} of {name}: {e}"))?;
            Ok(range.rows().map(|r| r.iter().map(cell_text).collect()).collect())
        }
        "csv" | "txt" => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            let text = match std::str::from_utf8(bytes) {
                Ok(t) => t.to_owned(),
                Err(_) => {
                    let (t, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
                    if had_errors {
                        return Err(format!("{name} is neither UTF-8 nor GB18030 text"));
                    }
                    t.into_owned()
                }
            };
            parse_csv(&text).map_err(|e| format!("{name} is not CSV: {e}"))
        }
        other => Err(format!("{name}: a worklist is .csv or .xlsx, not `.{other}`")),
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
fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, String> {
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
        return Err(format!("a quoted field that starts on line {line} or before is not closed"));
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
