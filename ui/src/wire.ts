// GENERATED from the Rust types by src-tauri/src/bindings.rs (ts-rs): DO NOT EDIT.
// After changing a type that crosses IPC: RADQC_UPDATE_TS=1 cargo test -p radqc-desktop --lib bindings
// (cargo test fails while this file is stale).

// The domain's words.

/**
 * A QC item (质控项目) of Appendix A.
 */
export type ItemCode = "AF" | "IQ" | "FL" | "TR" | "RQ" | "AR";

/**
 * `normative` items are 合格/不合格; `scored` items get 1-5.
 */
export type ItemKind = "normative" | "scored";

/**
 * Severe (`S`): any one forces the score to 1. Compliance (`C`): met or unmet.
 */
export type CriterionKind = "severe" | "compliance";

/**
 * A criterion code of the rubric, e.g. `IQ-C2`.
 */
export type CriterionCode = string;

/**
 * Who takes part in QC (7.2.2 分级质控).
 */
export type Role = "technologist" | "reporting_doctor" | "auditing_doctor" | "qc_officer" | "department_head" | "senior_radiologist" | "center_admin" | "ordering_clinician";

/**
 * When an item applies to an exam; an item that does not apply is not scored.
 */
export type Applies = "always" | "film_printed" | "reconstruction";

/**
 * The grade of an evaluation (6.4).
 */
export type Grade = "excellent" | "good" | "pass" | "fail";

/**
 * A score of a scored item: 1 to 5.
 */
export type Score = number;

/**
 * 随机质控 at signing, 主动质控, 集中质控, and the gold standard's reads.
 */
export type QcMode = "random" | "active" | "centralized" | "gold";

/**
 * An imaging modality: DR, CT, MR, or another upper-case DICOM code (1-8 letters or digits).
 */
export type Modality = string;

/**
 * Where the patient came from.
 */
export type PatientSource = "outpatient" | "emergency" | "inpatient";

/**
 * The patient's sex as QC needs it.
 */
export type Sex = "F" | "M" | "O" | "U";

/**
 * A person's code in the site's roster (工号).
 */
export type StaffCode = string;

/**
 * A site's code.
 */
export type SiteCode = string;

/** The QC items (质控项目), in the standard's order. */
export const ITEM_CODES: readonly ItemCode[] = ["AF", "IQ", "FL", "TR", "RQ", "AR"];

/** Every role. */
export const ROLES: readonly Role[] = ["technologist", "reporting_doctor", "auditing_doctor", "qc_officer", "department_head", "senior_radiologist", "center_admin", "ordering_clinician"];

/** QC modes (质控方式). */
export const QC_MODES: readonly QcMode[] = ["random", "active", "centralized", "gold"];

/** Grades, in the order of `QualityRow.counts`. */
export const GRADES: readonly Grade[] = ["excellent", "good", "pass", "fail"];

/** Patient sources. */
export const PATIENT_SOURCES: readonly PatientSource[] = ["outpatient", "emergency", "inpatient"];

/** The modalities the standard's figures name (a site may have others). */
export const MODALITIES: readonly Modality[] = ["DR", "CT", "MR"];

// The rubric and the scoring engine.

/**
 * A text in both of the app's languages.
 */
export type Bilingual = { zh: string, en: string, };

export type Criterion = { code: CriterionCode, kind: CriterionKind, text: Bilingual, };

export type RubricItem = { code: ItemCode, kind: ItemKind, name: Bilingual, 
/**
 * Who is scored by default.
 */
scored_role: Role, 
/**
 * Who scores by default; a region's role grants may differ.
 */
scorer_roles: Array<Role>, applies: Applies, 
/**
 * In the rubric's order, severe and compliance criteria as the file lists them.
 */
criteria: Array<Criterion>, 
/**
 * `score_table[u]` is the score when `u` applicable compliance criteria are unmet and no
 * severe criterion is present. `None` for normative items.
 */
score_table: Array<Score> | null, };

export type Rubric = { schema: number, 
/**
 * Recorded with every evaluation scored under this rubric.
 */
version: string, title: Bilingual, 
/**
 * All six items, in the standard's order.
 */
items: Array<RubricItem>, };

/**
 * What a reviewer found for one item of one exam.
 */
export type Findings = { item: ItemCode, 
/**
 * The severe criteria present and the compliance criteria unmet. Every criterion not listed
 * here is absent (severe) or met (compliance).
 */
findings: Array<CriterionCode>, 
/**
 * Criteria that do not apply to this exam (e.g. an enhancement pattern on a plain scan):
 * neither met nor unmet, they do not count.
 */
not_applicable?: Array<CriterionCode>, };

/**
 * The result of scoring one item.
 */
export type Verdict = { item: ItemCode, 
/**
 * 1-5 for scored items; `None` for the normative application form.
 */
score: Score | null, grade: Grade, pass: boolean, 
/**
 * Severe criteria present (严重扣分项), in rubric order.
 */
severe: Array<CriterionCode>, 
/**
 * Compliance criteria unmet (不符合项), in rubric order.
 */
unmet: Array<CriterionCode>, 
/**
 * Criteria marked not applicable, in rubric order.
 */
not_applicable: Array<CriterionCode>, };

// Exams, evaluations, the panel, the gate.

/**
 * The staff of one exam, by the role they played in it.
 */
export type ExamStaff = { technologist?: StaffCode | null, reporting_doctor?: StaffCode | null, auditing_doctor?: StaffCode | null, ordering_clinician?: StaffCode | null, };

/**
 * Where an exam's performing time came from, when not from the exam's own data.
 */
export type PerformedAtSource = "signed";

/**
 * An exam as it travels: its site and accession identify it.
 */
