//! The gold standard (7.3.1) in the UI: the view logic (a read as marks, what 我的质控 says of a
//! score, a dispute's reason, agreement figures as printed), the 金标准 screen against the
//! mocked shell (who gets it, a blind read by keyboard, a third read with 甲 and 乙, errors with
//! their code) and 我的质控's gold marks and dispute (申诉).

import { afterEach, describe, expect, it } from "vitest";
import { flushPromises, type VueWrapper } from "@vue/test-utils";
import { clearMocks } from "@tauri-apps/api/mocks";
import { byId, mountApp } from "./support/app";
import { argsOf, engine, records, rubric, staff, type Handler } from "./support/shell";
import {
  decimals3,
  disputeReason,
  draftOfRead,
  examViewOf,
  goldStatus,
  kappaShown,
  lean,
  livePreview,
  mayDispute,
  pairLabel,
  sameResult,
  sharePercent,
  signedDecimals3,
  siteStaffLabel,
} from "../src/gold";
import { toFindings } from "../src/draft";
import { formatDateTime } from "../src/format";
import type {
  BlindRead,
  DisputeInput,
  Findings,
  GoldExam,
  GoldReadInput,
  GoldReadRecord,
  GoldTaskView,
  KappaFigure,
  MyScore,
  RubricItem,
} from "../src/wire";

let wrapper: VueWrapper | undefined;
afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  clearMocks();
  document.body.innerHTML = "";
});

const [technologist, doctor, senior] = staff as [typeof staff[0], typeof staff[0], typeof staff[0]];
const IQ = rubric.items.find((i) => i.code === "IQ")! as RubricItem;
const AF = rubric.items.find((i) => i.code === "AF")! as RubricItem;

function goldExam(over: Partial<GoldExam> = {}): GoldExam {
  return {
    site: "CLINIC-07",
    accession: "CLINIC07-CT-0412",
    modality: "CT",
    exam_item: "CT胸部平扫",
    department: "放射科",
    patient_source: "outpatient",
    follow_up: false,
    patient_sex: "F",
    patient_age: 56,
    performed_at: "2026-11-29T09:00:00Z",
    staff: null,
    ...over,
  };
}

function blind(label: string, findings: string[], note = ""): BlindRead {
  const v = engine({ item: "IQ", findings });
  return { label, findings, not_applicable: [], score: v.score, grade: v.grade, pass: v.pass, note };
}

function task(over: Partial<GoldTaskView> = {}): GoldTaskView {
  return {
    case_id: "demo-gold-ct",
    task: "first",
    to: "D9",
    item: "IQ",
    rubric_version: rubric.version,
    exam: goldExam(),
    reads: [],
    assigned_at: "2026-12-01T20:00:00Z",
    rubric_item: IQ,
    read: null,
    ...over,
  };
}

/** What the store answers to a read: scored by the stand-in engine. */
function readRecord(input: GoldReadInput): GoldReadRecord {
  const v = engine({ item: "IQ", findings: input.findings, not_applicable: input.not_applicable ?? [] });
  return {
    id: "read-1",
    case_id: input.case_id,
    site: "DEMO-RAD",
    reader: "D9",
    task: input.task,
    item: "IQ",
    findings: input.findings,
    not_applicable: input.not_applicable ?? [],
    score: v.score,
    grade: v.grade,
    pass: v.pass,
    severe: v.severe,
    unmet: v.unmet,
    rubric_version: rubric.version,
    note: input.note ?? "",
    at: "2026-12-02T10:00:00Z",
  };
}

function myScore(over: Partial<MyScore> = {}): MyScore {
  const [record] = records({ accession: "CT1", mode: "random", items: [{ item: "IQ", findings: ["IQ-C1", "IQ-C2", "IQ-C3", "IQ-C4"], not_applicable: [], note: "" }] });
  return { ...record!, gold_case: null, replaced_by_gold: null, dispute: null, disputable_until: null, ...over };
}

