//! The gold standard's view logic that needs no DOM (7.3.1): a reader's task as the panel's
//! marks and exam, what 我的质控 says about a score the gold standard touched, and the
//! agreement figures as the 报表 screen prints them.
//!
//! Nothing here scores or counts: scores are the engine's (the shell's), agreement figures the
//! report's. The texts come from the i18n catalogues; these functions pick which one.

import type { ItemDraft } from "./draft";
import { newDraft } from "./draft";
import type {
  CriterionCode,
  ExamView,
  GoldExam,
  GoldReadRecord,
  GoldTaskView,
  Grade,
  KappaFigure,
  MyScore,
  Rubric,
  RubricItem,
  Verdict,
} from "./wire";

/** What a read says, whoever made it: the part a saved read and a blind read share. */
export interface ReadMarks {
  findings: CriterionCode[];
  not_applicable: CriterionCode[];
  note: string;
}

/** A score as a person reads it: 1-5, or pass/fail for the application form (AF). */
export interface ScoreMark {
  score: number | null;
  grade: Grade;
  pass: boolean;
}

/**
 * The panel's marks of a read already made: a severe criterion checked when found, a
 * compliance one checked when met (not in the findings), not-applicable ones marked.
 */
export function draftOfRead(item: RubricItem, read: ReadMarks): ItemDraft {
  const draft = newDraft(item);
  for (const c of item.criteria) {
    const mark = draft.marks[c.code]!;
    const found = read.findings.includes(c.code);
    mark.checked = c.kind === "severe" ? found : !found;
    mark.notApplicable = read.not_applicable.includes(c.code);
  }
  draft.note = read.note;
  return draft;
}

/** A saved read as the verdict its badge shows (the engine's score, kept with the read). */
export function verdictOfRead(read: GoldReadRecord): Verdict {
  return {
    item: read.item,
    score: read.score,
    grade: read.grade,
    pass: read.pass,
    severe: read.severe,
    unmet: read.unmet,
    not_applicable: read.not_applicable,
  };
}

/**
 * The case's exam in the shape the panel's exam line takes. Without staff when the region
 * hides the person scored (`staff: null`): the exam line then says so.
 */
export function examViewOf(exam: GoldExam): ExamView {
  return {
    site: exam.site,
    accession: exam.accession,
    modality: exam.modality,
    exam_item: exam.exam_item,
    department: exam.department,
    patient_source: exam.patient_source,
    follow_up: exam.follow_up,
    // The item's criteria are what the reader scores; these facts do not decide anything here.
    film_printed: null,
    reconstruction: null,
    staff: exam.staff ?? {},
    patient_hash: null,
    patient_sex: exam.patient_sex,
    patient_age: exam.patient_age,
    performed_at: exam.performed_at,
    evaluations: 0,
  };
}

/** Whether the region hides the person scored from this task's reader. */
export function namesHidden(task: GoldTaskView): boolean {
  return task.exam.staff === null || task.exam.staff === undefined;
}

/**
 * Whether the live score may come from `preview_score`: the shell's engine scores with the
 * app's current rubric, so only a task under that same version gets one. A task under another
 * version is scored by the shell on save, under its own version.
 */
export function livePreview(task: GoldTaskView, rubric: Rubric): boolean {
  return task.read === null && task.rubric_version === rubric.version;
}

/** One key per task (a reader can hold two tasks of one case only in theory; the key is exact). */
export function taskKey(task: Pick<GoldTaskView, "case_id" | "task">): string {
  return `${task.case_id}/${task.task}`;
}

/** Whether two results are the same score (or, for AF, the same verdict). */
export function sameResult(a: ScoreMark, b: ScoreMark): boolean {
  return a.score === null || b.score === null ? a.score === b.score && a.pass === b.pass : a.score === b.score;
}

/**
 * What the gold standard did to one of my scores, for its tag in 我的质控:
 * - `replaced`: a gold result replaced it (`changed` says whether the result differs);
 * - `gold`: it is a gold result itself;
 * - `disputed`: I disputed it and no gold result has come back yet (申诉中);
 * - none otherwise.
 */
export type GoldStatus =
  | { kind: "replaced"; from: ScoreMark; to: ScoreMark; changed: boolean; caseId: string }
  | { kind: "gold"; caseId: string }
  | { kind: "disputed"; reason: string; at: string }
  | null;

