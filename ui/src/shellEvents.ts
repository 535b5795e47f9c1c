//! Listening to events the desktop shell emits, for as long as a component is mounted.

import { onMounted, onUnmounted } from "vue";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

/** The event names and payloads are generated from src-tauri/src/events.rs. */
export { NAVIGATE, OPEN_EXAM } from "./wire";

/**
 * Calls `handler` with each payload of `event` while the calling component is mounted.
 * `ready` settles once the listener is in place (or listening failed), so a caller can ask
 * for state that was raised before it listened without missing what comes in between.
 */
export function useShellEvent<T>(event: string, handler: (payload: T) => void): { ready: Promise<void> } {
  let unlisten: UnlistenFn | null = null;
  let gone = false;
  let settle: () => void = () => {};
  const ready = new Promise<void>((resolve) => (settle = resolve));
  onMounted(async () => {
    try {
      const stop = await listen<T>(event, (e) => handler(e.payload));
      if (gone) stop();
      else unlisten = stop;
    } catch {
      // Outside the shell (a plain browser, `npm run dev`) there are no events to hear.
    } finally {
      settle();
    }
  });
  onUnmounted(() => {
    gone = true;
    unlisten?.();
  });
  return { ready };
}
