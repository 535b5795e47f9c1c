//! Report text as the checks see it: clauses (verbatim slices), sides bound to the parts they
//! name, and negation within a clause.

use crate::lexicon::{Lexicon, Side};

/// A clause: a verbatim slice of one field, without its break and surrounding spaces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clause<'t> {
    pub text: &'t str,
}

/// The clauses of a text, in order, the empty ones left out.
pub(crate) fn clauses<'t>(lex: &Lexicon, text: &'t str) -> Vec<Clause<'t>> {
    split(&lex.breaks, text)
}

/// The sentences of a text (split at 。；), in order.
pub(crate) fn sentences<'t>(lex: &Lexicon, text: &'t str) -> Vec<Clause<'t>> {
    split(&lex.sentence_breaks, text)
}

fn split<'t>(breaks: &[String], text: &'t str) -> Vec<Clause<'t>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if let Some(b) = breaks.iter().find(|b| rest.starts_with(b.as_str())) {
            push(&mut out, &text[start..i]);
            i += b.len();
            start = i;
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    push(&mut out, &text[start..]);
    out
}

fn push<'t>(out: &mut Vec<Clause<'t>>, slice: &'t str) {
    let trimmed = slice.trim_matches(|c: char| c.is_whitespace() || c == '　');
    if !trimmed.is_empty() {
        out.push(Clause { text: trimmed });
    }
}

/// A side bound to a paired part: 右膝, 左侧第5、6肋骨, 双肺, 肝右叶.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SideMention {
    pub side: Side,
    /// Index in the lexicon's parts.
    pub part: usize,
    /// Byte range of the whole mention (side to part) in its clause.
    pub start: usize,
    pub end: usize,
}

/// The sides in a clause and the parts they name. A side that names no part (中线结构右移,
/// 凸向右侧) is a direction and left out.
pub(crate) fn side_mentions(lex: &Lexicon, clause: &str) -> Vec<SideMention> {
    let parts: Vec<_> = lex.part_terms.find_iter(clause).collect();
    let mut out = Vec::new();
    for side in lex.side_words.find_iter(clause) {
        // Skip the gap characters after the side, then a part must start.
        let mut at = side.end;
        let mut gap = 0;
        loop {
            if let Some(part) = parts.iter().find(|p| p.start == at) {
                out.push(SideMention { side: *side.payload, part: *part.payload, start: side.start, end: part.end });
                break;
            }
            match clause[at..].chars().next() {
                Some(c) if gap < lex.max_gap && lex.gap_chars.contains(&c) => {
                    at += c.len_utf8();
                    gap += 1;
                }
                _ => break,
            }
        }
    }
    for part in lex.part_after.find_iter(clause) {
        if let Some(side) = lex.side_words.find_iter(&clause[part.end..]).next().filter(|s| s.start == 0) {
            if *side.payload != Side::Both {
                out.push(SideMention {
                    side: *side.payload,
                    part: *part.payload,
                    start: part.start,
                    end: part.end + side.end,
                });
            }
        }
    }
    out.sort_by_key(|m| m.start);
    out
}

/// The side written just before `at` in the clause (左肾, 右侧乳腺, 双侧卵巢), if any.
pub(crate) fn side_before(lex: &Lexicon, clause: &str, at: usize) -> Option<Side> {
    let before = &clause[..at];
    // Allow 侧 and gap characters between side and term.
    for (seen, (i, c)) in before.char_indices().rev().enumerate() {
        if let Some(side) =
            lex.side_words.find_iter(&before[i..]).next().filter(|s| s.start == 0 && s.end == c.len_utf8())
        {
            return Some(*side.payload);
        }
        if seen >= 2 || !lex.gap_chars.contains(&c) {
            return None;
        }
    }
    None
}

/// Whether the term at `start..end` of the clause is denied: a cue before it in its clause
/// (未见骨折线, 无胸腔积液) with no scope break between, or right after it (积液不明显). Cues
/// that are no negation (不除外骨折, 骨折未见移位) are skipped.
pub(crate) fn negated(lex: &Lexicon, clause: &str, start: usize, end: usize) -> bool {
    let covered: Vec<(usize, usize)> = lex.not_negation.find_iter(clause).map(|h| (h.start, h.end)).collect();
    let free = |s: usize, e: usize| !covered.iter().any(|&(cs, ce)| cs <= s && e <= ce);
    let before = lex
        .negation_before
        .find_iter(&clause[..start])
        .filter(|h| free(h.start, h.end))
        .last()
        .is_some_and(|cue| !lex.scope_breaks.contains(&clause[cue.end..start]));
    if before {
        return true;
    }
    let after = &clause[end..];
    lex.negation_after
        .find_iter(after)
        .filter(|h| free(end + h.start, end + h.end))
        .any(|h| after[..h.start].chars().count() <= 6)
}

/// Whether the text holds a date (2025-05-20, 2024.11.3, 2024年11月): a comparison with that exam
/// in a follow-up.
pub(crate) fn has_date(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(6).any(|w| {
        w[..4].iter().all(char::is_ascii_digit)
            && matches!(w[0], '1' | '2')
            && matches!(w[4], '-' | '.' | '/' | '年')
            && w[5].is_ascii_digit()
    })
}

/// The characters of a slice.
pub(crate) fn char_len(text: &str) -> usize {
    text.chars().count()
}
