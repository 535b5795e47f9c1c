//! The rubric (评分标准) as data: parsed from TOML text once, validated whole, then immutable.
//!
//! A rubric that is wrong anywhere is refused with every problem found, each naming the item and
//! criterion it concerns, so that a region editing its rubric fixes it in one pass.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::codes::{Applicability, CodeError, CriterionCode, CriterionKind, ItemCode, ItemKind, Role, Score};

/// The rubric file format this code reads.
pub const RUBRIC_SCHEMA: u32 = 1;

const BUNDLED_NAME: &str = "assets/rubric.toml";
const BUNDLED_TEXT: &str = include_str!("../../../assets/rubric.toml");

/// A text in both of the app's languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "Bilingual"))]
pub struct Text {
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Criterion {
    pub code: CriterionCode,
    pub kind: CriterionKind,
    pub text: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "RubricItem"))]
pub struct Item {
    pub code: ItemCode,
    pub kind: ItemKind,
    pub name: Text,
    /// Who is scored by default.
    pub scored_role: Role,
    /// Who scores by default; a region's role grants may differ.
    pub scorer_roles: Vec<Role>,
    pub applies: Applicability,
    /// In the rubric's order, severe and compliance criteria as the file lists them.
    pub criteria: Vec<Criterion>,
    /// `score_table[u]` is the score when `u` applicable compliance criteria are unmet and no
    /// severe criterion is present. `None` for normative items.
    pub score_table: Option<Vec<Score>>,
}

impl Item {
    pub fn criterion(&self, code: &CriterionCode) -> Option<&Criterion> {
        self.criteria.iter().find(|c| &c.code == code)
    }
    pub fn severe(&self) -> impl Iterator<Item = &Criterion> {
        self.criteria.iter().filter(|c| c.kind == CriterionKind::Severe)
    }
    pub fn compliance(&self) -> impl Iterator<Item = &Criterion> {
        self.criteria.iter().filter(|c| c.kind == CriterionKind::Compliance)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Rubric {
    pub schema: u32,
    /// Recorded with every evaluation scored under this rubric.
    pub version: String,
    pub title: Text,
    /// All six items, in the standard's order.
    pub items: Vec<Item>,
}

/// One thing wrong with a rubric file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The item concerned, as written in the file (it may be an unknown code).
    pub item: Option<String>,
    pub criterion: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(item) = &self.item {
            write!(f, "item {item}: ")?;
        }
        if let Some(c) = &self.criterion {
            write!(f, "criterion {c}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// A rubric refused, with every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RubricError {
    /// The file (or other source) the rubric came from.
    pub source_name: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for RubricError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "rubric {}: {one}", self.source_name),
            many => {
                write!(f, "rubric {}: {} problems", self.source_name, many.len())?;
                for p in many {
                    write!(f, "\n  - {p}")?;
                }
                Ok(())
            }
        }
    }
}

// The file's shape. Text fields are optional here so that a missing one gets our own message
// naming the item and criterion, rather than a bare "missing field".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRubric {
    schema: Option<u32>,
    version: Option<String>,
    title: Option<RawText>,
    #[serde(default)]
    items: Vec<RawItem>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawText {
    zh: Option<String>,
    en: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    code: Option<String>,
    kind: Option<String>,
    name: Option<RawText>,
    scored_role: Option<String>,
    scorer_roles: Option<Vec<String>>,
    applies: Option<String>,
    score_table: Option<Vec<i64>>,
    #[serde(default)]
    criteria: Vec<RawCriterion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    code: Option<String>,
    kind: Option<String>,
    text: Option<RawText>,
}

/// Collects the problems of one rubric; `at` sets the item and criterion they concern.
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn report(&mut self, item: Option<&str>, criterion: Option<&str>, message: impl Into<String>) {
        self.problems.push(Problem {
            item: item.map(str::to_owned),
            criterion: criterion.map(str::to_owned),
            message: message.into(),
        });
    }

    fn text(&mut self, raw: Option<RawText>, item: Option<&str>, crit: Option<&str>, what: &str) -> Text {
        let raw = raw.unwrap_or_default();
        let mut take = |value: Option<String>, lang: &str, field: &str| match value {
            Some(v) if !v.trim().is_empty() => v,
            _ => {
                self.report(item, crit, format!("missing {lang} text ({what}.{field})"));
                String::new()
            }
        };
        let zh = take(raw.zh, "Chinese", "zh");
        let en = take(raw.en, "English", "en");
        Text { zh, en }
    }

    fn parse<T: std::str::FromStr<Err = CodeError>>(
        &mut self,
        value: Option<&str>,
        item: Option<&str>,
        crit: Option<&str>,
        field: &str,
    ) -> Option<T> {
        match value {
            None => {
                self.report(item, crit, format!("missing `{field}`"));
                None
            }
            Some(v) => match v.parse() {
                Ok(t) => Some(t),
                Err(e) => {
                    self.report(item, crit, format!("`{field}`: {e}"));
                    None
                }
            },
        }
    }
}

