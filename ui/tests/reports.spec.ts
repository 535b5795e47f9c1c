//! The 报表 screen: rates as the standard prints them, which drill-down each clicked number asks
//! the shell for, the chart options of figures 6 and 8, the filter bar's scope, and the screen
//! against the mocked shell (who sees it, the filters it sends, the tables and 5.1 breakdowns,
//! the drawer listing what the shell answered within the same scope).

import { afterEach, describe, expect, it, vi } from "vitest";
import { flushPromises, type VueWrapper } from "@vue/test-utils";
import { clearMocks } from "@tauri-apps/api/mocks";
import {
  activeFilters,
  breakdowns,
  currentMonth,
  defaultFilters,
  personCode,
  scopeOf,
  deductionDetailsCount,
  deductionDetailsTarget,
  deductionTarget,
  formatRate,
  isFlagged,
  qualityChart,
  qualityTarget,
  scoreCellTarget,
  workloadChart,
  workloadTarget,
  type ChartLabels,
  type EvaluationFact,
  type Report,
  type ReportScope,
} from "../src/report";
import { argsOf, staff } from "./support/shell";
import { byId, mountApp } from "./support/app";

// jsdom has no canvas, which ECharts measures text with; the chart's options are tested as data
// above, and the real window test checks the drawn SVG.
vi.mock("../src/components/reports/ReportChart.vue", async () => {
  const { defineComponent, h } = await import("vue");
  return {
    default: defineComponent({
      props: { option: Object, testid: String, label: String },
      setup: (props) => () => h("div", { "data-testid": props.testid, "data-series": JSON.stringify(props.option?.series?.length ?? 0) }),
    }),
  };
});

const Q1 = staff.find((s) => s.code === "Q1")!;
const thisMonth: ReportScope = { from: currentMonth(), to: currentMonth() };
const A1 = staff.find((s) => s.code === "A1")!;

let wrapper: VueWrapper | undefined;
afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  clearMocks();
});

function fact(over: Partial<EvaluationFact> = {}): EvaluationFact {
  return {
    id: "ev-1",
    site: "DEMO-RAD",
    department: "放射科",
    accession: "CT20261102001",
    modality: "CT",
    exam_item: "CT胸部平扫",
    reporting_doctor: "D1",
    general_data_complete: true,
    item: "IQ",
    scored_person: "A1",
    reviewer: "Q1",
    mode: "random",
    rubric_version: "2026.1",
    at: "2026-11-02T10:00:00Z",
    score: 2,
    grade: "fail",
    severe: [],
    unmet: ["IQ-C1", "IQ-C2", "IQ-C3"],
    note: "体位不正",
    ...over,
  };
}

/** A small month: A1 with a failing CT score, D1 with one excellent report, nothing sampled. */
function report(over: Partial<Report> = {}): Report {
  return {
    period: "2026-11",
    filter: {},
    indicators: { sampled: 0, qualified: 0, rate: null, by_month: [], by_site: [], by_department: [], by_modality: [], by_person: [] },
    scores_technologists: {
      modalities: ["CT", "DR"],
      rows: [
        { site: "DEMO-RAD", person: "A1", cells: { CT: [1, 0, 0, 2, 0] }, flagged: ["CT"] },
        { site: "DEMO-RAD", person: "A2", cells: { DR: [3, 1, 0, 0, 0] }, flagged: [] },
      ],
      totals: { CT: [1, 0, 0, 2, 0], DR: [3, 1, 0, 0, 0] },
    },
    scores_doctors: { modalities: ["MR"], rows: [{ site: "DEMO-RAD", person: "D1", cells: { MR: [1, 0, 0, 0, 0] }, flagged: [] }], totals: { MR: [1, 0, 0, 0, 0] } },
    deduction_details: [fact(), fact({ accession: "CT20261102002" })],
    deduction_details_total: 2,
    deductions: [{ kind: "compliance", criterion: "IQ-C2", rubric_version: "2026.1", count: 2 }],
    workload: {
      modalities: ["CT", "DR"],
      rows: [
        { site: "DEMO-RAD", person: "A2", total: 5, by_modality: { CT: 2, DR: 3 } },
        { site: "DEMO-RAD", person: "A1", total: 3, by_modality: { CT: 3 } },
      ],
      totals: { CT: 5, DR: 3 },
      total: 8,
    },
    quality_technologists: [
      { site: "DEMO-RAD", person: "A2", evaluations: 4, counts: [3, 1, 0, 0], excellent: 75, good: 25, pass: 0, fail: 0 },
      { site: "DEMO-RAD", person: "A1", evaluations: 3, counts: [1, 0, 0, 2], excellent: 33.3, good: 0, pass: 0, fail: 66.7 },
    ],
    quality_doctors: [{ site: "DEMO-RAD", person: "D1", evaluations: 1, counts: [1, 0, 0, 0], excellent: 100, good: 0, pass: 0, fail: 0 }],
    ...over,
  };
}

