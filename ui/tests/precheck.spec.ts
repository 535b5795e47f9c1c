//! 报告预检: the evidence marked in the report's text; the warning at signing (both answers by the
//! keyboard, Esc choosing nothing, focus kept in the window, closing = 返回修改, the QC panel next
//! when the draw held the signing too); the panel's 采纳 ticking the criterion and 忽略.

import { afterEach, describe, expect, it } from "vitest";
import { flushPromises, mount, type VueWrapper } from "@vue/test-utils";
import { clearMocks } from "@tauri-apps/api/mocks";
import { byId, mountApp } from "./support/app";
import { argsOf, engine, exam, gate, mockShell, rubric, staff } from "./support/shell";
import { createAppI18n } from "../src/i18n";
import { highlight } from "../src/precheck";
import ScoringPanel from "../src/components/panel/ScoringPanel.vue";
import PrecheckWarning from "../src/components/precheck/PrecheckWarning.vue";
import PrecheckStatsTable from "../src/components/reports/PrecheckStatsTable.vue";
import type { Findings, GateView, PrecheckRun, Released, StoredProposal } from "../src/wire";

let wrapper: VueWrapper | undefined;

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  clearMocks();
  document.body.innerHTML = "";
});

function proposal(over: Partial<StoredProposal> = {}): StoredProposal {
  return {
    id: 7,
    accession: "DR-L-1",
    check: "laterality",
    criterion: "RQ-S2",
    twin: "AR-S2",
    evidence: ["右膝"],
    message_zh: "检查项目为左侧，报告写右侧",
    message_en: "the exam is of the left side, the report says right",
    mode: "warn",
    signer: "D1",
    created_at: "2026-11-02T10:00:00Z",
    signer_choice: null,
    outcome: null,
    decided_by: null,
    decided_at: null,
    ...over,
  };
}

const report = { findings: "右膝关节间隙变窄，右膝关节边缘骨质增生。", impression: "右膝关节退行性变。", history: "" };

function warned(over: Partial<GateView> = {}): GateView {
  return gate("g-p", {
    accession: "DR-L-1",
    exam: exam("DR-L-1", { modality: "DR", exam_item: "DR左膝关节正侧位" }),
    items: [],
    precheck: [proposal()],
    report,
    ...over,
  });
}

const doctor = staff[1]!;

describe("highlight", () => {
  it("marks every occurrence, the longest evidence first, and keeps the rest as it is", () => {
    expect(highlight("右膝关节间隙变窄，右膝。", ["右膝", "右膝关节"])).toEqual([
      { text: "右膝关节", mark: true },
      { text: "间隙变窄，", mark: false },
      { text: "右膝", mark: true },
      { text: "。", mark: false },
    ]);
    expect(highlight("无", [""])).toEqual([{ text: "无", mark: false }]);
    expect(highlight("", ["x"])).toEqual([]);
  });
});

describe("the warning at signing", () => {
  it("shows the report with the evidence marked and answers 返回修改 by the keyboard", async () => {
    const released: Released = { decision: "blocked", reason: "PRECHECK", proposals: [proposal()], delivered: 1 };
    let held = [warned()];
    const { w, calls } = await mountApp(doctor, {
      pending_gates: () => held,
      precheck_choose: () => {
        held = [];
        return { released, gate: null };
      },
    });
    wrapper = w;
    expect(w.find('[data-testid="scoring-panel"]').exists()).toBe(false);
    const box = byId(w, "precheck-warning");
    expect(box.attributes("role")).toBe("alertdialog");
    expect(byId(w, "precheck-findings").findAll("mark").map((m) => m.text())).toEqual(["右膝", "右膝"]);
    expect(byId(w, "precheck-impression").findAll("mark").map((m) => m.text())).toEqual(["右膝"]);
    expect(byId(w, "precheck-message").text()).toBe("检查项目为左侧，报告写右侧");
    expect(byId(w, "app-shell").attributes("inert")).toBeDefined();
    expect(document.activeElement).toBe(byId(w, "precheck-return").element);

    // Esc chooses nothing: it says a choice is needed.
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    await flushPromises();
    expect(argsOf(calls, "precheck_choose")).toEqual([]);
    expect(byId(w, "precheck-hint").text()).toContain("请选择");
    // Tab goes round the window's buttons only.
    const order: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      document.activeElement!.dispatchEvent(new KeyboardEvent("keydown", { key: "Tab", bubbles: true }));
      order.push((document.activeElement as HTMLElement).dataset.testid);
    }
    expect(order).toEqual(["precheck-sign-anyway", "precheck-close", "precheck-return"]);
    document.activeElement!.dispatchEvent(new KeyboardEvent("keydown", { key: "Tab", shiftKey: true, bubbles: true }));
    expect((document.activeElement as HTMLElement).dataset.testid).toBe("precheck-close");

    await byId(w, "precheck-return").trigger("click");
    await flushPromises();
    expect(argsOf(calls, "precheck_choose")).toEqual([{ gateId: "g-p", signAnyway: false }]);
    expect(w.find('[data-testid="precheck-warning"]').exists()).toBe(false);
    expect(byId(w, "gate-outcome").attributes("data-kind")).toBe("precheck_returned");
  });

  it("closing the window is 返回修改", async () => {
    const released: Released = { decision: "blocked", reason: "PRECHECK", proposals: [proposal()], delivered: 1 };
    const { w, calls } = await mountApp(doctor, {
      pending_gates: () => [warned()],
      precheck_choose: () => ({ released, gate: null }),
    });
    wrapper = w;
    await byId(w, "precheck-close").trigger("click");
    await flushPromises();
    expect(argsOf(calls, "precheck_choose")).toEqual([{ gateId: "g-p", signAnyway: false }]);
  });

  it("仍然签发 goes on to the QC panel when the draw held the signing too", async () => {
    const { w, calls } = await mountApp(doctor, {
      pending_gates: () => [warned({ items: ["IQ"] })],
      preview_score: (a) => engine(a.findings as Findings),
      precheck_choose: () => ({ released: null, gate: warned({ items: ["IQ"], precheck: [], report: null }) }),
    });
    wrapper = w;
    await byId(w, "precheck-sign-anyway").trigger("click");
    await flushPromises();
    expect(argsOf(calls, "precheck_choose")).toEqual([{ gateId: "g-p", signAnyway: true }]);
    expect(w.find('[data-testid="precheck-warning"]').exists()).toBe(false);
    expect(byId(w, "gate-overlay").attributes("data-gate-id")).toBe("g-p");
    expect(byId(w, "scoring-panel").attributes("data-mode")).toBe("random");
  });

  it("in English, the messages are the English ones", async () => {
    wrapper = mount(PrecheckWarning, {
      props: { gate: warned(), names: {}, busy: false },
      global: { plugins: [createAppI18n("en")] },
      attachTo: document.body,
    });
    await flushPromises();
    expect(byId(wrapper, "precheck-message").text()).toBe("the exam is of the left side, the report says right");
    expect(byId(wrapper, "precheck-return").text()).toBe("Back to the report");
    await byId(wrapper, "precheck-sign-anyway").trigger("click");
    expect(wrapper.emitted("choose")).toEqual([[true]]);
  });
});

