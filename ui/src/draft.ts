//! What a reviewer has ticked for one item, and how that becomes the engine's findings.
//!
//! The panel keeps one mark per criterion. For a severe criterion `checked` means "present";
//! for a compliance criterion it means "met", and starts checked: the standard's default is
//! "met", so a clean exam is saved without touching anything. No scoring happens here: the
//! shell's engine turns findings into a score.

import type { Criterion, RubricItem } from "./rubric";
import type { PanelItem, ExamStaff, ExamView, Findings } from "./wire";

export interface Mark {
  checked: boolean;
  notApplicable: boolean;
}

export interface ItemDraft {
  item: string;
  marks: Record<string, Mark>;
  note: string;
}

/** Display order, which is also the order digits 1-9 address: severe first, then compliance. */
export function orderedCriteria(item: RubricItem): Criterion[] {
  return [
    ...item.criteria.filter((c) => c.kind === "severe"),
    ...item.criteria.filter((c) => c.kind === "compliance"),
  ];
}

export function newDraft(item: RubricItem): ItemDraft {
  const marks: Record<string, Mark> = {};
  for (const c of item.criteria) {
    marks[c.code] = { checked: c.kind === "compliance", notApplicable: false };
  }
  return { item: item.code, marks, note: "" };
}

/**
 * The engine's input, in rubric order. A criterion marked not applicable goes only to
 * `not_applicable`, whatever its box says: the engine refuses a code that is both.
 */
export function toFindings(item: RubricItem, draft: ItemDraft): Findings {
  const findings: string[] = [];
  const notApplicable: string[] = [];
  for (const c of item.criteria) {
    const mark = draft.marks[c.code];
    if (!mark) continue;
    if (mark.notApplicable) notApplicable.push(c.code);
    else if (c.kind === "severe" ? mark.checked : !mark.checked) findings.push(c.code);
  }
  return { item: item.code, findings, not_applicable: notApplicable };
}

export function toEvaluation(item: RubricItem, draft: ItemDraft): PanelItem {
  return { ...toFindings(item, draft), note: draft.note.trim() };
}

/** The exam's staff member in the item's scored role, if the exam names one (none when blind). */
export function personScored(item: RubricItem, exam: ExamView): string | null {
  const role = item.scored_role as keyof ExamStaff;
  return exam.staff[role] ?? null;
}