/** Opens 报表 and waits for its lazily loaded screen and the shell's answer. */
async function openReports(w: VueWrapper) {
  await byId(w, "nav-reports").trigger("click");
  await vi.waitFor(() => expect(w.find('[data-testid="reports"]').exists()).toBe(true), { timeout: 5000 });
  await flushPromises();
}

const labels: ChartLabels = {
  person: (code) => ({ A1: "王磊", A2: "李娜" })[code] ?? code,
  grades: ["优秀", "良好", "合格", "不合格"],
  exams: "检查数",
  percent: "%",
};

describe("rates", () => {
  it.each([
    [94.7, "94.7"],
    [6.2, "6.2"],
    [100, "100"],
    [0, "0"],
    [87.5, "87.5"],
    [33.3, "33.3"],
    [null, "—"],
  ])("%s is shown as %s", (rate, shown) => {
    expect(formatRate(rate)).toBe(shown);
  });

  it("defaults to the workstation's current month", () => {
    expect(currentMonth(new Date(2026, 0, 5, 12))).toBe("2026-01");
    expect(currentMonth(new Date(2026, 10, 30, 23, 59))).toBe("2026-11");
  });
});

describe("drill mapping", () => {
  it("a figure-2 cell asks for its group, person, modality and score; the totals row has no person", () => {
    expect(scoreCellTarget("technologists", "A1", "CT", 3, 2)).toEqual({
      kind: "evaluations",
      drill: { group: "technologists", person: "A1", modality: "CT", score: 2 },
      expected: 2,
    });
    expect(scoreCellTarget("doctors", undefined, "MR", 0, 7)).toEqual({
      kind: "evaluations",
      drill: { group: "doctors", modality: "MR", score: 5 },
      expected: 7,
    });
  });

  it("figure 3 counts the total when the report lists only some", () => {
    expect(deductionDetailsCount(report())).toBe(2);
    expect(deductionDetailsCount(report({ deduction_details_total: 59 }))).toBe(59);
  });

  it("figure 3 asks for every deducted evaluation, figure 4 for one criterion", () => {
    expect(deductionDetailsTarget(59)).toEqual({ kind: "evaluations", drill: { deducted_only: true }, expected: 59 });
    expect(deductionTarget({ kind: "severe", criterion: "IQ-S2", rubric_version: "2026.1", count: 5 })).toEqual({
      kind: "evaluations",
      drill: { criterion: "IQ-S2", rubric_version: "2026.1" },
      expected: 5,
    });
    // A row is one rubric version's count: the drill asks for that version.
    expect(deductionTarget({ kind: "compliance", criterion: "IQ-C2", rubric_version: "2026.1", count: 3 })).toEqual({
      kind: "evaluations",
      drill: { criterion: "IQ-C2", rubric_version: "2026.1" },
      expected: 3,
    });
  });

  it("a figure-7 count asks for the person's evaluations; a rate for those of its grade", () => {
    const row = report().quality_technologists[1]!;
    expect(qualityTarget("technologists", row)).toEqual({
      kind: "evaluations",
      drill: { group: "technologists", person: "A1" },
      expected: 3,
    });
    expect(qualityTarget("technologists", row, "fail")).toEqual({
      kind: "evaluations",
      drill: { group: "technologists", person: "A1", grade: "fail" },
      expected: 2,
    });
  });

  it("a figure-5 number asks for exams, not evaluations", () => {
    expect(workloadTarget("A2", "DR", 3)).toEqual({ kind: "exams", person: "A2", modality: "DR", expected: 3 });
    expect(workloadTarget("A2", undefined, 5)).toEqual({ kind: "exams", person: "A2", expected: 5 });
  });

  it("only failing counts of a flagged modality are red", () => {
    const a1 = report().scores_technologists.rows[0]!;
    expect(isFlagged(a1, "CT", 3)).toBe(true);
    expect(isFlagged(a1, "CT", 4)).toBe(false); // no 1-score
    expect(isFlagged(a1, "CT", 0)).toBe(false);
    expect(isFlagged(a1, "DR", 3)).toBe(false);
  });
});