export type ExamRecord = { site: SiteCode, accession: string, modality: Modality, 
/**
 * 检查部位, as the RIS names it.
 */
exam_item: string, department: string | null, patient_source: PatientSource | null, follow_up: boolean, film_printed: boolean | null, reconstruction: boolean | null, staff: ExamStaff, 
/**
 * SHA-256 of the site's salt and the patient id, hex.
 */
patient_hash: string | null, patient_sex: Sex | null, patient_age: number | null, patient_name?: string | null, performed_at: string | null, 
/**
 * Where `performed_at` came from when it is not the exam's own data: `signed`, the time the
 * report was signed through the gate (the app knew no performing time). Absent when the
 * performing time came with the exam (RIS, workstation, import); a later one replaces it.
 */
performed_at_source?: PerformedAtSource | null, 
/**
 * How many current (not superseded) evaluations the exam has, where it was read.
 */
evaluations: number, 
/**
 * The RIS cancelled the order (ORC-1 `CA`, ORC-5 `CA`): not workload, no performing time.
 */
cancelled?: boolean, };

/**
 * An evaluation: every revision travels and stays readable.
 */
export type EvaluationRecord = { 
/**
 * UUIDv7 made on the device.
 */
id: string, site: SiteCode, accession: string, item: ItemCode, reviewer: StaffCode, 
/**
 * The person scored: the exam's staff member in the item's scored role.
 */
scored_person: StaffCode | null, mode: QcMode, findings: Array<CriterionCode>, not_applicable: Array<CriterionCode>, score: Score | null, grade: Grade, pass: boolean, severe: Array<CriterionCode>, unmet: Array<CriterionCode>, rubric_version: string, note: string, at: string, supersedes: string | null, 
/**
 * The revision that corrected this one, if any (as far as the sender knows).
 */
superseded_by: string | null, };

/**
 * A staff member of the roster, as published to the sites.
 */
export type StaffMember = { site: string, code: string, name: string, roles: Array<string>, active: boolean, };

/**
 * Filters for finding exams (active and centralized QC). Every field narrows; none means all.
 */
export type ExamFilter = { 
/**
 * Performed at or after (or created, when the performing time is unknown).
 */
from?: string, 
/**
 * Performed before.
 */
to?: string, site?: SiteCode, modality?: Modality, exam_item?: string, department?: string, 
/**
 * Any of the exam's staff.
 */
staff?: StaffCode, 
/**
 * Only exams with (true) or without (false) a current evaluation.
 */
evaluated?: boolean, 
/**
 * Only exams with a current evaluation of this score (1-5): e.g. the morning meeting's
 * review of yesterday's failing scores.
 */
score?: Score, limit?: number, };

/**
 * The region's rules for secrets, published with every site's roster.
 */
export type SecretPolicy = { 
/**
 * The fewest characters a secret has.
 */
min_length: number, 
/**
 * Whether a secret of digits only (a PIN) is allowed.
 */
allow_digits_only: boolean, 
/**
 * Days a secret is good for after it was set; 0: it does not expire.
 */
expiry_days: number, 
/**
 * Wrong secrets in a row that lock the person at the workstation.
 */
max_attempts: number, 
/**
 * Minutes the lock lasts.
 */
lockout_minutes: number, };

/**
 * What the front-end shows about the session.
 */
export type Session = { site: string, device_id: string, demo: boolean, user: StaffMember | null, gate_url: string, 
/**
 * Roles that see the site's scores and reports (质控员, 科主任, …), from the grants: the UI
 * shows the 报表 screen to whoever holds one.
 */
site_score_roles: Array<string>, 
/**
 * Signed in, but locked to a prompt for the same person's secret.
 */
locked: boolean, 
/**
 * The signed-in person's roles read gold-standard cases (grants `gold_readers`): the UI
 * shows the 金标准 screen.
 */
reads_gold: boolean, 
/**
 * Seconds without a key or the mouse before the session locks.
 */
idle_lock_secs: number, 
/**
 * The region's rules for a new secret (the change form shows them).
 */
policy: SecretPolicy, 
/**
 * In the demo, every demo person's secret (shown on the sign-in page); otherwise none.
 */
demo_secret: string | null, };

/**
 * An exam as the UI shows it; blind reviews get no staff.
 */
export type ExamView = { site: SiteCode, accession: string, modality: Modality, 
/**
 * 检查部位, as the RIS names it.
 */
exam_item: string, department: string | null, patient_source: PatientSource | null, follow_up: boolean, film_printed: boolean | null, reconstruction: boolean | null, staff: ExamStaff, 
/**
 * SHA-256 of the site's salt and the patient id, hex.
 */
patient_hash: string | null, patient_sex: Sex | null, patient_age: number | null, patient_name?: string | null, performed_at: string | null, 
/**
 * Where `performed_at` came from when it is not the exam's own data: `signed`, the time the
 * report was signed through the gate (the app knew no performing time). Absent when the
 * performing time came with the exam (RIS, workstation, import); a later one replaces it.
 */
performed_at_source?: PerformedAtSource | null, 
/**
 * How many current (not superseded) evaluations the exam has, where it was read.
 */
evaluations: number, 
/**
 * The RIS cancelled the order (ORC-1 `CA`, ORC-5 `CA`): not workload, no performing time.
 */
cancelled?: boolean, };

export type ExamDetail = { exam: ExamView, evaluations: Array<EvaluationRecord>, };

export type FindExams = { blind?: boolean, 
/**
 * Performed at or after (or created, when the performing time is unknown).
 */
from?: string, 
/**
 * Performed before.
 */
to?: string, site?: SiteCode, modality?: Modality, exam_item?: string, department?: string, 
/**
 * Any of the exam's staff.
 */
staff?: StaffCode, 
/**
 * Only exams with (true) or without (false) a current evaluation.
 */
evaluated?: boolean, 
/**
 * Only exams with a current evaluation of this score (1-5): e.g. the morning meeting's
 * review of yesterday's failing scores.
 */
score?: Score, limit?: number, };

