//! Random QC at signing: a held signature brings the panel up over everything, at start-up
//! (pending_gates) or at once on the `gate-requested` event; saving or closing settles it.

import { afterEach, describe, expect, it } from "vitest";
import { flushPromises, type VueWrapper } from "@vue/test-utils";
import { clearMocks } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { byId, mountApp } from "./support/app";
import { argsOf, engine, gate, records, staff } from "./support/shell";
import type { Findings, PanelSave } from "../src/wire";

let wrapper: VueWrapper | undefined;

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  clearMocks();
});

const doctor = staff[1]!;
const scoring = {
  preview_score: (a: Record<string, unknown>) => engine(a.findings as Findings),
  save_evaluations: (a: Record<string, unknown>) => records(a.request as PanelSave),
};

describe("random QC", () => {
  it("opens the panel for a signature already held at start, and Enter releases it", async () => {
    let held = [gate("g-1")];
    const { w, calls } = await mountApp(doctor, {
      ...scoring,
      pending_gates: () => held,
      save_evaluations: (a) => {
        held = [];
        return records(a.request as PanelSave);
      },
    });
    wrapper = w;
    const overlay = byId(w, "gate-overlay");
    expect(overlay.attributes("data-gate-id")).toBe("g-1");
    const panel = byId(w, "scoring-panel");
    expect(panel.attributes("data-mode")).toBe("random");
    // The items are the gate's, not whatever the reviewer could score.
    expect(w.findAll('[data-testid^="panel-item-"][data-current]').map((e) => e.attributes("data-testid"))).toEqual([
      "panel-item-IQ",
      "panel-item-FL",
    ]);
    expect(byId(w, "gate-signer").text()).toContain("赵敏 (D1)");
    // Nothing underneath can be reached while the signature waits.
    expect(byId(w, "app-shell").attributes("inert")).toBeDefined();
    expect(document.activeElement).toBe(byId(w, "panel-save").element);

    await byId(w, "panel-save").trigger("keydown", { key: "Enter" });
    await flushPromises();
    const [request] = argsOf<{ request: PanelSave }>(calls, "save_evaluations");
    expect(request!.request).toMatchObject({ mode: "random", gate_id: "g-1", accession: "CT20261102001" });
    expect(w.find('[data-testid="gate-overlay"]').exists()).toBe(false);
    expect(byId(w, "gate-outcome").attributes("data-kind")).toBe("saved");
    expect(byId(w, "app-shell").attributes("inert")).toBeUndefined();
  });

  it("brings the panel up at once when a signing is sampled", async () => {
    const { w } = await mountApp(doctor, scoring);
    wrapper = w;
    expect(w.find('[data-testid="gate-overlay"]').exists()).toBe(false);
    await emit("gate-requested", gate("g-9", { accession: "DR1", exam: { ...gate().exam, accession: "DR1" } }));
    await flushPromises();
    expect(byId(w, "gate-overlay").attributes("data-gate-id")).toBe("g-9");
    expect(byId(w, "exam-accession").text()).toBe("DR1");
  });

  it("says so when the workstation stopped waiting, and the save does not claim a release", async () => {
    const { w } = await mountApp(doctor, { ...scoring, pending_gates: () => [gate("g-1")] });
    wrapper = w;
    expect(w.find('[data-testid="gate-gave-up"]').exists()).toBe(false);
    await emit("gate-gave-up", gate("g-1", { workstation_waiting: false }));
    await flushPromises();
    expect(byId(w, "gate-overlay").attributes("data-waiting")).toBe("false");
    expect(byId(w, "gate-gave-up").text()).toContain("工作站已停止等待");
    await byId(w, "panel-save").trigger("keydown", { key: "Enter" });
    await flushPromises();
    expect(byId(w, "gate-outcome").attributes("data-kind")).toBe("saved_gave_up");
    expect(byId(w, "gate-outcome").text()).not.toContain("已放行。");
  });

  it("corrects what it said after a save when the workstation had just gone", async () => {
    const { w } = await mountApp(doctor, { ...scoring, pending_gates: () => [gate("g-1")] });
    wrapper = w;
    await byId(w, "panel-save").trigger("keydown", { key: "Enter" });
    await flushPromises();
    expect(byId(w, "gate-outcome").attributes("data-kind")).toBe("saved");
    await emit("gate-gave-up", gate("g-1", { workstation_waiting: false }));
    await flushPromises();
    expect(byId(w, "gate-outcome").attributes("data-kind")).toBe("saved_gave_up");
  });

  it("queues a second signing behind the first and shows it next", async () => {
    const { w } = await mountApp(doctor, { ...scoring, pending_gates: () => [gate("g-1")] });
    wrapper = w;
    await emit("gate-requested", gate("g-2"));
    // The same gate again (event and pending list overlap at start): still two, not three.
    await emit("gate-requested", gate("g-1"));
    await flushPromises();
    expect(byId(w, "gate-more").text()).toContain("1");
    await byId(w, "panel-save").trigger("keydown", { key: "Enter" });
    await flushPromises();
    expect(byId(w, "gate-overlay").attributes("data-gate-id")).toBe("g-2");
    expect(w.find('[data-testid="gate-more"]').exists()).toBe(false);
  });

  it("closing without a score asks the shell and says what happened to the signature", async () => {
    for (const [decision, words] of [
      ["blocked", "拒绝"],
      ["go", "放行"],
    ] as const) {
      const { w, calls } = await mountApp(doctor, {
        ...scoring,
        pending_gates: () => [gate("g-3")],
        close_gate: () => ({ decision }),
      });
      await byId(w, "gate-close").trigger("click");
      await flushPromises();
      expect(argsOf(calls, "close_gate")).toEqual([{ id: "g-3" }]);
      expect(argsOf(calls, "save_evaluations")).toEqual([]);
      expect(w.find('[data-testid="gate-overlay"]').exists()).toBe(false);
      expect(byId(w, "gate-outcome").attributes("data-kind")).toBe(decision);
      expect(byId(w, "gate-outcome").text()).toContain(words);
      w.unmount();
      clearMocks();
    }
  });

  it("outranks a panel underneath: one Enter saves only the sampled exam", async () => {
    const { w, calls } = await mountApp(doctor, {
      ...scoring,
      exam_detail: () => ({ exam: gate().exam, evaluations: [] }),
      scorable_items: () => ["IQ"],
    });
    wrapper = w;
    await byId(w, "active-accession").setValue("CT20261102001");
    await byId(w, "active-search").trigger("submit");
    await flushPromises();
    expect(w.findAll('[data-testid="scoring-panel"]')).toHaveLength(1);
    await emit("gate-requested", gate("g-5"));
    await flushPromises();
    expect(w.findAll('[data-testid="scoring-panel"]')).toHaveLength(2);
    const overlaySave = byId(w, "gate-overlay").get('[data-testid="panel-save"]');
    expect(document.activeElement).toBe(overlaySave.element);
    await overlaySave.trigger("keydown", { key: "Enter", ctrlKey: true });
    await flushPromises();
    const saved = argsOf<{ request: PanelSave }>(calls, "save_evaluations").map((a) => a.request.mode);
    expect(saved).toEqual(["random"]);
  });
});
