//! The screens around the panel: active QC, the centralized queue, my QC and sync.

import { afterEach, describe, expect, it } from "vitest";
import { flushPromises, type VueWrapper } from "@vue/test-utils";
import { clearMocks } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { byId, mountApp } from "./support/app";
import { argsOf, engine, exam, records, staff, type Handler } from "./support/shell";
import type { FindExams, ExamView, Findings, PanelSave, SyncView } from "../src/wire";

let wrapper: VueWrapper | undefined;

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  clearMocks();
});

const [technologist, doctor, , qcOfficer] = staff as [typeof staff[0], typeof staff[0], typeof staff[0], typeof staff[0]];
const scoring: Record<string, Handler> = {
  preview_score: (a) => engine(a.findings as Findings),
  save_evaluations: (a) => records(a.request as PanelSave),
};

async function open(w: VueWrapper, screen: string) {
  await byId(w, `nav-${screen}`).trigger("click");
  await flushPromises();
}

describe("active QC", () => {
  it("opens an exam by accession with the items the user may score, and saves in mode active", async () => {
    const { w, calls } = await mountApp(doctor, {
      ...scoring,
      exam_detail: () => ({ exam: exam("CT7", { site: "CLINIC-2" }), evaluations: [] }),
      scorable_items: () => ["IQ", "FL"],
    });
    wrapper = w;
    await byId(w, "active-accession").setValue(" CT7 ");
    await byId(w, "active-search").trigger("submit");
    await flushPromises();
    expect(argsOf(calls, "exam_detail")).toEqual([{ accession: "CT7" }]);
    // Items are asked for the exam's own site: a center reader scores clinic exams.
    expect(argsOf(calls, "scorable_items")).toEqual([{ accession: "CT7", site: "CLINIC-2" }]);
    await byId(w, "panel-save").trigger("keydown", { key: "Enter" });
    await flushPromises();
    const [saved] = argsOf<{ request: PanelSave }>(calls, "save_evaluations");
    expect(saved!.request).toMatchObject({ accession: "CT7", site: "CLINIC-2", mode: "active" });
    expect(saved!.request.gate_id).toBeUndefined();
    expect(byId(w, "active-saved").text()).toContain("2");
  });

  it("shows a technologist only the items the shell lets them score", async () => {
    const { w } = await mountApp(technologist, {
      ...scoring,
      exam_detail: () => ({ exam: exam("CT7"), evaluations: [] }),
      scorable_items: () => ["AF"],
    });
    wrapper = w;
    await byId(w, "active-accession").setValue("CT7");
    await byId(w, "active-search").trigger("submit");
    await flushPromises();
    expect(w.findAll('[data-testid^="panel-item-"][data-current]').map((e) => e.attributes("data-testid"))).toEqual([
      "panel-item-AF",
    ]);
  });

  it("opens the exam of a radqc:// link the shell passes on", async () => {
    const { w, calls } = await mountApp(doctor, {
      ...scoring,
      exam_detail: () => ({ exam: exam("MR5"), evaluations: [] }),
      scorable_items: () => ["IQ"],
    });
    wrapper = w;
    await open(w, "sync");
    await emit("open-exam", { accession: "MR5" });
    await flushPromises();
    expect(byId(w, "app-shell").attributes("data-screen")).toBe("active");
    expect(argsOf(calls, "exam_detail")).toEqual([{ accession: "MR5" }]);
    expect(byId(w, "exam-accession").text()).toBe("MR5");
  });

  it("says so when the exam is unknown", async () => {
    const { w } = await mountApp(doctor, {
      exam_detail: () => Promise.reject({ code: "UNKNOWN_EXAM", message_zh: "无此检查", message_en: "no such exam" }),
    });
    wrapper = w;
    await byId(w, "active-accession").setValue("XX");
    await byId(w, "active-search").trigger("submit");
    await flushPromises();
    expect(byId(w, "active-error").attributes("data-code")).toBe("UNKNOWN_EXAM");
    expect(w.find('[data-testid="scoring-panel"]').exists()).toBe(false);
  });
});

