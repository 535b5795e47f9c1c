//! The six checks. Each reads the report through the lexicons and returns at most one proposal,
//! whose evidence is the clauses (verbatim) that made it.

use crate::lexicon::{Lexicon, Side};
use crate::text::{self, char_len, clauses, negated, side_before, side_mentions, Clause};
use crate::{Check, Proposal, Report, Sex};

pub(crate) fn run(lex: &Lexicon, report: &Report, only: &[Check]) -> Vec<Proposal> {
    let r = Read::new(lex, report);
    let mut out = Vec::new();
    for check in Check::ALL.into_iter().filter(|c| only.contains(c)) {
        let found = match check {
            Check::Laterality => laterality(&r),
            Check::SexOrgan => sex_organ(&r),
            Check::ResectedOrgan => resected_organ(&r),
            Check::NoComparison => no_comparison(&r),
            Check::EmptyImpression => empty_impression(&r),
            Check::FindingNotInImpression => finding_not_in_impression(&r),
        };
        if let Some(f) = found {
            let mut evidence: Vec<String> = Vec::new();
            for e in f.evidence {
                if !evidence.iter().any(|have| have == e) {
                    evidence.push(e.to_owned());
                }
            }
            out.push(Proposal {
                check,
                criterion: lex.checks[&check].criterion.clone(),
                evidence,
                message_zh: f.zh,
                message_en: f.en,
            });
        }
    }
    out
}

struct Found<'t> {
    evidence: Vec<&'t str>,
    zh: String,
    en: String,
}

/// The report split once into clauses.
struct Read<'a, 't> {
    lex: &'a Lexicon,
    report: &'t Report,
    history: Vec<Clause<'t>>,
    findings: Vec<Clause<'t>>,
    impression: Vec<Clause<'t>>,
}

impl<'a, 't> Read<'a, 't> {
    fn new(lex: &'a Lexicon, report: &'t Report) -> Self {
        Read {
            lex,
            report,
            history: clauses(lex, &report.history),
            findings: clauses(lex, &report.findings),
            impression: clauses(lex, &report.impression),
        }
    }

    /// The findings' clauses, then the impression's.
    fn body(&self) -> impl Iterator<Item = &Clause<'t>> {
        self.findings.iter().chain(&self.impression)
    }
}

// ---------------------------------------------------------------------------------------------
// laterality

struct Sided<'t> {
    side: Side,
    part: usize,
    /// The positive-finding concept named after the side in its clause, if any.
    concept: Option<usize>,
    /// The clause says the part is normal (右侧上颌窦透亮).
    normal: bool,
    /// The clause says the part was removed or is absent (左肾切除术后改变, 左肾缺如).
    absent: bool,
    clause: &'t str,
}

fn sided<'t>(lex: &Lexicon, clauses: &[Clause<'t>]) -> Vec<Sided<'t>> {
    let mut out = Vec::new();
    for c in clauses {
        for m in side_mentions(lex, c.text) {
            let after = &c.text[m.end..];
            let concept = lex
                .positive_terms
                .find_iter(after)
                .filter(|h| !negated(lex, after, h.start, h.end))
                .find_map(|h| *h.payload);
            let normal = clause_is_normal(lex, c.text);
            let absent = lex.absence_markers.contains(c.text);
            out.push(Sided { side: m.side, part: m.part, concept, normal, absent, clause: c.text });
        }
    }
    out
}

/// The byte ranges inside brackets (（…）, (…)) of a clause.
fn brackets(clause: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open = None;
    for (i, c) in clause.char_indices() {
        match c {
            '（' | '(' => open = Some(i),
            '）' | ')' => {
                if let Some(start) = open.take() {
                    out.push((start, i));
                }
            }
            _ => {}
        }
    }
    out
}

/// A clause that says its part is normal: a normal word and no positive finding not denied.
fn clause_is_normal(lex: &Lexicon, clause: &str) -> bool {
    let positive =
        lex.positive_terms.find_iter(clause).any(|h| h.payload.is_some() && !negated(lex, clause, h.start, h.end));
    !positive && lex.normal.contains(clause)
}