const figure = (over: Partial<KappaFigure> = {}): KappaFigure => ({ cases: 4, agreed: 3, share: 0.75, kappa: 0.6154, kappa_undefined: null, ...over });

describe("gold view logic", () => {
  it("turns a saved read back into the panel's marks, and the marks into the same findings", () => {
    const read = { findings: ["IQ-S2", "IQ-C3"], not_applicable: ["IQ-C5"], note: "伪影" };
    const draft = draftOfRead(IQ, read);
    expect(draft.marks["IQ-S2"]).toEqual({ checked: true, notApplicable: false }); // severe: present
    expect(draft.marks["IQ-S1"]).toEqual({ checked: false, notApplicable: false });
    expect(draft.marks["IQ-C3"]).toEqual({ checked: false, notApplicable: false }); // compliance: unmet
    expect(draft.marks["IQ-C1"]).toEqual({ checked: true, notApplicable: false });
    expect(draft.marks["IQ-C5"]!.notApplicable).toBe(true);
    expect(draft.note).toBe("伪影");
    expect(toFindings(IQ, draft)).toEqual({ item: "IQ", findings: ["IQ-S2", "IQ-C3"], not_applicable: ["IQ-C5"] });
  });

  it("shows the exam without staff when the region hides names", () => {
    expect(examViewOf(goldExam()).staff).toEqual({});
    expect(examViewOf(goldExam({ staff: { technologist: "A3" } })).staff).toEqual({ technologist: "A3" });
  });

  it("scores live only an unsaved read under the app's current rubric version", () => {
    expect(livePreview(task(), rubric)).toBe(true);
    expect(livePreview(task({ rubric_version: "2025.9" }), rubric)).toBe(false);
    expect(livePreview(task({ read: readRecord({ case_id: "c", task: "first", findings: [] }) }), rubric)).toBe(false);
  });

  it("says what the gold standard did to a score", () => {
    const replaced = myScore({
      superseded_by: "gold-1",
      replaced_by_gold: { case_id: "demo-gold-iq", evaluation_id: "gold-1", score: 4, grade: "good", pass: true, closed_at: "2026-12-01T00:00:00Z" },
    });
    expect(goldStatus(replaced)).toMatchObject({ kind: "replaced", from: { score: 2 }, to: { score: 4 }, changed: true, caseId: "demo-gold-iq" });
    const kept = myScore({ replaced_by_gold: { case_id: "c", evaluation_id: "g", score: 2, grade: "fail", pass: false, closed_at: "2026-12-01T00:00:00Z" } });
    expect(goldStatus(kept)).toMatchObject({ kind: "replaced", changed: false });
    expect(goldStatus(myScore({ mode: "gold", gold_case: "demo-gold-iq" }))).toEqual({ kind: "gold", caseId: "demo-gold-iq" });
    const dispute = { id: "d", site: "DEMO-RAD", evaluation_id: "ev-0", by: "A1", reason: "体位正确", at: "2026-12-02T08:00:00Z" };
    expect(goldStatus(myScore({ dispute }))).toEqual({ kind: "disputed", reason: "体位正确", at: dispute.at });
    expect(goldStatus(myScore())).toBeNull();
    // A plain evaluation list (no gold fields at all) has none.
    expect(goldStatus(records({ accession: "CT1", mode: "random", items: [{ item: "IQ", findings: [] }] })[0] as MyScore)).toBeNull();
  });

  it("compares AF results by verdict, scored items by score", () => {
    expect(sameResult({ score: null, grade: "pass", pass: true }, { score: null, grade: "fail", pass: false })).toBe(false);
    expect(sameResult({ score: null, grade: "pass", pass: true }, { score: null, grade: "pass", pass: true })).toBe(true);
    expect(sameResult({ score: 3, grade: "pass", pass: true }, { score: 4, grade: "good", pass: true })).toBe(false);
  });

  it("offers a dispute only before its deadline and before one was made", () => {
    const now = new Date("2026-12-02T12:00:00Z");
    expect(mayDispute(myScore({ disputable_until: "2026-12-09T00:00:00Z" }), now)).toBe(true);
    expect(mayDispute(myScore({ disputable_until: "2026-12-01T00:00:00Z" }), now)).toBe(false);
    expect(mayDispute(myScore(), now)).toBe(false);
    const dispute = { id: "d", site: "DEMO-RAD", evaluation_id: "ev-0", by: "A1", reason: "x", at: "2026-12-02T08:00:00Z" };
    expect(mayDispute(myScore({ disputable_until: "2026-12-09T00:00:00Z", dispute }), now)).toBe(false);
  });

  it.each([
    ["", { ok: false, why: "empty" }],
    ["   \n ", { ok: false, why: "empty" }],
    [" 体位正确 ", { ok: true, reason: "体位正确" }],
    ["字".repeat(2000), { ok: true, reason: "字".repeat(2000) }],
    ["字".repeat(2001), { ok: false, why: "tooLong" }],
    // Characters, not UTF-16 units: 2000 characters outside the BMP are still 2000.
    ["𠀀".repeat(2000), { ok: true, reason: "𠀀".repeat(2000) }],
  ])("checks a dispute's reason %#", (text, expected) => {
    expect(disputeReason(text)).toEqual(expected);
  });

  it("prints agreement figures with three decimals and an undefined kappa as undefined", () => {
    expect(kappaShown(figure())).toEqual({ value: "0.615" });
    expect(kappaShown(figure({ kappa: 1 }))).toEqual({ value: "1.000" });
    expect(kappaShown(figure({ kappa: -0.00001 }))).toEqual({ value: "0.000" });
    // No variance: never 1 or 0, whatever the share.
    expect(kappaShown(figure({ cases: 1, agreed: 1, share: 1, kappa: null, kappa_undefined: "no_variance" }))).toEqual({ undefined: "no_variance" });
    expect(kappaShown(figure({ cases: 0, agreed: 0, share: null, kappa: null, kappa_undefined: "no_cases" }))).toEqual({ undefined: "no_cases" });
    expect(sharePercent(figure())).toBe("75.0");
    expect(sharePercent(figure({ share: 2 / 3 }))).toBe("66.7");
    expect(sharePercent(figure({ share: null }))).toBe("—");
    expect(decimals3(-0.0004)).toBe("0.000");
    expect(signedDecimals3(0.5)).toBe("+0.500");
    expect(signedDecimals3(-1.25)).toBe("-1.250");
    expect(signedDecimals3(null)).toBe("—");
    expect([lean(0.5), lean(-2), lean(0), lean(null)]).toEqual(["milder", "harsher", "even", null]);
  });

  it("names people of this site in agreement keys, and leaves other sites' codes alone", () => {
    const names = { D9: "吴强", R1: "本站的 R1" };
    expect(siteStaffLabel("DEMO-RAD/D9", "DEMO-RAD", names)).toBe("吴强 (D9)");
    expect(siteStaffLabel("CLINIC-07/R1", "DEMO-RAD", names)).toBe("CLINIC-07/R1");
    expect(pairLabel("CLINIC-07/R1 × DEMO-RAD/D9", "DEMO-RAD", names)).toBe("CLINIC-07/R1 × 吴强 (D9)");
  });
});

