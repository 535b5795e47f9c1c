//! Front-end unit tests of the rubric screen (评分标准) against a mocked Tauri IPC (the shell
//! cannot run here). Signed out, the window opens on sign-in; the rubric is one click away.

import { afterEach, describe, expect, it } from "vitest";
import { flushPromises, mount, type VueWrapper } from "@vue/test-utils";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import RubricView from "../src/components/RubricView.vue";
import App from "../src/App.vue";
import { createAppI18n, messages } from "../src/i18n";
import { UNEXPECTED_IPC_ERROR, type IpcError, type Rubric } from "../src/rubric";
import fixture from "./fixtures/rubric.json";

const rubric = fixture as Rubric;

let wrapper: VueWrapper | undefined;

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  clearMocks();
});

/** What a signed-out shell answers to everything but the rubric. */
function signedOut(cmd: string): unknown {
  switch (cmd) {
    case "session":
      return { site: "DEMO-RAD", device_id: "d", demo: false, user: null, gate_url: "" };
    case "roster":
    case "pending_gates":
      return [];
    default:
      throw new Error(`unexpected command ${cmd}`);
  }
}

/**
 * Mounts the app with a fresh i18n instance, `rubric` answering the rubric command, and opens
 * the rubric screen from the header.
 */
async function mountApp(rubricHandler: () => unknown): Promise<VueWrapper> {
  mockIPC((cmd) => (cmd === "rubric" ? rubricHandler() : signedOut(cmd)));
  wrapper = mount(App, { global: { plugins: [createAppI18n()] } });
  await flushPromises();
  await wrapper.get('[data-testid="nav-rubric"]').trigger("click");
  await flushPromises();
  return wrapper;
}

function text(w: VueWrapper, testid: string): string {
  return w.get(`[data-testid="${testid}"]`).text();
}

describe("rubric screen", () => {
  it("asks the shell for the rubric with the `rubric` command and nothing else", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      return rubric;
    });
    wrapper = mount(RubricView, { global: { plugins: [createAppI18n()] } });
    await flushPromises();
    // One command: a second call would mean a stray IPC round trip.
    expect(calls).toEqual(["rubric"]);
  });

  it("is reachable signed out: the rubric is reference, not patient data", async () => {
    const w = await mountApp(() => rubric);
    expect(w.get('[data-testid="app-shell"]').attributes("data-screen")).toBe("rubric");
    expect(w.find('[data-testid="item-IQ"]').exists()).toBe(true);
    // And back to sign-in with the other tab.
    await w.get('[data-testid="nav-signIn"]').trigger("click");
    expect(w.find('[data-testid="sign-in"]').exists()).toBe(true);
  });

  it("says it is loading until the shell answers", async () => {
    let answer: (value: Rubric) => void = () => {};
    const w = await mountApp(() => new Promise<Rubric>((resolve) => (answer = resolve)));
    // The WebDriver suite waits on this attribute, so it must say "loading" first, then "loaded".
    expect(w.get('[data-testid="rubric"]').attributes("data-state")).toBe("loading");
    expect(w.find('[data-testid="rubric-loading"]').exists()).toBe(true);
    answer(rubric);
    await flushPromises();
    expect(w.get('[data-testid="rubric"]').attributes("data-state")).toBe("loaded");
    expect(w.find('[data-testid="rubric-loading"]').exists()).toBe(false);
  });

  it("shows every item and the standard's Chinese criterion text verbatim", async () => {
    const w = await mountApp(() => rubric);
    for (const item of rubric.items) {
      // Every item of the data is on screen; none is dropped by kind or `applies`.
      expect(w.find(`[data-testid="item-${item.code}"]`).exists()).toBe(true);
    }
    // The Chinese is the standard's wording and must reach the screen unchanged.
    expect(text(w, "criterion-IQ-S1-text")).toBe("检查技术选择、摆放位置不当或操作过失，无诊断价值");
    expect(text(w, "item-IQ-name")).toBe("图像质量分析");
    // Roles are UI vocabulary, so they come from the zh-CN catalog.
    expect(text(w, "item-IQ-scored")).toBe("技师");
    expect(text(w, "item-IQ-scorers")).toBe("报告医生");
    expect(text(w, "item-AF-scorers")).toBe("技师 / 报告医生");
  });

  it("keeps severe criteria apart from compliance ones", async () => {
    const w = await mountApp(() => rubric);
    const severe = w.get('[data-testid="criteria-IQ-severe"]');
    const compliance = w.get('[data-testid="criteria-IQ-compliance"]');
    // A severe criterion forces the score to 1, so it must not be listed among the countable ones.
    expect(severe.find('[data-testid="criterion-IQ-S1"]').exists()).toBe(true);
    expect(severe.find('[data-testid="criterion-IQ-C1"]').exists()).toBe(false);
    expect(compliance.find('[data-testid="criterion-IQ-C1"]').exists()).toBe(true);
    // AF has no compliance criteria: no empty heading for them.
    expect(w.find('[data-testid="criteria-AF-compliance"]').exists()).toBe(false);
    // FL has no severe criteria in the fixture: likewise no empty severe group.
    expect(w.find('[data-testid="criteria-FL-severe"]').exists()).toBe(false);
  });

  it("shows the u → score table for scored items only", async () => {
    const w = await mountApp(() => rubric);
    // The table is data: u = 2 and u = 3 both give 3 for IQ, as the standard says.
    const iq = rubric.items.find((i) => i.code === "IQ")!.score_table!;
    iq.forEach((score, u) => expect(text(w, `score-IQ-u${u}`)).toBe(String(score)));
    expect(w.find('[data-testid="score-IQ-u6"]').exists()).toBe(false);
    // A normative item (合格/不合格) has no score table to show.
    expect(w.find('[data-testid="score-table-AF"]').exists()).toBe(false);
  });

  it("switches all text to English and back with the language toggle", async () => {
    const w = await mountApp(() => rubric);
    expect(text(w, "lang-toggle")).toBe("English");

    await w.get('[data-testid="lang-toggle"]').trigger("click");
    // Criterion text and item names switch with the UI, from the rubric's `en` half.
    expect(text(w, "criterion-IQ-S1-text")).toBe(
      "wrong technique or positioning, or operator error: no diagnostic value",
    );
    expect(text(w, "item-IQ-name")).toBe("Image quality");
    expect(text(w, "item-IQ-scored")).toBe("Technologist");
    expect(text(w, "lang-toggle")).toBe("中文");
    // The document language follows, so WebKit picks the right fonts and hyphenation.
    expect(document.documentElement.lang).toBe("en");

    await w.get('[data-testid="lang-toggle"]').trigger("click");
    expect(text(w, "criterion-IQ-S1-text")).toBe("检查技术选择、摆放位置不当或操作过失，无诊断价值");
    expect(document.documentElement.lang).toBe("zh-CN");
  });
});

