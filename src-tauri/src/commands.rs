//! The IPC commands the front-end calls with `invoke`; each one is a few lines from a wire
//! type to the application layer (`radqc-app`) and back.

use chrono::Utc;
use radqc_app::{
    DisputeInput, Drill, ErrorCode, ExamDetail, ExamPrecheck, ExamView, FindExams, GateView, GoldReadInput,
    GoldTaskView, ImportRequest, MyScore, Notice, PanelSave, PrecheckChosen, ReportScope, Session, SyncView,
};
use radqc_domain::{Findings, ItemCode, Rubric, SiteCode, Verdict};
use radqc_protocol::{DisputeRecord, EvaluationRecord, GoldReadRecord, StaffMember};
use radqc_store::{PrecheckStatsRow, StoredProposal};
use tauri::State;

use crate::{IpcError, Shared};

type Answer<T> = Result<T, IpcError>;

/// The rubric the app scores with (the bundled one until the center publishes another).
#[tauri::command]
pub fn rubric(app: State<'_, Shared>) -> Answer<Rubric> {
    Ok(app.lock()?.store().rubric().clone())
}

#[tauri::command]
pub fn session(app: State<'_, Shared>) -> Answer<Session> {
    Ok(app.lock()?.session())
}

#[tauri::command]
pub fn roster(app: State<'_, Shared>) -> Answer<Vec<StaffMember>> {
    Ok(app.lock()?.roster()?)
}

#[tauri::command]
pub fn sign_in(app: State<'_, Shared>, code: String, secret: String) -> Answer<StaffMember> {
    Ok(app.lock()?.sign_in(&code, &secret, Utc::now())?)
}

/// Signs in with a new secret (a first sign-in, or an expired secret), proven by the current one.
#[tauri::command]
pub fn change_secret(app: State<'_, Shared>, code: String, current: String, next: String) -> Answer<StaffMember> {
    Ok(app.lock()?.change_secret(&code, &current, &next, Utc::now())?)
}

#[tauri::command]
pub fn sign_out(app: State<'_, Shared>) -> Answer<()> {
    app.lock()?.sign_out(Utc::now())?;
    Ok(())
}

/// Locks the session now (the person's own choice).
#[tauri::command]
pub fn lock_session(app: State<'_, Shared>) -> Answer<()> {
    Ok(app.lock()?.lock("by_user", Utc::now())?)
}

/// Opens the locked session with the same person's secret.
#[tauri::command]
pub fn unlock_session(app: State<'_, Shared>, secret: String) -> Answer<StaffMember> {
    Ok(app.lock()?.unlock(&secret, Utc::now())?)
}

/// A key or the mouse moved in the window: the idle time starts again.
#[tauri::command]
pub fn touch(app: State<'_, Shared>) -> Answer<()> {
    app.lock()?.touch(Utc::now());
    Ok(())
}

#[tauri::command]
pub fn scorable_items(app: State<'_, Shared>, accession: String, site: Option<SiteCode>) -> Answer<Vec<ItemCode>> {
    Ok(app.lock()?.scorable_items(site.as_ref(), &accession)?)
}

#[tauri::command]
pub fn preview_score(app: State<'_, Shared>, findings: Findings) -> Answer<Verdict> {
    Ok(app.lock()?.preview(&findings)?)
}

#[tauri::command]
pub fn save_evaluations(app: State<'_, Shared>, request: PanelSave) -> Answer<Vec<EvaluationRecord>> {
    Ok(app.lock()?.save_panel(&request, Utc::now())?)
}

#[tauri::command]
pub fn find_exams(app: State<'_, Shared>, filter: FindExams) -> Answer<Vec<ExamView>> {
    Ok(app.lock()?.find_exams(&filter)?)
}

#[tauri::command]
pub fn exam_detail(app: State<'_, Shared>, accession: String, blind: Option<bool>) -> Answer<ExamDetail> {
    Ok(app.lock()?.exam_detail(&accession, blind.unwrap_or(false))?)
}