describe("the proposals in the panel", () => {
  it("采纳 ticks RQ-S2 in RQ (AR-S2 in AR) and 忽略 records the dismissal", async () => {
    const run: PrecheckRun = {
      accession: "DR-L-1",
      signing: "ev-1",
      signer: "D1",
      source: "request",
      findings: report.findings,
      impression: report.impression,
      history: "",
      at: "2026-11-02T10:00:00Z",
      proposals: [proposal({ mode: "panel" }), proposal({ id: 8, check: "no_comparison", criterion: "RQ-S5", twin: "AR-S5", evidence: [] })],
    };
    const calls = mockShell({
      preview_score: (a) => engine(a.findings as Findings),
      decide_proposal: (a) => ({
        ...run.proposals.find((p) => p.id === a.id)!,
        outcome: a.accept ? "accepted" : "dismissed",
        decided_by: "Q1",
        decided_at: "2026-11-03T10:00:00Z",
      }),
    });
    wrapper = mount(ScoringPanel, {
      props: { rubric, exam: exam("DR-L-1"), items: ["RQ", "AR"], mode: "active", precheck: run, previewDelayMs: 0 },
      global: { plugins: [createAppI18n("zh-CN")] },
      attachTo: document.body,
    });
    await flushPromises();
    const w = wrapper;
    expect(byId(w, "panel-precheck-findings").findAll("mark").length).toBe(2);
    expect(byId(w, "crit-RQ-S2").attributes("data-state")).not.toBe("found");
    await byId(w, "panel-proposal-7-accept").trigger("click");
    await flushPromises();
    expect(argsOf(calls, "decide_proposal")).toEqual([{ id: 7, accept: true }]);
    expect(byId(w, "crit-RQ-S2").attributes("data-state")).toBe("found");
    expect(byId(w, "crit-AR-S2").attributes("data-state")).toBe("found");
    expect((byId(w, "crit-RQ-S2-check").element as HTMLInputElement).checked).toBe(true);
    expect(byId(w, "panel-proposal-7").attributes("data-outcome")).toBe("accepted");
    await byId(w, "panel-proposal-8-dismiss").trigger("click");
    await flushPromises();
    expect(argsOf(calls, "decide_proposal")[1]).toEqual({ id: 8, accept: false });
    expect(byId(w, "panel-proposal-8").attributes("data-outcome")).toBe("dismissed");
    expect(byId(w, "crit-RQ-S5").attributes("data-state")).not.toBe("found");
  });
});

describe("the report checks' precision in 报表", () => {
  it("shows each check's counts by month and site, and the precision of the decided ones", async () => {
    mockShell({
      precheck_stats: () => [
        { site: "DEMO-RAD", month: "2026-11", check: "laterality", accepted: 3, dismissed: 1, open: 2, returned: 1, signed_anyway: 2 },
        { site: "DEMO-RAD", month: "2026-11", check: "no_comparison", accepted: 0, dismissed: 0, open: 4, returned: 0, signed_anyway: 0 },
      ],
    });
    wrapper = mount(PrecheckStatsTable, { global: { plugins: [createAppI18n("zh-CN")] } });
    await flushPromises();
    const rows = wrapper.findAll('[data-testid="precheck-stats-row"]');
    expect(rows.map((r) => r.attributes("data-check"))).toEqual(["laterality", "no_comparison"]);
    expect(rows[0]!.text()).toContain("左右侧");
    expect(rows.map((r) => r.find('[data-testid="precheck-stats-precision"]').text())).toEqual(["75.0%", "—"]);
  });
});