/**
 * One item of a panel save.
 */
export type PanelItem = { item: ItemCode, findings: Array<CriterionCode>, not_applicable?: Array<CriterionCode>, note?: string, };

/**
 * Facts about an exam that the reviewer states in the panel.
 */
export type StatedFacts = { film_printed?: boolean, reconstruction?: boolean, };

/**
 * A panel's save: every item of one exam, all or nothing.
 */
export type PanelSave = { accession: string, site?: SiteCode, mode: QcMode, gate_id?: string, items: Array<PanelItem>, 
/**
 * What the reviewer states about the exam where it was not known: an item that applies
 * only to filmed or reconstructed exams (FL, TR) is scored only when the fact is known.
 */
facts?: StatedFacts, };

/**
 * The checks, each with a stable name (what `radqc precheck` prints, a site's settings name and
 * the reports count by).
 */
export type PrecheckName = "laterality" | "sex_organ" | "resected_organ" | "no_comparison" | "empty_impression" | "finding_not_in_impression";

/**
 * What a check does at signing.
 */
export type PrecheckMode = "off" | "panel" | "warn";

/**
 * Where the report text a run read came from.
 */
export type PrecheckSource = "request" | "ris";

/**
 * The signing doctor's answer to a warning.
 */
export type SignerChoice = "returned" | "signed_anyway";

/**
 * The QC reviewer's answer to a proposal in the panel.
 */
export type ProposalOutcome = "accepted" | "dismissed";

/**
 * A kept proposal.
 */
export type StoredProposal = { id: number, accession: string, check: PrecheckName, criterion: CriterionCode, twin: CriterionCode, evidence: Array<string>, message_zh: string, message_en: string, mode: PrecheckMode, signer: string, created_at: string, signer_choice: SignerChoice | null, outcome: ProposalOutcome | null, decided_by: string | null, decided_at: string | null, };

/**
 * A run with its report text and proposals.
 */
export type PrecheckRun = { accession: string, signing: string, signer: string, source: PrecheckSource, findings: string, impression: string, history: string, at: string, proposals: Array<StoredProposal>, };

/**
 * Proposals of one check, month (the site's local one) and site, by what became of them.
 */
export type PrecheckStatsRow = { site: string, month: string, check: PrecheckName, accepted: number, dismissed: number, 
/**
 * Not decided in a panel yet.
 */
open: number, 
/**
 * Of those shown to the signing doctor: returned to be corrected, and signed anyway.
 */
returned: number, signed_anyway: number, };

/**
 * The report text the checks read at a signing, as the warning shows it.
 */
export type ReportText = { findings: string, impression: string, history: string, };

/**
 * The report checks' part of an exam in the panel: the latest signing's run.
 */
export type ExamPrecheck = { run: PrecheckRun | null, };

/**
 * A held signature as the panel shows it.
 */
export type GateView = { id: string, accession: string, exam: ExamView, signer: string, items: Array<ItemCode>, 
/**
 * The sampling rule that selected it.
 */
rule: string | null, waiting_since: string, 
/**
 * The report checks' warnings (mode `warn`) the signing doctor answers first (返回修改 or
 * 仍然签发); empty for an ordinary QC hold, and once the doctor signed anyway.
 */
precheck: Array<StoredProposal>, 
/**
 * The report text the checks read (with warnings).
 */
report: ReportText | null, 
/**
 * False once every request waiting on it gave up (its connection closed or timed out at
 * the workstation): the score is still saved and counts, but no answer reaches anyone.
 */
workstation_waiting: boolean, };

/**
 * The answer the workstation finally gets.
 */
export type GateAnswer = { "decision": "go", evaluations: Array<string>, } | { "decision": "blocked", reason: string, 
/**
 * What the checks found (only with `PRECHECK`).
 */
proposals?: Array<StoredProposal>, };

/**
 * An answer and how many waiting requests got it (0: the workstation had stopped waiting).
 */
export type Released = { delivered: number, } & ({ "decision": "go", evaluations: Array<string>, } | { "decision": "blocked", reason: string, 
/**
 * What the checks found (only with `PRECHECK`).
 */
proposals?: Array<StoredProposal>, });

/**
 * What the doctor's answer to a warning did: the signature answered (`released`), or, when the
 * exam was also drawn for QC, the hold goes on as the QC panel (`gate`).
 */
export type PrecheckChosen = { released: Released | null, gate: GateView | null, };

export type Notice = { cursor: number, 
/**
 * Set for monitoring notices (a failed evaluation): what a correction closes.
 */
notice_id: string | null, 
/**
 * `failed_evaluation`, `notice_closed`, or none for a plain message.
 */
kind: string | null, to: string | null, also_to: Array<string>, text: string, published_at: string, 
/**
 * For a monitoring notice: still waiting for its correction (整改).
 */
open: boolean, };

// The gold standard (7.3.1): a reader's tasks and reads, disputes, 我的质控.

/**
 * A reader's part in a gold-standard case.
 */
export type GoldTask = "first" | "second" | "third";

/**
 * The exam of a case as its readers see it: without the staff when the region blinds names
 * (the default), and never with the original score.
 */
export type GoldExam = { site: string, accession: string, modality: Modality, exam_item: string, department: string | null, patient_source: PatientSource | null, follow_up: boolean, patient_sex: Sex | null, patient_age: number | null, performed_at: string | null, 
/**
 * The exam's staff; none while the region hides the person scored (the default).
 */
staff: ExamStaff | null, };

/**
 * One of the two blind reads, as the third reader sees it: without the reader's name.
 */
export type BlindRead = { 
/**
 * `甲` or `乙`: which read, not whose.
 */
label: string, findings: Array<CriterionCode>, not_applicable: Array<CriterionCode>, score: Score | null, grade: Grade, pass: boolean, note: string, };

