//! A site's time zone: months and days are the site's local ones (a score at 07:30 on
//! 1 November in Beijing is November's, though it is still 31 October in UTC).
//!
//! The zone database is compiled in (chrono-tz), so this is data, not I/O: callers pass the
//! zone of each site in, and times stay RFC 3339 UTC text everywhere else.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};

use crate::report::{Month, Period};
use crate::CodeError;

/// An IANA time zone (`Asia/Shanghai`, `Asia/Urumqi`, `UTC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SiteZone(chrono_tz::Tz);

impl Default for SiteZone {
    fn default() -> Self {
        SiteZone(chrono_tz::Tz::Asia__Shanghai)
    }
}

impl std::str::FromStr for SiteZone {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse::<chrono_tz::Tz>()
            .map(SiteZone)
            .map_err(|_| CodeError::new(format!("unknown time zone `{s}`: expected an IANA name, e.g. Asia/Shanghai")))
    }
}

impl std::fmt::Display for SiteZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name())
    }
}

impl serde::Serialize for SiteZone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name())
    }
}

impl<'de> serde::Deserialize<'de> for SiteZone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// RFC 3339 UTC text with milliseconds, as the stores and the center write times.
fn utc_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

impl SiteZone {
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    fn local(self, at: &str) -> Option<chrono::DateTime<chrono_tz::Tz>> {
        DateTime::parse_from_rfc3339(at).ok().map(|t| t.with_timezone(&self.0))
    }

    /// The local month (`YYYY-MM`) of an RFC 3339 time; text that is not one keeps its first
    /// seven characters (as months were read before zones).
    pub fn month_of(self, at: &str) -> String {
        match self.local(at) {
            Some(t) => format!("{:04}-{:02}", t.year(), t.month()),
            None => at.get(..7).unwrap_or(at).to_owned(),
        }
    }

    /// The local day (`YYYY-MM-DD`) of an RFC 3339 time.
    pub fn day_of(self, at: &str) -> Option<NaiveDate> {
        self.local(at).map(|t| t.date_naive())
    }

    /// The local month of an instant.
    pub fn month_at(self, t: DateTime<Utc>) -> Month {
        let l = t.with_timezone(&self.0);
        Month { year: l.year(), month: l.month() }
    }

    /// The local day of the month of an instant, and how many days its month has.
    pub fn day_of_month(self, t: DateTime<Utc>) -> (u32, u32) {
        let l = t.with_timezone(&self.0);
        let first = |m: Month| NaiveDate::from_ymd_opt(m.year, m.month, 1).expect("a month has a first day");
        let m = Month { year: l.year(), month: l.month() };
        (l.day(), (first(m.next()) - first(m)).num_days() as u32)
    }

    /// Whole local days from the day of `from` to the day of `to` (0 on the same local day).
    pub fn days_between(self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        (to.with_timezone(&self.0).date_naive() - from.with_timezone(&self.0).date_naive()).num_days()
    }

    /// The first instant of a local day, UTC (a day that starts in a DST gap starts at the
    /// first instant that exists).
    pub fn day_start(self, day: NaiveDate) -> DateTime<Utc> {
        let mut t = day.and_hms_opt(0, 0, 0).expect("midnight exists");
        loop {
            if let Some(l) = self.0.from_local_datetime(&t).earliest() {
                return l.with_timezone(&Utc);
            }
            t += chrono::Duration::minutes(15);
        }
    }

    /// A local wall-clock time of the site, as UTC (a time in a DST gap moves on to the first
    /// instant that exists; an ambiguous one takes the earlier).
    pub fn at_local(self, t: chrono::NaiveDateTime) -> DateTime<Utc> {
        let mut t = t;
        loop {
            if let Some(l) = self.0.from_local_datetime(&t).earliest() {
                return l.with_timezone(&Utc);
            }
            t += chrono::Duration::minutes(15);
        }
    }

    /// The first instant of a local month, UTC.
    pub fn month_start(self, m: Month) -> DateTime<Utc> {
        self.day_start(NaiveDate::from_ymd_opt(m.year, m.month, 1).expect("a month has a first day"))
    }

    /// `[first instant of the month, first instant of the next)` as RFC 3339 UTC text.
    pub fn month_range(self, m: Month) -> (String, String) {
        (utc_text(self.month_start(m)), utc_text(self.month_start(m.next())))
    }

    /// A period's `[from, to)` as RFC 3339 UTC text, its months local; open ends are far past
    /// and far future.
    pub fn period_range(self, p: Period) -> (String, String) {
        let from = p.from.map_or_else(|| "0000-01-01T00:00:00.000Z".to_owned(), |m| self.month_range(m).0);
        let to = p.to.map_or_else(|| "9999-12-31T23:59:59.999Z".to_owned(), |m| self.month_range(m).1);
        (from, to)
    }
}

/// The zone of every site of a report (a region's sites may differ); sites not listed have the
/// default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Zones {
    pub default: SiteZone,
    pub sites: BTreeMap<String, SiteZone>,
}

impl Zones {
    /// One zone for every site (a site's own reports).
    pub fn one(zone: SiteZone) -> Zones {
        Zones { default: zone, sites: BTreeMap::new() }
    }

    pub fn of(&self, site: &str) -> SiteZone {
        self.sites.get(site).copied().unwrap_or(self.default)
    }

    /// The sites of each zone other than the default one, and the default zone for the rest.
    pub fn groups(&self) -> BTreeMap<&'static str, (SiteZone, Vec<&str>)> {
        let mut out: BTreeMap<&'static str, (SiteZone, Vec<&str>)> = BTreeMap::new();
        for (site, zone) in self.sites.iter().filter(|(_, z)| **z != self.default) {
            out.entry(zone.name()).or_insert((*zone, Vec::new())).1.push(site.as_str());
        }
        out
    }
}