fn laterality<'t>(r: &Read<'_, 't>) -> Option<Found<'t>> {
    let lex = r.lex;
    let mut evidence = Vec::new();
    let mut message: Option<(String, String)> = None;

    // The exam item's side against the text, for the parts that side covers.
    let exam: Vec<_> = side_mentions(lex, &r.report.exam_item);
    let exam_side = exam.first().map(|m| m.side).filter(|s| *s != Side::Both && exam.iter().all(|m| m.side == *s));
    if let Some(side) = exam_side {
        let exam_part = &lex.parts[exam[0].part];
        let covered: Vec<&str> = match lex.regions.get(&exam_part.key) {
            Some(parts) => parts.iter().map(String::as_str).collect(),
            None => exam.iter().map(|m| lex.parts[m.part].key.as_str()).collect(),
        };
        // A sentence that compares with the other side on purpose (加照右肘关节对照，右侧…) is
        // left out whole.
        let body = [&r.report.findings, &r.report.impression];
        let clauses = body
            .iter()
            .flat_map(|text| text::sentences(lex, text))
            .filter(|s| !lex.contralateral.contains(s.text))
            .flat_map(|s| clauses(lex, s.text));
        let mut opposite = Vec::new();
        let mut exam_side_named = false;
        for c in clauses {
            for m in side_mentions(lex, c.text) {
                let part = &lex.parts[m.part];
                if !covered.contains(&part.key.as_str()) {
                    continue;
                }
                if m.side == side {
                    exam_side_named = true;
                } else if m.side.opposite(side) {
                    opposite.push((c, m, clause_is_normal(lex, c.text)));
                }
            }
        }
        // The other side said to be normal beside the exam's own (扫描范围内右侧股骨头未见异常)
        // is the scan's range; the other side alone, normal or not, is the wrong side.
        for (c, m, normal) in opposite {
            if normal && exam_side_named {
                continue;
            }
            let part = &lex.parts[m.part];
            evidence.push(c.text);
            message.get_or_insert_with(|| {
                (
                    format!("检查项目为{}{}，报告描述{}", side.zh(), exam_part.key, &c.text[m.start..m.end]),
                    format!(
                        "The exam item is the {} {}, but the report describes the {} {} ({})",
                        side.en(),
                        exam_part.en,
                        m.side.en(),
                        part.en,
                        &c.text[m.start..m.end]
                    ),
                )
            });
        }
    }

    // The impression's sides against the findings', part by part (and lesion by lesion where
    // the clause names one).
    let findings = sided(lex, &r.findings);
    for im in sided(lex, &r.impression) {
        if im.side == Side::Both || im.normal || lex.contralateral.contains(im.clause) {
            continue;
        }
        // An impression about a removal answers to the findings about it (左肾缺如 against
        // 右肾切除术后), a lesion to the findings' lesions.
        let same: Vec<&Sided> = findings.iter().filter(|f| f.part == im.part && f.absent == im.absent).collect();
        let lesion: Vec<&Sided> =
            same.iter().copied().filter(|f| im.concept.is_some() && f.concept == im.concept).collect();
        let pool = if lesion.is_empty() { same } else { lesion };
        // A side the findings call normal does not vouch for the impression's lesion there.
        let abnormal: Vec<&Sided> = pool.iter().copied().filter(|f| !f.normal).collect();
        let pool = if abnormal.is_empty() || im.absent { pool } else { abnormal };
        if pool.is_empty() || pool.iter().any(|f| f.side == im.side || f.side == Side::Both) {
            continue;
        }
        let Some(other) = pool.iter().find(|f| f.side.opposite(im.side)) else { continue };
        evidence.push(other.clause);
        evidence.push(im.clause);
        let part = &lex.parts[im.part];
        message.get_or_insert_with(|| {
            (
                format!("影像所见为{}{}，诊断意见为{}{}", other.side.zh(), part.key, im.side.zh(), part.key),
                format!(
                    "The findings describe the {} {}, the impression the {} {}",
                    other.side.en(),
                    part.en,
                    im.side.en(),
                    part.en
                ),
            )
        });
    }
    let (zh, en) = message?;
    Some(Found { evidence, zh, en })
}

