//! The 报表 screen: rates as the standard prints them, which drill-down each clicked number asks
//! the shell for, the chart options of figures 6 and 8, and the screen against the mocked shell
//! (who sees it, the tables, the drawer listing what the shell answered).

import { afterEach, describe, expect, it, vi } from "vitest";
import { flushPromises, type VueWrapper } from "@vue/test-utils";
import { clearMocks } from "@tauri-apps/api/mocks";
import {
  currentMonth,
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
const A1 = staff.find((s) => s.code === "A1")!;

let wrapper: VueWrapper | undefined;
afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  clearMocks();
});

function fact(over: Partial<EvaluationFact> = {}): EvaluationFact {
  return {
    site: "DEMO-RAD",
    department: "放射科",
    accession: "CT20261102001",
    modality: "CT",
    exam_item: "CT胸部平扫",
    item: "IQ",
    scored_person: "A1",
    reviewer: "Q1",
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
    indicators: { sampled: 0, qualified: 0, rate: null },
    scores_technologists: {
      modalities: ["CT", "DR"],
      rows: [
        { person: "A1", cells: { CT: [1, 0, 0, 2, 0] }, flagged: ["CT"] },
        { person: "A2", cells: { DR: [3, 1, 0, 0, 0] }, flagged: [] },
      ],
      totals: { CT: [1, 0, 0, 2, 0], DR: [3, 1, 0, 0, 0] },
    },
    scores_doctors: { modalities: ["MR"], rows: [{ person: "D1", cells: { MR: [1, 0, 0, 0, 0] }, flagged: [] }], totals: { MR: [1, 0, 0, 0, 0] } },
    deduction_details: [fact(), fact({ accession: "CT20261102002" })],
    deductions: [{ kind: "compliance", criterion: "IQ-C2", count: 2 }],
    workload: {
      modalities: ["CT", "DR"],
      rows: [
        { person: "A2", total: 5, by_modality: { CT: 2, DR: 3 } },
        { person: "A1", total: 3, by_modality: { CT: 3 } },
      ],
      totals: { CT: 5, DR: 3 },
      total: 8,
    },
    quality_technologists: [
      { person: "A2", evaluations: 4, counts: [3, 1, 0, 0], excellent: 75, good: 25, pass: 0, fail: 0 },
      { person: "A1", evaluations: 3, counts: [1, 0, 0, 2], excellent: 33.3, good: 0, pass: 0, fail: 66.7 },
    ],
    quality_doctors: [{ person: "D1", evaluations: 1, counts: [1, 0, 0, 0], excellent: 100, good: 0, pass: 0, fail: 0 }],
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
    expect(deductionTarget({ kind: "severe", criterion: "IQ-S2", count: 5 })).toEqual({
      kind: "evaluations",
      drill: { criterion: "IQ-S2" },
      expected: 5,
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
    ({ w: wrapper } = await mountApp(Q1, { report: () => report() }));
    expect(wrapper.find('[data-testid="nav-reports"]').exists()).toBe(true);
  });

  it("shows the month's figures and lists the evaluations behind a clicked count", async () => {
    const behind = [fact(), fact({ accession: "CT20261102002", score: 2 })];
    const { w, calls } = await mountApp(Q1, { report: () => report(), report_evaluations: () => behind });
    wrapper = w;
    await openReports(w);
    expect(argsOf<{ month: string }>(calls, "report")).toEqual([{ month: currentMonth() }]);
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
      { month: currentMonth(), drill: { group: "technologists", person: "A1", modality: "CT", score: 2 } },
    ]);
    const rows = document.querySelectorAll('[data-testid="report-drill-row"]');
    expect(rows).toHaveLength(2);
    expect(rows[0]!.textContent).toContain("CT20261102001");
    expect(rows[0]!.textContent).toContain("王磊 (A1)");
    expect(document.querySelector('[data-testid="report-drill-count"]')!.textContent).toContain("2");
  });

  it("a workload number lists exams from report_workload_exams", async () => {
    const { w, calls } = await mountApp(Q1, { report: () => report(), report_workload_exams: () => [] });
    wrapper = w;
    await openReports(w);
    await w.findAll('[data-testid="fig5-cell"]')[1]!.trigger("click");
    await flushPromises();
    expect(argsOf(calls, "report_workload_exams")).toEqual([{ month: currentMonth(), person: "A2", modality: "DR" }]);
  });

  it("shows the shell's error envelope in the user's language", async () => {
    const refused = { code: "NOT_PERMITTED", message_zh: "只有质控员和科主任可以查看科室报表", message_en: "only QC officers" };
    const { w } = await mountApp(Q1, {
      report: () => {
        throw refused;
      },
    });
    wrapper = w;
    await openReports(w);
    expect(byId(w, "reports-error").text()).toContain("只有质控员和科主任可以查看科室报表");
    expect(byId(w, "reports-error").text()).toContain("NOT_PERMITTED");
  });
});