impl Rubric {
    /// The rubric shipped with this build (`assets/rubric.toml`), validated on first use.
    pub fn bundled() -> &'static Rubric {
        static BUNDLED: OnceLock<Rubric> = OnceLock::new();
        BUNDLED.get_or_init(|| {
            // A test loads the same text, so an invalid bundled rubric never reaches a build.
            Rubric::from_toml_str(BUNDLED_TEXT, BUNDLED_NAME)
                .unwrap_or_else(|e| panic!("the bundled rubric is invalid: {e}"))
        })
    }

    /// The bundled rubric's file text, for tools that show or copy it.
    pub fn bundled_text() -> &'static str {
        BUNDLED_TEXT
    }

    /// Parses and validates a rubric. `source_name` (usually the file path) is named in errors.
    pub fn from_toml_str(text: &str, source_name: &str) -> Result<Rubric, RubricError> {
        let refuse = |problems| RubricError { source_name: source_name.to_owned(), problems };
        let raw: RawRubric = toml::from_str(text).map_err(|e| {
            refuse(vec![Problem {
                item: None,
                criterion: None,
                message: format!("not a valid rubric file: {}", e.to_string().trim_end()),
            }])
        })?;
        let mut check = Checker { problems: Vec::new() };

        match raw.schema {
            Some(RUBRIC_SCHEMA) => {}
            Some(other) => check.report(
                None,
                None,
                format!("schema {other} is not supported (this RadQC reads schema {RUBRIC_SCHEMA})"),
            ),
            None => check.report(None, None, "missing `schema`"),
        }
        let version = match raw.version {
            Some(v) if is_version(&v) => v,
            Some(v) => {
                check.report(None, None, format!("`version` `{v}` must be 1-32 letters, digits, '.', '-' or '_'"));
                v
            }
            None => {
                check.report(None, None, "missing `version`");
                String::new()
            }
        };
        let title = check.text(raw.title, None, None, "title");

        let mut items: BTreeMap<ItemCode, Item> = BTreeMap::new();
        // Items present in the file, valid or not: an invalid item is reported once, not also as missing.
        let mut present: HashSet<ItemCode> = HashSet::new();
        for raw_item in raw.items {
            let code = raw_item.code.as_deref().and_then(|c| c.parse::<ItemCode>().ok());
            if let Some(code) = code {
                if !present.insert(code) {
                    check.report(Some(code.as_str()), None, "item listed twice");
                    continue;
                }
            }
            if let Some(item) = check_item(&mut check, raw_item) {
                items.insert(item.code, item);
            }
        }
        for code in ItemCode::ALL {
            if !present.contains(&code) {
                check.report(Some(code.as_str()), None, "item missing (every rubric has all six items of Appendix A)");
            }
        }

        if !check.problems.is_empty() {
            return Err(refuse(check.problems));
        }
        let items = ItemCode::ALL.iter().filter_map(|c| items.remove(c)).collect();
        Ok(Rubric { schema: RUBRIC_SCHEMA, version, title, items })
    }

    pub fn item(&self, code: ItemCode) -> &Item {
        // Validation guarantees all six items, so the lookup cannot fail.
        self.items.iter().find(|i| i.code == code).expect("a validated rubric holds every item")
    }

    /// Finds a criterion anywhere in the rubric.
    pub fn criterion(&self, code: &CriterionCode) -> Option<&Criterion> {
        self.item(code.item()).criterion(code)
    }
}