const scoring: Record<string, Handler> = { preview_score: (a) => engine(a.findings as Findings) };

async function openGold(w: VueWrapper) {
  await byId(w, "nav-gold").trigger("click");
  await flushPromises();
}

function key(target: EventTarget, init: KeyboardEventInit) {
  target.dispatchEvent(new KeyboardEvent("keydown", { bubbles: true, cancelable: true, ...init }));
}

describe("金标准 screen", () => {
  it("is in the header only for gold readers", async () => {
    ({ w: wrapper } = await mountApp(doctor));
    expect(wrapper.find('[data-testid="nav-gold"]').exists()).toBe(false);
    wrapper.unmount();
    ({ w: wrapper } = await mountApp(senior, { gold_tasks: () => [] }));
    expect(byId(wrapper, "nav-gold").text()).toBe("金标准");
    await openGold(wrapper);
    expect(byId(wrapper, "gold-empty").text()).toBe("暂无金标准任务");
  });

  it("appears once a gold reader signs in: the shell's session says so for the person signed in", async () => {
    const { w, calls } = await mountApp(null, { sign_in: () => senior, gold_tasks: () => [] });
    wrapper = w;
    expect(w.find('[data-testid="nav-gold"]').exists()).toBe(false);
    await byId(w, "roster-D9").trigger("click");
    await flushPromises();
    await byId(w, "sign-in-secret").setValue("radqc-demo");
    await byId(w, "sign-in-secret-form").trigger("submit");
    await flushPromises();
    // Asked again after the sign-in: signed out, nobody reads gold cases.
    expect(calls.filter((c) => c.cmd === "session").length).toBeGreaterThanOrEqual(2);
    expect(w.find('[data-testid="nav-gold"]').exists()).toBe(true);
  });

  it("lists the tasks with their read, exam, item, time and status", async () => {
    const saved = readRecord({ case_id: "demo-gold-dr", task: "third", findings: ["IQ-C1"] });
    const { w } = await mountApp(senior, {
      gold_tasks: () => [task(), task({ case_id: "demo-gold-dr", task: "third", exam: goldExam({ modality: "DR", accession: "DR-1" }), read: saved })],
    });
    wrapper = w;
    await openGold(w);
    const rows = w.findAll('[data-testid="gold-task-row"]');
    expect(rows.map((r) => r.attributes("data-status"))).toEqual(["waiting", "submitted"]);
    expect(rows[0]!.text()).toContain("第一读");
    expect(rows[0]!.text()).toContain("CLINIC07-CT-0412");
    expect(rows[0]!.text()).toContain("图像质量分析");
    expect(rows[0]!.text()).toContain("待读");
    expect(rows[1]!.text()).toContain("第三读（裁定）");
    expect(rows[1]!.text()).toContain("已提交 · 4 分 · 良好");
    expect(byId(w, "gold-count").text()).toBe("共 2 项任务，1 项待读");
  });

  it("reads a first task blind by keyboard: a digit unticks a criterion, Enter submits, the list says submitted", async () => {
    const { w, calls } = await mountApp(senior, {
      ...scoring,
      gold_tasks: () => [task()],
      save_gold_read: (a) => readRecord((a as { request: GoldReadInput }).request),
    });
    wrapper = w;
    await openGold(w);
    await byId(w, "gold-open-demo-gold-ct").trigger("click");
    await flushPromises();
    // Blind: no staff, and the panel says the name is hidden.
    expect(byId(w, "exam-blind").text()).toBe("已隐去被评人姓名");
    expect(byId(w, "person-IQ").text()).toContain("已隐去");
    expect(w.find('[data-testid="gold-blind-reads"]').exists()).toBe(false);
    expect(document.activeElement).toBe(byId(w, "gold-save").element);
    await new Promise((r) => setTimeout(r, 80));
    await flushPromises();
    expect(byId(w, "verdict-IQ").text()).toBe("5 分 · 优秀");

    // IQ's criteria in panel order: S1-S3 then C1-C5, so 4 is IQ-C1 (met → unmet).
    key(document.activeElement!, { key: "4", code: "Digit4" });
    await new Promise((r) => setTimeout(r, 80));
    await flushPromises();
    expect(byId(w, "verdict-IQ").text()).toBe("4 分 · 良好");
    key(document.activeElement!, { key: "Enter" });
    await flushPromises();
    expect(argsOf<{ request: GoldReadInput }>(calls, "save_gold_read")).toEqual([
      { request: { case_id: "demo-gold-ct", task: "first", findings: ["IQ-C1"], not_applicable: [], note: "" } },
    ]);
    expect(byId(w, "gold-saved").text()).toContain("已提交：4 分 · 良好");
    expect(byId(w, "gold-panel").attributes("data-state")).toBe("saved");
    // A saved read is not changed: the digit and Enter do nothing more.
    key(document.body, { key: "4", code: "Digit4" });
    key(document.body, { key: "Enter" });
    await flushPromises();
    expect(argsOf(calls, "save_gold_read")).toHaveLength(1);
    expect((byId(w, "crit-IQ-C1-check").element as HTMLInputElement).disabled).toBe(true);

    expect(document.activeElement).toBe(byId(w, "gold-back").element);
    await byId(w, "gold-back").trigger("click");
    await flushPromises();
    expect(byId(w, "gold-task-row").attributes("data-status")).toBe("submitted");
    expect(document.activeElement).toBe(byId(w, "gold-open-demo-gold-ct").element);
  });

  it("shows a third reader the two blind reads 甲 and 乙 side by side, without names", async () => {
    const third = task({
      case_id: "demo-gold-dr",
      task: "third",
      reads: [blind("甲", ["IQ-C2"]), blind("乙", ["IQ-C1", "IQ-C5"], "对比度不足")],
    });
    const { w } = await mountApp(senior, { ...scoring, gold_tasks: () => [third] });
    wrapper = w;
    await openGold(w);
    await byId(w, "gold-open-demo-gold-dr").trigger("click");
    await flushPromises();
    expect(byId(w, "gold-panel-task").text()).toBe("第三读（裁定）");
    const a = byId(w, "gold-blind-read-0");
    const b = byId(w, "gold-blind-read-1");
    expect([a.attributes("data-label"), b.attributes("data-label")]).toEqual(["甲", "乙"]);
    expect(byId(w, "gold-blind-read-0-score").text()).toBe("4 分 · 良好");
    expect(byId(w, "gold-blind-read-1-score").text()).toBe("3 分 · 合格");
    expect(b.text()).toContain("IQ-C5");
    expect(byId(w, "gold-blind-read-1-note").text()).toBe("对比度不足");
    expect(byId(w, "gold-blind-read-0-note").text()).toBe("（无）");
    // Never a reader's name: only the labels.
    for (const s of staff) expect(byId(w, "gold-blind-reads").text()).not.toContain(s.name);
  });

  it("computes no live score under another rubric version, and shows the shell's error with its code", async () => {
    const { w, calls } = await mountApp(senior, {
      ...scoring,
      gold_tasks: () => [task({ rubric_version: "2025.9" })],
      save_gold_read: () => Promise.reject({ code: "GOLD_CASE_CLOSED", message_zh: "该金标准病例已结案", message_en: "the gold-standard case is closed" }),
    });
    wrapper = w;
    await openGold(w);
    await byId(w, "gold-open-demo-gold-ct").trigger("click");
    await new Promise((r) => setTimeout(r, 80));
    await flushPromises();
    expect(argsOf(calls, "preview_score")).toEqual([]);
    expect(byId(w, "verdict-IQ").text()).toBe("提交后计分");
    await byId(w, "gold-save").trigger("click");
    await flushPromises();
    expect(byId(w, "panel-error").attributes("data-code")).toBe("GOLD_CASE_CLOSED");
    expect(byId(w, "panel-error").text()).toContain("该金标准病例已结案");
    expect(byId(w, "panel-error").text()).toContain("GOLD_CASE_CLOSED");
    expect(byId(w, "gold-panel").attributes("data-state")).toBe("editing");
    expect(document.activeElement).toBe(byId(w, "gold-save").element);
  });

  it("shows the person scored when the region does not hide names", async () => {
    const { w } = await mountApp(senior, { ...scoring, gold_tasks: () => [task({ exam: goldExam({ staff: { technologist: "A1" } }) })] });
    wrapper = w;
    await openGold(w);
    await byId(w, "gold-open-demo-gold-ct").trigger("click");
    await flushPromises();
    expect(w.find('[data-testid="exam-blind"]').exists()).toBe(false);
    expect(byId(w, "person-IQ-name").text()).toBe("王磊 (A1)");
  });

  it("says why the tasks could not be read", async () => {
    const { w } = await mountApp(senior, {
      gold_tasks: () => Promise.reject({ code: "NOT_PERMITTED", message_zh: "只有以下角色可以做金标准复核：高级职称医师", message_en: "only these roles read gold-standard cases: senior_radiologist" }),
    });
    wrapper = w;
    await openGold(w);
    expect(byId(w, "gold-error").attributes("data-code")).toBe("NOT_PERMITTED");
    expect(byId(w, "gold-error").text()).toContain("高级职称医师");
  });
});