describe("chart options", () => {
  it("figure 6 stacks each technologist's exams by modality, in figure 5's order", () => {
    const o = workloadChart(report().workload, labels);
    expect(o.xAxis.data).toEqual(["李娜", "王磊"]);
    expect(o.series.map((s) => [s.name, s.stack, s.data])).toEqual([
      ["CT", "workload", [2, 3]],
      ["DR", "workload", [3, 0]],
    ]);
    expect(o.legend.data).toEqual(["CT", "DR"]);
    expect(o.animation).toBe(false); // screenshots show the final bars
  });

  it("figure 8 stacks the four grade rates per person, failing in red", () => {
    const o = qualityChart(report().quality_technologists, labels);
    expect(o.series.map((s) => s.name)).toEqual(["优秀", "良好", "合格", "不合格"]);
    expect(o.series[3]!.data).toEqual([0, 66.7]);
    expect(o.color?.[3]).toBe("#c62828");
    expect(o.yAxis.max).toBe(100);
  });
});

describe("报表 screen", () => {
  it("is in the header only for roles that see the site's scores", async () => {
    ({ w: wrapper } = await mountApp(A1));
    expect(wrapper.find('[data-testid="nav-reports"]').exists()).toBe(false);
    wrapper.unmount();
    ({ w: wrapper } = await mountApp(Q1, { report_view: () => report() }));
    expect(wrapper.find('[data-testid="nav-reports"]').exists()).toBe(true);
  });

  it("shows the month's figures and lists the evaluations behind a clicked count", async () => {
    const behind = [fact(), fact({ accession: "CT20261102002", score: 2 })];
    const { w, calls } = await mountApp(Q1, { report_view: () => report(), report_evaluations: () => behind });
    wrapper = w;
    await openReports(w);
    expect(argsOf(calls, "report_view")).toEqual([{ scope: thisMonth }]);
    expect(byId(w, "indicator-rate").text()).toBe("—"); // nothing sampled: no 0 %, no 100 %
    expect(w.findAll('[data-testid="fig2-technologists-row"]')).toHaveLength(2);
    const red = w.findAll(".report-table__cell--flagged");
    expect(red).toHaveLength(1);
    expect(red[0]!.text()).toBe("2");
    expect(w.findAll('[data-testid="fig4-row"]')).toHaveLength(1);
    expect(w.findAll('[data-testid="fig7-rate"]').map((b) => b.text())).toEqual(["75", "25", "33.3", "66.7"]);

    await red[0]!.get("button").trigger("click");
    await flushPromises();
    expect(argsOf(calls, "report_evaluations")).toEqual([
      { scope: thisMonth, drill: { group: "technologists", person: "A1", modality: "CT", score: 2 } },
    ]);
    const rows = document.querySelectorAll('[data-testid="report-drill-row"]');
    expect(rows).toHaveLength(2);
    expect(rows[0]!.textContent).toContain("CT20261102001");
    expect(rows[0]!.textContent).toContain("王磊 (A1)");
    expect(document.querySelector('[data-testid="report-drill-count"]')!.textContent).toContain("2");
  });

  it("a workload number lists exams from report_workload_exams", async () => {
    const { w, calls } = await mountApp(Q1, { report_view: () => report(), report_workload_exams: () => [] });
    wrapper = w;
    await openReports(w);
    await w.findAll('[data-testid="fig5-cell"]')[1]!.trigger("click");
    await flushPromises();
    expect(argsOf(calls, "report_workload_exams")).toEqual([{ scope: thisMonth, person: "A2", modality: "DR" }]);
  });

  it("shows the shell's error envelope in the user's language", async () => {
    const refused = { code: "NOT_PERMITTED", message_zh: "只有质控员和科主任可以查看科室报表", message_en: "only QC officers" };
    const { w } = await mountApp(Q1, {
      report_view: () => {
        throw refused;
      },
    });
    wrapper = w;
    await openReports(w);
    expect(byId(w, "reports-error").text()).toContain("只有质控员和科主任可以查看科室报表");
    expect(byId(w, "reports-error").text()).toContain("NOT_PERMITTED");
  });
});

