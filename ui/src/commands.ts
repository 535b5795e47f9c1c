//! One typed function per IPC command of the reading-room screens; each rejects with an `IpcError`.

import { call } from "./ipc";
import type {
  Enrollment,
  EvaluationRecord,
  ExamDetail,
  ExamFilter,
  ExamView,
  GateDecision,
  GateView,
  ItemFindings,
  Notice,
  SaveRequest,
  Session,
  StaffMember,
  SyncOutcome,
  SyncStatus,
  Verdict,
} from "./wire";
import type { Drill, EvaluationFact, Report, ReportScope } from "./report";

/** The event the shell emits when a signing was sampled: the panel must come up at once. */
export const GATE_REQUESTED = "gate-requested";
/** Every request waiting on a held signature gave up (the workstation stopped waiting). */
export const GATE_GAVE_UP = "gate-gave-up";

export const session = () => call<Session>("session");
export const roster = () => call<StaffMember[]>("roster");
export const signIn = (code: string) => call<StaffMember>("sign_in", { code });
export const signOut = () => call<null>("sign_out");

export const scorableItems = (accession: string, site?: string) =>
  call<string[]>("scorable_items", { accession, site });
export const previewScore = (findings: ItemFindings) =>
  call<Verdict>("preview_score", { findings });
export const saveEvaluations = (request: SaveRequest) =>
  call<EvaluationRecord[]>("save_evaluations", { request });

export const findExams = (filter: ExamFilter) => call<ExamView[]>("find_exams", { filter });
export const examDetail = (accession: string, blind?: boolean) =>
  call<ExamDetail>("exam_detail", { accession, blind });

export const pendingGates = () => call<GateView[]>("pending_gates");
/** `delivered`: how many waiting requests got the answer (0: the workstation had stopped waiting). */
export const closeGate = (id: string) => call<{ decision: GateDecision; delivered: number }>("close_gate", { id });

export const syncStatus = () => call<SyncStatus>("sync_status");
export const syncNow = () => call<SyncOutcome>("sync_now");
export const enroll = (center: string, code: string) =>
  call<Enrollment>("enroll", { center, code });

export const myScores = () => call<EvaluationRecord[]>("my_scores");
export const myNotices = () => call<Notice[]>("my_notices");

export const report = (month: string) => call<Report>("report", { month });
/** The 报表 screen's report: a period and filters; the drill-downs take the same scope. */
export const reportView = (scope: ReportScope) => call<Report>("report_view", { scope });
export const reportEvaluations = (scope: ReportScope, drill: Drill) =>
  call<EvaluationFact[]>("report_evaluations", { scope, drill });
export const reportWorkloadExams = (scope: ReportScope, person?: string, modality?: string) =>
  call<ExamView[]>("report_workload_exams", { scope, person, modality });

export const autostart = () => call<boolean>("autostart");
export const setAutostart = (enabled: boolean) => call<boolean>("set_autostart", { enabled });
export const closeNotice = (noticeId: string, correction: string) =>
  call<null>("close_notice", { noticeId, correction });
