//! Sign-in and the header: the roster with roles in Chinese, who is signed in, DEMO, sign-out.

import { afterEach, describe, expect, it } from "vitest";
import { flushPromises, type VueWrapper } from "@vue/test-utils";
import { clearMocks } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { byId, mountApp } from "./support/app";
import { argsOf, gate, staff } from "./support/shell";

let wrapper: VueWrapper | undefined;

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  clearMocks();
});

describe("sign-in", () => {
  it("lists the roster with names, codes and roles in Chinese", async () => {
    const { w } = await mountApp(null);
    wrapper = w;
    const d9 = byId(w, "roster-D9").text();
    expect(d9).toContain("吴强");
    expect(d9).toContain("D9");
    // Roles are UI vocabulary, translated; a raw `auditing_doctor` would be a missing key.
    expect(d9).toContain("审核医生");
    expect(d9).toContain("高级职称医师");
    expect(w.findAll('[data-testid^="roster-"]')).toHaveLength(staff.length);
  });

  it("signs in the person picked and shows them, the site and DEMO in the header", async () => {
    const d1 = staff[1]!;
    const { w, calls } = await mountApp(null, { sign_in: () => d1 });
    wrapper = w;
    expect(w.find('[data-testid="header-user"]').exists()).toBe(false);
    await byId(w, "roster-D1").trigger("click");
    await flushPromises();
    expect(argsOf(calls, "sign_in")).toEqual([{ code: "D1" }]);
    expect(byId(w, "header-user").text()).toBe("赵敏（D1）");
    expect(byId(w, "header-site").text()).toContain("DEMO-RAD");
    // A demo database must never pass for the real one.
    expect(byId(w, "demo-badge").text()).toBe("演示数据");
    expect(byId(w, "app-shell").attributes("data-screen")).toBe("active");
  });

  it("filters the roster, and Enter signs in the only match", async () => {
    const { w, calls } = await mountApp(null, { sign_in: () => staff[3] });
    wrapper = w;
    await byId(w, "sign-in-filter").setValue("q1");
    expect(w.findAll('[data-testid^="roster-"]').map((e) => e.attributes("data-testid"))).toEqual(["roster-Q1"]);
    await byId(w, "sign-in-filter").trigger("keydown", { key: "Enter" });
    await flushPromises();
    expect(argsOf(calls, "sign_in")).toEqual([{ code: "Q1" }]);
  });

  it("shows the shell's refusal by code", async () => {
    const { w } = await mountApp(null, {
      sign_in: () => Promise.reject({ code: "UNKNOWN_STAFF", message_zh: "无此人员", message_en: "unknown staff" }),
    });
    wrapper = w;
    await byId(w, "roster-A1").trigger("click");
    await flushPromises();
    expect(byId(w, "sign-in-error").text()).toContain("UNKNOWN_STAFF");
    expect(byId(w, "sign-in-error").text()).toContain("无此人员");
    expect(w.find('[data-testid="header-user"]').exists()).toBe(false);
  });

  it("says when signatures are waiting for a score, also those sampled while signed out", async () => {
    let held = [gate("g-1"), gate("g-2")];
    const { w } = await mountApp(null, { pending_gates: () => held });
    wrapper = w;
    expect(byId(w, "sign-in-held").text()).toContain("2");
    held = [...held, gate("g-3")];
    await emit("gate-requested", gate("g-3"));
    await flushPromises();
    expect(byId(w, "sign-in-held").text()).toContain("3");
  });

  it("signs out back to the sign-in screen", async () => {
    const { w, calls } = await mountApp(staff[1]!, { sign_out: () => null });
    wrapper = w;
    expect(byId(w, "header-user").text()).toContain("赵敏");
    await byId(w, "sign-out").trigger("click");
    await flushPromises();
    expect(argsOf(calls, "sign_out")).toHaveLength(1);
    expect(w.find('[data-testid="header-user"]').exists()).toBe(false);
    expect(w.find('[data-testid="sign-in"]').exists()).toBe(true);
  });

  it("shows no DEMO badge on a real database", async () => {
    const { w } = await mountApp(staff[1]!, {
      session: () => ({ site: "NJGL", device_id: "d", demo: false, user: staff[1], gate_url: "" }),
    });
    wrapper = w;
    expect(w.find('[data-testid="demo-badge"]').exists()).toBe(false);
  });
});