describe("filter scope", () => {
  const names = { A1: "王磊", D1: "赵敏" };

  it("starts on this month with nothing filtered", () => {
    const f = defaultFilters("2026-11");
    expect(scopeOf(f)).toEqual({ from: "2026-11", to: "2026-11" });
    expect(activeFilters(f)).toEqual([]);
  });

  it("one month asks from = to; a range asks both ends", () => {
    const f = { ...defaultFilters("2026-11"), to: "2026-12" };
    expect(scopeOf(f)).toEqual({ from: "2026-11", to: "2026-11" }); // a stale end of a range is not sent
    expect(scopeOf({ ...f, span: "range" })).toEqual({ from: "2026-11", to: "2026-12" });
  });

  it("sends only the filters set, trimmed, under the shell's names", () => {
    const f = {
      ...defaultFilters("2026-11"),
      role: "technologist",
      modality: "CT",
      mode: "random",
      person: " A1 ",
      department: " 放射科 ",
      rubricVersion: "2026.1",
    };
    expect(scopeOf(f, names)).toEqual({
      from: "2026-11",
      to: "2026-11",
      role: "technologist",
      modality: "CT",
      mode: "random",
      person: "A1",
      department: "放射科",
      rubric_version: "2026.1",
    });
    expect(activeFilters(f)).toEqual(["role", "modality", "mode", "person", "department", "rubricVersion"]);
    expect(scopeOf({ ...defaultFilters("2026-11"), department: "   " })).toEqual({ from: "2026-11", to: "2026-11" });
  });

  it.each([
    ["A1", "A1"],
    ["王磊", "A1"],
    ["王磊 (A1)", "A1"],
    ["D7", "D7"], // not on the roster: the shell decides
    ["  ", ""],
  ])("a person typed as %j is staff code %j", (typed, code) => {
    expect(personCode(typed, names)).toBe(code);
  });

  it("breaks 5.1 down by month only for several months, by site only for several sites", () => {
    const row = (key: string) => ({ key, sampled: 1, qualified: 1, rate: 100 });
    const ind = {
      sampled: 2,
      qualified: 2,
      rate: 100,
      by_month: [row("2026-10"), row("2026-11")],
      by_site: [row("DEMO-RAD")],
      by_department: [row("放射科")],
      by_modality: [row("CT"), row("MR")],
      by_person: [row("D1")],
    };
    expect(breakdowns(ind, false).map((b) => b.key)).toEqual(["byDepartment", "byModality", "byPerson"]);
    expect(breakdowns(ind, true).map((b) => b.key)).toEqual(["byMonth", "byDepartment", "byModality", "byPerson"]);
    expect(breakdowns({ ...ind, by_site: [row("A"), row("B")] }, false).map((b) => b.key)).toContain("bySite");
  });
});

