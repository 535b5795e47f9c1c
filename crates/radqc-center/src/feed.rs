//! Paging of the feeds a site pulls (rubric, sampling rules, roster, notices).

use radqc_protocol::{FeedItem, FeedPage};

/// The largest page a client may ask for.
pub const MAX_PAGE: i64 = 500;

/// Builds a page from up to `limit + 1` items read after `after`.
pub fn page(mut items: Vec<FeedItem>, after: i64, limit: i64) -> FeedPage {
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let cursor = items.last().map_or(after, |i| i.cursor);
    FeedPage { items, cursor, more }
}
