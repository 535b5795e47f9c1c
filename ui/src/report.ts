//! The view logic of the 报表 screen that needs no DOM: rates as the standard prints them,
//! which drill-down a clicked number asks for, and the options of the figure 6 and 8 charts.
//!
//! The report's types are generated from the Rust report (`ui/src/wire.ts`); only the screen's
//! own shapes live here. The numbers are the shell's: nothing here counts or rounds evaluations.

import type { DeductionCount, Drill, Grade, IndicatorRow, Indicators, QualityRow, Rate, Report, ReportScope, ScoreCountRow, Workload } from "./wire";
import { GRADES } from "./wire";

export type {
  DeductionCount,
  Drill,
  EvaluationFact,
  IndicatorRow,
  Indicators,
  QualityRow,
  Rate,
  Report,
  ReportScope,
  ScoreCountRow,
  ScoreCounts,
  Workload,
} from "./wire";
export { GRADES, MODALITIES, QC_MODES } from "./wire";

/** Whose figures: the technologists' items (IQ, FL, TR) or the doctors' (RQ, AR). */
export type Group = "technologists" | "doctors";

/** The filter bar's state: every field a string, "" for "all". */
export interface ReportFilters {
  /** One month, or a range of months. */
  span: "month" | "range";
  from: string;
  to: string;
  role: string;
  modality: string;
  mode: string;
  person: string;
  department: string;
  rubricVersion: string;
}

/** The filters a reader can set besides the period, in the bar's order. */
export const FILTER_FIELDS = ["role", "modality", "mode", "person", "department", "rubricVersion"] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

/** The screen's start: this month, nothing filtered. */
export function defaultFilters(month: string = currentMonth()): ReportFilters {
  return { span: "month", from: month, to: month, role: "", modality: "", mode: "", person: "", department: "", rubricVersion: "" };
}

/**
 * A person as typed: a staff code, a roster name, or "王磊 (A1)" as the lists print it; the
 * staff code the shell filters by. Unknown text goes as it is (the shell checks it).
 */
export function personCode(text: string, names: Record<string, string>): string {
  const typed = text.trim();
  if (!typed || typed in names) return typed;
  const labelled = /\(([^()]+)\)$/.exec(typed);
  if (labelled) return labelled[1]!.trim();
  const byName = Object.entries(names).find(([, name]) => name === typed);
  return byName ? byName[0] : typed;
}

/** What the shell is asked for: the period, and only the filters set (trimmed). */
export function scopeOf(f: ReportFilters, names: Record<string, string> = {}): ReportScope {
  const to = f.span === "month" || !f.to ? f.from : f.to;
  const scope: ReportScope = { from: f.from, to };
  const set = (key: "role" | "modality" | "mode" | "person" | "department" | "rubric_version", value: string) => {
    const v = value.trim();
    if (v) scope[key] = v;
  };
  set("role", f.role);
  set("modality", f.modality);
  set("mode", f.mode);
  set("person", personCode(f.person, names));
  set("department", f.department);
  set("rubric_version", f.rubricVersion);
  return scope;
}

/** The filters in effect, for the chips above the figures (the period is always shown apart). */
export function activeFilters(f: ReportFilters): FilterField[] {
  return FILTER_FIELDS.filter((k) => f[k].trim() !== "");
}

/** The period as the headings print it: `2026-11`, or `2026-09 – 2026-11`. */
export function periodLabel(scope: ReportScope): string {
  return !scope.to || scope.to === scope.from ? (scope.from ?? "") : `${scope.from} – ${scope.to}`;
}

/** A breakdown of 5.1 shown on the screen: which rows, under which title key. */
export interface Breakdown {
  key: "byMonth" | "bySite" | "byDepartment" | "byModality" | "byPerson";
  rows: IndicatorRow[];
}

/**
 * The 5.1 breakdowns worth a table: by month when the period has several months, by site when
 * there are several, then by department, modality and reporting doctor.
 */
export function breakdowns(ind: Indicators, severalMonths: boolean): Breakdown[] {
  const list: Breakdown[] = [];
  if (severalMonths) list.push({ key: "byMonth", rows: ind.by_month ?? [] });
  if ((ind.by_site ?? []).length > 1) list.push({ key: "bySite", rows: ind.by_site ?? [] });
  list.push({ key: "byDepartment", rows: ind.by_department ?? [] });
  list.push({ key: "byModality", rows: ind.by_modality ?? [] });
  list.push({ key: "byPerson", rows: ind.by_person ?? [] });
  return list;
}

/** What a reader can pick from: the known values and those the report showed, sorted, once. */
export function choices(known: readonly string[], seen: (IndicatorRow[] | undefined)[]): string[] {
  const all = new Set(known);
  for (const rows of seen) for (const r of rows ?? []) if (r.key) all.add(r.key);
  return [...all].sort((a, b) => a.localeCompare(b, "zh-CN"));
}

/** A clicked number: the evaluations behind it, or (figure 5) the exams performed. */
export type DrillTarget =
  | { kind: "evaluations"; drill: Drill; expected: number }
  | { kind: "exams"; person?: string; modality?: string; expected: number };

/** Score columns of figure 2, in the standard's order. */
export const SCORES = [5, 4, 3, 2, 1] as const;