describe("报表 filters", () => {
  /** Sets a native select of the filter bar and lets the reload answer. */
  async function choose(w: VueWrapper, testid: string, value: string) {
    await byId(w, testid).setValue(value);
    await flushPromises();
  }

  async function type(w: VueWrapper, testid: string, value: string) {
    const input = byId(w, testid);
    await input.setValue(value);
    await input.trigger("change");
    await flushPromises();
  }

  it("asks once on open, then once per change, with every filter set; reset asks for the month again", async () => {
    const { w, calls } = await mountApp(Q1, { report_view: () => report() });
    wrapper = w;
    await openReports(w);
    expect(argsOf(calls, "report_view")).toEqual([{ scope: thisMonth }]);
    expect(calls.filter((c) => c.cmd.startsWith("report") && c.cmd !== "report_view")).toEqual([]); // no other round trip
    expect(w.find('[data-testid="report-active-none"]').exists()).toBe(true);

    await choose(w, "report-filter-modality", "CT");
    await choose(w, "report-filter-role", "technologist");
    await choose(w, "report-filter-mode", "centralized");
    await type(w, "report-filter-person", "王磊");
    await type(w, "report-filter-department", "放射科");
    await byId(w, "report-filter-more").trigger("click");
    await type(w, "report-filter-version", "2026.1");
    const asked = argsOf<{ scope: ReportScope }>(calls, "report_view").map((a) => a.scope);
    expect(asked).toHaveLength(7);
    expect(asked[1]).toEqual({ ...thisMonth, modality: "CT" });
    expect(asked[6]).toEqual({
      ...thisMonth,
      modality: "CT",
      role: "technologist",
      mode: "centralized",
      person: "A1",
      department: "放射科",
      rubric_version: "2026.1",
    });
    // The screen says what is filtered, in words.
    expect(byId(w, "report-active-modality").text()).toContain("设备类型：CT");
    expect(byId(w, "report-active-role").text()).toContain("被评角色：技师");
    expect(byId(w, "report-active-mode").text()).toContain("集中质控");
    expect(byId(w, "report-active-person").text()).toContain("王磊 (A1)");
    expect(byId(w, "report-active-period").text()).toBe(currentMonth());
    expect(w.find('[data-testid="indicator-note"]').exists()).toBe(true); // role, mode and person do not narrow 5.1 as they do the figures

    // A typed value that did not change asks nothing.
    await type(w, "report-filter-department", "放射科");
    expect(argsOf(calls, "report_view")).toHaveLength(7);

    await byId(w, "report-filter-reset").trigger("click");
    await flushPromises();
    expect(argsOf<{ scope: ReportScope }>(calls, "report_view").at(-1)).toEqual({ scope: thisMonth });
    expect(w.find('[data-testid="report-active-none"]').exists()).toBe(true);
    expect((byId(w, "report-filter-modality").element as HTMLSelectElement).value).toBe("");
  });

  it("a chip's close removes that filter alone", async () => {
    const { w, calls } = await mountApp(Q1, { report_view: () => report() });
    wrapper = w;
    await openReports(w);
    await choose(w, "report-filter-modality", "MR");
    await choose(w, "report-filter-role", "reporting_doctor");
    await byId(w, "report-active-modality").get(".el-tag__close").trigger("click");
    await flushPromises();
    expect(argsOf<{ scope: ReportScope }>(calls, "report_view").at(-1)).toEqual({
      scope: { ...thisMonth, role: "reporting_doctor" },
    });
  });

  it("a clicked number drills down within the report's filters", async () => {
    const { w, calls } = await mountApp(Q1, { report_view: () => report(), report_evaluations: () => [fact()] });
    wrapper = w;
    await openReports(w);
    await choose(w, "report-filter-modality", "CT");
    await w.get('[data-testid="fig2-technologists"] .report-table__cell--flagged button').trigger("click");
    await flushPromises();
    expect(argsOf(calls, "report_evaluations")).toEqual([
      { scope: { ...thisMonth, modality: "CT" }, drill: { group: "technologists", person: "A1", modality: "CT", score: 2 } },
    ]);
  });

  it("offers the roles the rubric scores and the modalities the site has", async () => {
    const { w } = await mountApp(Q1, {
      report_view: () => report({ workload: { ...report().workload, modalities: ["CT", "DR", "MG"] } }),
    });
    wrapper = w;
    await openReports(w);
    const options = (id: string) => byId(w, id).findAll("option").map((o) => o.attributes("value"));
    expect(options("report-filter-role")).toEqual(["", "ordering_clinician", "technologist", "reporting_doctor", "auditing_doctor"]);
    expect(options("report-filter-modality")).toEqual(["", "CT", "DR", "MG", "MR"]);
    expect(options("report-filter-mode")).toEqual(["", "random", "active", "centralized", "gold"]);
  });

  it("a person is picked from the roster by name or code, or typed", async () => {
    const { w, calls } = await mountApp(Q1, { report_view: () => report() });
    wrapper = w;
    await openReports(w);
    const suggestions = () => [...document.querySelectorAll(".el-autocomplete-suggestion li")].map((li) => li.textContent!.trim());
    const person = byId(w, "report-filter-person");
    await person.trigger("focus");
    await vi.waitFor(() => expect(suggestions()).toEqual(["王磊 (A1)", "赵敏 (D1)", "吴强 (D9)", "郑丽 (Q1)"]), { timeout: 2000 });
    await person.setValue("赵");
    await vi.waitFor(() => expect(suggestions()).toEqual(["赵敏 (D1)"]), { timeout: 2000 });
    (document.querySelector(".el-autocomplete-suggestion li") as HTMLElement).click();
    await flushPromises();
    await vi.waitFor(() => expect(argsOf<{ scope: ReportScope }>(calls, "report_view").at(-1)).toEqual({ scope: { ...thisMonth, person: "D1" } }));
    expect(byId(w, "report-active-person").text()).toContain("赵敏 (D1)");
  });

  it("shows 5.1's breakdowns; by month only for several months; a rate is — when nothing counted", async () => {
    const row = (key: string, sampled: number, qualified: number, rate: number | null, site?: string) => ({
      key,
      sampled,
      qualified,
      rate,
      ...(site ? { site } : {}),
    });
    const indicators = {
      sampled: 5,
      qualified: 4,
      rate: 80,
      by_month: [row("2026-10", 2, 2, 100), row("2026-11", 3, 2, 66.7)],
      by_site: [row("DEMO-RAD", 5, 4, 80)],
      by_department: [row("放射科", 4, 4, 100, "DEMO-RAD"), row("", 1, 0, 0, "DEMO-RAD")],
      by_modality: [row("CT", 3, 2, 66.7), row("MR", 2, 2, 100)],
      by_person: [row("D1", 5, 4, 80, "DEMO-RAD"), row("D7", 0, 0, null, "DEMO-RAD")],
    };
    // One month has one row by month; the range (set below) two.
    const answer = (a: Record<string, unknown>) => {
      const { from, to } = a.scope as ReportScope;
      return report({ indicators: from === to ? { ...indicators, by_month: indicators.by_month.slice(1) } : indicators });
    };
    const { w } = await mountApp(Q1, { report_view: answer });
    wrapper = w;
    await openReports(w);
    expect(byId(w, "indicator-rate").text()).toBe("80");
    expect(w.find('[data-testid="breakdown-byMonth"]').exists()).toBe(false); // one month
    const cells = (key: string) =>
      w.findAll(`[data-testid="breakdown-${key}-row"]`).map((r) => r.findAll("td").map((td) => td.text()));
    expect(cells("byDepartment")).toEqual([
      ["放射科", "4", "4", "100"],
      ["（未填写）", "1", "0", "0"],
    ]);
    expect(cells("byModality")).toEqual([
      ["CT", "3", "2", "66.7"],
      ["MR", "2", "2", "100"],
    ]);
    expect(cells("byPerson")).toEqual([
      ["赵敏 (D1)", "5", "4", "80"],
      ["D7", "0", "0", "—"],
    ]);
    expect(byId(w, "breakdown-byPerson").find("h4").text()).toBe("按报告医生");

    // Hidden and shown again by the toggle.
    await byId(w, "breakdowns-toggle").trigger("click");
    expect(w.find('[data-testid="report-breakdowns"]').exists()).toBe(false);
    await byId(w, "breakdowns-toggle").trigger("click");
    expect(w.find('[data-testid="report-breakdowns"]').exists()).toBe(true);

    // A range of months adds the table by month (the end picker has a month of its own).
    await byId(w, "report-filter-span").setValue("range");
    await flushPromises();
    const pickers = w.getComponent({ name: "ReportFilterBar" }).findAllComponents({ name: "ElDatePicker" });
    expect(pickers).toHaveLength(2);
    pickers[1]!.vm.$emit("update:modelValue", "2099-12");
    await flushPromises();
    expect(cells("byMonth")).toEqual([
      ["2026-10", "2", "2", "100"],
      ["2026-11", "3", "2", "66.7"],
    ]);
  });
});

