//! The 导入 screen's worklist import (检查登记表): a CSV or XLSX file the QC officer chose, sent
//! as base64, read into rows as the CLI's `radqc local import` reads it (`radqc_hl7::worklist`),
//! checked and imported by the store (`Store::import_worklist`) with the bundled column mapping.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use radqc_store::{ImportReport, WorklistMapping};
use serde::Deserialize;

use crate::{App, AppError, ErrorCode};

/// The largest worklist file the screen takes (a month of a large department is a few MiB).
pub const MAX_WORKLIST_BYTES: usize = 20 * 1024 * 1024;

/// A worklist file as the 导入 screen sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportRequest {
    /// The file's name: its extension says how to read it (`.csv` or `.xlsx`).
    pub file_name: String,
    /// The file's bytes, base64 (standard alphabet, padded), as `FileReader` gives them.
    pub content_base64: String,
    /// Check every row and write nothing.
    pub dry_run: bool,
    /// With bad rows, import the good ones (otherwise nothing is written).
    pub skip_bad: bool,
}

impl App {
    /// Checks (`dry_run`) or imports a worklist file; only the roles that see the whole site may.
    /// The report lists the bad rows by their row number in the file (the header is row 1).
    pub fn import_worklist(&mut self, request: &ImportRequest, now: DateTime<Utc>) -> Result<ImportReport, AppError> {
        self.only_site_roles("导入检查登记表", "import a worklist")?;
        // base64 is 4 characters for 3 bytes: refuse a file too large before decoding it.
        if request.content_base64.len() / 4 * 3 > MAX_WORKLIST_BYTES + 2 {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                format!("输入有误（content_base64）：文件超过 {} MiB，请分批导出", MAX_WORKLIST_BYTES >> 20),
                format!(
                    "`content_base64`: the file is larger than {} MiB: export it in parts",
                    MAX_WORKLIST_BYTES >> 20
                ),
            ));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(request.content_base64.trim())
            .map_err(|e| AppError::invalid("content_base64", format!("is not base64: {e}")))?;
        if bytes.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                format!("输入有误（content_base64）：文件 {} 是空的", request.file_name),
                format!("`content_base64`: the file {} is empty", request.file_name),
            ));
        }
        let mut rows = radqc_hl7::worklist::read_rows(&request.file_name, &bytes)
            .map_err(|e| AppError::invalid("file_name", format!("{}: {e}", request.file_name)))?;
        if rows.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                format!("输入有误（content_base64）：文件 {} 没有表头行", request.file_name),
                format!("`content_base64`: the file {} has no header row", request.file_name),
            ));
        }
        let header = rows.remove(0);
        let mapping = WorklistMapping::bundled();
        Ok(self.store.import_worklist(&mapping, &header, &rows, request.dry_run, request.skip_bad, now)?)
    }
}
