//! Mounting the whole app against the mocked shell, signed in or out.

import { flushPromises, mount, type VueWrapper } from "@vue/test-utils";
import App from "../../src/App.vue";
import { createAppI18n } from "../../src/i18n";
import type { StaffMember } from "../../src/wire";
import { mockShell, rubric, session, staff, type Call, type Handler } from "./shell";

/** Commands every screen may call at start, answered for a quiet shell; tests override them. */
export function baseHandlers(user: StaffMember | null): Record<string, Handler> {
  return {
    session: () => session(user),
    roster: () => staff,
    rubric: () => rubric,
    pending_gates: () => [],
    touch: () => null,
  };
}

export async function mountApp(
  user: StaffMember | null,
  handlers: Record<string, Handler> = {},
): Promise<{ w: VueWrapper; calls: Call[] }> {
  // Like the shell, `session` answers for whoever signed in since (unless a test answers it).
  let current = user;
  const merged: Record<string, Handler> = { ...baseHandlers(user), session: () => session(current), ...handlers };
  for (const name of ["sign_in", "change_secret"]) {
    const signIn = merged[name];
    if (signIn)
      merged[name] = async (a) => {
        const member = (await signIn(a)) as StaffMember;
        current = member;
        return member;
      };
  }
  const signOut = merged.sign_out;
  if (signOut)
    merged.sign_out = async (a) => {
      const answer = await signOut(a);
      current = null;
      return answer;
    };
  const calls = mockShell(merged);
  const w = mount(App, { global: { plugins: [createAppI18n()] }, attachTo: document.body });
  await flushPromises();
  return { w, calls };
}

export const byId = (w: VueWrapper, id: string) => w.get(`[data-testid="${id}"]`);