// ---------------------------------------------------------------------------------------------
// sex_organ

fn sex_organ<'t>(r: &Read<'_, 't>) -> Option<Found<'t>> {
    let lex = r.lex;
    let female = match r.report.patient_sex? {
        Sex::Female => true,
        Sex::Male => false,
        _ => return None,
    };
    let mut evidence = Vec::new();
    let mut named: Vec<&str> = Vec::new();
    for c in r.body() {
        for hit in lex.sex_organs.find_iter(c.text) {
            if *hit.payload == female {
                continue;
            }
            let before = tail(&c.text[..hit.start], 4);
            if lex.sex_not_after.iter().any(|n| before.contains(n.as_str())) {
                continue;
            }
            evidence.push(c.text);
            let term = &c.text[hit.start..hit.end];
            if !named.contains(&term) {
                named.push(term);
            }
        }
    }
    if evidence.is_empty() {
        return None;
    }
    let (zh_sex, en_sex) = if female { ("女性", "female") } else { ("男性", "male") };
    Some(Found {
        evidence,
        zh: format!("{zh_sex}患者的报告中出现{}", named.join("、")),
        en: format!("A {en_sex} patient's report names {}, an organ of the other sex", named.join(", ")),
    })
}

/// The last `n` characters of a text.
fn tail(text: &str, n: usize) -> &str {
    let skip = char_len(text).saturating_sub(n);
    match text.char_indices().nth(skip) {
        Some((i, _)) => &text[i..],
        None => "",
    }
}

/// The first `n` characters of a text.
fn head(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

// ---------------------------------------------------------------------------------------------
// resected_organ

struct Removed<'t> {
    organ: usize,
    /// For a paired organ: which side (`None`: not said).
    side: Option<Side>,
    clause: &'t str,
}

/// Whether an organ term at `start..end` is the organ itself, not a neighbouring structure
/// (肾上腺, 脾静脉, 胆囊窝, 副脾).
fn is_organ(lex: &Lexicon, organ: usize, clause: &str, start: usize, end: usize) -> bool {
    let o = &lex.organs[organ];
    let after = &clause[end..];
    let before = &clause[..start];
    !o.except_after.iter().any(|x| after.starts_with(x.as_str()))
        && !o.except_before.iter().any(|x| tail(before, char_len(x)) == x.as_str())
}

/// The side of an organ mention: before it (左肾, 右侧乳腺), else right after it (甲状腺左叶).
fn organ_side(lex: &Lexicon, clause: &str, start: usize, end: usize) -> Option<Side> {
    side_before(lex, clause, start)
        .or_else(|| lex.side_words.find_iter(&clause[end..]).next().filter(|s| s.start == 0).map(|s| *s.payload))
}

fn removals<'t>(lex: &Lexicon, clauses: &[Clause<'t>], operations: bool) -> Vec<Removed<'t>> {
    let mut out = Vec::new();
    for c in clauses {
        for hit in lex.organ_terms.find_iter(c.text) {
            let organ = *hit.payload;
            if !is_organ(lex, organ, c.text, hit.start, hit.end) {
                continue;
            }
            let after = head(&c.text[hit.end..], lex.resection_within);
            let Some(verb) = lex.resection_verbs.find_iter(after).next() else { continue };
            let span = &c.text[hit.start..hit.end + verb.end];
            if lex.resection_partial.contains(span) && !lex.resection_whole.contains(span) {
                continue;
            }
            let side = if lex.organs[organ].paired { organ_side(lex, c.text, hit.start, hit.end) } else { None };
            out.push(Removed { organ, side, clause: c.text });
        }
        if operations {
            for hit in lex.operations.find_iter(c.text) {
                let organ = *hit.payload;
                let side = if lex.organs[organ].paired { side_before(lex, c.text, hit.start) } else { None };
                out.push(Removed { organ, side, clause: c.text });
            }
        }
    }
    out
}

