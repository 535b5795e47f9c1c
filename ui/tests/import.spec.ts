//! The 导入 screen against the mocked shell: who gets it, a file checked (the bad row listed
//! with its row number and reason), an import refused without skipping, imported with it, a
//! second import adding nothing, errors with their code, and the outcome logic itself.

import { afterEach, describe, expect, it, vi } from "vitest";
import { flushPromises, type VueWrapper } from "@vue/test-utils";
import { clearMocks } from "@tauri-apps/api/mocks";
import { byId, mountApp } from "./support/app";
import { argsOf, staff, worklistImporter } from "./support/shell";
import { importOutcome, readAsBase64 } from "../src/worklist";
import type { ImportReport, ImportRequest } from "../src/wire";

let wrapper: VueWrapper | undefined;
afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  clearMocks();
  document.body.innerHTML = "";
});

const technologist = staff.find((s) => s.code === "A1")!;
const officer = staff.find((s) => s.code === "Q1")!;

const CSV = `检查号,检查类型,检查部位,申请科室,病人来源,患者ID,性别,年龄,技师,检查时间,状态
IMP-1,CT,CT胸部平扫,呼吸内科,门诊,P000001,男,54,A2,2026-11-19 09:30,已检查
IMP-2,ct scan,CT头颅平扫,神经内科,急诊,P000002,女,61,A2,2026-11-19 10:00,已检查
IMP-3,DR,胸部正位,呼吸内科,住院,P000003,女,37,A1,2026-11-19 10:30,已检查
`;

async function choose(w: VueWrapper, name: string, text: string) {
  const input = byId(w, "import-file");
  const file = new File([text], name, { type: "text/csv" });
  Object.defineProperty(input.element, "files", { value: [file], configurable: true });
  await input.trigger("change");
}

/** Clicks `button` and waits for the file's read and the shell's answer. */
async function press(w: VueWrapper, button: string, expectCalls: () => number, n: number) {
  await byId(w, button).trigger(button === "import-run" ? "submit" : "click");
  await vi.waitFor(() => expect(expectCalls()).toBe(n));
  await flushPromises();
}

const summary = (w: VueWrapper) => {
  const s = byId(w, "import-summary");
  return [s.attributes("data-rows"), s.attributes("data-new"), s.attributes("data-unchanged"), s.attributes("data-bad")].map(Number);
};

describe("导入 screen", () => {
  it("is in the header for the roles that see the site, not for a technologist", async () => {
    ({ w: wrapper } = await mountApp(technologist));
    expect(wrapper.find('[data-testid="nav-import"]').exists()).toBe(false);
    wrapper.unmount();
    ({ w: wrapper } = await mountApp(officer));
    const tabs = wrapper.findAll(".app-nav__tab").map((b) => b.attributes("data-testid"));
    expect(tabs.indexOf("nav-import")).toBe(tabs.indexOf("nav-reports") + 1);
    expect(byId(wrapper, "nav-import").text()).toBe("导入");
  });

  it("checks a file, refuses to import its bad row, imports with skipping, and adds nothing the second time", async () => {
    const { w, calls } = await mountApp(officer, { import_worklist: worklistImporter() });
    wrapper = w;
    await byId(w, "nav-import").trigger("click");
    await flushPromises();
    expect(byId(w, "import-check").attributes("disabled")).toBeDefined();
    expect(byId(w, "import-file-name").text()).toBe("未选择文件");
    await choose(w, "登记表.csv", CSV);
    expect(byId(w, "import-file-name").text()).toBe("登记表.csv");
    const sent = () => argsOf<{ request: ImportRequest }>(calls, "import_worklist").length;

    await press(w, "import-check", sent, 1);
    expect(byId(w, "import-outcome").attributes("data-outcome")).toBe("checked");
    expect(summary(w)).toEqual([3, 2, 0, 1]);
    const bad = w.findAll('[data-testid="import-bad-row"]');
    expect(bad.map((r) => r.attributes("data-row"))).toEqual(["3"]);
    expect(bad[0]!.text()).toContain("检查类型");
    const first = argsOf<{ request: ImportRequest }>(calls, "import_worklist")[0]!.request;
    expect(first).toMatchObject({ file_name: "登记表.csv", dry_run: true, skip_bad: false });
    expect(new TextDecoder().decode(Uint8Array.from(atob(first.content_base64), (c) => c.charCodeAt(0)))).toBe(CSV);

    await press(w, "import-run", sent, 2);
    expect(byId(w, "import-outcome").attributes("data-outcome")).toBe("refused");
    expect(byId(w, "import-outcome").text()).toContain("未导入任何行");

    await byId(w, "import-skip-bad").setValue(true);
    await press(w, "import-run", sent, 3);
    expect(byId(w, "import-outcome").attributes("data-outcome")).toBe("imported");
    expect(byId(w, "import-outcome").text()).toContain("新增 2 行");
    expect(summary(w)).toEqual([3, 2, 0, 1]);

    await press(w, "import-run", sent, 4);
    expect(summary(w)).toEqual([3, 0, 2, 1]);
    expect(argsOf<{ request: ImportRequest }>(calls, "import_worklist")[3]!.request).toMatchObject({ dry_run: false, skip_bad: true });
  });

  it("shows the shell's refusal with its code", async () => {
    const refusal = { code: "INVALID_INPUT", message_zh: "输入有误（file_name）：w.pdf", message_en: "`file_name`: w.pdf" };
    const { w, calls } = await mountApp(officer, {
      import_worklist: () => {
        throw refusal;
      },
    });
    wrapper = w;
    await byId(w, "nav-import").trigger("click");
    await flushPromises();
    await choose(w, "w.pdf", "x");
    await press(w, "import-check", () => calls.filter((c) => c.cmd === "import_worklist").length, 1);
    const error = byId(w, "import-error");
    expect(error.attributes("data-code")).toBe("INVALID_INPUT");
    expect(error.text()).toContain("输入有误（file_name）");
    expect(w.find('[data-testid="import-summary"]').exists()).toBe(false);
  });
});

describe("import logic", () => {
  const report = (over: Partial<ImportReport>): ImportReport => ({ dry_run: false, rows: 2, new_rows: 1, unchanged: 0, bad: [], ...over });
  it("says whether the report is a check, an import or a refusal", () => {
    expect(importOutcome(report({ dry_run: true, bad: [{ row: 2, reason: "x", reason_zh: "x" }] }), false)).toBe("checked");
    expect(importOutcome(report({ bad: [{ row: 2, reason: "x", reason_zh: "x" }] }), false)).toBe("refused");
    expect(importOutcome(report({ bad: [{ row: 2, reason: "x", reason_zh: "x" }] }), true)).toBe("imported");
    expect(importOutcome(report({}), false)).toBe("imported");
  });

  it("reads a file's bytes as base64", async () => {
    const bytes = new Uint8Array([0xe6, 0xa3, 0x80, 0x00, 0xff]);
    expect(await readAsBase64(new Blob([bytes]))).toBe(btoa(String.fromCharCode(...bytes)));
  });
});