/** As the standard's tables print a rate: `94.7`, `6.2`, `100`, `0`; "—" when nothing was counted. */
export function formatRate(rate: Rate | null): string {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return "—";
  // The shell sends tenths exactly (e.g. 6.2); one decimal at most, none for whole numbers.
  const tenths = Math.round(rate * 10);
  return tenths % 10 === 0 ? String(tenths / 10) : (tenths / 10).toFixed(1);
}

/** The current calendar month, `YYYY-MM`, in the workstation's time zone: the screen's default. */
export function currentMonth(now: Date = new Date()): string {
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
}

/** A figure-2 cell (`person` set) or a totals cell (`person` undefined). */
export function scoreCellTarget(group: Group, person: string | undefined, modality: string, slot: number, count: number): DrillTarget {
  const drill: Drill = { group, modality, score: SCORES[slot] };
  if (person !== undefined) drill.person = person;
  return { kind: "evaluations", drill, expected: count };
}

/** How many evaluations have a deduction: the total when the report lists only some. */
export function deductionDetailsCount(r: Report): number {
  return r.deduction_details_total;
}

/** Figure 3: every evaluation with a deduction. */
export function deductionDetailsTarget(count: number): DrillTarget {
  return { kind: "evaluations", drill: { deducted_only: true }, expected: count };
}

/** A figure-4 count. */
export function deductionTarget(d: DeductionCount): DrillTarget {
  const drill: Drill = { criterion: d.criterion };
  if (d.rubric_version) drill.rubric_version = d.rubric_version;
  return { kind: "evaluations", drill, expected: d.count };
}

/** A figure-7 (or 6.5) number: the evaluations count (no grade) or one grade's rate. */
export function qualityTarget(group: Group, row: QualityRow, grade?: Grade): DrillTarget {
  if (!grade) return { kind: "evaluations", drill: { group, person: row.person }, expected: row.evaluations };
  return {
    kind: "evaluations",
    drill: { group, person: row.person, grade },
    expected: row.counts[GRADES.indexOf(grade)] ?? 0,
  };
}

/** A figure-5 cell: a person's exams of a modality, a person's total, a modality's total. */
export function workloadTarget(person: string | undefined, modality: string | undefined, count: number): DrillTarget {
  const target: DrillTarget = { kind: "exams", expected: count };
  if (person !== undefined) target.person = person;
  if (modality !== undefined) target.modality = modality;
  return target;
}

/** Figure 2's red cells: a failing score (2 or 1) in that modality. */
export function isFlagged(row: ScoreCountRow, modality: string, slot: number): boolean {
  return slot >= 3 && row.flagged.includes(modality) && (row.cells[modality]?.[slot] ?? 0) > 0;
}

/** The figures' labels, in the UI's language, for the chart builders (which know no i18n). */
export interface ChartLabels {
  person: (code: string) => string;
  /** Figure 8's series names, in `GRADES` order. */
  grades: string[];
  exams: string;
  percent: string;
}

/** A bar chart option, only the parts of ECharts' option this screen uses. */
export interface BarChartOption {
  animation: boolean;
  color?: string[];
  tooltip: { trigger: "axis"; axisPointer: { type: "shadow" } };
  legend: { top: number; data: string[] };
  grid: { left: number; right: number; top: number; bottom: number; containLabel: boolean };
  xAxis: { type: "category"; data: string[]; axisLabel?: { interval: number } };
  yAxis: { type: "value"; name: string; max?: number; minInterval?: number };
  series: { name: string; type: "bar"; stack?: string; barMaxWidth: number; data: number[] }[];
}

const GRID = { left: 8, right: 16, top: 40, bottom: 8, containLabel: true };

/**
 * Figure 6 (技师工作量图表展现): exams per technologist, stacked by modality, in figure 5's
 * order (most work first).
 */
export function workloadChart(w: Workload, labels: ChartLabels): BarChartOption {
  return {
    animation: false,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0, data: [...w.modalities] },
    grid: GRID,
    xAxis: { type: "category", data: w.rows.map((r) => labels.person(r.person)), axisLabel: { interval: 0 } },
    yAxis: { type: "value", name: labels.exams, minInterval: 1 },
    series: w.modalities.map((m) => ({
      name: m,
      type: "bar",
      stack: "workload",
      barMaxWidth: 48,
      data: w.rows.map((r) => r.by_modality[m] ?? 0),
    })),
  };
}

/**
 * Figure 8 (技师质量图表展现) and its 6.5 twin: each person's shares of the four grades,
 * stacked to 100 %, in figure 7's order. Green to red, so failing shares stand out.
 */
export function qualityChart(rows: QualityRow[], labels: ChartLabels): BarChartOption {
  return {
    animation: false,
    color: ["#2e7d32", "#7cb342", "#f9a825", "#c62828"],
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0, data: [...labels.grades] },
    grid: GRID,
    xAxis: { type: "category", data: rows.map((r) => labels.person(r.person)), axisLabel: { interval: 0 } },
    yAxis: { type: "value", name: labels.percent, max: 100 },
    series: GRADES.map((k, i) => ({
      name: labels.grades[i] ?? k,
      type: "bar",
      stack: "grades",
      barMaxWidth: 48,
      data: rows.map((r) => r[k]),
    })),
  };
}