fn resected_organ<'t>(r: &Read<'_, 't>) -> Option<Found<'t>> {
    let lex = r.lex;
    let mut removed = removals(lex, &r.history, true);
    removed.extend(removals(lex, &r.findings, false));
    removed.extend(removals(lex, &r.impression, false));
    if removed.is_empty() {
        return None;
    }
    let mut evidence = Vec::new();
    let mut message = None;
    for c in r.body() {
        if lex.absence_markers.contains(c.text) {
            continue;
        }
        for hit in lex.organ_terms.find_iter(c.text) {
            let organ = *hit.payload;
            if !is_organ(lex, organ, c.text, hit.start, hit.end) {
                continue;
            }
            let before = tail(&c.text[..hit.start], 4);
            if lex.absence_before.iter().any(|a| before.ends_with(a.as_str())) {
                continue;
            }
            let paired = lex.organs[organ].paired;
            let side = if paired { organ_side(lex, c.text, hit.start, hit.end) } else { None };
            let Some(gone) = removed.iter().find(|g| {
                let same = g.organ == organ || lex.organs[organ].within.as_ref() == Some(&lex.organs[g.organ].key);
                same && (!paired
                    || match (g.side, side) {
                        // The whole organ (or a side not said) and a mention without one.
                        (None, None) => true,
                        (Some(_), None) => false,
                        (None, Some(s)) => s == Side::Both,
                        (Some(Side::Both), Some(_)) => true,
                        (Some(g), Some(s)) => s == g || s == Side::Both,
                    })
            }) else {
                continue;
            };
            evidence.push(gone.clause);
            evidence.push(c.text);
            let o = &lex.organs[organ];
            let named = match gone.side {
                Some(s) if paired && s != Side::Both => format!("{}{}", s.zh(), o.key),
                _ => o.key.clone(),
            };
            let named_en = match gone.side {
                Some(s) if paired && s != Side::Both => format!("the {} {}", s.en(), o.en),
                _ => format!("the {}", o.en),
            };
            message.get_or_insert_with(|| {
                (
                    format!("{}已切除（{}），报告仍描述{}", named, gone.clause, &c.text[hit.start..hit.end]),
                    format!("{named_en} was removed ({}), but the report still describes it", gone.clause),
                )
            });
        }
    }
    let (zh, en) = message?;
    Some(Found { evidence, zh, en })
}

// ---------------------------------------------------------------------------------------------
// no_comparison

fn no_comparison<'t>(r: &Read<'_, 't>) -> Option<Found<'t>> {
    let lex = r.lex;
    if !(r.report.is_followup && r.report.prior_available) {
        return None;
    }
    let denied = r.body().any(|c| lex.comparison_denials.contains(c.text));
    let compared = !denied
        && r.body().any(|c| lex.comparison.contains(c.text) || (lex.comparison_dated && text::has_date(c.text)));
    if compared {
        return None;
    }
    let evidence = r.impression.first().or(r.findings.first()).map(|c| c.text).into_iter().collect();
    Some(Found {
        evidence,
        zh: "复查且有前片可对比，报告未与前片对比".to_owned(),
        en: "A follow-up with the prior available, but the report never compares with it".to_owned(),
    })
}

// ---------------------------------------------------------------------------------------------
// empty_impression

/// What an impression says once numbering, punctuation and a leading 诊断意见 are taken away.
fn impression_core(lex: &Lexicon, impression: &str) -> String {
    let core: String = impression.chars().filter(|c| !lex.filler_chars.contains(c)).collect();
    match lex.headings.iter().find_map(|h| core.strip_prefix(h.as_str())) {
        Some(rest) => rest.to_owned(),
        None => core,
    }
}

fn impression_is_empty(lex: &Lexicon, impression: &str) -> bool {
    // A short heading with nothing after it (冠脉CTA：, 诊断意见：) says nothing.
    let trimmed = impression.trim();
    if let Some(head) = trimmed.strip_suffix('：').or_else(|| trimmed.strip_suffix(':')) {
        if char_len(head) <= lex.heading_max_chars && clauses(lex, head).len() == 1 {
            return true;
        }
    }
    let core = impression_core(lex, impression);
    core.is_empty()
        || lex.placeholders.contains(&core)
        || lex.placeholders.contains(&core.to_lowercase())
        || lex.placeholder_prefixes.iter().any(|p| core.starts_with(p.as_str()))
        || core.chars().all(|c| lex.placeholder_chars.contains(&c))
}

