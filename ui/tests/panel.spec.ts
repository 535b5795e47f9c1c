//! The scoring panel against a mocked shell: criteria from the rubric data, the live score,
//! not-applicable marks, the keyboard (Enter, Ctrl+Enter, digits), blind review, save errors.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount, type VueWrapper } from "@vue/test-utils";
import { clearMocks } from "@tauri-apps/api/mocks";
import ScoringPanel from "../src/components/panel/ScoringPanel.vue";
import { createAppI18n } from "../src/i18n";
import type { ExamView, Findings, QcMode, PanelSave } from "../src/wire";
import { argsOf, diskFull, engine, exam, mockShell, records, rubric, type Call, type Handler } from "./support/shell";

let wrapper: VueWrapper | undefined;

beforeEach(() => {
  // Only the panel's own debounce timer is faked; promises and flushPromises stay real.
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  clearMocks();
  vi.useRealTimers();
});

interface Options {
  items?: string[];
  mode?: QcMode;
  gateId?: string;
  blind?: boolean;
  handlers?: Record<string, Handler>;
  locale?: "zh-CN" | "en";
  exam?: ExamView;
}

async function mountPanel(o: Options = {}): Promise<{ w: VueWrapper; calls: Call[] }> {
  const calls = mockShell({
    preview_score: (a) => engine(a.findings as Findings),
    save_evaluations: (a) => records(a.request as PanelSave),
    ...o.handlers,
  });
  wrapper = mount(ScoringPanel, {
    props: {
      rubric,
      exam: o.exam ?? exam(),
      items: o.items ?? ["IQ", "FL"],
      mode: o.mode ?? "active",
      gateId: o.gateId,
      blind: o.blind ?? false,
      names: { A1: "王磊", D1: "赵敏" },
    },
    global: { plugins: [createAppI18n(o.locale)] },
    // Focus only works in a document: the panel must put it on Save by itself.
    attachTo: document.body,
  });
  await flushPromises();
  return { w: wrapper, calls };
}

/** Lets the debounce fire and the shell answer. */
async function settle() {
  await vi.advanceTimersByTimeAsync(60);
  await flushPromises();
}

const byId = (w: VueWrapper, id: string) => w.get(`[data-testid="${id}"]`);
const previews = (calls: Call[]) => argsOf<{ findings: Findings }>(calls, "preview_score").map((a) => a.findings);
const saves = (calls: Call[]) => argsOf<{ request: PanelSave }>(calls, "save_evaluations").map((a) => a.request);

describe("scoring panel: criteria", () => {
  it("shows each item's criteria from the rubric data, severe apart from compliance", async () => {
    const { w } = await mountPanel();
    const severe = byId(w, "panel-IQ-severe");
    const compliance = byId(w, "panel-IQ-compliance");
    // Every IQ criterion of the data is on screen, in its own group.
    for (const c of rubric.items.find((i) => i.code === "IQ")!.criteria) {
      const group = c.kind === "severe" ? severe : compliance;
      expect(group.find(`[data-testid="crit-${c.code}"]`).exists()).toBe(true);
      // The text is the rubric's, verbatim (the UI holds no criterion text of its own).
      expect(byId(w, `crit-${c.code}-text`).text()).toBe(c.text.zh);
    }
    expect(severe.find("h4").text()).toContain("严重缺陷");
    expect(compliance.find("h4").text()).toContain("符合项");
    // Only the items asked for: TR was not in the list.
    expect(w.find('[data-testid="panel-item-TR"]').exists()).toBe(false);
  });

  it("starts with every compliance criterion met and no severe one present", async () => {
    const { w, calls } = await mountPanel();
    expect((byId(w, "crit-IQ-C1-check").element as HTMLInputElement).checked).toBe(true);
    expect((byId(w, "crit-IQ-S1-check").element as HTMLInputElement).checked).toBe(false);
    // The first preview is of the clean exam, and the engine's answer is on screen.
    expect(previews(calls)).toContainEqual({ item: "IQ", findings: [], not_applicable: [] });
    expect(byId(w, "verdict-IQ").text()).toBe("5 分 · 优秀");
  });

  it("shows the exam's context and the person scored for each item", async () => {
    const { w } = await mountPanel({ items: ["AF", "IQ"] });
    expect(byId(w, "exam-accession").text()).toBe("CT20261102001");
    expect(byId(w, "exam-modality").text()).toBe("CT");
    expect(byId(w, "exam-item").text()).toBe("CT胸部平扫");
    expect(byId(w, "exam-department").text()).toBe("放射科");
    // IQ scores the technologist; AF the ordering clinician, who is not in the roster.
    expect(byId(w, "person-IQ-name").text()).toBe("王磊 (A1)");
    expect(byId(w, "person-AF-name").text()).toBe("C3");
  });
});