/**
 * A reader's task: what they read, blind.
 */
export type GoldAssignment = { case_id: string, task: GoldTask, 
/**
 * The reader (a staff code of the site the assignment is published to).
 */
to: string, item: ItemCode, 
/**
 * The rubric version the original evaluation was scored under: the reads use the same.
 */
rubric_version: string, exam: GoldExam, 
/**
 * For the third reader: the two blind reads. Empty for the first and second.
 */
reads: Array<BlindRead>, assigned_at: string, };

/**
 * A gold reader's read of a case, made at their workstation (offline like any QC) and pushed
 * as an outbox entry. The score is the engine's, checked again at the center.
 */
export type GoldReadRecord = { 
/**
 * UUIDv7 made on the device.
 */
id: string, case_id: string, 
/**
 * The reader's site (the device's).
 */
site: SiteCode, reader: StaffCode, task: GoldTask, item: ItemCode, findings: Array<CriterionCode>, not_applicable: Array<CriterionCode>, score: Score | null, grade: Grade, pass: boolean, severe: Array<CriterionCode>, unmet: Array<CriterionCode>, rubric_version: string, note: string, at: string, };

/**
 * The person scored disputes a failed evaluation (from 我的质控, with a reason), within the
 * region's window: the center makes it a gold-standard case.
 */
export type DisputeRecord = { 
/**
 * UUIDv7 made on the device.
 */
id: string, site: SiteCode, evaluation_id: string, 
/**
 * The person scored, who disputes.
 */
by: StaffCode, 
/**
 * Why, in 1-2000 characters.
 */
reason: string, at: string, };

/**
 * One of the signed-in reader's gold-standard tasks, as the 金标准 screen lists it.
 */
export type GoldTaskView = { 
/**
 * The item's criteria under the assignment's rubric version (the panel's checkboxes).
 */
rubric_item: RubricItem, 
/**
 * The read saved here, once given (it syncs to the center like every other entry).
 */
read: GoldReadRecord | null, case_id: string, task: GoldTask, 
/**
 * The reader (a staff code of the site the assignment is published to).
 */
to: string, item: ItemCode, 
/**
 * The rubric version the original evaluation was scored under: the reads use the same.
 */
rubric_version: string, exam: GoldExam, 
/**
 * For the third reader: the two blind reads. Empty for the first and second.
 */
reads: Array<BlindRead>, assigned_at: string, };

/**
 * A reader's read of one task, as the panel sends it.
 */
export type GoldReadInput = { case_id: string, task: GoldTask, findings: Array<CriterionCode>, not_applicable?: Array<CriterionCode>, note?: string, };

/**
 * A person's dispute of a failed score of theirs, with the reason.
 */
export type DisputeInput = { evaluation_id: string, reason: string, };

/**
 * The gold result that replaced an evaluation.
 */
export type GoldChange = { case_id: string, 
/**
 * The gold result's evaluation (mode `gold`).
 */
evaluation_id: string, score: Score | null, grade: Grade, pass: boolean, closed_at: string, };

/**
 * One of the signed-in person's scores in 我的质控.
 */
export type MyScore = { 
/**
 * For a gold result: its case (the evaluation it replaced stays listed, and readable).
 */
gold_case: string | null, 
/**
 * For an evaluation a gold result replaced: that result.
 */
replaced_by_gold: GoldChange | null, 
/**
 * The person's dispute of it, once made (its case closes with a notice of the outcome).
 */
dispute: DisputeRecord | null, 
/**
 * Until when it may be disputed: a failed, current score, not itself a gold result, not
 * disputed yet, within the region's days; none otherwise (or once that time has passed).
 */
disputable_until: string | null, 
/**
 * UUIDv7 made on the device.
 */
id: string, site: SiteCode, accession: string, item: ItemCode, reviewer: StaffCode, 
/**
 * The person scored: the exam's staff member in the item's scored role.
 */
scored_person: StaffCode | null, mode: QcMode, findings: Array<CriterionCode>, not_applicable: Array<CriterionCode>, score: Score | null, grade: Grade, pass: boolean, severe: Array<CriterionCode>, unmet: Array<CriterionCode>, rubric_version: string, note: string, at: string, supersedes: string | null, 
/**
 * The revision that corrected this one, if any (as far as the sender knows).
 */
superseded_by: string | null, };

// Sync.

export type OutboxCounts = { pending: number, sent: number, rejected: number, };

/**
 * When and why this store last became a device of its own.
 */
export type ForkRecord = { 
/**
 * `restored` or `reused` (see [`ForkPlan::why`]).
 */
why: string, 
/**
 * The device it was, and the one it is.
 */
was: string, device: string, at: string, };

/**
 * How this store knows its center, read from the link: what the 同步 screen shows.
 */
export type CenterTrust = "pinned" | "not_pinned" | "loopback" | "insecure_http";

/**
 * What the app shows about sync.
 */
export type SyncStatus = { center: string | null, 
/**
 * How the center is known (`None` when not enrolled).
 */
center_trust: CenterTrust | null, 
/**
 * The pin of the center's key, when one was taken.
 */
center_pin: string | null, last_sync_at: string | null, last_error: string | null, outbox: OutboxCounts, 
/**
 * This store was found to be a restored or copied copy and became a device of its own.
 */
copy: ForkRecord | null, };

export type RejectedEntry = { seq: number, kind: string, ref_id: string, reason: string | null, };

export type SyncView = { rejected: Array<RejectedEntry>, center: string | null, 
/**
 * How the center is known (`None` when not enrolled).
 */
center_trust: CenterTrust | null, 
/**
 * The pin of the center's key, when one was taken.
 */
center_pin: string | null, last_sync_at: string | null, last_error: string | null, outbox: OutboxCounts, 
/**
 * This store was found to be a restored or copied copy and became a device of its own.
 */
copy: ForkRecord | null, };

