//! The notices the center published, as the signed-in person reads them (open until corrected),
//! and the correction that closes a monitoring notice.

use chrono::{DateTime, Utc};
use radqc_domain::StaffCode;
use radqc_protocol::{FeedKind, NoticeMessage};
use serde::{Deserialize, Serialize};

use crate::{App, AppError, ErrorCode};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Notice {
    pub cursor: i64,
    /// Set for monitoring notices (a failed evaluation): what a correction closes.
    pub notice_id: Option<String>,
    /// `failed_evaluation`, `notice_closed`, or none for a plain message.
    pub kind: Option<String>,
    pub to: Option<String>,
    pub also_to: Vec<String>,
    pub text: String,
    pub published_at: DateTime<Utc>,
    /// For a monitoring notice: still waiting for its correction (整改).
    pub open: bool,
}

impl App {
    /// Notices for the signed-in person: addressed to them, to their role as department head
    /// (`also_to`), or to everyone at the site. A monitoring notice is open until a correction is
    /// recorded here or the center reports it closed.
    pub fn my_notices(&self) -> Result<Vec<Notice>, AppError> {
        let user = self.user()?;
        let items = self.store.feed_items(FeedKind::Notices)?;
        let closed_here = self.store.notice_closures()?;
        let bodies: Vec<(radqc_protocol::FeedItem, radqc_protocol::NoticeBody)> =
            items.into_iter().filter_map(|i| radqc_protocol::NoticeBody::parse(&i.body).ok().map(|b| (i, b))).collect();
        let closed_at_center: std::collections::HashSet<&str> = bodies
            .iter()
            .filter(|(_, b)| b.kind() == Some("notice_closed"))
            .filter_map(|(_, b)| b.notice_id())
            .collect();
        Ok(bodies
            .iter()
            .filter_map(|(i, b)| {
                let mine = b.to().is_none_or(|t| t == user.code) || b.also_to().contains(&user.code);
                if !mine {
                    return None;
                }
                let notice_id = b.notice_id().map(str::to_owned);
                let open = matches!(b, radqc_protocol::NoticeBody::Monitoring(NoticeMessage::FailedEvaluation { .. }))
                    && notice_id
                        .as_deref()
                        .is_some_and(|id| !closed_here.contains_key(id) && !closed_at_center.contains(id));
                Some(Notice {
                    cursor: i.cursor,
                    notice_id,
                    kind: b.kind().map(str::to_owned),
                    to: b.to().map(str::to_owned),
                    also_to: b.also_to().to_vec(),
                    text: b.text().to_owned(),
                    published_at: i.published_at,
                    open,
                })
            })
            .collect())
    }

    /// Records the correction that closes a monitoring notice; it reaches the center by sync.
    pub fn close_notice(&mut self, notice_id: &str, correction: &str, now: DateTime<Utc>) -> Result<(), AppError> {
        let by: StaffCode =
            self.user()?.code.parse().map_err(|e: radqc_domain::CodeError| AppError::invalid("user", e.to_string()))?;
        let known = self.store.feed_items(FeedKind::Notices)?.iter().any(|i| {
            matches!(NoticeMessage::deserialize(&i.body),
                    Ok(NoticeMessage::FailedEvaluation { notice_id: id, .. }) if id == notice_id)
        });
        if !known {
            return Err(AppError::new(
                ErrorCode::UnknownNotice,
                format!("没有通知 {notice_id}"),
                format!("no notice {notice_id}"),
            ));
        }
        Ok(self.store.close_notice(notice_id, correction, &by, now)?)
    }
}