describe("centralized QC", () => {
  const exams: ExamView[] = [exam("CT1"), exam("CT2"), exam("CT3")];

  async function searched(blind: boolean, handlers: Record<string, Handler> = {}) {
    const { w, calls } = await mountApp(qcOfficer, {
      ...scoring,
      find_exams: (a) => {
        const f = a.filter as FindExams;
        // The shell strips staff in blind review; so does this stand-in.
        return f.blind ? exams.map((e) => ({ ...e, staff: {} })) : exams;
      },
      scorable_items: () => ["IQ", "RQ"],
      ...handlers,
    });
    wrapper = w;
    await open(w, "centralized");
    await byId(w, "filter-modality").setValue("CT");
    await byId(w, "filter-staff").setValue("A1");
    if (blind) await byId(w, "filter-blind").setValue(true);
    await byId(w, "exam-filters").trigger("submit");
    await flushPromises();
    return { w, calls };
  }

  it("sends the filters the reviewer set, and not-yet-scored by default", async () => {
    const { w, calls } = await searched(false);
    const [{ filter }] = argsOf<{ filter: FindExams }>(calls, "find_exams") as [{ filter: FindExams }];
    expect(filter).toMatchObject({ modality: "CT", staff: "A1", evaluated: false, blind: false });
    expect(filter.from).toBeUndefined();
    expect(byId(w, "exam-count").text()).toContain("3");
    expect(byId(w, "exam-row-CT1").text()).toContain("王磊 (A1)");
  });

  it("in blind mode hides staff in the list and the panel, and never filters by a hidden person", async () => {
    const { w, calls } = await searched(true);
    const [{ filter }] = argsOf<{ filter: FindExams }>(calls, "find_exams") as [{ filter: FindExams }];
    expect(filter.blind).toBe(true);
    expect(filter.staff).toBeUndefined();
    expect(w.find('[data-testid="exam-technologist"]').exists()).toBe(false);
    await byId(w, "queue-start").trigger("click");
    await flushPromises();
    expect(byId(w, "scoring-panel").attributes("data-blind")).toBe("true");
    expect(w.find('[data-testid="person-IQ-name"]').exists()).toBe(false);
    expect(w.find('[data-testid="exam-blind"]').exists()).toBe(true);
  });

  it("works through the queue one exam at a time with a progress count, saving or skipping", async () => {
    const { w, calls } = await searched(false);
    await byId(w, "queue-start").trigger("click");
    await flushPromises();
    expect(byId(w, "queue-progress").text()).toBe("第 1 / 3 例");
    expect(byId(w, "exam-accession").text()).toBe("CT1");

    await byId(w, "panel-save").trigger("keydown", { key: "Enter" });
    await flushPromises();
    expect(byId(w, "queue-progress").text()).toBe("第 2 / 3 例");
    expect(byId(w, "exam-accession").text()).toBe("CT2");
    // The next exam's panel starts clean with Save focused: one Enter per clean exam.
    expect(document.activeElement).toBe(byId(w, "panel-save").element);

    await byId(w, "queue-skip").trigger("click");
    await flushPromises();
    expect(byId(w, "exam-accession").text()).toBe("CT3");
    await byId(w, "panel-save").trigger("keydown", { key: "Enter" });
    await flushPromises();

    const saved = argsOf<{ request: PanelSave }>(calls, "save_evaluations").map((a) => [a.request.accession, a.request.mode]);
    expect(saved).toEqual([
      ["CT1", "centralized"],
      ["CT3", "centralized"],
    ]);
    expect(argsOf(calls, "scorable_items")).toEqual([
      { accession: "CT1", site: "DEMO-RAD" },
      { accession: "CT2", site: "DEMO-RAD" },
      { accession: "CT3", site: "DEMO-RAD" },
    ]);
    expect(byId(w, "queue-done").text()).toContain("已评 2 例，跳过 1 例");
    // The list is searched again, so it shows what is left.
    expect(argsOf(calls, "find_exams")).toHaveLength(2);
  });

  it("starts the queue at a row the reviewer clicks", async () => {
    const { w } = await searched(false);
    await byId(w, "exam-open-CT2").trigger("click");
    await flushPromises();
    expect(byId(w, "queue-progress").text()).toBe("第 2 / 3 例");
  });

  it("puts the reviewer on Skip when an exam has nothing they may score", async () => {
    const { w } = await searched(false, { scorable_items: () => [] });
    await byId(w, "queue-start").trigger("click");
    await flushPromises();
    expect(w.find('[data-testid="panel-no-items"]').exists()).toBe(true);
    expect(document.activeElement).toBe(byId(w, "queue-skip").element);
  });
});