/**
 * What a pass did about a store that turned out to be a copy (restored from a backup, or
 * copied onto another workstation).
 */
export type CopyRecovery = { 
/**
 * `restored`: the center holds more of this device than the store; `reused`: the center
 * holds other content under a number the store used again.
 */
why: string, 
/**
 * The device the store was, and the one it is now.
 */
was: string, now: string, 
/**
 * Records of the device it was that the store lacked and took back from the center.
 */
restored_evaluations: number, restored_events: number, };

/**
 * How a sync pass ended.
 */
export type Outcome = { "outcome": "synced", pushed: number, duplicates: number, rejected: number, pulled: number, copy: CopyRecovery | null, } | { "outcome": "not_enrolled" } | { "outcome": "retry", error: string, pushed: number, } | { "outcome": "stopped", code: string, message: string, };

/**
 * What `enroll` answers: the device the store now is, and its site.
 */
export type Enrollment = { device_id: string, site: string, };

// The report (报表) and its drill-down.

/**
 * A percentage with one decimal (half to even, computed by the shell), e.g. `94.7`.
 */
export type Rate = number;

/**
 * A report's period and filters. Months are `YYYY-MM`, both included (`from` = `to`: one
 * month; a missing end is open). A missing or blank filter does not restrict. Which filter
 * applies to which view is `ReportFilter`'s rule.
 */
export type ReportScope = { from?: string, to?: string, site?: string, department?: string, 
/**
 * `DR`, `CT`, `MR`, …
 */
modality?: string, 
/**
 * The role scored: a `scored_role` of the rubric (`technologist`, `reporting_doctor`, …).
 */
role?: string, 
/**
 * A staff code.
 */
person?: string, 
/**
 * `random`, `active`, `centralized` or `gold`.
 */
mode?: string, rubric_version?: string, };

/**
 * What a report is restricted to, besides its period. Every field is optional; the filters
 * that do not apply to a view are ignored by it: sampled cases (5.1) are exams, so QC mode,
 * rubric version and role do not restrict them, and their person is the reporting doctor;
 * workload (figure 5) is the technologists' exams, so it is empty for a doctor's role.
 */
export type ReportFilter = { site?: string | null, department?: string | null, modality?: Modality | null, 
/**
 * The role scored: technologist, reporting_doctor or auditing_doctor (the rubric says which
 * items score which role).
 */
role?: Role | null, person?: StaffCode | null, mode?: QcMode | null, rubric_version?: string | null, };

export type IndicatorRow = { 
/**
 * The site, for departments and people (their names are unique only within it).
 */
site?: string, 
/**
 * The month, site, department, modality or person; empty when the exam has none.
 */
key: string, sampled: number, qualified: number, rate: Rate | null, };

/**
 * Section 5.1: sampled cases (exams with a report-quality evaluation), qualified cases (every
 * RQ and AR evaluation of the exam passes and its general data is complete), and the rate; in
 * total and broken down.
 */
export type Indicators = { sampled: number, qualified: number, 
/**
 * `None` when nothing was sampled ("—").
 */
rate: Rate | null, by_month: Array<IndicatorRow>, by_site: Array<IndicatorRow>, 
/**
 * Departments within their site.
 */
by_department: Array<IndicatorRow>, by_modality: Array<IndicatorRow>, 
/**
 * The reporting doctor of each case, within their site.
 */
by_person: Array<IndicatorRow>, };

export type ScoreCountRow = { site: string, person: string, 
/**
 * Per modality: counts of scores 5, 4, 3, 2, 1 (absent: no evaluation of that modality).
 */
cells: { [key in string]: [number, number, number, number, number] }, 
/**
 * Modalities where the person has a failing score (2 or 1): the red cells of figure 2.
 */
flagged: Array<string>, };

/**
 * Figure 2 (质控评分统计): per person and modality, how many evaluations at each score.
 */
export type ScoreCounts = { modalities: Array<string>, rows: Array<ScoreCountRow>, 
/**
 * Per modality: counts of scores 5, 4, 3, 2, 1.
 */
totals: { [key in string]: [number, number, number, number, number] }, };

/**
 * One evaluation as the reports need it (the current revision of it).
 */
export type EvaluationFact = { id: string, site: string, department: string | null, accession: string, modality: Modality, exam_item: string, 
/**
 * The exam's reporting doctor: the person of its sampled case (5.1).
 */
reporting_doctor: StaffCode | null, 
/**
 * Whether the exam's general data is complete (5.3 a; see `rollup::general_data_complete`).
 */
general_data_complete: boolean, item: ItemCode, scored_person: StaffCode | null, reviewer: StaffCode, mode: QcMode, rubric_version: string, 
/**
 * When it was scored, RFC 3339 UTC.
 */
at: string, score: Score | null, grade: Grade, severe: Array<CriterionCode>, unmet: Array<CriterionCode>, note: string, };

/**
 * Figure 4 (质控扣分项目): how often each criterion was deducted, severe and compliance apart.
 */
export type DeductionCount = { kind: CriterionKind, criterion: string, 
/**
 * The rubric version the criterion belongs to: counts of different versions are never
 * added together.
 */
rubric_version: string, count: number, };

export type WorkloadRow = { site: string, person: string, total: number, by_modality: { [key in string]: number }, };

/**
 * Figure 5 (技师工作量统计): exams per person and modality, with totals, most work first.
 */
export type Workload = { modalities: Array<string>, rows: Array<WorkloadRow>, totals: { [key in string]: number }, total: number, };

/**
 * Figure 7 (技师质量统计) and 6.5 for doctors: per person, evaluations received and the shares
 * of each grade.
 */
export type QualityRow = { site: string, person: string, evaluations: number, 
/**
 * Counts of excellent, good, pass, fail.
 */
counts: [number, number, number, number], excellent: Rate, good: Rate, pass: Rate, fail: Rate, };