describe("scoring panel: live score", () => {
  it("sends an unchecked compliance criterion as a finding and shows the returned score", async () => {
    const { w, calls } = await mountPanel();
    await byId(w, "crit-IQ-C2-check").setValue(false);
    await settle();
    expect(previews(calls).at(-1)).toEqual({ item: "IQ", findings: ["IQ-C2"], not_applicable: [] });
    expect(byId(w, "verdict-IQ").text()).toBe("4 分 · 良好");
    expect(byId(w, "crit-IQ-C2").attributes("data-state")).toBe("unmet");
  });

  it("shows whatever the shell answers, not a score of its own", async () => {
    // A region's rubric may score differently: the panel must not second-guess the engine.
    const { w } = await mountPanel({
      handlers: { preview_score: (a) => ({ ...engine(a.findings as Findings), score: 2, grade: "fail", pass: false }) },
    });
    expect(byId(w, "verdict-IQ").text()).toBe("2 分 · 不合格");
    expect(byId(w, "verdict-IQ").attributes("data-grade")).toBe("fail");
  });

  it("gives a severe criterion present as a finding, and the engine's 1", async () => {
    const { w, calls } = await mountPanel();
    await byId(w, "crit-IQ-S2-check").setValue(true);
    await settle();
    expect(previews(calls).at(-1)!.findings).toEqual(["IQ-S2"]);
    expect(byId(w, "verdict-IQ").text()).toBe("1 分 · 不合格");
  });

  it("waits for a pause before asking: a burst of changes is one preview", async () => {
    const { w, calls } = await mountPanel();
    const before = previews(calls).length;
    await byId(w, "crit-IQ-C1-check").setValue(false);
    await byId(w, "crit-IQ-C2-check").setValue(false);
    await byId(w, "crit-IQ-C3-check").setValue(false);
    expect(previews(calls).length).toBe(before);
    await settle();
    expect(previews(calls).slice(before)).toEqual([
      { item: "IQ", findings: ["IQ-C1", "IQ-C2", "IQ-C3"], not_applicable: [] },
    ]);
    // u = 3 gives 3 in IQ's table.
    expect(byId(w, "verdict-IQ").text()).toBe("3 分 · 合格");
  });

  it("shows AF as 合格 / 不合格 only", async () => {
    const { w } = await mountPanel({ items: ["AF"] });
    expect(byId(w, "verdict-AF").text()).toBe("合格");
    await byId(w, "crit-AF-4-check").setValue(true);
    await settle();
    expect(byId(w, "verdict-AF").text()).toBe("不合格");
  });

  it("says why when the engine refuses the findings, and shows no stale score", async () => {
    const refusal = { code: "CRITERION_OF_OTHER_ITEM", message_zh: "条目不属于该项目", message_en: "criterion of another item" };
    let refuse = false;
    const { w } = await mountPanel({
      handlers: {
        preview_score: (a) => {
          if (refuse) throw refusal;
          return engine(a.findings as Findings);
        },
      },
    });
    refuse = true;
    await byId(w, "crit-IQ-C1-check").setValue(false);
    await settle();
    expect(byId(w, "preview-error-IQ").text()).toContain("CRITERION_OF_OTHER_ITEM");
    expect(byId(w, "verdict-IQ").attributes("data-score")).toBe("");
  });
});

describe("scoring panel: not applicable", () => {
  it("sends a criterion marked N/A in not_applicable, never also as a finding", async () => {
    const { w, calls } = await mountPanel();
    await byId(w, "crit-IQ-C5-check").setValue(false);
    await byId(w, "crit-IQ-C5-na").setValue(true);
    await settle();
    // The engine refuses a code both found and not applicable: N/A wins.
    expect(previews(calls).at(-1)).toEqual({ item: "IQ", findings: [], not_applicable: ["IQ-C5"] });
    expect(byId(w, "verdict-IQ").text()).toBe("5 分 · 优秀");
    expect((byId(w, "crit-IQ-C5-check").element as HTMLInputElement).disabled).toBe(true);
    expect(byId(w, "crit-IQ-C5").attributes("data-state")).toBe("na");
  });

  it("saves the N/A marks and the note with the item", async () => {
    const { w, calls } = await mountPanel({ items: ["IQ"] });
    await byId(w, "crit-IQ-C4-na").setValue(true);
    await byId(w, "note-IQ").setValue("  平扫，无增强  ");
    await byId(w, "panel-save").trigger("click");
    await flushPromises();
    expect(saves(calls)[0]!.items).toEqual([
      { item: "IQ", findings: [], not_applicable: ["IQ-C4"], note: "平扫，无增强" },
    ]);
  });
});

