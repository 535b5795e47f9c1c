//! Which roles may score which items (分级质控), as data: the rubric's default scorers plus the
//! grants in `assets/grants.json`.

use radqc_domain::{ItemCode, Role, Rubric};
use serde::Deserialize;

const BUNDLED: &str = include_str!("../../../assets/grants.json");

#[derive(Debug, Clone, Deserialize)]
pub struct Grants {
    /// Items each role may score beyond the rubric's `scorer_roles`.
    extra: std::collections::BTreeMap<String, Vec<ItemCode>>,
    /// Roles that see every score of their site (others see their own).
    pub sees_site_scores: Vec<String>,
}

impl Grants {
    pub fn bundled() -> Grants {
        // Checked by a test: the bundled file always parses.
        serde_json::from_str::<GrantsFile>(BUNDLED).expect("assets/grants.json parses").into()
    }

    pub fn may_score(&self, rubric: &Rubric, roles: &[String], item: ItemCode) -> bool {
        let by_rubric =
            rubric.item(item).scorer_roles.iter().any(|r: &Role| roles.iter().any(|mine| mine == r.as_str()));
        by_rubric || roles.iter().any(|r| self.extra.get(r).is_some_and(|items| items.contains(&item)))
    }
}

#[derive(Deserialize)]
struct GrantsFile {
    #[serde(default, rename = "comment")]
    _comment: String,
    extra: std::collections::BTreeMap<String, Vec<ItemCode>>,
    sees_site_scores: Vec<String>,
}

impl From<GrantsFile> for Grants {
    fn from(f: GrantsFile) -> Self {
        Grants { extra: f.extra, sees_site_scores: f.sees_site_scores }
    }
}