/**
 * Why a kappa has no value.
 */
export type KappaUndefined = "no_cases" | "no_variance";

/**
 * An agreement figure: the cases behind it, how many the two readers rated alike, the share
 * and kappa (`None` with `kappa_undefined` saying why).
 */
export type KappaFigure = { cases: number, agreed: number, 
/**
 * `agreed / cases`; `None` with no case.
 */
share: number | null, kappa: number | null, kappa_undefined: KappaUndefined | null, };

/**
 * One row of agreement between the two blind readers: an item, a modality or a pair of readers.
 */
export type AgreementRow = { 
/**
 * The item code, the modality code, or the pair of readers `SITE/A × SITE/B` (in order).
 */
key: string, 
/**
 * The row's cases of scored items (1-5); `None` when it has none.
 */
scores: KappaFigure | null, 
/**
 * The row's application-form cases (pass / fail); `None` when it has none.
 */
verdicts: KappaFigure | null, };

/**
 * An original reviewer's scores against the gold results of their cases.
 */
export type ReviewerBias = { 
/**
 * `SITE/CODE`.
 */
reviewer: string, 
/**
 * Cases of scored items (1-5).
 */
cases: number, 
/**
 * Mean of original − gold score over those cases: positive = too mild, negative = too
 * harsh; `None` with no such case.
 */
mean_difference: number | null, 
/**
 * Original score lower than the gold score, or a fail where gold passes.
 */
harsher: number, 
/**
 * Original score higher than the gold score, or a pass where gold fails.
 */
milder: number, 
/**
 * Application-form cases (pass / fail).
 */
verdict_cases: number, };

/**
 * The gold standard's agreement figures of one period.
 */
export type AgreementReport = { period: string, 
/**
 * Final gold cases in all.
 */
cases: number, 
/**
 * In the rubric's item order.
 */
by_item: Array<AgreementRow>, 
/**
 * In modality order.
 */
by_modality: Array<AgreementRow>, 
/**
 * Pairs of blind readers, each pair once whichever read first, in natural order.
 */
by_pair: Array<AgreementRow>, 
/**
 * Original reviewers, in natural order.
 */
reviewers: Array<ReviewerBias>, };

/**
 * All views of one period: the indicators, figures 2-4 and 5-8, and 6.5 for doctors, and the
 * gold standard's agreement figures when the caller adds them.
 */
export type Report = { period: string, filter: ReportFilter, indicators: Indicators, 
/**
 * Figure 2 for the technologists' items (IQ, FL, TR) and for the doctors' (RQ, AR).
 */
scores_technologists: ScoreCounts, scores_doctors: ScoreCounts, 
/**
 * Figure 3: the evaluations with a deduction, oldest first (at most the limit asked for).
 */
deduction_details: Array<EvaluationFact>, 
/**
 * How many evaluations have a deduction in all (figure 3 may show fewer).
 */
deduction_details_total: number, 
/**
 * Figure 4.
 */
deductions: Array<DeductionCount>, 
/**
 * Figures 5 and 6.
 */
workload: Workload, 
/**
 * Figures 7 and 8, and 6.5 for doctors.
 */
quality_technologists: Array<QualityRow>, quality_doctors: Array<QualityRow>, 
/**
 * The gold standard's reader agreement (7.3.1), when the caller has it: see
 * [`Report::with_agreement`].
 */
agreement?: AgreementReport, };

/**
 * What the reader clicked, as the front-end sends it; every field narrows the list.
 *
 * - figure 2 cell: `group`, `person`, `modality`, `score` (the totals row: no `person`);
 * - figure 3: `deducted_only`;
 * - figure 4 count: `criterion` and its `rubric_version` (counts of two versions are apart);
 * - figure 7 / 6.5: `group`, `person` (the evaluations count), plus `grade` (a rate).
 *
 * Text fields are parsed here, not by serde, so a bad value gets the app's error envelope
 * naming the field.
 */
export type Drill = { 
/**
 * `technologists` or `doctors`: the population of figures 2 and 7 (or 6.5).
 */
group?: string, 
/**
 * The scored person's staff code.
 */
person?: string, modality?: string, 
/**
 * 1-5.
 */
score?: number, 
/**
 * `excellent`, `good`, `pass` or `fail`.
 */
grade?: string, 
/**
 * A criterion code of the rubric, severe or compliance (`IQ-C2`).
 */
criterion?: string, 
/**
 * Only evaluations with a deduction (figure 3).
 */
deducted_only?: boolean, 
/**
 * The rubric version the evaluation was scored under (a figure-4 row is one version's).
 */
rubric_version?: string, };

// The worklist import (导入).

/**
 * A worklist file as the 导入 screen sends it.
 */
export type ImportRequest = { 
/**
 * The file's name: its extension says how to read it (`.csv` or `.xlsx`).
 */
file_name: string, 
/**
 * The file's bytes, base64 (standard alphabet, padded), as `FileReader` gives them.
 */
content_base64: string, 
/**
 * Check every row and write nothing.
 */
dry_run: boolean, 
/**
 * With bad rows, import the good ones (otherwise nothing is written).
 */
skip_bad: boolean, };

/**
 * A row that does not read, and why.
 */
export type BadRow = { 
/**
 * The row's number in the file (the header is row 1).
 */
row: number, 
/**
 * Why, naming the column (in English; the column as the file heads it).
 */
reason: string, 
/**
 * The same in Chinese.
 */
reason_zh: string, };

/**
 * What an import did (or, dry, would do).
 */
export type ImportReport = { dry_run: boolean, rows: number, 
/**
 * Rows not seen before (kept and merged).
 */
new_rows: number, 
/**
 * Rows already imported (from this file or another): nothing changed for them.
 */
unchanged: number, bad: Array<BadRow>, };

