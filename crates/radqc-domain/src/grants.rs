//! Who may do what, by role (分级质控), as one versioned document: which items a role scores
//! beyond the rubric's `scorer_roles`, which roles see a whole site's scores, which read every
//! site of the region, which are named on a failed evaluation's notice besides the person
//! scored, which set people's sign-in secrets, who reads gold-standard cases (7.3.1) and who
//! manages them. The center publishes it (the `grants` feed); the center's reads, the app and the CLI
//! decide by it, so no role name is decided in code. `assets/grants.json` is the bundled default.
//! Parsed and validated whole: every problem is named.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;

use crate::codes::{ItemCode, Role};
use crate::Rubric;

const BUNDLED_NAME: &str = "assets/grants.json";
const BUNDLED_TEXT: &str = include_str!("../../../assets/grants.json");

/// The fields a grants document has (`comment` is free text and optional).
const LISTS: [&str; 4] = ["sees_site_scores", "reads_region", "department_notices", "sets_secrets"];

/// The fields added with the gold standard: a document published before them reads with the
/// bundled default's lists (`gold_readers`: senior radiologists; `manages_gold`: QC officers and
/// center administrators), a document that has them is validated like the others.
const GOLD_LISTS: [(&str, &[Role]); 2] =
    [("gold_readers", &[Role::SeniorRadiologist]), ("manages_gold", &[Role::QcOfficer, Role::CenterAdmin])];

/// A validated grants document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grants {
    /// Names this version of the document (as published).
    pub version: String,
    /// Items each role may score beyond the rubric's `scorer_roles`.
    pub extra: BTreeMap<Role, Vec<ItemCode>>,
    /// Roles that see every score and report of their own site (7.2.2); others see their own.
    pub sees_site_scores: Vec<Role>,
    /// Roles that read every site of the region, and the region's report.
    pub reads_region: Vec<Role>,
    /// Roles named on a failed evaluation's notice of their site, besides the person scored.
    pub department_notices: Vec<Role>,
    /// Roles that set people's sign-in secrets at the center.
    pub sets_secrets: Vec<Role>,
    /// Roles the center assigns gold-standard reads to (高级职称, 7.3.1).
    pub gold_readers: Vec<Role>,
    /// Roles that put cases into the gold standard and read every case and its reads.
    pub manages_gold: Vec<Role>,
}

/// One thing wrong with a grants document: the field (and role) it is in, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantsProblem {
    /// `version`, `extra`, `extra.<role>`, `sees_site_scores`, …, or none for the document.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for GrantsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A grants document refused, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct GrantsError {
    /// The file (or feed item) it came from.
    pub source_name: String,
    pub problems: Vec<GrantsProblem>,
}

impl fmt::Display for GrantsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "grants {}: {one}", self.source_name),
            many => {
                write!(f, "grants {}: {} problems", self.source_name, many.len())?;
                for p in many {
                    write!(f, "\n  - {p}")?;
                }
                Ok(())
            }
        }
    }
}

/// Whether any of a person's roles (as the roster holds them, text) is in `list`.
fn holds(list: &[Role], roles: &[String]) -> bool {
    roles.iter().any(|mine| list.iter().any(|r| r.as_str() == mine))
}