describe("scoring panel: facts the exam did not state", () => {
  it("leaves FL out when nobody said film was printed, and F states it and scores it", async () => {
    const { w, calls } = await mountPanel({ exam: exam("CT20261102001", { film_printed: null }) });
    // FL is asked, not scored: no criteria, no verdict, and one Enter saves IQ alone.
    expect(byId(w, "panel-ask-FL").attributes("data-stated")).toBe("false");
    expect(w.find('[data-testid="panel-item-FL"]').exists()).toBe(false);
    await byId(w, "panel-save").trigger("keydown", { key: "Enter" });
    await flushPromises();
    expect(saves(calls)).toHaveLength(1);
    expect(saves(calls)[0]!.items.map((i) => i.item)).toEqual(["IQ"]);
    expect(saves(calls)[0]!.facts).toBeUndefined();
  });

  it("F states the fact: FL is scored and the save says so", async () => {
    const { w, calls } = await mountPanel({ exam: exam("CT20261102001", { film_printed: null }) });
    await byId(w, "panel-save").trigger("keydown", { key: "f", code: "KeyF" });
    await settle();
    expect(byId(w, "panel-ask-FL").attributes("data-stated")).toBe("true");
    expect(w.find('[data-testid="panel-item-FL"]').exists()).toBe(true);
    await byId(w, "panel-save").trigger("keydown", { key: "Enter" });
    await flushPromises();
    expect(saves(calls)[0]!.items.map((i) => i.item)).toEqual(["IQ", "FL"]);
    expect(saves(calls)[0]!.facts).toEqual({ film_printed: true });
  });
});

describe("scoring panel: keyboard", () => {
  it("opens with Save focused, and one Enter saves every item as all met", async () => {
    const { w, calls } = await mountPanel({ mode: "random", gateId: "g-7" });
    const save = byId(w, "panel-save").element;
    expect(document.activeElement).toBe(save);
    await byId(w, "panel-save").trigger("keydown", { key: "Enter" });
    await flushPromises();
    expect(saves(calls)).toEqual([
      {
        accession: "CT20261102001",
        site: "DEMO-RAD",
        mode: "random",
        gate_id: "g-7",
        items: [
          { item: "IQ", findings: [], not_applicable: [], note: "" },
          { item: "FL", findings: [], not_applicable: [], note: "" },
        ],
      },
    ]);
    expect(w.emitted("saved")?.[0]?.[0]).toHaveLength(2);
    expect(byId(w, "scoring-panel").attributes("data-state")).toBe("saved");
  });

  it("saves once however often Enter is pressed", async () => {
    let answer: (v: unknown) => void = () => {};
    const { w, calls } = await mountPanel({ handlers: { save_evaluations: () => new Promise((r) => (answer = r)) } });
    await byId(w, "panel-save").trigger("keydown", { key: "Enter" });
    await byId(w, "panel-save").trigger("keydown", { key: "Enter" });
    answer([]);
    await flushPromises();
    await byId(w, "panel-save").trigger("keydown", { key: "Enter" });
    await flushPromises();
    expect(saves(calls)).toHaveLength(1);
  });

  it("saves with Ctrl+Enter from the note field, where Enter is a new line", async () => {
    const { w, calls } = await mountPanel({ items: ["IQ"] });
    await byId(w, "note-IQ").setValue("体位不正");
    await byId(w, "note-IQ").trigger("keydown", { key: "Enter" });
    await flushPromises();
    expect(saves(calls)).toHaveLength(0);
    await byId(w, "note-IQ").trigger("keydown", { key: "Enter", ctrlKey: true });
    await flushPromises();
    expect(saves(calls)[0]!.items[0]!.note).toBe("体位不正");
  });

  it("toggles the n-th criterion of the current item with digit n, N/A with Shift", async () => {
    const { w, calls } = await mountPanel();
    // Severe first (IQ-S1..S3), then compliance: 4 is IQ-C1. The first item is current at start.
    expect(byId(w, "panel-item-IQ").attributes("data-current")).toBe("true");
    await byId(w, "panel-save").trigger("keydown", { key: "4", code: "Digit4" });
    await settle();
    expect(previews(calls).at(-1)).toEqual({ item: "IQ", findings: ["IQ-C1"], not_applicable: [] });

    // Focus moves into FL: digits now address FL. Shift+5 marks FL-C2 (5th) not applicable.
    await byId(w, "crit-FL-C1-check").trigger("focusin");
    await byId(w, "crit-FL-C1-check").trigger("keydown", { key: "%", code: "Digit5", shiftKey: true });
    await byId(w, "crit-FL-C1-check").trigger("keydown", { key: "1", code: "Digit1" });
    await settle();
    expect(previews(calls).at(-1)).toEqual({ item: "FL", findings: ["FL-S1"], not_applicable: ["FL-C2"] });
    expect(byId(w, "verdict-FL").text()).toBe("1 分 · 不合格");
  });

  it("does not take digits typed into the note", async () => {
    const { w, calls } = await mountPanel({ items: ["IQ"] });
    const before = previews(calls).length;
    await byId(w, "note-IQ").trigger("keydown", { key: "4", code: "Digit4" });
    await settle();
    expect(previews(calls).length).toBe(before);
    expect((byId(w, "crit-IQ-C1-check").element as HTMLInputElement).checked).toBe(true);
  });

  it("reaches every control with Tab: nothing is taken out of the tab order", async () => {
    const { w } = await mountPanel({ items: ["IQ"] });
    const unreachable = w.findAll("input, textarea, button").filter((el) => el.attributes("tabindex") === "-1");
    expect(unreachable).toEqual([]);
    // 8 criteria × (box + N/A) + note + Save.
    expect(w.findAll("input, textarea, button").length).toBe(8 * 2 + 1 + 1);
  });

  it("shows the shortcuts", async () => {
    const { w } = await mountPanel();
    const hints = byId(w, "panel-hints").text();
    expect(hints).toContain("Enter");
    expect(hints).toContain("Ctrl");
    expect(hints).toContain("Tab");
  });
});

