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
  const calls = mockShell({ ...baseHandlers(user), ...handlers });
  const w = mount(App, { global: { plugins: [createAppI18n()] }, attachTo: document.body });
  await flushPromises();
  return { w, calls };
}

export const byId = (w: VueWrapper, id: string) => w.get(`[data-testid="${id}"]`);