#[tauri::command]
pub fn pending_gates(app: State<'_, Shared>) -> Answer<Vec<GateView>> {
    Ok(app.lock()?.pending_gates())
}

/// The signing doctor's answer to the report checks' warning of a held signature: 返回修改
/// (`signAnyway: false`) or 仍然签发.
#[tauri::command]
pub fn precheck_choose(app: State<'_, Shared>, gate_id: String, sign_anyway: bool) -> Answer<PrecheckChosen> {
    Ok(app.lock()?.precheck_choose(&gate_id, sign_anyway, Utc::now())?)
}

/// The report checks' run of an exam's latest signing, for the panel.
#[tauri::command]
pub fn exam_precheck(app: State<'_, Shared>, accession: String, site: Option<SiteCode>) -> Answer<ExamPrecheck> {
    Ok(app.lock()?.exam_precheck(site.as_ref(), &accession)?)
}

/// 采纳 (`accept: true`) or 忽略 a proposal in the panel.
#[tauri::command]
pub fn decide_proposal(app: State<'_, Shared>, id: i64, accept: bool) -> Answer<StoredProposal> {
    Ok(app.lock()?.decide_proposal(id, accept, Utc::now())?)
}

/// What became of the report checks' proposals, by check, month and site.
#[tauri::command]
pub fn precheck_stats(app: State<'_, Shared>) -> Answer<Vec<PrecheckStatsRow>> {
    Ok(app.lock()?.precheck_stats()?)
}

#[tauri::command]
pub fn close_gate(app: State<'_, Shared>, id: String) -> Answer<radqc_app::Released> {
    Ok(app.lock()?.close_gate(&id, Utc::now())?)
}

/// The signed-in person's scores, with what the gold standard did to each and until when a
/// failed one may be disputed.
#[tauri::command]
pub fn my_scores(app: State<'_, Shared>) -> Answer<Vec<MyScore>> {
    Ok(app.lock()?.my_scores(Utc::now())?)
}

/// Disputes (申诉) a failed score of the signed-in person's, with the reason.
#[tauri::command]
pub fn dispute_evaluation(app: State<'_, Shared>, request: DisputeInput) -> Answer<DisputeRecord> {
    Ok(app.lock()?.dispute(&request, Utc::now())?)
}

/// The signed-in senior reader's gold-standard tasks (金标准复核).
#[tauri::command]
pub fn gold_tasks(app: State<'_, Shared>) -> Answer<Vec<GoldTaskView>> {
    Ok(app.lock()?.gold_tasks()?)
}

/// Saves the signed-in reader's blind read of one of their tasks.
#[tauri::command]
pub fn save_gold_read(app: State<'_, Shared>, request: GoldReadInput) -> Answer<GoldReadRecord> {
    Ok(app.lock()?.save_gold_read(&request, Utc::now())?)
}

#[tauri::command]
pub fn my_notices(app: State<'_, Shared>) -> Answer<Vec<Notice>> {
    Ok(app.lock()?.my_notices()?)
}

/// The month's indicators and figures for the site (QC officers and department heads).
#[tauri::command]
pub fn report(app: State<'_, Shared>, month: String) -> Answer<radqc_domain::report::Report> {
    Ok(app.lock()?.report(&month)?)
}

/// The 导入 screen: checks (`dry_run`) or imports a worklist file (检查登记表, CSV or XLSX).
#[tauri::command]
pub fn import_worklist(app: State<'_, Shared>, request: ImportRequest) -> Answer<radqc_store::ImportReport> {
    Ok(app.lock()?.import_worklist(&request, Utc::now())?)
}

/// The 报表 screen's report: a period of months and the filters, as text the app parses.
#[tauri::command]
pub fn report_view(app: State<'_, Shared>, scope: ReportScope) -> Answer<radqc_domain::report::Report> {
    Ok(app.lock()?.report_view(&scope)?)
}

