//! The lexicons (`assets/precheck.toml`) as validated data, compiled into dictionaries once.
//!
//! A lexicon that is wrong anywhere is refused with every problem found, each naming the table
//! and term it concerns.

use std::collections::{BTreeMap, HashSet};

use aho_corasick::{AhoCorasick, MatchKind};
use serde::Deserialize;

use radqc_domain::CriterionCode;

use crate::{Check, Mode};

/// The lexicon file format this code reads.
pub const LEXICON_SCHEMA: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    #[error("{name}: not a lexicon file: {message}")]
    Parse { name: String, message: String },
    #[error("{name}: {} problem(s):\n  {}", problems.len(), problems.join("\n  "))]
    Invalid { name: String, problems: Vec<String> },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct File {
    schema: u32,
    checks: BTreeMap<String, CheckFile>,
    text: TextFile,
    sides: SidesFile,
    paired: BTreeMap<String, PairedFile>,
    regions: BTreeMap<String, Vec<String>>,
    sex_organs: SexOrgansFile,
    organs: Vec<OrganFile>,
    resection: ResectionFile,
    absence: AbsenceFile,
    comparison: ComparisonFile,
    impression: ImpressionFile,
    negation: NegationFile,
    positive: Vec<PositiveFile>,
    descriptors: DescriptorsFile,
    locations: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DescriptorsFile {
    terms: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckFile {
    criterion: String,
    twin: String,
    default: Mode,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextFile {
    clause_breaks: Vec<String>,
    sentence_breaks: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SidesFile {
    left: Vec<String>,
    right: Vec<String>,
    both: Vec<String>,
    gap_chars: String,
    max_gap: usize,
    contralateral: Vec<String>,
    normal: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PairedFile {
    en: String,
    terms: Vec<String>,
    #[serde(default)]
    after: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SexOrgansFile {
    female: Vec<String>,
    male: Vec<String>,
    not_after: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganFile {
    key: String,
    en: String,
    /// The organ this one is part of (a lobe of the lung): present when that one is removed.
    #[serde(default)]
    within: Option<String>,
    #[serde(default)]
    paired: bool,
    terms: Vec<String>,
    #[serde(default)]
    except_after: Vec<String>,
    #[serde(default)]
    except_before: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResectionFile {
    verbs: Vec<String>,
    within: usize,
    whole: Vec<String>,
    partial: Vec<String>,
    operations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AbsenceFile {
    markers: Vec<String>,
    before: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ComparisonFile {
    phrases: Vec<String>,
    dated: bool,
    denials: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImpressionFile {
    placeholders: Vec<String>,
    placeholder_prefixes: Vec<String>,
    headings: Vec<String>,
    placeholder_chars: String,
    heading_max_chars: usize,
    filler_chars: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NegationFile {
    before: Vec<String>,
    not_negation: Vec<String>,
    after: Vec<String>,
    scope_breaks: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PositiveFile {
    concept: String,
    #[serde(default)]
    lesion_only: bool,
    #[serde(default)]
    anywhere: bool,
    #[serde(default)]
    at_place: bool,
    zh: String,
    terms: Vec<String>,
    names: Vec<String>,
}

/// Terms found leftmost-longest in one pass, each with its payload.
pub(crate) struct Dict<T> {
    automaton: AhoCorasick,
    payloads: Vec<T>,
}

/// One term found in a text: its byte range and its payload.
pub(crate) struct Hit<'a, T> {
    pub start: usize,
    pub end: usize,
    pub payload: &'a T,
}

impl<T> Dict<T> {
    fn new(entries: Vec<(String, T)>) -> Self {
        let (terms, payloads): (Vec<String>, Vec<T>) = entries.into_iter().unzip();
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&terms)
            .expect("lexicon terms are validated non-empty and few");
        Dict { automaton, payloads }
    }

    pub fn find_iter<'a>(&'a self, text: &str) -> impl Iterator<Item = Hit<'a, T>> + 'a {
        let found: Vec<_> = self.automaton.find_iter(text).collect();
        found.into_iter().map(move |m| Hit {
            start: m.start(),
            end: m.end(),
            payload: &self.payloads[m.pattern().as_usize()],
        })
    }

    pub fn contains(&self, text: &str) -> bool {
        self.automaton.is_match(text)
    }
}

/// A set of terms without payloads.
pub(crate) type Terms = Dict<()>;

fn terms(list: &[String]) -> Terms {
    Dict::new(list.iter().map(|t| (t.clone(), ())).collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Left,
    Right,
    Both,
}

impl Side {
    pub fn zh(self) -> &'static str {
        match self {
            Side::Left => "左",
            Side::Right => "右",
            Side::Both => "双侧",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
            Side::Both => "both sides",
        }
    }
    pub fn opposite(self, other: Side) -> bool {
        matches!((self, other), (Side::Left, Side::Right) | (Side::Right, Side::Left))
    }
}

pub(crate) struct CheckSpec {
    pub criterion: CriterionCode,
    pub twin: CriterionCode,
    pub default: Mode,
}

pub(crate) struct Part {
    pub key: String,
    pub en: String,
}

pub(crate) struct Organ {
    pub key: String,
    pub en: String,
    pub within: Option<String>,
    pub paired: bool,
    pub except_after: Vec<String>,
    pub except_before: Vec<String>,
}

pub(crate) struct Positive {
    pub concept: String,
    /// Ties a side to its lesion, but is no finding an impression must name.
    pub lesion_only: bool,
    /// Named by the impression anywhere, not only at its place.
    pub anywhere: bool,
    /// Counts only with a place, and is named only by an impression clause at that place.
    pub at_place: bool,
    pub zh: String,
    pub names: Terms,
}

/// The compiled lexicons.
pub(crate) struct Lexicon {
    pub checks: BTreeMap<Check, CheckSpec>,
    pub breaks: Vec<String>,
    pub sentence_breaks: Vec<String>,
    pub normal: Terms,
    pub side_words: Dict<Side>,
    pub gap_chars: HashSet<char>,
    pub max_gap: usize,
    pub contralateral: Terms,
    pub parts: Vec<Part>,
    /// Paired parts' terms; payload: index in `parts`.
    pub part_terms: Dict<usize>,
    /// Terms after which the side comes (肝右叶): payload: index in `parts`.
    pub part_after: Dict<usize>,
    /// For an exam part's key, the parts its side covers.
    pub regions: BTreeMap<String, Vec<String>>,
    /// Payload: the sex the organ belongs to (`true` female).
    pub sex_organs: Dict<bool>,
    pub sex_not_after: Vec<String>,
    pub organs: Vec<Organ>,
    /// Organ terms; payload: index in `organs`.
    pub organ_terms: Dict<usize>,
    pub resection_verbs: Terms,
    pub resection_within: usize,
    pub resection_partial: Terms,
    pub resection_whole: Terms,
    /// Operation names; payload: index in `organs`.
    pub operations: Dict<usize>,
    pub absence_markers: Terms,
    pub absence_before: Vec<String>,
    pub comparison: Terms,
    pub comparison_dated: bool,
    pub comparison_denials: Terms,
    pub placeholders: HashSet<String>,
    pub placeholder_prefixes: Vec<String>,
    pub headings: Vec<String>,
    pub placeholder_chars: HashSet<char>,
    pub heading_max_chars: usize,
    pub filler_chars: HashSet<char>,
    pub negation_before: Terms,
    pub not_negation: Terms,
    pub negation_after: Terms,
    pub scope_breaks: Terms,
    pub positives: Vec<Positive>,
    /// Where a finding is; payload: the locations' indexes (胫腓骨 is the tibia's and the
    /// fibula's).
    pub locations: Dict<Vec<usize>>,
    /// Positive-finding terms; payload: index in `positives`, `None` for a descriptor that
    /// contains one (结节状高密度影 is a shape, not a nodule).
    pub positive_terms: Dict<Option<usize>>,
}

impl Lexicon {
    pub fn parse(name: &str, text: &str) -> Result<Lexicon, LexiconError> {
        let file: File =
            toml::from_str(text).map_err(|e| LexiconError::Parse { name: name.to_owned(), message: e.to_string() })?;
        let mut problems = Vec::new();
        validate(&file, &mut problems);
        if !problems.is_empty() {
            return Err(LexiconError::Invalid { name: name.to_owned(), problems });
        }
        Ok(compile(file))
    }
}

fn check_list(problems: &mut Vec<String>, table: &str, list: &[String]) {
    let mut seen = HashSet::new();
    for term in list {
        if term.is_empty() {
            problems.push(format!("{table}: an empty term"));
        } else if !seen.insert(term.as_str()) {
            problems.push(format!("{table}: \"{term}\" is listed twice"));
        }
    }
}

fn validate(file: &File, problems: &mut Vec<String>) {
    if file.schema != LEXICON_SCHEMA {
        problems.push(format!("schema {} is not {LEXICON_SCHEMA}, the one this build reads", file.schema));
    }
    for check in Check::ALL {
        match file.checks.get(check.name()) {
            None => problems.push(format!("checks.{}: missing", check.name())),
            Some(spec) => {
                for (field, code) in [("criterion", &spec.criterion), ("twin", &spec.twin)] {
                    if let Err(e) = code.parse::<CriterionCode>() {
                        problems.push(format!("checks.{}.{field}: {e}", check.name()));
                    }
                }
            }
        }
    }
    for name in file.checks.keys() {
        if Check::from_name(name).is_none() {
            problems.push(format!("checks.{name}: no such check (the checks are {})", Check::names().join(", ")));
        }
    }
    check_list(problems, "text.clause_breaks", &file.text.clause_breaks);
    check_list(problems, "text.sentence_breaks", &file.text.sentence_breaks);
    check_list(problems, "sides.normal", &file.sides.normal);
    check_list(problems, "sides.left", &file.sides.left);
    check_list(problems, "sides.right", &file.sides.right);
    check_list(problems, "sides.both", &file.sides.both);
    check_list(problems, "sides.contralateral", &file.sides.contralateral);
    let mut part_terms = HashSet::new();
    for (key, part) in &file.paired {
        if part.terms.is_empty() && part.after.is_empty() {
            problems.push(format!("paired.{key}: neither terms nor after"));
        }
        check_list(problems, &format!("paired.{key}.terms"), &part.terms);
        for term in part.terms.iter().chain(&part.after) {
            if !part_terms.insert(term.as_str()) {
                problems.push(format!("paired.{key}: \"{term}\" names another part too"));
            }
        }
    }
    for (key, parts) in &file.regions {
        if !file.paired.contains_key(key) {
            problems.push(format!("regions.{key}: no such paired part"));
        }
        for part in parts {
            if !file.paired.contains_key(part) {
                problems.push(format!("regions.{key}: \"{part}\" is no paired part"));
            }
        }
    }
    let sex = [file.sex_organs.female.clone(), file.sex_organs.male.clone()].concat();
    check_list(problems, "sex_organs", &sex);
    let mut organ_terms = HashSet::new();
    for organ in &file.organs {
        if organ.terms.is_empty() {
            problems.push(format!("organs.{}: no terms", organ.key));
        }
        for term in &organ.terms {
            if !organ_terms.insert(term.as_str()) {
                problems.push(format!("organs.{}: \"{term}\" names another organ too", organ.key));
            }
        }
    }
    for organ in &file.organs {
        if let Some(w) = &organ.within {
            if !file.organs.iter().any(|o| &o.key == w) {
                problems.push(format!("organs.{}: within \"{w}\", no organ in [[organs]]", organ.key));
            }
        }
    }
    for (operation, organ) in &file.resection.operations {
        if !file.organs.iter().any(|o| &o.key == organ) {
            problems.push(format!("resection.operations.{operation}: \"{organ}\" is no organ in [[organs]]"));
        }
    }
    check_list(problems, "resection.verbs", &file.resection.verbs);
    check_list(problems, "resection.partial", &file.resection.partial);
    check_list(problems, "absence.markers", &file.absence.markers);
    check_list(problems, "comparison.phrases", &file.comparison.phrases);
    check_list(problems, "comparison.denials", &file.comparison.denials);
    check_list(problems, "impression.placeholders", &file.impression.placeholders);
    check_list(problems, "impression.placeholder_prefixes", &file.impression.placeholder_prefixes);
    check_list(problems, "impression.headings", &file.impression.headings);
    check_list(problems, "negation.before", &file.negation.before);
    check_list(problems, "negation.after", &file.negation.after);
    check_list(problems, "descriptors.terms", &file.descriptors.terms);
    for (key, list) in &file.locations {
        check_list(problems, &format!("locations.{key}"), list);
    }
    let mut positive_terms: HashSet<&str> = file.descriptors.terms.iter().map(String::as_str).collect();
    for p in &file.positive {
        if p.terms.is_empty() || p.names.is_empty() {
            problems.push(format!("positive.{}: needs terms and names", p.concept));
        }
        check_list(problems, &format!("positive.{}.names", p.concept), &p.names);
        for term in &p.terms {
            if !positive_terms.insert(term.as_str()) {
                problems.push(format!("positive.{}: \"{term}\" is another concept's term too", p.concept));
            }
        }
    }
}

/// Each location term with every location it names.
fn locations(table: BTreeMap<String, Vec<String>>) -> Vec<(String, Vec<usize>)> {
    let mut by_term: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, list) in table.into_values().enumerate() {
        for term in list {
            by_term.entry(term).or_default().push(i);
        }
    }
    by_term.into_iter().collect()
}

fn compile(file: File) -> Lexicon {
    let checks = file
        .checks
        .into_iter()
        .filter_map(|(name, c)| {
            let check = Check::from_name(&name)?;
            let criterion = c.criterion.parse().ok()?;
            let twin = c.twin.parse().ok()?;
            Some((check, CheckSpec { criterion, twin, default: c.default }))
        })
        .collect();
    let mut side_words = Vec::new();
    for (list, side) in
        [(&file.sides.left, Side::Left), (&file.sides.right, Side::Right), (&file.sides.both, Side::Both)]
    {
        side_words.extend(list.iter().map(|t| (t.clone(), side)));
    }
    let mut parts = Vec::new();
    let mut part_terms = Vec::new();
    let mut part_after = Vec::new();
    for (key, p) in file.paired {
        let index = parts.len();
        part_terms.extend(p.terms.into_iter().map(|t| (t, index)));
        part_after.extend(p.after.into_iter().map(|t| (t, index)));
        parts.push(Part { key, en: p.en });
    }
    let mut sex_organs: Vec<(String, bool)> = file.sex_organs.female.into_iter().map(|t| (t, true)).collect();
    sex_organs.extend(file.sex_organs.male.into_iter().map(|t| (t, false)));
    let mut organs = Vec::new();
    let mut organ_terms = Vec::new();
    for o in file.organs {
        let index = organs.len();
        organ_terms.extend(o.terms.into_iter().map(|t| (t, index)));
        organs.push(Organ {
            key: o.key,
            en: o.en,
            within: o.within,
            paired: o.paired,
            except_after: o.except_after,
            except_before: o.except_before,
        });
    }
    let operations = file
        .resection
        .operations
        .into_iter()
        .filter_map(|(name, organ)| organs.iter().position(|o| o.key == organ).map(|i| (name, i)))
        .collect();
    let mut positives = Vec::new();
    let mut positive_terms: Vec<(String, Option<usize>)> =
        file.descriptors.terms.into_iter().map(|t| (t, None)).collect();
    for p in file.positive {
        let index = positives.len();
        let mut names = p.names.clone();
        names.extend(p.terms.iter().filter(|t| !p.names.contains(t)).cloned());
        positive_terms.extend(p.terms.into_iter().map(|t| (t, Some(index))));
        positives.push(Positive {
            concept: p.concept,
            lesion_only: p.lesion_only,
            anywhere: p.anywhere,
            at_place: p.at_place,
            zh: p.zh,
            names: terms(&names),
        });
    }
    Lexicon {
        checks,
        breaks: file.text.clause_breaks,
        sentence_breaks: file.text.sentence_breaks,
        normal: terms(&file.sides.normal),
        side_words: Dict::new(side_words),
        gap_chars: file.sides.gap_chars.chars().collect(),
        max_gap: file.sides.max_gap,
        contralateral: terms(&file.sides.contralateral),
        parts,
        part_terms: Dict::new(part_terms),
        part_after: Dict::new(part_after),
        regions: file.regions,
        sex_organs: Dict::new(sex_organs),
        sex_not_after: file.sex_organs.not_after,
        organs,
        organ_terms: Dict::new(organ_terms),
        resection_verbs: terms(&file.resection.verbs),
        resection_within: file.resection.within,
        resection_partial: terms(&file.resection.partial),
        resection_whole: terms(&file.resection.whole),
        operations: Dict::new(operations),
        absence_markers: terms(&file.absence.markers),
        absence_before: file.absence.before,
        comparison: terms(&file.comparison.phrases),
        comparison_dated: file.comparison.dated,
        comparison_denials: terms(&file.comparison.denials),
        placeholders: file.impression.placeholders.into_iter().collect(),
        placeholder_prefixes: file.impression.placeholder_prefixes,
        headings: file.impression.headings,
        placeholder_chars: file.impression.placeholder_chars.chars().collect(),
        heading_max_chars: file.impression.heading_max_chars,
        filler_chars: file.impression.filler_chars.chars().collect(),
        negation_before: terms(&file.negation.before),
        not_negation: terms(&file.negation.not_negation),
        negation_after: terms(&file.negation.after),
        scope_breaks: terms(&file.negation.scope_breaks),
        positives,
        locations: Dict::new(locations(file.locations)),
        positive_terms: Dict::new(positive_terms),
    }
}
