//! What the app shows of sync and takes from it: the outbox's status with its rejected entries,
//! and the rubric the center published.

use radqc_protocol::FeedKind;
use serde::Serialize;

use crate::{App, AppError};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RejectedEntry {
    pub seq: i64,
    pub kind: String,
    pub ref_id: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncView {
    #[serde(flatten)]
    pub status: radqc_store::SyncStatus,
    pub rejected: Vec<RejectedEntry>,
}

impl App {
    /// Scores with the newest rubric version the center published, once it arrived by sync
    /// (the bundled one until then). Every evaluation records the version it was scored under.
    pub fn apply_published_rubric(&mut self) -> Result<(), AppError> {
        let published = self.store.feed_items(FeedKind::Rubric)?;
        if let Some(text) = published.iter().rev().find_map(|i| i.body["toml"].as_str().map(str::to_owned)) {
            let rubric = radqc_domain::Rubric::from_toml_str(&text, "the rubric the center published")
                .map_err(|e| AppError::invalid("published rubric", e.to_string()))?;
            if rubric.version != self.store.rubric().version {
                self.store.set_rubric(rubric);
            }
        }
        Ok(())
    }

    pub fn sync_view(&self) -> Result<SyncView, AppError> {
        Ok(SyncView {
            status: self.store.sync_status()?,
            rejected: self
                .store
                .rejected_outbox()?
                .into_iter()
                .map(|e| RejectedEntry { seq: e.seq, kind: e.kind, ref_id: e.ref_id, reason: e.reason })
                .collect(),
        })
    }
}