/// The evaluations behind one number of the report of `scope` (the drill-down).
#[tauri::command]
pub fn report_evaluations(
    app: State<'_, Shared>,
    scope: ReportScope,
    drill: Drill,
) -> Answer<Vec<radqc_domain::report::EvaluationFact>> {
    Ok(app.lock()?.report_evaluations(&scope, &drill)?)
}

/// The exams behind a workload number (figure 5) of the report of `scope`.
#[tauri::command]
pub fn report_workload_exams(
    app: State<'_, Shared>,
    scope: ReportScope,
    person: Option<String>,
    modality: Option<String>,
) -> Answer<Vec<ExamView>> {
    Ok(app.lock()?.report_workload_exams(&scope, person.as_deref(), modality.as_deref())?)
}

/// Records the correction (整改) that closes a monitoring notice.
#[tauri::command]
pub fn close_notice(app: State<'_, Shared>, notice_id: String, correction: String) -> Answer<()> {
    Ok(app.lock()?.close_notice(&notice_id, &correction, Utc::now())?)
}

#[tauri::command]
pub fn sync_status(app: State<'_, Shared>) -> Answer<SyncView> {
    Ok(app.lock()?.sync_view()?)
}

/// One sync pass now, on a connection of its own so the panel never waits for the network.
#[tauri::command]
pub async fn sync_now(app: State<'_, Shared>) -> Answer<radqc_sync::Outcome> {
    let mut store = app.open_second_store()?;
    let outcome = radqc_sync::try_sync_once(&mut store, &radqc_sync::http_client(), Utc::now()).await;
    app.lock()?.apply_published_rubric()?;
    Ok(outcome)
}

/// Enrolls with a center: `code` is the enrollment string (`CODE#sha256/…`), `pin` the pin when
/// it came apart, `insecure_http` the person's consent to plain HTTP over the network.
#[tauri::command]
pub async fn enroll(
    app: State<'_, Shared>,
    center: String,
    code: String,
    pin: Option<String>,
    insecure_http: Option<bool>,
) -> Answer<Enrollment> {
    let mut store = app.open_second_store()?;
    let args = radqc_sync::EnrollArgs {
        center: &center,
        code: &code,
        pin: pin.as_deref(),
        insecure_http: insecure_http.unwrap_or(false),
        device_name: None,
    };
    let (resp, _) = radqc_sync::enroll(&mut store, &args, Utc::now()).await.map_err(|e| match &e {
        radqc_sync::SyncError::Trust { code, zh, en } => IpcError::new(*code, format!("登记失败：{zh}"), en.clone()),
        _ => IpcError::new(ErrorCode::EnrollFailed, format!("登记失败：{e}"), e.to_string()),
    })?;
    app.reopen()?;
    Ok(Enrollment { device_id: resp.device_id, site: resp.site })
}

/// What `enroll` answers: the device the store now is, and its site.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Enrollment {
    pub device_id: String,
    pub site: String,
}

/// Whether the app starts with the workstation's session.
#[tauri::command]
pub fn autostart<R: tauri::Runtime>(handle: tauri::AppHandle<R>) -> Answer<bool> {
    use tauri_plugin_autostart::ManagerExt;
    handle
        .autolaunch()
        .is_enabled()
        .map_err(|e| IpcError::new(ErrorCode::Autostart, format!("无法读取开机启动设置：{e}"), e.to_string()))
}

#[tauri::command]
pub fn set_autostart<R: tauri::Runtime>(handle: tauri::AppHandle<R>, enabled: bool) -> Answer<bool> {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = handle.autolaunch();
    let done = if enabled { launcher.enable() } else { launcher.disable() };
    done.map_err(|e| IpcError::new(ErrorCode::Autostart, format!("无法更改开机启动设置：{e}"), e.to_string()))?;
    Ok(enabled)
}