fn empty_impression<'t>(r: &Read<'_, 't>) -> Option<Found<'t>> {
    if !impression_is_empty(r.lex, &r.report.impression) {
        return None;
    }
    let trimmed = r.report.impression.trim();
    Some(Found {
        evidence: if trimmed.is_empty() { Vec::new() } else { vec![trimmed] },
        zh: if trimmed.is_empty() {
            "诊断意见为空".to_owned()
        } else {
            format!("诊断意见“{trimmed}”没有诊断")
        },
        en: if trimmed.is_empty() {
            "The impression is empty".to_owned()
        } else {
            format!("The impression \"{trimmed}\" states no diagnosis")
        },
    })
}

// ---------------------------------------------------------------------------------------------
// finding_not_in_impression

fn finding_not_in_impression<'t>(r: &Read<'_, 't>) -> Option<Found<'t>> {
    let lex = r.lex;
    if impression_is_empty(lex, &r.report.impression) {
        // An empty impression is its own check: every finding is missing from it.
        return None;
    }
    // The impression's clauses with the places they name.
    let impression: Vec<(&str, Vec<usize>)> = r
        .impression
        .iter()
        .map(|c| (c.text, lex.locations.find_iter(c.text).flat_map(|h| h.payload.iter().copied()).collect()))
        .collect();
    // Named: a clause names the concept (not denied), at the finding's place or at none.
    let named = |concept: usize, place: &[usize]| {
        let c = &lex.positives[concept];
        impression.iter().any(|(text, places)| {
            let here = place.is_empty()
                || (!c.at_place && (c.anywhere || places.is_empty()))
                || places.iter().any(|p| place.contains(p));
            here && c.names.find_iter(text).any(|h| !negated(lex, text, h.start, h.end))
        })
    };
    let mut evidence = Vec::new();
    let mut missing: Vec<usize> = Vec::new();
    for sentence in text::sentences(lex, &r.report.findings) {
        // A clause without a place is at the place its sentence named first, its subject
        // (胆总管直径约1.1cm，末端见结石嵌顿).
        let mut sentence_place: Vec<usize> = Vec::new();
        for c in clauses(lex, sentence.text) {
            // A place in brackets is an aside (输尿管下段（近膀胱入口处）).
            let asides = brackets(c.text);
            let places: Vec<(usize, &Vec<usize>)> = lex
                .locations
                .find_iter(c.text)
                .filter(|h| !asides.iter().any(|&(s, e)| s <= h.start && h.end <= e))
                .map(|h| (h.start, h.payload))
                .collect();
            for hit in lex.positive_terms.find_iter(c.text) {
                let Some(concept) = *hit.payload else { continue };
                if lex.positives[concept].lesion_only || negated(lex, c.text, hit.start, hit.end) {
                    continue;
                }
                // The place named last before the finding (or where it starts: 肺压缩) in its
                // clause, else the sentence's (a place after it is a neighbour: 肿块与肠系膜上
                // 静脉分界不清).
                let place: Vec<usize> = places
                    .iter()
                    .rfind(|(at, _)| *at <= hit.start)
                    .map_or_else(|| sentence_place.clone(), |(_, p)| p.to_vec());
                if (place.is_empty() && lex.positives[concept].at_place) || named(concept, &place) {
                    continue;
                }
                evidence.push(c.text);
                if !missing.contains(&concept) {
                    missing.push(concept);
                }
            }
            if let (true, Some((_, p))) = (sentence_place.is_empty(), places.first()) {
                sentence_place = p.to_vec();
            }
        }
    }
    if missing.is_empty() {
        return None;
    }
    let zh: Vec<&str> = missing.iter().map(|&i| lex.positives[i].zh.as_str()).collect();
    let en: Vec<&str> = missing.iter().map(|&i| lex.positives[i].concept.as_str()).collect();
    Some(Found {
        evidence,
        zh: format!("影像所见描述了{}，诊断意见未提及", zh.join("、")),
        en: format!("The findings describe {} that the impression never mentions", en.join(", ").replace('_', " ")),
    })
}