export function goldStatus(s: MyScore): GoldStatus {
  // Older shells (and plain evaluation lists) send no gold fields: treat them as none.
  const replaced = s.replaced_by_gold ?? null;
  if (replaced) {
    const to = { score: replaced.score, grade: replaced.grade, pass: replaced.pass };
    return { kind: "replaced", from: s, to, changed: !sameResult(s, to), caseId: replaced.case_id };
  }
  if (s.gold_case) return { kind: "gold", caseId: s.gold_case };
  if (s.dispute) return { kind: "disputed", reason: s.dispute.reason, at: s.dispute.at };
  return null;
}

/** Whether a dispute may still be made now (the shell sends the deadline only while it may). */
export function mayDispute(s: MyScore, now: Date = new Date()): boolean {
  if (!s.disputable_until || s.dispute) return false;
  const until = new Date(s.disputable_until);
  return Number.isNaN(until.getTime()) || now.getTime() <= until.getTime();
}

/** The longest reason the shell takes (`DisputeRecord.reason`: 1-2000 characters). */
export const DISPUTE_REASON_MAX = 2000;

/** The reason as it will be sent, or why it cannot be: empty, or too long. */
export function disputeReason(text: string): { ok: true; reason: string } | { ok: false; why: "empty" | "tooLong" } {
  const reason = text.trim();
  if (!reason) return { ok: false, why: "empty" };
  // Characters as the shell counts them (Unicode scalar values), not UTF-16 units.
  if ([...reason].length > DISPUTE_REASON_MAX) return { ok: false, why: "tooLong" };
  return { ok: true, reason };
}

/** A value with three decimals, as the exports print agreement figures, without a negative zero. */
export function decimals3(x: number): string {
  const s = x.toFixed(3);
  return /^-0\.0+$/.test(s) ? s.slice(1) : s;
}

/** The share of agreement as a percentage with one decimal (`agreed / cases`); "—" with no case. */
export function sharePercent(f: KappaFigure): string {
  if (f.share === null || f.share === undefined || Number.isNaN(f.share)) return "—";
  return (Math.round(f.share * 1000) / 10).toFixed(1);
}

/**
 * Kappa as printed: three decimals, or why it has no value. An undefined kappa (no variance,
 * or no case) is never shown as 1 or 0: `undefined` carries the reason's catalogue key.
 */
export function kappaShown(f: KappaFigure): { value: string } | { undefined: "no_cases" | "no_variance" } {
  if (f.kappa !== null && f.kappa !== undefined) return { value: decimals3(f.kappa) };
  return { undefined: f.kappa_undefined ?? (f.cases === 0 ? "no_cases" : "no_variance") };
}

/** A mean difference (original − gold) with its sign, three decimals; "—" with no case. */
export function signedDecimals3(x: number | null): string {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  const s = decimals3(x);
  return x > 0 && s !== "0.000" ? `+${s}` : s;
}

/** Which way a reviewer leans against the gold results: positive mean = too mild. */
export function lean(mean: number | null): "milder" | "harsher" | "even" | null {
  if (mean === null || mean === undefined || Number.isNaN(mean)) return null;
  if (decimals3(mean) === "0.000") return "even";
  return mean > 0 ? "milder" : "harsher";
}

/**
 * A `SITE/CODE` key as a person reads it: "吴强 (D9)" when it is a person of this site the
 * roster names, else the key as it is (a code of another site may name someone else here).
 */
export function siteStaffLabel(key: string, site: string | null | undefined, names: Record<string, string>): string {
  const slash = key.indexOf("/");
  if (slash < 0) return key;
  const [keySite, code] = [key.slice(0, slash), key.slice(slash + 1)];
  const name = site && keySite === site ? names[code] : undefined;
  return name ? `${name} (${code})` : key;
}

/** A reader pair's key (`SITE/A × SITE/B`) with each reader labelled as `siteStaffLabel` does. */
export function pairLabel(key: string, site: string | null | undefined, names: Record<string, string>): string {
  return key
    .split(" × ")
    .map((k) => siteStaffLabel(k.trim(), site, names))
    .join(" × ");
}