// Errors: the envelope every command rejects with, and its codes.

/**
 * `{ "code": "STABLE_CODE", "message_zh": "...", "message_en": "..." }` on the wire.
 */
export type IpcError = { 
/**
 * One of `ErrorCode` (the one catalogue, `radqc_protocol::ErrorCode`).
 */
code: ErrorCode, message_zh: string, message_en: string, };

/** Every error code, of the one catalogue `radqc_protocol::ErrorCode`. */
export type ErrorCode = "NO_DATABASE" | "DATABASE_EXISTS" | "NOT_A_DATABASE" | "FOREIGN_DATABASE" | "WRONG_KEY" | "NEWER_SCHEMA" | "MIGRATION_HISTORY" | "KEY_FILE" | "KEYSTORE" | "KEYSTORE_ENTRY_MISSING" | "DISK_FULL" | "INVALID_INPUT" | "ITEM_NOT_APPLICABLE" | "FACT_UNKNOWN" | "UNKNOWN_EVALUATION" | "ALREADY_CORRECTED" | "NOT_PENDING" | "STORAGE" | "CRITERION_OF_OTHER_ITEM" | "UNKNOWN_CRITERION" | "DUPLICATE_CRITERION" | "FOUND_AND_NOT_APPLICABLE" | "DATA_DIR" | "ROSTER_UNREADABLE" | "GRANTS_UNREADABLE" | "UNKNOWN_SIGNER" | "UNKNOWN_STAFF" | "NOT_SIGNED_IN" | "UNKNOWN_EXAM" | "EMPTY_PANEL" | "NOT_PERMITTED" | "UNKNOWN_GATE" | "GATE_TOKEN_FILE" | "UNKNOWN_NOTICE" | "SIGN_IN_FAILED" | "LOCKED_OUT" | "SECRET_CHANGE_REQUIRED" | "NO_SECRET" | "SESSION_LOCKED" | "WEAK_SECRET" | "INVALID_VERIFIER" | "ENROLL_FAILED" | "AUTOSTART" | "UI_UNEXPECTED_IPC_ERROR" | "NETWORK" | "FORK_LOOP" | "INVALID_SITE" | "CENTER_URL" | "CENTER_PIN_REQUIRED" | "CENTER_PIN_INVALID" | "CENTER_PIN_MISMATCH" | "INSECURE_HTTP" | "INVALID_REQUEST" | "INVALID_BODY" | "INVALID_QUERY" | "UNAUTHENTICATED" | "TOKEN_REVOKED" | "GATE_UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND" | "METHOD_NOT_ALLOWED" | "LENGTH_REQUIRED" | "PAYLOAD_TOO_LARGE" | "TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "INTERNAL_ERROR" | "STORAGE_UNAVAILABLE" | "CENTER_BUSY" | "HTTP_ERROR" | "INVALID_ROLE" | "INVALID_STAFF" | "INVALID_RUBRIC" | "INVALID_GRANTS" | "UNKNOWN_SITE" | "UNKNOWN_DEVICE" | "UNKNOWN_FEED" | "SITE_EXISTS" | "DEVICE_EXISTS" | "DEVICE_AT_OTHER_SITE" | "NO_PDF_FONT" | "UNSUPPORTED_SCHEMA" | "BATCH_TOO_LARGE" | "BAD_BATCH" | "SEQUENCE_GAP" | "SEQUENCE_REUSED" | "ID_CONFLICT" | "INVALID_PAYLOAD" | "SITE_MISMATCH" | "ALREADY_SUPERSEDED" | "UNKNOWN_RUBRIC_VERSION" | "INVALID_FINDINGS" | "SCORE_MISMATCH" | "UNKNOWN_GOLD_CASE" | "NOT_ASSIGNED" | "GOLD_ALREADY_READ" | "GOLD_CASE_CLOSED" | "GOLD_CASE_EXISTS" | "NO_GOLD_READERS" | "DISPUTE_REFUSED" | "DISPUTE_WINDOW_CLOSED";

