//! A stand-in for the desktop shell in unit tests: IPC commands answered by per-test handlers,
//! every call recorded, and a small scoring engine that follows the rubric's tables.
//!
//! The real engine lives in Rust (radqc-domain) and is tested there; this one exists only so
//! that the panel's tests can see a score change the way the shell would change it.

import { mockIPC } from "@tauri-apps/api/mocks";
import type { Rubric } from "../../src/rubric";
import type {
  EvaluationRecord,
  ExamView,
  GateView,
  Findings,
  PanelSave,
  Session,
  StaffMember,
  Verdict,
} from "../../src/wire";
import full from "../fixtures/rubric-full.json";

export const rubric = full as Rubric;

export type Handler = (args: Record<string, unknown>) => unknown;

export interface Call {
  cmd: string;
  args: Record<string, unknown>;
}

/** Replaces the IPC with `handlers` (unknown commands reject like a missing command would). */
export function mockShell(handlers: Record<string, Handler>): Call[] {
  const calls: Call[] = [];
  mockIPC(
    (cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args: a });
      const handler = handlers[cmd];
      if (!handler) throw new Error(`command ${cmd} not found`);
      return handler(a);
    },
    { shouldMockEvents: true },
  );
  return calls;
}

export function argsOf<T>(calls: Call[], cmd: string): T[] {
  return calls.filter((c) => c.cmd === cmd).map((c) => c.args as T);
}

/** Scores findings the way the rubric says: severe → 1, else `score_table[u]`; AF pass/fail. */
export function engine(f: Findings): Verdict {
  const item = rubric.items.find((i) => i.code === f.item)!;
  const kind = (code: string) => item.criteria.find((c) => c.code === code)!.kind;
  const severe = f.findings.filter((c) => kind(c) === "severe");
  const unmet = f.findings.filter((c) => kind(c) === "compliance");
  if (!item.score_table) {
    const pass = severe.length === 0;
    return { item: f.item, score: null, grade: pass ? "pass" : "fail", pass, severe, unmet, not_applicable: f.not_applicable ?? [] };
  }
  const score = severe.length > 0 ? 1 : item.score_table[unmet.length]!;
  const grade = score === 5 ? "excellent" : score === 4 ? "good" : score === 3 ? "pass" : "fail";
  return { item: f.item, score, grade, pass: score >= 3, severe, unmet, not_applicable: f.not_applicable ?? [] };
}

export const staff: StaffMember[] = [
  { site: "DEMO-RAD", code: "A1", name: "王磊", roles: ["technologist"], active: true },
  { site: "DEMO-RAD", code: "D1", name: "赵敏", roles: ["reporting_doctor"], active: true },
  { site: "DEMO-RAD", code: "D9", name: "吴强", roles: ["auditing_doctor", "senior_radiologist"], active: true },
  { site: "DEMO-RAD", code: "Q1", name: "郑丽", roles: ["qc_officer"], active: true },
];

export function session(user: StaffMember | null = null): Session {
  return {
    site: "DEMO-RAD",
    device_id: "dev-1",
    demo: true,
    user,
    gate_url: "http://127.0.0.1:4567",
    site_score_roles: ["qc_officer", "department_head", "center_admin"],
    reads_gold: (user?.roles ?? []).includes("senior_radiologist"),
    locked: false,
    idle_lock_secs: 600,
    policy: { min_length: 8, allow_digits_only: false, expiry_days: 90, max_attempts: 5, lockout_minutes: 15 },
    demo_secret: "radqc-demo",
  };
}

/** The demo's secret, as a person types it. */
export const DEMO_SECRET = "radqc-demo";

