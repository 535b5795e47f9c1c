//! The shapes the desktop shell sends and accepts over IPC (snake_case, as serde writes them).
//!
//! Written by hand against the IPC contract of issue 5 (src-tauri/src/commands.rs and
//! crates/radqc-app); when the Rust side gains generated bindings they replace this file.

import type { Role } from "./rubric";

/** The roles a staff member can hold (the rubric's `Role` minus the ordering clinician). */
export type StaffRole = Exclude<Role, "ordering_clinician">;

export interface StaffMember {
  site: string;
  code: string;
  name: string;
  roles: StaffRole[];
  active: boolean;
}

export interface Session {
  site: string;
  device_id: string;
  /** A throwaway demo database: shown in the header so nobody scores real work in it. */
  demo: boolean;
  user: StaffMember | null;
  /** Where the reading workstation asks before it commits a signature (loopback). */
  gate_url: string;
  /** Roles that see the site's scores and the 报表 screen (from the grants). */
  site_score_roles?: string[];
}

/** 随机质控 at signing, 主动质控, 集中质控, and the gold standard's reads. */
export type QcMode = "random" | "active" | "centralized" | "gold";

export type Grade = "excellent" | "good" | "pass" | "fail";

/** One item's findings as the engine takes them: severe present + compliance unmet. */
export interface ItemFindings {
  item: string;
  findings: string[];
  not_applicable: string[];
}

export interface Verdict {
  item: string;
  /** 1-5; null for the normative application-form item (AF: pass / fail only). */
  score: number | null;
  grade: Grade;
  pass: boolean;
  severe: string[];
  unmet: string[];
  not_applicable: string[];
}

export interface EvaluationDraft extends ItemFindings {
  note: string;
}

export interface SaveRequest {
  accession: string;
  site?: string;
  mode: QcMode;
  /** The held signature this save releases (random QC only). */
  gate_id?: string;
  items: EvaluationDraft[];
  /** What the reviewer states where the exam did not say (an FL or TR item is scored only then). */
  facts?: Partial<Record<"film_printed" | "reconstruction", boolean>>;
}

export interface EvaluationRecord {
  id: string;
  site: string;
  accession: string;
  item: string;
  reviewer: string;
  scored_person: string | null;
  mode: QcMode;
  findings: string[];
  not_applicable: string[];
  score: number | null;
  grade: Grade;
  pass: boolean;
  severe: string[];
  unmet: string[];
  rubric_version: string;
  note: string;
  at: string;
  supersedes: string | null;
  superseded_by: string | null;
}

export type PatientSource = "outpatient" | "emergency" | "inpatient";

/** The people of an exam by role; empty in blind review. */
export interface ExamStaff {
  technologist?: string;
  reporting_doctor?: string;
  auditing_doctor?: string;
  ordering_clinician?: string;
}

export interface ExamView {
  site: string;
  accession: string;
  modality: string;
  exam_item: string;
  department: string | null;
  patient_source: PatientSource | null;
  follow_up: boolean;
  film_printed: boolean | null;
  reconstruction: boolean | null;
  staff: ExamStaff;
  patient_sex: string | null;
  patient_age: number | null;
  performed_at: string | null;
  /** `signed`: `performed_at` is the report's signing time (no performing time was known). */
  performed_at_source?: "signed";
  /** How many evaluations the exam already has. */
  evaluations: number;
}

export interface ExamDetail {
  exam: ExamView;
  evaluations: EvaluationRecord[];
}

export interface ExamFilter {
  from?: string;
  to?: string;
  modality?: string;
  exam_item?: string;
  department?: string;
  staff?: string;
  evaluated?: boolean;
  /** Only exams with a current evaluation of this score (1-5). */
  score?: number;
  limit?: number;
  blind?: boolean;
}

/** A signature held at the reading workstation until its sampled exam is scored. */
export interface GateView {
  id: string;
  accession: string;
  exam: ExamView;
  signer: string;
  items: string[];
  /** The sampling rule that selected the exam, for the reviewer to see why. */
  rule: string | null;
  waiting_since: string;
  /** False once the workstation stopped waiting (its request gave up): a score still counts,
   * but no signature is released or refused by this panel. */
  workstation_waiting: boolean;
}

export type GateDecision = "go" | "blocked";

export interface RejectedEntry {
  seq: number;
  kind: string;
  ref_id: string;
  reason: string | null;
}

export interface SyncStatus {
  center: string | null;
  last_sync_at: string | null;
  last_error: string | null;
  outbox: { pending: number; sent: number; rejected: number };
  rejected: RejectedEntry[];
  /** The store was found to be a restored or copied copy and became a device of its own. */
  copy: CopyRecord | null;
}

/** Why a store became a device of its own: `restored` (the center held more of the device
 * than the store: a backup put back) or `reused` (another copy of the store used the same
 * numbers: a copy on a second workstation). */
export type CopyWhy = "restored" | "reused";

export interface CopyRecord {
  why: CopyWhy;
  was: string;
  device: string;
  at: string;
}

/** What one sync pass did about a store that turned out to be a copy. */
export interface CopyRecovery {
  why: CopyWhy;
  was: string;
  now: string;
  restored_evaluations: number;
  restored_events: number;
}

export type SyncOutcomeKind = "synced" | "retry" | "stopped" | "not_enrolled";

export interface SyncOutcome {
  outcome: SyncOutcomeKind;
  pushed?: number;
  duplicates?: number;
  rejected?: number;
  pulled?: number;
  copy?: CopyRecovery | null;
  error?: string;
  code?: string;
  message?: string;
}

export interface Enrollment {
  device_id: string;
  site: string;
}

export interface Notice {
  cursor: number;
  /** Set for monitoring notices (a failed evaluation): what a correction closes. */
  notice_id?: string | null;
  /** `failed_evaluation`, `notice_closed`, or none for a plain message. */
  kind?: string | null;
  to: string | null;
  also_to?: string[];
  text: string;
  published_at: string;
  /** A monitoring notice still waiting for its correction (整改). */
  open?: boolean;
}
