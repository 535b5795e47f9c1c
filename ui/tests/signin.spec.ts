//! Sign-in and the header: the roster with roles in Chinese, a person's secret (refusals in
//! words, the forced change), who is signed in, DEMO, sign-out; the lock prompt and `touch`.

import { afterEach, describe, expect, it } from "vitest";
import { flushPromises, type VueWrapper } from "@vue/test-utils";
import { clearMocks } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { byId, mountApp } from "./support/app";
import {
  argsOf,
  changeRequired,
  DEMO_SECRET,
  engine,
  gate,
  lockedOut,
  session,
  sessionLockedError,
  staff,
  wrongSecret,
} from "./support/shell";
import type { Findings } from "../src/wire";

/** Picks `code` from the roster and types `secret` into the secret field. */
async function pickAndType(w: VueWrapper, code: string, secret: string) {
  await byId(w, `roster-${code}`).trigger("click");
  await flushPromises();
  await byId(w, "sign-in-secret").setValue(secret);
}

async function submit(w: VueWrapper, form = "sign-in-secret-form") {
  await byId(w, form).trigger("submit");
  await flushPromises();
}

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

  it("asks the person picked for their secret, then shows them, the site and DEMO in the header", async () => {
    const d1 = staff[1]!;
    const { w, calls } = await mountApp(null, { sign_in: () => d1 });
    wrapper = w;
    expect(w.find('[data-testid="header-user"]').exists()).toBe(false);
    await byId(w, "roster-D1").trigger("click");
    await flushPromises();
    expect(argsOf(calls, "sign_in")).toEqual([]);
    expect(byId(w, "sign-in-chosen").text()).toBe("赵敏（D1）");
    const field = byId(w, "sign-in-secret");
    expect(field.attributes("type")).toBe("password");
    expect(field.attributes("autocomplete")).toBe("current-password");
    expect(document.activeElement).toBe(field.element);
    // The demo says its secret; a real site never does.
    expect(byId(w, "sign-in-demo-secret").text()).toContain(DEMO_SECRET);
    await field.setValue(DEMO_SECRET);
    await submit(w);
    expect(argsOf(calls, "sign_in")).toEqual([{ code: "D1", secret: DEMO_SECRET }]);
    expect(byId(w, "header-user").text()).toBe("赵敏（D1）");
    expect(byId(w, "header-site").text()).toContain("DEMO-RAD");
    // A demo database must never pass for the real one.
    expect(byId(w, "demo-badge").text()).toBe("演示数据");
    expect(byId(w, "app-shell").attributes("data-screen")).toBe("active");
  });

  it("filters the roster, and Enter picks the only match, then Enter signs in", async () => {
    const { w, calls } = await mountApp(null, { sign_in: () => staff[3] });
    wrapper = w;
    expect(document.activeElement).toBe(byId(w, "sign-in-filter").element);
    await byId(w, "sign-in-filter").setValue("q1");
    expect(w.findAll('[data-testid^="roster-"]').map((e) => e.attributes("data-testid"))).toEqual(["roster-Q1"]);
    await byId(w, "sign-in-filter").trigger("keydown", { key: "Enter" });
    await flushPromises();
    expect(document.activeElement).toBe(byId(w, "sign-in-secret").element);
    await byId(w, "sign-in-secret").setValue(DEMO_SECRET);
    await submit(w);
    expect(argsOf(calls, "sign_in")).toEqual([{ code: "Q1", secret: DEMO_SECRET }]);
  });

  it("says a wrong secret in words, clears it and keeps the person; a lock-out too", async () => {
    let answer: unknown = wrongSecret(4);
    const { w } = await mountApp(null, { sign_in: () => Promise.reject(answer) });
    wrapper = w;
    await pickAndType(w, "A1", "wrong-one");
    await submit(w);
    const live = byId(w, "sign-in-live");
    expect(live.attributes("aria-live")).toBe("assertive");
    expect(live.text()).toContain("工号或密码错误，还可尝试 4 次");
    expect(byId(w, "sign-in-error").attributes("data-code")).toBe("SIGN_IN_FAILED");
    expect((byId(w, "sign-in-secret").element as HTMLInputElement).value).toBe("");
    expect(document.activeElement).toBe(byId(w, "sign-in-secret").element);
    expect(byId(w, "sign-in-chosen").text()).toContain("A1");

    answer = lockedOut;
    await byId(w, "sign-in-secret").setValue("wrong-again");
    await submit(w);
    expect(byId(w, "sign-in-error").text()).toContain("已在本工作站锁定，请 15 分钟后再试");
    expect(w.find('[data-testid="header-user"]').exists()).toBe(false);

    // In English, the envelope's English words.
    await byId(w, "lang-toggle").trigger("click");
    expect(byId(w, "sign-in-error").text()).toContain("locked at this workstation for 15 more minutes");
  });

  it("shows the shell's refusal by code, and goes back to the roster", async () => {
    const { w } = await mountApp(null, {
      sign_in: () => Promise.reject({ code: "UNKNOWN_STAFF", message_zh: "无此人员", message_en: "unknown staff" }),
    });
    wrapper = w;
    await pickAndType(w, "A1", "x");
    await submit(w);
    expect(byId(w, "sign-in-error").text()).toContain("UNKNOWN_STAFF");
    expect(byId(w, "sign-in-error").text()).toContain("无此人员");
    expect(w.find('[data-testid="header-user"]').exists()).toBe(false);
    await byId(w, "sign-in-back").trigger("click");
    await flushPromises();
    expect(w.find('[data-testid="sign-in-error"]').exists()).toBe(false);
    expect(document.activeElement).toBe(byId(w, "sign-in-filter").element);
  });

  it("asks for a new secret when the shell requires one, with the policy's rules", async () => {
    const d1 = staff[1]!;
    let weak = true;
    const { w, calls } = await mountApp(null, {
      sign_in: () => Promise.reject(changeRequired),
      change_secret: () =>
        weak
          ? Promise.reject({ code: "WEAK_SECRET", message_zh: "密码至少 8 位", message_en: "a secret has at least 8 characters" })
          : d1,
    });
    wrapper = w;
    await pickAndType(w, "D1", "Initial-1");
    await submit(w);
    expect(byId(w, "sign-in-change-why").text()).toContain("管理员设置的初始密码");
    expect((byId(w, "sign-in-current").element as HTMLInputElement).value).toBe("Initial-1");
    expect(byId(w, "sign-in-next").attributes("autocomplete")).toBe("new-password");
    expect(document.activeElement).toBe(byId(w, "sign-in-next").element);
    const rules = byId(w, "sign-in-policy").text();
    expect(rules).toContain("至少 8 位");
    expect(rules).toContain("不能是纯数字");
    expect(rules).toContain("有效期 90 天");

    // Two different new secrets: said here, the shell not asked.
    await byId(w, "sign-in-next").setValue("short");
    await byId(w, "sign-in-confirm").setValue("shorter");
    await submit(w, "sign-in-change-form");
    expect(byId(w, "sign-in-error").text()).toContain("两次输入的新密码不一致");
    expect(argsOf(calls, "change_secret")).toEqual([]);

    await byId(w, "sign-in-confirm").setValue("short");
    await submit(w, "sign-in-change-form");
    expect(byId(w, "sign-in-error").text()).toContain("密码至少 8 位");
    expect(byId(w, "sign-in-error").attributes("data-code")).toBe("WEAK_SECRET");

    weak = false;
    await byId(w, "sign-in-next").setValue("my-own-secret");
    await byId(w, "sign-in-confirm").setValue("my-own-secret");
    await submit(w, "sign-in-change-form");
    expect(argsOf(calls, "change_secret").at(-1)).toEqual({ code: "D1", current: "Initial-1", next: "my-own-secret" });
    expect(byId(w, "header-user").text()).toBe("赵敏（D1）");
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

  it("brings a held signing's panel up over the sign-in page: its signer scores it signed out", async () => {
    const { w } = await mountApp(null, {
      pending_gates: () => [gate("g-1")],
      preview_score: (a) => engine(a.findings as Findings),
    });
    wrapper = w;
    expect(byId(w, "gate-overlay").attributes("data-gate-id")).toBe("g-1");
    expect(byId(w, "app-shell").attributes("inert")).toBeDefined();
    expect(byId(w, "app-shell").attributes("data-screen")).toBe("signIn");
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
      session: () => ({ ...session(staff[1]), site: "NJGL", demo: false, demo_secret: null }),
    });
    wrapper = w;
    expect(w.find('[data-testid="demo-badge"]').exists()).toBe(false);
  });
});