impl Grants {
    /// `assets/grants.json`: what the center publishes when nothing was, and what a site uses
    /// before its first sync (and the demo).
    pub fn bundled() -> &'static Grants {
        static BUNDLED: OnceLock<Grants> = OnceLock::new();
        BUNDLED.get_or_init(|| {
            // A test loads the same text, so an invalid bundled file never reaches a build.
            Grants::from_json(BUNDLED_TEXT, BUNDLED_NAME)
                .unwrap_or_else(|e| panic!("the bundled grants are invalid: {e}"))
        })
    }

    /// The bundled file's text.
    pub fn bundled_text() -> &'static str {
        BUNDLED_TEXT
    }

    /// Parses and validates a grants document. `source_name` is named in errors.
    pub fn from_json(text: &str, source_name: &str) -> Result<Grants, GrantsError> {
        let value: Value = serde_json::from_str(text).map_err(|e| GrantsError {
            source_name: source_name.to_owned(),
            problems: vec![GrantsProblem { field: None, message: format!("not JSON: {e}") }],
        })?;
        Grants::from_value(&value, source_name)
    }

    /// Validates a document already read as JSON (a feed item's body).
    pub fn from_value(value: &Value, source_name: &str) -> Result<Grants, GrantsError> {
        let mut problems = Vec::new();
        let mut problem = |field: Option<&str>, message: String| {
            problems.push(GrantsProblem { field: field.map(str::to_owned), message });
        };
        let Some(doc) = value.as_object() else {
            problem(None, "a grants document is a JSON object".to_owned());
            return Err(GrantsError { source_name: source_name.to_owned(), problems });
        };
        for key in doc.keys() {
            if !matches!(key.as_str(), "version" | "comment" | "extra")
                && !LISTS.contains(&key.as_str())
                && !GOLD_LISTS.iter().any(|(name, _)| name == key)
            {
                problem(Some(key), "unknown field (known: version, comment, extra, sees_site_scores, reads_region, department_notices, sets_secrets, gold_readers, manages_gold)".to_owned());
            }
        }
        let version = match doc.get("version") {
            Some(Value::String(v)) if !v.trim().is_empty() => v.clone(),
            Some(Value::String(_)) => {
                problem(Some("version"), "is empty".to_owned());
                String::new()
            }
            Some(_) => {
                problem(Some("version"), "is not text".to_owned());
                String::new()
            }
            None => {
                problem(Some("version"), "missing: every grants document names its version".to_owned());
                String::new()
            }
        };
        if let Some(comment) = doc.get("comment").filter(|c| !c.is_string()) {
            problem(Some("comment"), format!("is not text: {comment}"));
        }
        fn role(field: &str, text: &str, problem: &mut dyn FnMut(Option<&str>, String)) -> Option<Role> {
            text.parse::<Role>().map_err(|e| problem(Some(field), e.to_string())).ok()
        }
        let mut extra = BTreeMap::new();
        match doc.get("extra") {
            Some(Value::Object(map)) => {
                for (name, items) in map {
                    let field = format!("extra.{name}");
                    let r = role("extra", name, &mut problem);
                    let Some(list) = items.as_array() else {
                        problem(Some(&field), "is not a list of item codes".to_owned());
                        continue;
                    };
                    let mut codes = Vec::new();
                    for item in list {
                        match item.as_str().map(str::parse::<ItemCode>) {
                            Some(Ok(code)) => codes.push(code),
                            Some(Err(e)) => problem(Some(&field), e.to_string()),
                            None => problem(Some(&field), format!("{item} is not an item code")),
                        }
                    }
                    if let Some(r) = r {
                        extra.insert(r, codes);
                    }
                }
            }
            Some(_) => problem(Some("extra"), "is not an object of role → item codes".to_owned()),
            None => problem(Some("extra"), "missing (an empty object grants nothing extra)".to_owned()),
        }
        // Every list is read the same way; a missing one is a problem, except the gold lists,
        // which documents published before them lack (they read with the bundled default's).
        let every = LISTS.iter().map(|n| (*n, None)).chain(GOLD_LISTS.iter().map(|(n, d)| (*n, Some(*d))));
        let mut lists: Vec<Vec<Role>> = Vec::new();
        for (name, default) in every {
            let mut roles = Vec::new();
            match (doc.get(name), default) {
                (Some(Value::Array(list)), _) => {
                    for r in list {
                        match r.as_str() {
                            Some(text) => roles.extend(role(name, text, &mut problem)),
                            None => problem(Some(name), format!("{r} is not a role")),
                        }
                    }
                }
                (Some(_), _) => problem(Some(name), "is not a list of roles".to_owned()),
                (None, Some(default)) => roles = default.to_vec(),
                (None, None) => problem(Some(name), "missing (an empty list names no role)".to_owned()),
            }
            lists.push(roles);
        }
        if !problems.is_empty() {
            return Err(GrantsError { source_name: source_name.to_owned(), problems });
        }
        let [sees_site_scores, reads_region, department_notices, sets_secrets, gold_readers, manages_gold]: [Vec<Role>;
            6] = lists.try_into().expect("one list per name");
        Ok(Grants {
            version,
            extra,
            sees_site_scores,
            reads_region,
            department_notices,
            sets_secrets,
            gold_readers,
            manages_gold,
        })
    }

    /// Whether a person with `roles` may score `item`: a scorer the rubric names, or a role the
    /// grants give the item to.
    pub fn may_score(&self, rubric: &Rubric, roles: &[String], item: ItemCode) -> bool {
        holds(&rubric.item(item).scorer_roles, roles)
            || roles.iter().any(|mine| self.extra.iter().any(|(r, items)| r.as_str() == mine && items.contains(&item)))
    }

    /// Whether `roles` see every score and report of their own site.
    pub fn sees_whole_site(&self, roles: &[String]) -> bool {
        holds(&self.sees_site_scores, roles)
    }

    /// Whether `roles` read every site of the region and the region's report.
    pub fn reads_every_site(&self, roles: &[String]) -> bool {
        holds(&self.reads_region, roles)
    }

    /// Whether `roles` are named on their site's notices of failed evaluations.
    pub fn gets_department_notices(&self, roles: &[String]) -> bool {
        holds(&self.department_notices, roles)
    }

    /// Whether `roles` set people's sign-in secrets at the center.
    pub fn sets_secrets(&self, roles: &[String]) -> bool {
        holds(&self.sets_secrets, roles)
    }

    /// Whether `roles` read gold-standard cases.
    pub fn reads_gold(&self, roles: &[String]) -> bool {
        holds(&self.gold_readers, roles)
    }

    /// Whether `roles` put cases into the gold standard and see every case with its reads.
    pub fn manages_gold(&self, roles: &[String]) -> bool {
        holds(&self.manages_gold, roles)
    }

    /// The roles that see their whole site, as text (the UI shows 报表 to them).
    pub fn site_score_roles(&self) -> Vec<String> {
        self.sees_site_scores.iter().map(|r| r.as_str().to_owned()).collect()
    }
}