describe("读片一致性 (the gold standard's reader agreement)", () => {
  const agreement: NonNullable<Report["agreement"]> = {
    period: "2026-11",
    cases: 1,
    by_item: [{ key: "IQ", scores: { cases: 1, agreed: 1, share: 1, kappa: null, kappa_undefined: "no_variance" }, verdicts: null }],
    by_modality: [
      { key: "CT", scores: { cases: 4, agreed: 3, share: 0.75, kappa: 0.6154, kappa_undefined: null }, verdicts: { cases: 2, agreed: 2, share: 1, kappa: 1, kappa_undefined: null } },
    ],
    by_pair: [{ key: "CLINIC-07/R1 × DEMO-RAD/D9", scores: { cases: 1, agreed: 1, share: 1, kappa: null, kappa_undefined: "no_variance" }, verdicts: null }],
    reviewers: [{ reviewer: "DEMO-RAD/Q1", cases: 1, mean_difference: -2, harsher: 1, milder: 0, verdict_cases: 0 }],
  };

  it("has no tab without the section", async () => {
    const { w } = await mountApp(Q1, { report_view: () => report() });
    wrapper = w;
    await openReports(w);
    expect(w.find("#tab-agreement").exists()).toBe(false);
  });

  it("shows each figure with its cases, an undefined kappa as undefined (never 1 or 0), and the reviewers' bias", async () => {
    const { w } = await mountApp(Q1, { report_view: () => report({ agreement }) });
    wrapper = w;
    await openReports(w);
    expect(w.find("#tab-agreement").text()).toBe("读片一致性");
    expect(byId(w, "agreement-summary").text()).toContain("已终判的金标准病例 1 例");
    const item = byId(w, "agreement-byItem-row");
    expect(item.text()).toContain("IQ 图像质量分析");
    expect(item.get('[data-testid="agreement-scores-cases"]').text()).toBe("1");
    const undefinedKappa = item.get('[data-testid="agreement-scores-kappa"]');
    expect(undefinedKappa.text()).toBe("无法计算（无变异）");
    expect(undefinedKappa.attributes("data-undefined")).toBe("no_variance");
    expect(item.text()).toContain("无此类病例"); // no AF case behind this row
    const modality = byId(w, "agreement-byModality-row");
    expect(modality.findAll('[data-testid$="-kappa"]').map((k) => k.text())).toEqual(["0.615", "1.000"]);
    expect(modality.text()).toContain("75.0");
    // This site's reader by name, the other site's code as it is.
    expect(byId(w, "agreement-byPair-row").text()).toContain("CLINIC-07/R1 × 吴强 (D9)");
    const reviewer = byId(w, "agreement-reviewers-row");
    expect(reviewer.text()).toContain("郑丽 (Q1)");
    expect(byId(w, "agreement-mean").text()).toBe("-2.000");
    expect(reviewer.text()).toContain("偏严格");
  });

  it("reads the same in English", async () => {
    const { w } = await mountApp(Q1, { report_view: () => report({ agreement }) });
    wrapper = w;
    await byId(w, "lang-toggle").trigger("click");
    await openReports(w);
    expect(byId(w, "agreement-byItem-row").get('[data-testid="agreement-scores-kappa"]').text()).toBe("undefined (no variance)");
  });

  it("marks figure 3's gold results with a chip", async () => {
    const { w } = await mountApp(Q1, {
      report_view: () => report({ deduction_details: [fact(), fact({ id: "g", mode: "gold", score: 4, grade: "good" })] }),
    });
    wrapper = w;
    await openReports(w);
    const rows = w.findAll('[data-testid="fig3-row"]');
    expect(rows.map((r) => r.find('[data-testid="fig3-gold"]').exists())).toEqual([false, true]);
    expect(rows[1]!.get('[data-testid="fig3-gold"]').text()).toBe("金标准");
  });
});