describe("IPC errors", () => {
  const envelope: IpcError = {
    code: "STORAGE",
    message_zh: "质控标准不可用",
    message_en: "The rubric is not available",
  };

  it("shows the error envelope's code and message in the current language", async () => {
    const w = await mountApp(() => {
      throw envelope;
    });
    // No half-rendered rubric next to an error.
    expect(w.find('[data-testid="item-IQ"]').exists()).toBe(false);
    expect(text(w, "rubric-error-message")).toBe("质控标准不可用");
    expect(text(w, "rubric-error-code")).toContain("STORAGE");

    await w.get('[data-testid="lang-toggle"]').trigger("click");
    expect(text(w, "rubric-error-message")).toBe("The rubric is not available");
  });

  it("wraps a rejection that is not an envelope in one, so the screen has one error shape", async () => {
    const w = await mountApp(() => {
      throw new Error("channel closed");
    });
    expect(text(w, "rubric-error-code")).toContain(UNEXPECTED_IPC_ERROR);
    expect(text(w, "rubric-error-message")).toBe("channel closed");
  });

  it("loads the rubric on retry after a failure", async () => {
    let fail = true;
    const w = await mountApp(() => {
      if (fail) throw envelope;
      return rubric;
    });
    fail = false;
    await w.get('[data-testid="rubric-retry"]').trigger("click");
    await flushPromises();
    // The retry replaces the error with the rubric rather than showing both.
    expect(w.find('[data-testid="rubric-error"]').exists()).toBe(false);
    expect(w.find('[data-testid="criterion-IQ-S1"]').exists()).toBe(true);
  });
});

describe("message catalogs", () => {
  /** Dotted paths of every leaf string, to compare the catalogs' shapes. */
  function keys(node: unknown, prefix = ""): string[] {
    if (typeof node !== "object" || node === null) return [prefix];
    return Object.entries(node).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
  }

  it("has the same keys in zh-CN and en", () => {
    // A key missing from one catalog would show the raw key (or the other language) to a user.
    expect(keys(messages.en).sort()).toEqual(keys(messages["zh-CN"]).sort());
  });
});
