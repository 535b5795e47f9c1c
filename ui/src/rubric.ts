//! The rubric as the desktop shell sends it over IPC (types generated in `ui/src/wire.ts`), and
//! the one call that fetches it. Criterion texts live only in that data (assets/rubric.toml),
//! never in UI code.

import { call } from "./ipc";
import type { Rubric } from "./wire";

export type { Applies, Bilingual, Criterion, CriterionKind, ItemKind, Role, Rubric, RubricItem } from "./wire";

export { UNEXPECTED_IPC_ERROR, toIpcError, type IpcError } from "./ipc";

/** Fetches the bundled rubric from the shell; rejects with an `IpcError`. */
export function fetchRubric(): Promise<Rubric> {
  return call<Rubric>("rubric");
}