describe("scoring panel: blind review", () => {
  it("hides the person scored and the exam's staff", async () => {
    // Blind exams come without staff from the shell; the panel must hide them even if not.
    const staffed = exam("CT1", {
      staff: { technologist: "TX41", reporting_doctor: "RX42", auditing_doctor: "UX43", ordering_clinician: "OX44" },
    });
    const { w } = await mountPanel({ blind: true, mode: "centralized", exam: staffed, items: ["AF", "IQ", "RQ"] });
    expect(w.find('[data-testid="person-IQ-name"]').exists()).toBe(false);
    expect(byId(w, "person-IQ").text()).toContain("盲评");
    expect(w.find('[data-testid^="exam-staff-"]').exists()).toBe(false);
    // Neither the code nor the name of anyone on the exam appears anywhere in the panel.
    for (const who of ["TX41", "RX42", "UX43", "OX44"]) expect(w.text()).not.toContain(who);
  });
});

describe("scoring panel: save errors", () => {
  it("says loudly that a full disk means the score was NOT saved, and keeps the marks", async () => {
    const { w } = await mountPanel({ handlers: { save_evaluations: () => Promise.reject(diskFull) } });
    await byId(w, "crit-IQ-C2-check").setValue(false);
    await byId(w, "panel-save").trigger("click");
    await flushPromises();
    const error = byId(w, "panel-error");
    expect(error.attributes("data-code")).toBe("DISK_FULL");
    expect(error.attributes("role")).toBe("alert");
    expect(byId(w, "panel-error-title").text()).toContain("磁盘已满");
    expect(byId(w, "panel-error-title").text()).toContain("没有保存");
    expect(error.classes()).toContain("save-error--disk-full");
    // Nothing was saved, so nothing is lost: the marks stay and Save has focus for a retry.
    expect((byId(w, "crit-IQ-C2-check").element as HTMLInputElement).checked).toBe(false);
    expect(document.activeElement).toBe(byId(w, "panel-save").element);
    expect(w.emitted("saved")).toBeUndefined();
  });

  it("shows any other refusal by its code and message, in the UI's language", async () => {
    const invalid = { code: "INVALID_INPUT", message_zh: "检查号无效", message_en: "invalid accession" };
    const { w } = await mountPanel({ locale: "en", handlers: { save_evaluations: () => Promise.reject(invalid) } });
    await byId(w, "panel-save").trigger("click");
    await flushPromises();
    expect(byId(w, "panel-error").attributes("data-code")).toBe("INVALID_INPUT");
    expect(byId(w, "panel-error-title").text()).toContain("NOT saved");
    expect(byId(w, "panel-error-message").text()).toBe("invalid accession");
  });

  it("saves after a failure once the shell accepts", async () => {
    let fail = true;
    const { w, calls } = await mountPanel({
      handlers: {
        save_evaluations: (a) => (fail ? Promise.reject(diskFull) : records(a.request as PanelSave)),
      },
    });
    await byId(w, "panel-save").trigger("click");
    await flushPromises();
    fail = false;
    await byId(w, "panel-save").trigger("keydown", { key: "Enter" });
    await flushPromises();
    expect(saves(calls)).toHaveLength(2);
    expect(w.find('[data-testid="panel-error"]').exists()).toBe(false);
    expect(w.emitted("saved")).toHaveLength(1);
  });
});
