//! The rubric as the desktop shell sends it over IPC, and the one call that fetches it.
//!
//! These types mirror `radqc_domain::Rubric`'s serde output by hand; when the Rust side
//! gains generated bindings they replace this file. Criterion texts live only in that
//! data (assets/rubric.toml), never in UI code.

import { call } from "./ipc";

/** Text in both of the languages a person reads here: the standard's Chinese, our English. */
export interface Bilingual {
  zh: string;
  en: string;
}

/** 质控项目: `normative` items are 合格/不合格; `scored` items get 1-5. */
export type ItemKind = "normative" | "scored";

/** Severe (`S`): any one forces the score to 1. Compliance (`C`): met or unmet. */
export type CriterionKind = "severe" | "compliance";

/** When an item applies to an exam; an item that does not apply is not scored. */
export type Applies = "always" | "film_printed" | "reconstruction";

export type Role =
  | "technologist"
  | "reporting_doctor"
  | "auditing_doctor"
  | "qc_officer"
  | "department_head"
  | "senior_radiologist"
  | "center_admin"
  | "ordering_clinician";

export interface Criterion {
  code: string;
  kind: CriterionKind;
  text: Bilingual;
}

export interface RubricItem {
  code: string;
  kind: ItemKind;
  name: Bilingual;
  scored_role: Role;
  scorer_roles: Role[];
  applies: Applies;
  criteria: Criterion[];
  /** Score by number of unmet compliance criteria: `score_table[u]`; null for normative items. */
  score_table: number[] | null;
}

export interface Rubric {
  /** The rubric file format (`RUBRIC_SCHEMA` in radqc-domain). */
  schema: number;
  /** Recorded with every evaluation scored under this rubric. */
  version: string;
  title: Bilingual;
  items: RubricItem[];
}

export { UNEXPECTED_IPC_ERROR, toIpcError, type IpcError } from "./ipc";

/** Fetches the bundled rubric from the shell; rejects with an `IpcError`. */
export function fetchRubric(): Promise<Rubric> {
  return call<Rubric>("rubric");
}