/** The shell's refusals of a secret, as `auth.rs` words them. */
export const wrongSecret = (left: number) => ({
  code: "SIGN_IN_FAILED",
  message_zh: `工号或密码错误，还可尝试 ${left} 次`,
  message_en: `wrong staff code or secret; ${left} attempts left`,
});
export const lockedOut = {
  code: "LOCKED_OUT",
  message_zh: "密码错误次数过多，已在本工作站锁定，请 15 分钟后再试",
  message_en: "too many wrong secrets: locked at this workstation for 15 more minutes",
};
export const changeRequired = {
  code: "SECRET_CHANGE_REQUIRED",
  message_zh: "这是管理员设置的初始密码：请设置您自己的新密码",
  message_en: "this secret was set by an administrator: choose your own",
};
export const sessionLockedError = {
  code: "SESSION_LOCKED",
  message_zh: "会话已锁定：请输入您的密码解锁",
  message_en: "the session is locked: enter your secret to open it",
};

export function exam(accession = "CT20261102001", over: Partial<ExamView> = {}): ExamView {
  return {
    site: "DEMO-RAD",
    accession,
    modality: "CT",
    exam_item: "CT胸部平扫",
    department: "放射科",
    patient_source: "outpatient",
    follow_up: false,
    film_printed: true,
    reconstruction: false,
    staff: { technologist: "A1", reporting_doctor: "D1", auditing_doctor: "D9", ordering_clinician: "C3" },
    patient_hash: null,
    patient_sex: "F",
    patient_age: 54,
    performed_at: "2026-11-02T09:00:00Z",
    evaluations: 0,
    ...over,
  };
}

export function gate(id = "g-1", over: Partial<GateView> = {}): GateView {
  return {
    id,
    accession: "CT20261102001",
    exam: exam(),
    signer: "D1",
    items: ["IQ", "FL"],
    rule: "门急诊随机抽取 10%",
    waiting_since: "2026-11-02T10:00:00Z",
    precheck: [],
    report: null,
    workstation_waiting: true,
    ...over,
  };
}

/** What the store would answer to a save: one record per item, scored by `engine`. */
export function records(request: PanelSave, reviewer = "D1"): EvaluationRecord[] {
  return request.items.map((it, i) => {
    const v = engine(it);
    return {
      id: `ev-${i}`,
      site: request.site ?? "DEMO-RAD",
      accession: request.accession,
      item: it.item,
      reviewer,
      scored_person: "A1",
      mode: request.mode,
      findings: it.findings,
      not_applicable: it.not_applicable ?? [],
      score: v.score,
      grade: v.grade,
      pass: v.pass,
      severe: v.severe,
      unmet: v.unmet,
      rubric_version: rubric.version,
      note: it.note ?? "",
      at: "2026-11-02T10:01:00Z",
      supersedes: null,
      superseded_by: null,
    };
  });
}

export const diskFull = {
  code: "DISK_FULL",
  message_zh: "磁盘空间不足，评分未保存",
  message_en: "The disk is full; the score was not saved",
};

/** A stand-in for `import_worklist` over a CSV: a row is bad when its second cell (检查类型) is
 *  not an upper-case modality; like the store, a dry run writes nothing, bad rows without
 *  `skip_bad` write nothing, and a row already imported is unchanged. */
export function worklistImporter(): Handler {
  const imported = new Set<string>();
  return (a) => {
    const request = a.request as { file_name: string; content_base64: string; dry_run: boolean; skip_bad: boolean };
    const bytes = Uint8Array.from(atob(request.content_base64), (c) => c.charCodeAt(0));
    const lines = new TextDecoder().decode(bytes).split(/\r?\n/).slice(1);
    const good: string[] = [];
    const bad: { row: number; reason: string; reason_zh: string }[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      const modality = line.split(",")[1] ?? "";
      if (/^[A-Z0-9]{1,8}$/.test(modality)) good.push(line);
      else
        bad.push({
          row: i + 2,
          reason: `检查类型: invalid modality \`${modality}\``,
          reason_zh: `检查类型「${modality}」不是设备类型（1-8 个大写字母或数字，如 DR、CT、MR）`,
        });
    });
    const fresh = good.filter((l) => !imported.has(l));
    if (!request.dry_run && (bad.length === 0 || request.skip_bad)) fresh.forEach((l) => imported.add(l));
    return { dry_run: request.dry_run, rows: good.length + bad.length, new_rows: fresh.length, unchanged: good.length - fresh.length, bad };
  };
}