/** The codes by name, for the UI's branches: `error.code === ERROR_CODES.DISK_FULL`. */
export const ERROR_CODES = {
  NO_DATABASE: "NO_DATABASE",
  DATABASE_EXISTS: "DATABASE_EXISTS",
  NOT_A_DATABASE: "NOT_A_DATABASE",
  FOREIGN_DATABASE: "FOREIGN_DATABASE",
  WRONG_KEY: "WRONG_KEY",
  NEWER_SCHEMA: "NEWER_SCHEMA",
  MIGRATION_HISTORY: "MIGRATION_HISTORY",
  KEY_FILE: "KEY_FILE",
  KEYSTORE: "KEYSTORE",
  KEYSTORE_ENTRY_MISSING: "KEYSTORE_ENTRY_MISSING",
  DISK_FULL: "DISK_FULL",
  INVALID_INPUT: "INVALID_INPUT",
  ITEM_NOT_APPLICABLE: "ITEM_NOT_APPLICABLE",
  FACT_UNKNOWN: "FACT_UNKNOWN",
  UNKNOWN_EVALUATION: "UNKNOWN_EVALUATION",
  ALREADY_CORRECTED: "ALREADY_CORRECTED",
  NOT_PENDING: "NOT_PENDING",
  STORAGE: "STORAGE",
  CRITERION_OF_OTHER_ITEM: "CRITERION_OF_OTHER_ITEM",
  UNKNOWN_CRITERION: "UNKNOWN_CRITERION",
  DUPLICATE_CRITERION: "DUPLICATE_CRITERION",
  FOUND_AND_NOT_APPLICABLE: "FOUND_AND_NOT_APPLICABLE",
  DATA_DIR: "DATA_DIR",
  ROSTER_UNREADABLE: "ROSTER_UNREADABLE",
  GRANTS_UNREADABLE: "GRANTS_UNREADABLE",
  UNKNOWN_SIGNER: "UNKNOWN_SIGNER",
  UNKNOWN_STAFF: "UNKNOWN_STAFF",
  NOT_SIGNED_IN: "NOT_SIGNED_IN",
  UNKNOWN_EXAM: "UNKNOWN_EXAM",
  EMPTY_PANEL: "EMPTY_PANEL",
  NOT_PERMITTED: "NOT_PERMITTED",
  UNKNOWN_GATE: "UNKNOWN_GATE",
  GATE_TOKEN_FILE: "GATE_TOKEN_FILE",
  UNKNOWN_NOTICE: "UNKNOWN_NOTICE",
  SIGN_IN_FAILED: "SIGN_IN_FAILED",
  LOCKED_OUT: "LOCKED_OUT",
  SECRET_CHANGE_REQUIRED: "SECRET_CHANGE_REQUIRED",
  NO_SECRET: "NO_SECRET",
  SESSION_LOCKED: "SESSION_LOCKED",
  WEAK_SECRET: "WEAK_SECRET",
  INVALID_VERIFIER: "INVALID_VERIFIER",
  ENROLL_FAILED: "ENROLL_FAILED",
  AUTOSTART: "AUTOSTART",
  UI_UNEXPECTED_IPC_ERROR: "UI_UNEXPECTED_IPC_ERROR",
  NETWORK: "NETWORK",
  FORK_LOOP: "FORK_LOOP",
  INVALID_SITE: "INVALID_SITE",
  CENTER_URL: "CENTER_URL",
  CENTER_PIN_REQUIRED: "CENTER_PIN_REQUIRED",
  CENTER_PIN_INVALID: "CENTER_PIN_INVALID",
  CENTER_PIN_MISMATCH: "CENTER_PIN_MISMATCH",
  INSECURE_HTTP: "INSECURE_HTTP",
  INVALID_REQUEST: "INVALID_REQUEST",
  INVALID_BODY: "INVALID_BODY",
  INVALID_QUERY: "INVALID_QUERY",
  UNAUTHENTICATED: "UNAUTHENTICATED",
  TOKEN_REVOKED: "TOKEN_REVOKED",
  GATE_UNAUTHENTICATED: "GATE_UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
  LENGTH_REQUIRED: "LENGTH_REQUIRED",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  TOO_LARGE: "TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  INTERNAL_ERROR: "INTERNAL_ERROR",
  STORAGE_UNAVAILABLE: "STORAGE_UNAVAILABLE",
  CENTER_BUSY: "CENTER_BUSY",
  HTTP_ERROR: "HTTP_ERROR",
  INVALID_ROLE: "INVALID_ROLE",
  INVALID_STAFF: "INVALID_STAFF",
  INVALID_RUBRIC: "INVALID_RUBRIC",
  INVALID_GRANTS: "INVALID_GRANTS",
  UNKNOWN_SITE: "UNKNOWN_SITE",
  UNKNOWN_DEVICE: "UNKNOWN_DEVICE",
  UNKNOWN_FEED: "UNKNOWN_FEED",
  SITE_EXISTS: "SITE_EXISTS",
  DEVICE_EXISTS: "DEVICE_EXISTS",
  DEVICE_AT_OTHER_SITE: "DEVICE_AT_OTHER_SITE",
  NO_PDF_FONT: "NO_PDF_FONT",
  UNSUPPORTED_SCHEMA: "UNSUPPORTED_SCHEMA",
  BATCH_TOO_LARGE: "BATCH_TOO_LARGE",
  BAD_BATCH: "BAD_BATCH",
  SEQUENCE_GAP: "SEQUENCE_GAP",
  SEQUENCE_REUSED: "SEQUENCE_REUSED",
  ID_CONFLICT: "ID_CONFLICT",
  INVALID_PAYLOAD: "INVALID_PAYLOAD",
  SITE_MISMATCH: "SITE_MISMATCH",
  ALREADY_SUPERSEDED: "ALREADY_SUPERSEDED",
  UNKNOWN_RUBRIC_VERSION: "UNKNOWN_RUBRIC_VERSION",
  INVALID_FINDINGS: "INVALID_FINDINGS",
  SCORE_MISMATCH: "SCORE_MISMATCH",
  UNKNOWN_GOLD_CASE: "UNKNOWN_GOLD_CASE",
  NOT_ASSIGNED: "NOT_ASSIGNED",
  GOLD_ALREADY_READ: "GOLD_ALREADY_READ",
  GOLD_CASE_CLOSED: "GOLD_CASE_CLOSED",
  GOLD_CASE_EXISTS: "GOLD_CASE_EXISTS",
  NO_GOLD_READERS: "NO_GOLD_READERS",
  DISPUTE_REFUSED: "DISPUTE_REFUSED",
  DISPUTE_WINDOW_CLOSED: "DISPUTE_WINDOW_CLOSED",
} as const satisfies Record<string, ErrorCode>;

// The events the shell emits (src-tauri/src/events.rs).

/**
 * The screen to show: `home`, `active`, `sync`.
 */
export type Navigate = { route: string, };

/**
 * The exam a `radqc://score` link names.
 */
export type OpenExam = { accession: string, };

/**
 * Why the session locked: `idle` or `os`.
 */
export type SessionLocked = { why: string, };

export const GATE_REQUESTED = "gate-requested";
export const GATE_GAVE_UP = "gate-gave-up";
export const NAVIGATE = "navigate";
export const OPEN_EXAM = "open-exam";
export const SESSION_LOCKED = "session-locked";

/** Each event's payload. */
export interface ShellEventPayloads {
  "gate-requested": GateView;
  "gate-gave-up": GateView;
  "navigate": Navigate;
  "open-exam": OpenExam;
  "session-locked": SessionLocked;
}