fn is_version(v: &str) -> bool {
    (1..=32).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn check_item(check: &mut Checker, raw: RawItem) -> Option<Item> {
    let Some(code_text) = raw.code else {
        check.report(None, None, "an item has no `code`");
        return None;
    };
    let code: ItemCode = match code_text.parse() {
        Ok(c) => c,
        Err(e) => {
            check.report(Some(&code_text), None, e.to_string());
            return None;
        }
    };
    let at = Some(code.as_str());
    let before = check.problems.len();

    let kind: Option<ItemKind> = check.parse(raw.kind.as_deref(), at, None, "kind");
    if let Some(kind) = kind {
        if kind != code.kind() {
            check.report(at, None, format!("`kind` must be `{}` (section 4.1 of the standard)", code.kind().as_str()));
        }
    }
    let name = check.text(raw.name, at, None, "name");
    let scored_role: Option<Role> = check.parse(raw.scored_role.as_deref(), at, None, "scored_role");
    let mut scorer_roles = Vec::new();
    match raw.scorer_roles {
        None => check.report(at, None, "missing `scorer_roles`"),
        Some(list) if list.is_empty() => {
            check.report(at, None, "`scorer_roles` is empty: somebody must be able to score the item")
        }
        Some(list) => {
            for r in list {
                if let Some(role) = check.parse::<Role>(Some(&r), at, None, "scorer_roles") {
                    if scorer_roles.contains(&role) {
                        check.report(at, None, format!("`scorer_roles` lists `{r}` twice"));
                    }
                    scorer_roles.push(role);
                }
            }
        }
    }
    let applies: Option<Applicability> = check.parse(raw.applies.as_deref(), at, None, "applies");

    let mut criteria = Vec::new();
    let mut seen = HashSet::new();
    if raw.criteria.is_empty() {
        check.report(at, None, "no criteria");
    }
    for rc in raw.criteria {
        let Some(ctext) = rc.code else {
            check.report(at, None, "a criterion has no `code`");
            continue;
        };
        let ccode = match ctext.parse::<CriterionCode>() {
            Ok(c) if c.item() != code => {
                check.report(
                    at,
                    Some(&ctext),
                    format!("misnamed: the code belongs to item {}, not {}", c.item(), code),
                );
                None
            }
            Ok(c) => Some(c),
            Err(e) => {
                check.report(at, Some(&ctext), format!("misnamed: {e}"));
                None
            }
        };
        if !seen.insert(ctext.clone()) {
            check.report(at, Some(&ctext), "duplicate code");
        }
        let ckind: Option<CriterionKind> = check.parse(rc.kind.as_deref(), at, Some(&ctext), "kind");
        let text = check.text(rc.text, at, Some(&ctext), "text");
        if let (Some(ccode), Some(ckind)) = (ccode, ckind) {
            if ccode.kind() != ckind {
                check.report(
                    at,
                    Some(&ctext),
                    format!("misnamed: the code says {} but `kind` is {}", ccode.kind().as_str(), ckind.as_str()),
                );
            } else {
                criteria.push(Criterion { code: ccode, kind: ckind, text });
            }
        }
    }

    let n = criteria.iter().filter(|c| c.kind == CriterionKind::Compliance).count();
    let score_table = match (code.kind(), raw.score_table) {
        (ItemKind::Normative, None) => None,
        (ItemKind::Normative, Some(_)) => {
            check.report(at, None, "a normative item has no `score_table` (it is 合格 / 不合格)");
            None
        }
        (ItemKind::Scored, None) => {
            check.report(at, None, format!("missing `score_table` (scores for u = 0 … {n})"));
            None
        }
        (ItemKind::Scored, Some(table)) => check_table(check, at, &table, n),
    };
    if code.kind() == ItemKind::Scored && n == 0 {
        check.report(at, None, "a scored item needs at least one compliance criterion");
    }

    if check.problems.len() > before {
        return None;
    }
    Some(Item {
        code,
        kind: code.kind(),
        name,
        scored_role: scored_role?,
        scorer_roles,
        applies: applies?,
        criteria,
        score_table,
    })
}

fn check_table(check: &mut Checker, at: Option<&str>, table: &[i64], n: usize) -> Option<Vec<Score>> {
    let before = check.problems.len();
    if table.len() != n + 1 {
        check.report(
            at,
            None,
            format!(
                "`score_table` has {} entries but must cover u = 0 … {n} ({} entries, one per number of unmet compliance criteria)",
                table.len(),
                n + 1
            ),
        );
    }
    let mut scores = Vec::new();
    for (u, &value) in table.iter().enumerate() {
        match u8::try_from(value).ok().and_then(|v| Score::new(v).ok()) {
            Some(s) => scores.push(s),
            None => check.report(at, None, format!("`score_table` u = {u}: {value} is not a score from 1 to 5")),
        }
    }
    if table.first().is_some_and(|&s| s != 5) {
        check.report(at, None, "`score_table` u = 0 must be 5 (all criteria met scores 5)");
    }
    for (u, pair) in table.windows(2).enumerate() {
        if pair[1] > pair[0] {
            check.report(
                at,
                None,
                format!(
                    "`score_table` rises from {} at u = {u} to {} at u = {}: one more unmet criterion must never raise the score",
                    pair[0],
                    pair[1],
                    u + 1
                ),
            );
        }
    }
    (check.problems.len() == before).then_some(scores)
}