describe("navigation", () => {
  it("follows the shell's tray menu to a screen", async () => {
    const { w } = await mountApp(doctor, { sync_status: () => ({ center: null, last_sync_at: null, last_error: null, outbox: { pending: 0, sent: 0, rejected: 0 }, rejected: [] }) });
    wrapper = w;
    await emit("navigate", { route: "sync" });
    await flushPromises();
    expect(byId(w, "app-shell").attributes("data-screen")).toBe("sync");
    await emit("navigate", { route: "home" });
    await flushPromises();
    expect(byId(w, "app-shell").attributes("data-screen")).toBe("active");
  });

  it("keeps a half-scored panel when the reviewer looks at another screen and comes back", async () => {
    const { w, calls } = await mountApp(doctor, {
      ...scoring,
      exam_detail: () => ({ exam: exam("CT7"), evaluations: [] }),
      scorable_items: () => ["IQ"],
      my_scores: () => [],
      my_notices: () => [],
    });
    wrapper = w;
    await byId(w, "active-accession").setValue("CT7");
    await byId(w, "active-search").trigger("submit");
    await flushPromises();
    await byId(w, "crit-IQ-C3-check").setValue(false);
    await open(w, "mine");
    // Hidden, the panel must not answer shortcuts: Ctrl+Enter here saves nothing.
    document.body.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", ctrlKey: true, bubbles: true }));
    await flushPromises();
    expect(argsOf(calls, "save_evaluations")).toEqual([]);
    await open(w, "active");
    expect((byId(w, "crit-IQ-C3-check").element as HTMLInputElement).checked).toBe(false);
    expect(document.activeElement).toBe(byId(w, "panel-save").element);
  });
});

describe("my QC", () => {
  it("lists the scores of my work and my notices", async () => {
    const mine = records({
      accession: "CT1",
      mode: "random",
      items: [{ item: "IQ", findings: ["IQ-C2"], not_applicable: [], note: "体位不正" }],
    });
    const { w } = await mountApp(technologist, {
      my_scores: () => mine,
      my_notices: () => [{ cursor: 3, to: "A1", text: "请复核 CT1 的体位", published_at: "2026-11-03T08:00:00Z" }],
    });
    wrapper = w;
    await open(w, "mine");
    const row = byId(w, "mine-scores-row");
    expect(row.text()).toContain("图像质量分析");
    expect(row.text()).toContain("4 分 · 良好");
    expect(row.text()).toContain("IQ-C2");
    expect(row.text()).toContain("体位不正");
    expect(byId(w, "mine-notice").text()).toContain("请复核 CT1 的体位");
    expect(w.find('[data-testid="notice-correction"]').exists()).toBe(false);
  });

  it("records the correction that closes an open monitoring notice", async () => {
    let open_ = true;
    const { w, calls } = await mountApp(technologist, {
      my_scores: () => [],
      my_notices: () => [
        {
          cursor: 5,
          notice_id: "N-ev-1",
          kind: "failed_evaluation",
          to: "A1",
          also_to: ["H1"],
          text: "检查 CT1 的图像质量分析质控不合格（2分），请整改并记录整改措施。",
          published_at: "2026-11-03T08:00:00Z",
          open: open_,
        },
      ],
      close_notice: () => {
        open_ = false;
        return null;
      },
    });
    wrapper = w;
    await open(w, "mine");
    expect(byId(w, "mine-notice").attributes("data-open")).toBe("true");
    expect(byId(w, "notice-correction-submit").attributes("disabled")).toBeDefined();
    await byId(w, "notice-correction-text").setValue("已重新培训摆位");
    await byId(w, "notice-correction").trigger("submit");
    await flushPromises();
    expect(argsOf(calls, "close_notice")).toEqual([{ noticeId: "N-ev-1", correction: "已重新培训摆位" }]);
    expect(byId(w, "mine-notice").attributes("data-open")).toBe("false");
    expect(w.find('[data-testid="notice-correction"]').exists()).toBe(false);
  });
});

