//! The report checks' view logic (报告预检): the report's text cut into plain and marked pieces
//! by a proposal's evidence (quoted verbatim from the report), a proposal's message in the UI's
//! language, and which criterion a proposal ticks in an item being scored. The checks
//! themselves run in the shell (radqc-precheck); nothing here decides what is wrong.

import type { Rubric } from "./rubric";
import type { StoredProposal } from "./wire";

/** A piece of the report's text: marked when it is one of the evidence strings. */
export interface Piece {
  text: string;
  mark: boolean;
}

/**
 * Cuts `text` at every occurrence of the evidence strings, leftmost first and the longest at a
 * place (so 右膝关节 wins over 右膝 where both match); empty evidence is ignored.
 */
export function highlight(text: string, evidence: readonly string[]): Piece[] {
  const words = [...new Set(evidence.filter((e) => e.length > 0))].sort((a, b) => b.length - a.length);
  const pieces: Piece[] = [];
  let plain = "";
  let i = 0;
  while (i < text.length) {
    const word = words.find((w) => text.startsWith(w, i));
    if (word) {
      if (plain) pieces.push({ text: plain, mark: false });
      plain = "";
      pieces.push({ text: word, mark: true });
      i += word.length;
    } else {
      plain += text[i];
      i += 1;
    }
  }
  if (plain) pieces.push({ text: plain, mark: false });
  return pieces;
}

/** Every evidence string of these proposals. */
export function evidenceOf(proposals: readonly StoredProposal[]): string[] {
  return proposals.flatMap((p) => p.evidence);
}

/** A proposal's message in the UI's language. */
export function messageOf(p: StoredProposal, locale: string): string {
  return locale.startsWith("zh") ? p.message_zh : p.message_en;
}

/** The criterion a proposal ticks in `item`: its own (RQ) or its twin (AR), when the item has it. */
export function criterionIn(p: StoredProposal, item: string, rubric: Rubric): string | null {
  const criteria = rubric.items.find((i) => i.code === item)?.criteria ?? [];
  return [p.criterion, p.twin].find((c) => criteria.some((k) => k.code === c)) ?? null;
}
