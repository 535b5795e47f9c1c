//! One typed function per IPC command of the reading-room screens; each rejects with an `IpcError`.
//! The shapes are generated from the Rust types (`ui/src/wire.ts`).

import { call } from "./ipc";
import type {
  DisputeInput,
  DisputeRecord,
  Drill,
  Enrollment,
  EvaluationFact,
  EvaluationRecord,
  ExamDetail,
  ExamPrecheck,
  ExamView,
  FindExams,
  Findings,
  GateView,
  GoldReadInput,
  GoldReadRecord,
  GoldTaskView,
  ImportReport,
  ImportRequest,
  ItemCode,
  MyScore,
  Notice,
  Outcome,
  PanelSave,
  PrecheckChosen,
  PrecheckStatsRow,
  Released,
  Report,
  ReportScope,
  Session,
  StaffMember,
  StoredProposal,
  SyncView,
  Verdict,
} from "./wire";

export { GATE_GAVE_UP, GATE_REQUESTED, SESSION_LOCKED } from "./wire";

export const session = () => call<Session>("session");
export const roster = () => call<StaffMember[]>("roster");
export const signIn = (code: string, secret: string) => call<StaffMember>("sign_in", { code, secret });
/** Signs in with a new secret (an administrator's initial one, or an expired one), proven by the current. */
export const changeSecret = (code: string, current: string, next: string) =>
  call<StaffMember>("change_secret", { code, current, next });
export const signOut = () => call<null>("sign_out");
/** Locks the session to a prompt for the same person's secret; held signings keep waiting. */
export const lockSession = () => call<null>("lock_session");
export const unlockSession = (secret: string) => call<StaffMember>("unlock_session", { secret });
/** Activity in the window: the shell's idle time starts again (callers throttle it). */
export const touch = () => call<null>("touch");

export const scorableItems = (accession: string, site?: string) =>
  call<ItemCode[]>("scorable_items", { accession, site });
export const previewScore = (findings: Findings) =>
  call<Verdict>("preview_score", { findings });
export const saveEvaluations = (request: PanelSave) =>
  call<EvaluationRecord[]>("save_evaluations", { request });

export const findExams = (filter: FindExams) => call<ExamView[]>("find_exams", { filter });
export const examDetail = (accession: string, blind?: boolean) =>
  call<ExamDetail>("exam_detail", { accession, blind });

export const pendingGates = () => call<GateView[]>("pending_gates");
/** `delivered`: how many waiting requests got the answer (0: the workstation had stopped waiting). */
export const closeGate = (id: string) => call<Released>("close_gate", { id });
/** The signing doctor's answer to the report checks' warning: 返回修改 (false) or 仍然签发 (true).
 *  `released` when the signature was answered; `gate` when the QC panel of the same hold is next. */
export const precheckChoose = (gateId: string, signAnyway: boolean) =>
  call<PrecheckChosen>("precheck_choose", { gateId, signAnyway });
/** The report checks' run of an exam's latest signing (none for a person who does not score the report). */
export const examPrecheck = (accession: string, site?: string) =>
  call<ExamPrecheck>("exam_precheck", { accession, site });
/** 采纳 (true) or 忽略 (false) a proposal of the report checks. */
export const decideProposal = (id: number, accept: boolean) =>
  call<StoredProposal>("decide_proposal", { id, accept });
/** What became of the report checks' proposals, by site, month and check. */
export const precheckStats = () => call<PrecheckStatsRow[]>("precheck_stats");

export const syncStatus = () => call<SyncView>("sync_status");
export const syncNow = () => call<Outcome>("sync_now");
/** `code` is the enrollment string (`CODE#sha256/…`); `pin` the center's key pin when given apart;
 *  `insecureHttp` accepts plain HTTP to a center that is not on this machine. */
export const enroll = (center: string, code: string, pin: string | null = null, insecureHttp = false) =>
  call<Enrollment>("enroll", { center, code, pin, insecureHttp });

/** The signed-in person's scores, each with its gold result, dispute and dispute deadline. */
export const myScores = () => call<MyScore[]>("my_scores");
/** Disputes (申诉) a failed score of the signed-in person's, with the reason. */
export const disputeEvaluation = (request: DisputeInput) => call<DisputeRecord>("dispute_evaluation", { request });
/** The signed-in senior reader's gold-standard tasks (金标准复核). */
export const goldTasks = () => call<GoldTaskView[]>("gold_tasks");
/** Saves the signed-in reader's blind read of one of their tasks. */
export const saveGoldRead = (request: GoldReadInput) => call<GoldReadRecord>("save_gold_read", { request });
export const myNotices = () => call<Notice[]>("my_notices");

/** The 报表 screen's report: a period and filters; the drill-downs take the same scope. */
export const reportView = (scope: ReportScope) => call<Report>("report_view", { scope });
export const reportEvaluations = (scope: ReportScope, drill: Drill) =>
  call<EvaluationFact[]>("report_evaluations", { scope, drill });
export const reportWorkloadExams = (scope: ReportScope, person?: string, modality?: string) =>
  call<ExamView[]>("report_workload_exams", { scope, person, modality });

/** The 导入 screen: checks (`dry_run`) or imports a worklist file (检查登记表). */
export const importWorklist = (request: ImportRequest) => call<ImportReport>("import_worklist", { request });

export const autostart = () => call<boolean>("autostart");
export const setAutostart = (enabled: boolean) => call<boolean>("set_autostart", { enabled });
export const closeNotice = (noticeId: string, correction: string) =>
  call<null>("close_notice", { noticeId, correction });