describe("我的质控 and the gold standard", () => {
  it("tags the score a gold result replaced with the change, and the gold result itself", async () => {
    const original = myScore({
      id: "ev-orig",
      superseded_by: "gold-1",
      replaced_by_gold: { case_id: "demo-gold-iq", evaluation_id: "gold-1", score: 4, grade: "good", pass: true, closed_at: "2026-12-01T00:00:00Z" },
    });
    const gold = myScore({ id: "gold-1", mode: "gold", reviewer: "D9", score: 4, grade: "good", pass: true, gold_case: "demo-gold-iq", at: "2026-12-01T00:00:00Z" });
    const { w } = await mountApp(technologist, { my_scores: () => [original, gold], my_notices: () => [] });
    wrapper = w;
    await byId(w, "nav-mine").trigger("click");
    await flushPromises();
    expect(byId(w, "mine-gold-replaced").text()).toBe("金标准复核：原 2 分 → 4 分");
    expect(byId(w, "mine-gold-result").text()).toBe("金标准结果");
    expect(w.find('[data-testid="mine-dispute"]').exists()).toBe(false);
  });

  it("disputes a failed score with a required reason; the row then says 申诉中", async () => {
    let disputed: MyScore["dispute"] = null;
    const failed = () => myScore({ id: "ev-9", disputable_until: disputed ? null : "2099-12-09T00:00:00Z", dispute: disputed });
    const { w, calls } = await mountApp(doctor, {
      my_scores: () => [failed()],
      my_notices: () => [],
      dispute_evaluation: (a) => {
        const request = (a as { request: DisputeInput }).request;
        disputed = { id: "d-1", site: "DEMO-RAD", evaluation_id: request.evaluation_id, by: "D1", reason: request.reason, at: "2026-12-02T10:00:00Z" };
        return disputed;
      },
    });
    wrapper = w;
    await byId(w, "nav-mine").trigger("click");
    await flushPromises();
    expect(byId(w, "mine-dispute-until").text()).toBe(`截止 ${formatDateTime("2099-12-09T00:00:00Z")}`);
    await byId(w, "mine-dispute").trigger("click");
    await flushPromises();
    await new Promise((r) => setTimeout(r, 100)); // the dialog's opening transition
    await flushPromises();
    const send = document.querySelector<HTMLButtonElement>('[data-testid="dispute-send"]')!;
    expect(send.disabled).toBe(true); // no reason yet
    const reason = document.querySelector<HTMLTextAreaElement>('[data-testid="dispute-dialog"] textarea')!;
    expect(document.activeElement).toBe(reason);
    // Ctrl+Enter on an empty reason says why nothing was sent.
    key(reason, { key: "Enter", ctrlKey: true });
    await flushPromises();
    expect(document.querySelector('[data-testid="dispute-invalid"]')!.textContent).toContain("请填写申诉理由");
    expect(argsOf(calls, "dispute_evaluation")).toEqual([]);
    reason.value = "  摆位符合要求，伪影来自患者移动  ";
    reason.dispatchEvent(new Event("input"));
    await flushPromises();
    expect(send.disabled).toBe(false);
    key(reason, { key: "Enter", ctrlKey: true });
    await flushPromises();
    expect(argsOf<{ request: DisputeInput }>(calls, "dispute_evaluation")).toEqual([
      { request: { evaluation_id: "ev-9", reason: "摆位符合要求，伪影来自患者移动" } },
    ]);
    expect(byId(w, "mine-dispute-done").text()).toContain("CT1");
    expect(byId(w, "mine-disputed").text()).toBe("申诉中");
    expect(w.find('[data-testid="mine-dispute"]').exists()).toBe(false);
  });

  it("shows a refused dispute's code in the dialog and keeps the reason", async () => {
    const { w } = await mountApp(doctor, {
      my_scores: () => [myScore({ disputable_until: "2099-12-09T00:00:00Z" })],
      my_notices: () => [],
      dispute_evaluation: () => Promise.reject({ code: "DISPUTE_WINDOW_CLOSED", message_zh: "申诉期已过", message_en: "the dispute window has closed" }),
    });
    wrapper = w;
    await byId(w, "nav-mine").trigger("click");
    await flushPromises();
    await byId(w, "mine-dispute").trigger("click");
    await flushPromises();
    const reason = document.querySelector<HTMLTextAreaElement>('[data-testid="dispute-dialog"] textarea')!;
    reason.value = "理由";
    reason.dispatchEvent(new Event("input"));
    await flushPromises();
    document.querySelector<HTMLButtonElement>('[data-testid="dispute-send"]')!.click();
    await flushPromises();
    const error = document.querySelector('[data-testid="dispute-error"]')!;
    expect(error.getAttribute("data-code")).toBe("DISPUTE_WINDOW_CLOSED");
    expect(error.textContent).toContain("申诉期已过");
    expect(reason.value).toBe("理由");
  });

  it("marks a gold outcome notice as such", async () => {
    const { w } = await mountApp(technologist, {
      my_scores: () => [],
      my_notices: () => [
        { cursor: 7, notice_id: null, kind: "gold_outcome", to: "A1", also_to: [], text: "您对检查 CT1 的申诉已复核：金标准结果 4 分。", published_at: "2026-12-02T08:00:00Z", open: false },
      ],
    });
    wrapper = w;
    await byId(w, "nav-mine").trigger("click");
    await flushPromises();
    expect(byId(w, "mine-notice").attributes("data-kind")).toBe("gold_outcome");
    expect(byId(w, "mine-notice-gold").text()).toBe("金标准结果");
    expect(byId(w, "mine-notice").text()).toContain("金标准结果 4 分");
  });
});

// AF's application-form verdicts read as 合格 / 不合格 in a blind read too.
describe("blind reads of the application form", () => {
  it("show the verdict, not a score", async () => {
    const read: BlindRead = { label: "甲", findings: ["AF-2"], not_applicable: [], score: null, grade: "fail", pass: false, note: "" };
    const { w } = await mountApp(senior, {
      ...scoring,
      gold_tasks: () => [task({ item: "AF", rubric_item: AF, task: "third", reads: [read, { ...read, label: "乙", findings: [], grade: "pass", pass: true }] })],
    });
    wrapper = w;
    await openGold(w);
    await byId(w, "gold-open-demo-gold-ct").trigger("click");
    await flushPromises();
    expect(byId(w, "gold-blind-read-0-score").text()).toBe("不合格");
    expect(byId(w, "gold-blind-read-1-score").text()).toBe("合格");
    expect(byId(w, "gold-blind-read-1").text()).toContain("全部符合，无扣分");
  });
});
