//! The IPC boundary: one error envelope for every command, and the one way to call a command.

import { invoke, type InvokeArgs } from "@tauri-apps/api/core";
import { ERROR_CODES, type IpcError as ShellError } from "./wire";

/** Code used when a rejection is not an envelope at all (e.g. the shell is missing). */
export const UNEXPECTED_IPC_ERROR = ERROR_CODES.UI_UNEXPECTED_IPC_ERROR;

/** The one error envelope every IPC command rejects with (src-tauri `IpcError`, generated),
 * or the UI's own (`UNEXPECTED_IPC_ERROR`, in the same catalogue) when the rejection was not one. */
export type IpcError = ShellError;

export function isIpcError(raw: unknown): raw is IpcError {
  return (
    typeof raw === "object" &&
    raw !== null &&
    typeof (raw as IpcError).code === "string" &&
    typeof (raw as IpcError).message_zh === "string" &&
    typeof (raw as IpcError).message_en === "string"
  );
}

/** Turns whatever `invoke` rejected with into the envelope, so the UI has one shape to show. */
export function toIpcError(raw: unknown): IpcError {
  if (isIpcError(raw)) return raw;
  // Not from our shell (e.g. the page runs outside Tauri): keep the raw detail in both
  // slots; the error panel's localized heading says what failed.
  const detail = raw instanceof Error ? raw.message : String(raw);
  return { code: UNEXPECTED_IPC_ERROR, message_zh: detail, message_en: detail };
}

const lockedListeners = new Set<() => void>();

/** Calls `listener` whenever a command answers `SESSION_LOCKED` (the session locked without the
 *  window hearing the event): the window shows the lock prompt. Returns the unsubscribe. */
export function onSessionLocked(listener: () => void): () => void {
  lockedListeners.add(listener);
  return () => lockedListeners.delete(listener);
}

/** Calls a shell command; rejects only with an `IpcError`, so callers branch on `code`. */
export async function call<T>(command: string, args?: InvokeArgs): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (raw) {
    const error = toIpcError(raw);
    if (error.code === ERROR_CODES.SESSION_LOCKED) for (const listener of lockedListeners) listener();
    throw error;
  }
}

/** The envelope's message in the UI's language. */
export function errorMessage(error: IpcError, locale: string): string {
  return locale === "en" ? error.message_en : error.message_zh;
}