describe("sync", () => {
  const status: SyncView = {
    center: "https://center.example.cn",
    center_trust: "pinned",
    center_pin: "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    last_sync_at: "2026-11-02T08:00:00Z",
    last_error: null,
    outbox: { pending: 4, sent: 120, rejected: 1 },
    rejected: [{ seq: 17, kind: "evaluation", ref_id: "ev-17", reason: "SCORE_MISMATCH: score 4, center computes 3" }],
    copy: null,
  };

  it("shows the outbox counts and each rejected entry with its reason", async () => {
    const { w } = await mountApp(doctor, { sync_status: () => status });
    wrapper = w;
    await open(w, "sync");
    expect(byId(w, "sync-center").text()).toBe("https://center.example.cn");
    expect(byId(w, "sync-pending").text()).toBe("4");
    expect(byId(w, "sync-sent").text()).toBe("120");
    expect(byId(w, "sync-rejected").text()).toBe("1");
    expect(byId(w, "sync-rejected-row").text()).toContain("SCORE_MISMATCH");
    expect(w.find('[data-testid="enroll"]').exists()).toBe(false);
    expect(byId(w, "sync-trust").attributes("data-trust")).toBe("pinned");
    expect(byId(w, "sync-trust").text()).toContain("已核对指纹");
    expect(w.find('[data-testid="sync-insecure"]').exists()).toBe(false);
    expect(w.find('[data-testid="sync-not-pinned"]').exists()).toBe(false);
  });

  it("warns when the link to the center is plain HTTP over the network", async () => {
    const insecure: SyncView = { ...status, center: "http://10.8.0.2:8080", center_trust: "insecure_http", center_pin: null };
    const { w } = await mountApp(doctor, { sync_status: () => insecure });
    wrapper = w;
    await open(w, "sync");
    const warning = byId(w, "sync-insecure");
    expect(warning.text()).toContain("不安全");
    expect(warning.text()).toContain("http://10.8.0.2:8080");
    expect(byId(w, "sync-trust").attributes("data-trust")).toBe("insecure_http");
  });

  it("says plainly when the server at the center's address is not the pinned one", async () => {
    const { w } = await mountApp(doctor, {
      sync_status: () => status,
      sync_now: () => ({ outcome: "stopped", code: "CENTER_PIN_MISMATCH", message: "its key is sha256/AAAA" }),
    });
    wrapper = w;
    await open(w, "sync");
    await byId(w, "sync-now").trigger("click");
    await flushPromises();
    const text = byId(w, "sync-outcome").text();
    expect(text).toContain("指纹不符");
    expect(text).toContain("未发送");
    expect(text).toContain("sha256/AAAA");
  });

  it("says a store enrolled before pins were taken keeps syncing, not pinned", async () => {
    const old: SyncView = { ...status, center_trust: "not_pinned", center_pin: null };
    const { w } = await mountApp(doctor, { sync_status: () => old });
    wrapper = w;
    await open(w, "sync");
    expect(byId(w, "sync-not-pinned").text()).toContain("未核对");
    expect(w.find('[data-testid="sync-insecure"]').exists()).toBe(false);
  });

  it("syncs now and reports the outcome, then shows the new counts", async () => {
    let current = status;
    const { w, calls } = await mountApp(doctor, {
      sync_status: () => current,
      sync_now: () => {
        current = { ...status, outbox: { pending: 0, sent: 124, rejected: 1 } };
        return { outcome: "synced", pushed: 4, duplicates: 0, rejected: 0, pulled: 2 };
      },
    });
    wrapper = w;
    await open(w, "sync");
    await byId(w, "sync-now").trigger("click");
    await flushPromises();
    expect(argsOf(calls, "sync_now")).toHaveLength(1);
    expect(byId(w, "sync-outcome").text()).toContain("发送 4 条");
    expect(byId(w, "sync-pending").text()).toBe("0");
  });

  it("says in plain words when the store turned out to be a restored copy, and that nothing was lost", async () => {
    let current = status;
    const { w } = await mountApp(doctor, {
      sync_status: () => current,
      sync_now: () => {
        current = {
          ...status,
          copy: { why: "restored", was: "dev-old", device: "dev-new", at: "2026-11-03T01:00:00Z" },
        };
        return {
          outcome: "synced",
          pushed: 5,
          duplicates: 2,
          rejected: 0,
          pulled: 0,
          copy: { why: "restored", was: "dev-old", now: "dev-new", restored_evaluations: 7, restored_events: 3 },
        };
      },
    });
    wrapper = w;
    await open(w, "sync");
    expect(w.find('[data-testid="sync-copy"]').exists()).toBe(false);
    await byId(w, "sync-now").trigger("click");
    await flushPromises();
    const text = byId(w, "sync-outcome").text();
    expect(text).toContain("从备份恢复");
    expect(text).toContain("取回备份之后的 7 条评分和 3 条检查记录");
    expect(text).toContain("没有评分丢失");
    const copy = byId(w, "sync-copy");
    expect(copy.attributes("data-why")).toBe("restored");
    expect(copy.text()).toContain("新设备 dev-new");
    expect(copy.text()).toContain("原设备 dev-old");
  });

  it("offers enrollment by center URL and one-time code when not enrolled", async () => {
    let current: SyncView = {
      ...status,
      center: null,
      center_trust: null,
      center_pin: null,
      rejected: [],
      outbox: { pending: 2, sent: 0, rejected: 0 },
    };
    const { w, calls } = await mountApp(doctor, {
      sync_status: () => current,
      enroll: () => {
        current = { ...current, center: "http://center:8080", center_trust: "insecure_http" };
        return { device_id: "dev-9", site: "DEMO-RAD" };
      },
    });
    wrapper = w;
    await open(w, "sync");
    expect(byId(w, "sync-center").text()).toContain("尚未注册");
    expect(byId(w, "sync-now").attributes("disabled")).toBeDefined();
    await byId(w, "enroll-center").setValue("http://center:8080");
    await byId(w, "enroll-code").setValue("K7QM-3XPA-9TWE");
    await byId(w, "enroll-insecure-http").setValue(true);
    await byId(w, "enroll").trigger("submit");
    await flushPromises();
    expect(argsOf(calls, "enroll")).toEqual([
      { center: "http://center:8080", code: "K7QM-3XPA-9TWE", pin: null, insecureHttp: true },
    ]);
    expect(byId(w, "sync-enrolled").text()).toContain("dev-9");
    expect(w.find('[data-testid="enroll"]').exists()).toBe(false);
    expect(w.find('[data-testid="sync-insecure"]').exists()).toBe(true);
  });

  it("enrolls over HTTPS with the pin given apart from the code", async () => {
    const current: SyncView = { ...status, center: null, center_trust: null, center_pin: null, rejected: [] };
    const { w, calls } = await mountApp(doctor, {
      sync_status: () => current,
      enroll: () => ({ device_id: "dev-9", site: "DEMO-RAD" }),
    });
    wrapper = w;
    await open(w, "sync");
    await byId(w, "enroll-center").setValue("https://center.example.cn:8443");
    await byId(w, "enroll-code").setValue("K7QM-3XPA-9TWE");
    await byId(w, "enroll-pin").setValue(" sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= ");
    await byId(w, "enroll").trigger("submit");
    await flushPromises();
    expect(argsOf(calls, "enroll")).toEqual([
      {
        center: "https://center.example.cn:8443",
        code: "K7QM-3XPA-9TWE",
        pin: "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        insecureHttp: false,
      },
    ]);
  });

  it("turns starting with the workstation on and off through the shell", async () => {
    let on = false;
    const { w, calls } = await mountApp(doctor, {
      sync_status: () => status,
      autostart: () => on,
      set_autostart: (a) => {
        on = a.enabled as boolean;
        return on;
      },
    });
    wrapper = w;
    await open(w, "sync");
    const box = byId(w, "autostart");
    expect((box.element as HTMLInputElement).checked).toBe(false);
    await box.setValue(true);
    await flushPromises();
    expect(argsOf(calls, "set_autostart")).toEqual([{ enabled: true }]);
  });
});

describe("centralized QC by score", () => {
  it("sends the score filter instead of not-yet-scored", async () => {
    const { w, calls } = await mountApp(qcOfficer, { ...scoring, find_exams: () => [] });
    wrapper = w;
    await open(w, "centralized");
    await byId(w, "filter-score").setValue("2");
    await byId(w, "exam-filters").trigger("submit");
    await flushPromises();
    const [{ filter }] = argsOf<{ filter: FindExams }>(calls, "find_exams") as [{ filter: FindExams }];
    expect(filter.score).toBe(2);
    expect(filter.evaluated).toBeUndefined();
  });
});