describe("the lock prompt", () => {
  const d1 = staff[1]!;

  it("shows a session locked at start, names the person, and opens only with their secret", async () => {
    let right = false;
    const { w, calls } = await mountApp(d1, {
      session: () => ({ ...session(d1), locked: true }),
      unlock_session: () => (right ? d1 : Promise.reject(wrongSecret(4))),
    });
    wrapper = w;
    expect(byId(w, "lock-user").text()).toContain("赵敏（D1）");
    expect(byId(w, "app-shell").attributes("inert")).toBeDefined();
    const field = byId(w, "lock-secret");
    expect(field.attributes("type")).toBe("password");
    expect(document.activeElement).toBe(field.element);
    await field.setValue("wrong-one");
    await byId(w, "lock-screen").find("form").trigger("submit");
    await flushPromises();
    expect(byId(w, "lock-error").text()).toContain("还可尝试 4 次");
    expect(w.find('[data-testid="lock-screen"]').exists()).toBe(true);

    right = true;
    await byId(w, "lock-secret").setValue(DEMO_SECRET);
    await byId(w, "lock-screen").find("form").trigger("submit");
    await flushPromises();
    expect(argsOf(calls, "unlock_session").at(-1)).toEqual({ secret: DEMO_SECRET });
    expect(w.find('[data-testid="lock-screen"]').exists()).toBe(false);
    expect(byId(w, "app-shell").attributes("inert")).toBeUndefined();
  });

  it("comes up on the shell's session-locked event, and on 锁定 in the header", async () => {
    const { w, calls } = await mountApp(d1, { lock_session: () => null, sign_out: () => null });
    wrapper = w;
    expect(w.find('[data-testid="lock-screen"]').exists()).toBe(false);
    await emit("session-locked", { why: "idle" });
    await flushPromises();
    expect(w.find('[data-testid="lock-screen"]').exists()).toBe(true);

    // Switch user: signs out to the roster.
    await byId(w, "lock-switch-user").trigger("click");
    await flushPromises();
    expect(argsOf(calls, "sign_out")).toHaveLength(1);
    expect(w.find('[data-testid="lock-screen"]').exists()).toBe(false);
    expect(w.find('[data-testid="sign-in"]').exists()).toBe(true);
  });

  it("locks from the header button", async () => {
    const { w, calls } = await mountApp(d1, { lock_session: () => null });
    wrapper = w;
    expect(byId(w, "lock-session").text()).toBe("锁定");
    await byId(w, "lock-session").trigger("click");
    await flushPromises();
    expect(argsOf(calls, "lock_session")).toHaveLength(1);
    expect(byId(w, "lock-user").text()).toContain("赵敏");
  });

  it("comes up when a command answers SESSION_LOCKED", async () => {
    const { w } = await mountApp(d1, {
      my_scores: () => Promise.reject(sessionLockedError),
      my_notices: () => Promise.reject(sessionLockedError),
    });
    wrapper = w;
    await byId(w, "nav-mine").trigger("click");
    await flushPromises();
    expect(w.find('[data-testid="lock-screen"]').exists()).toBe(true);
  });

  it("keeps a held signing's panel over the lock prompt", async () => {
    const { w } = await mountApp(d1, {
      session: () => ({ ...session(d1), locked: true }),
      pending_gates: () => [gate("g-1")],
      preview_score: (a) => engine(a.findings as Findings),
    });
    wrapper = w;
    expect(byId(w, "lock-screen").attributes("inert")).toBeDefined();
    expect(byId(w, "gate-overlay").attributes("data-gate-id")).toBe("g-1");
    expect(document.activeElement).toBe(byId(w, "panel-save").element);
  });

  it("touches the shell on activity, at most once per 5 s, and not while locked", async () => {
    const { w, calls } = await mountApp(d1);
    wrapper = w;
    const before = argsOf(calls, "touch").length;
    window.dispatchEvent(new KeyboardEvent("keydown", { key: "a" }));
    window.dispatchEvent(new MouseEvent("mousemove"));
    window.dispatchEvent(new WheelEvent("wheel"));
    await flushPromises();
    expect(argsOf(calls, "touch").length - before).toBeLessThanOrEqual(1);
  });
});
