//! The gold standard's paths under `/api/v1/gold/` (7.3.1): cases put in by hand or drawn, a
//! reader's blind assignments, the cases as each caller may see them, the region's settings.
//! Every path takes a person's token: what a person is served follows `gold::view`'s rules,
//! decided once, so a read's content never reaches another reader of the case or the person
//! scored before the case is final.

use axum::extract::{Path, State};
use chrono::Utc;
use radqc_domain::report::{Month, Period};
use radqc_domain::{Grants, ItemCode, Modality};
use radqc_protocol::{
    ErrorBody, ErrorCode, GoldAssignment, GoldCaseRequest, GoldCaseView, GoldDrawAnswer, GoldDrawRequest, GoldMessage,
    GoldSettings, GoldSource, GoldState,
};
use serde::Deserialize;

use crate::db::Person;
use crate::error::ApiError;
use crate::gold::{self, CaseDoc, GoldScope};
use crate::http::{ApiJson, ApiQuery, AppState, Caller};

/// The person calling; a device's token is refused (gold work is a person's).
fn person(caller: Caller) -> Result<Person, ApiError> {
    match caller {
        Caller::Person(p) => Ok(p),
        Caller::Device(_) => {
            Err(ApiError::forbidden("the gold standard's paths take a person's token, not a device's"))
        }
    }
}

fn manager(p: &Person, grants: &Grants) -> Result<(), ApiError> {
    if grants.manages_gold(&p.roles) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only a role that manages the gold standard (the grants' manages_gold) does this"))
    }
}

/// Puts one evaluation into the gold standard by hand: two senior readers are assigned at once.
#[utoipa::path(post, path = "/api/v1/gold/cases", request_body = GoldCaseRequest,
    responses((status = 200, description = "the new case, as the caller sees it", body = GoldCaseView),
        (status = 400, description = "INVALID_BODY", body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED or TOKEN_REVOKED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: a device's token, a role that does not manage the gold standard, or another site's evaluation without a regional role", body = ErrorBody),
        (status = 404, description = "UNKNOWN_EVALUATION", body = ErrorBody),
        (status = 409, description = "GOLD_CASE_EXISTS (already in a case, or itself a gold result), ALREADY_SUPERSEDED (corrected since), NO_GOLD_READERS (fewer than two senior readers may read it)", body = ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("person_token" = [])))]
pub(crate) async fn create_case(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<GoldCaseRequest>,
) -> Result<axum::Json<GoldCaseView>, ApiError> {
    let p = person(caller)?;
    let grants = state.grants().await?;
    manager(&p, &grants)?;
    // No control character (PostgreSQL cannot store a NUL; no id holds one).
    if req.evaluation_id.is_empty() || req.evaluation_id.len() > 64 || req.evaluation_id.chars().any(char::is_control) {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            "`evaluation_id`: 1-64 characters, none a control character",
        ));
    }
    let case = add_case(&state.db, &req.evaluation_id, &grants, Some(&p)).await?;
    gold::view(&case, &p, &grants)
        .map(axum::Json)
        .ok_or_else(|| ApiError::storage("the new case is not visible to its maker"))
}

/// Puts an evaluation into the gold standard by hand: by `person` (who must be able to read its
/// site), or by the center's operator (`radqc center gold add`) without one.
pub async fn add_case(
    db: &crate::Db,
    evaluation_id: &str,
    grants: &Grants,
    person: Option<&Person>,
) -> Result<CaseDoc, ApiError> {
    let now = Utc::now();
    let (g, who, id) = (grants.clone(), person.cloned(), evaluation_id.to_owned());
    let scope = GoldScope { evaluation_ids: vec![id.clone()], ..GoldScope::default() };
    let cases = db
        .gold_run(
            scope,
            now,
            Box::new(move |book| {
                if let (Some(known), Some(who)) = (book.evaluations.get(&id), &who) {
                    if !who.may_read_site(&g, known.record.site.as_str()) {
                        return Err(ApiError::forbidden(format!(
                            "evaluation {id} is of site {}, which you may not read",
                            known.record.site
                        )));
                    }
                }
                let by = who.as_ref().map_or_else(|| "cli".to_owned(), |w| format!("staff:{}/{}", w.site, w.staff));
                let case = book.create(&id, GoldSource::Hand, by, None, &g, now).map_err(gold::http_error)?;
                Ok(vec![case])
            }),
        )
        .await?;
    cases.into_iter().next().ok_or_else(|| ApiError::storage("the new case was not stored"))
}

/// The draw's keyed value of an evaluation, in [0, 1): SHA-256 of the seed and the id.
fn draw_value(seed: &str, evaluation_id: &str) -> f64 {
    let digest = radqc_domain::migrations::digest(&format!("{seed}\n{evaluation_id}"));
    let top = u64::from_str_radix(&digest[..16], 16).unwrap_or(u64::MAX);
    (top >> 11) as f64 / (1u64 << 53) as f64
}

/// A random share of a period's current evaluations (not gold results), with filters, becomes
/// gold-standard cases. The draw is keyed: an evaluation is drawn when the value of SHA-256 of
/// the seed and its id is below the share, so an auditor recomputes it from the seed.
#[utoipa::path(post, path = "/api/v1/gold/draw", request_body = GoldDrawRequest,
    responses((status = 200, description = "the cases made", body = GoldDrawAnswer),
        (status = 400, description = "INVALID_BODY: a month, the share, a filter or `max` that does not read", body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED or TOKEN_REVOKED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not a gold manager, or another site (or the region) without a regional role", body = ErrorBody),
        (status = 409, description = "NO_GOLD_READERS: nothing was made", body = ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("person_token" = [])))]
pub(crate) async fn draw(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<GoldDrawRequest>,
) -> Result<axum::Json<GoldDrawAnswer>, ApiError> {
    let p = person(caller)?;
    let grants = state.grants().await?;
    manager(&p, &grants)?;
    match &req.site {
        Some(site) if !p.may_read_site(&grants, site) => {
            return Err(ApiError::forbidden(format!("you may not draw from site {site}")))
        }
        None if !p.reads_region(&grants) => {
            return Err(ApiError::forbidden("a draw over the whole region needs a regional role; name a `site`"))
        }
        _ => {}
    }
    let drawn = run_draw(&state.db, &req, &grants).await?;
    let cases = drawn.cases.iter().filter_map(|c| gold::view(c, &p, &grants)).collect();
    Ok(axum::Json(GoldDrawAnswer {
        seed: drawn.seed,
        considered: drawn.considered,
        cases,
        already_in_case: drawn.already_in_case,
    }))
}

/// A draw's outcome.
pub struct Drawn {
    pub seed: String,
    pub considered: u64,
    pub cases: Vec<CaseDoc>,
    pub already_in_case: u64,
}

/// Draws `req` (checked: months, share, filters) and makes its cases in one transaction.
pub async fn run_draw(db: &crate::Db, req: &GoldDrawRequest, grants: &Grants) -> Result<Drawn, ApiError> {
    let bad = |m: String| ApiError::new(ErrorCode::InvalidBody, m);
    let month = |field: &str, v: &str| v.parse::<Month>().map_err(|e| bad(format!("`{field}`: {e}")));
    let period = Period::between(Some(month("from", &req.from)?), Some(month("to", &req.to)?))
        .map_err(|e| bad(format!("`from`..`to`: {e}")))?;
    if !(req.share > 0.0 && req.share <= 1.0) {
        return Err(bad(format!("`share`: a share in (0, 1], got {}", req.share)));
    }
    if req.max.is_some_and(|m| !(1..=10_000).contains(&m)) {
        return Err(bad("`max`: 1 to 10000".to_owned()));
    }
    let modality =
        req.modality.as_deref().map(str::parse::<Modality>).transpose().map_err(|e| bad(format!("`modality`: {e}")))?;
    let item = req.item.as_deref().map(str::parse::<ItemCode>).transpose().map_err(|e| bad(format!("`item`: {e}")))?;
    let seed = match &req.seed {
        Some(s) if s.is_empty() || s.len() > 128 || s.chars().any(char::is_control) => {
            return Err(bad("`seed`: 1-128 characters, no control character".to_owned()))
        }
        Some(s) => s.clone(),
        None => crate::secret::new_token().trim_start_matches("rq_")[..32].to_owned(),
    };
    let zones = db.site_zones().await?;
    // The widest range of the period over every zone, then each evaluation in its own site's.
    let ranges: Vec<(String, String)> =
        std::iter::once(zones.default).chain(zones.sites.values().copied()).map(|z| period.range(z)).collect();
    let from = ranges.iter().map(|r| r.0.clone()).min().unwrap_or_default();
    let to = ranges.iter().map(|r| r.1.clone()).max().unwrap_or_default();
    let facts = db.evaluation_facts(&from, &to, req.site.as_deref()).await?;
    let mut candidates: Vec<(f64, String)> = facts
        .into_iter()
        .filter(|f| {
            let (a, b) = period.range(zones.of(&f.site));
            f.at >= a && f.at < b
        })
        .filter(|f| f.mode != radqc_domain::QcMode::Gold)
        .filter(|f| modality.as_ref().is_none_or(|m| &f.modality == m))
        .filter(|f| item.is_none_or(|i| f.item == i))
        .filter(|f| !req.failed_only || !f.grade.passes())
        .map(|f| (draw_value(&seed, &f.id), f.id))
        .collect();
    let considered = candidates.len() as u64;
    candidates.retain(|(v, _)| *v < req.share);
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    if let Some(max) = req.max {
        candidates.truncate(max as usize);
    }
    let ids: Vec<String> = candidates.into_iter().map(|(_, id)| id).collect();
    let now = Utc::now();
    let (g, s) = (grants.clone(), seed.clone());
    let scope = GoldScope { evaluation_ids: ids.clone(), ..GoldScope::default() };
    let already = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = already.clone();
    let cases = db
        .gold_run(
            scope,
            now,
            Box::new(move |book| {
                let mut made = Vec::new();
                for id in &ids {
                    match book.create(id, GoldSource::Sample, format!("draw:{s}"), None, &g, now) {
                        Ok(case) => made.push(case),
                        Err(why) if why.is(ErrorCode::GoldCaseExists) => {
                            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(why) => return Err(gold::http_error(why)),
                    }
                }
                Ok(made)
            }),
        )
        .await?;
    Ok(Drawn { seed, considered, cases, already_in_case: already.load(std::sync::atomic::Ordering::Relaxed) })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct CasesQuery {
    /// only cases in this state
    #[param(value_type = Option<GoldState>)]
    state: Option<GoldState>,
    /// only cases of this site's exams
    site: Option<String>,
}

/// The gold-standard cases the caller may see, each as they may see it (`gold::view`): a reader
/// their own task only until the case is final, the person scored never a read before then.
#[utoipa::path(get, path = "/api/v1/gold/cases", params(CasesQuery),
    responses((status = 200, description = "the cases, oldest first", body = Vec<GoldCaseView>),
        (status = 400, description = "INVALID_QUERY", body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED or TOKEN_REVOKED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: a device's token", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("person_token" = [])))]
pub(crate) async fn cases(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<CasesQuery>,
) -> Result<axum::Json<Vec<GoldCaseView>>, ApiError> {
    let p = person(caller)?;
    let grants = state.grants().await?;
    let all = state.db.gold_cases(None).await?;
    Ok(axum::Json(
        all.iter()
            .filter(|c| q.site.as_ref().is_none_or(|s| &c.site == s))
            .filter_map(|c| gold::view(c, &p, &grants))
            .filter(|v| q.state.is_none_or(|s| v.state == s))
            .collect(),
    ))
}

/// One case as the caller may see it; 404 for a case they may not see at all.
#[utoipa::path(get, path = "/api/v1/gold/cases/{id}",
    params(("id" = String, Path, description = "the case id")),
    responses((status = 200, description = "the case", body = GoldCaseView),
        (status = 400, description = "INVALID_REQUEST: the path does not read", body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED or TOKEN_REVOKED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: a device's token", body = ErrorBody),
        (status = 404, description = "UNKNOWN_GOLD_CASE", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("person_token" = [])))]
pub(crate) async fn case(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<GoldCaseView>, ApiError> {
    let p = person(caller)?;
    let grants = state.grants().await?;
    let unknown = || ApiError::new(ErrorCode::UnknownGoldCase, format!("no gold-standard case {id} you may see"));
    let case: CaseDoc = state.db.gold_case(&id).await?.ok_or_else(unknown)?;
    gold::view(&case, &p, &grants).map(axum::Json).ok_or_else(unknown)
}

/// The caller's open reading tasks, blind: the exam without the person scored (unless the
/// region shows names), for the third reader the two reads as 甲 and 乙 without names, never the
/// original score.
#[utoipa::path(get, path = "/api/v1/gold/assignments",
    responses((status = 200, description = "the open tasks, oldest first", body = Vec<GoldAssignment>),
        (status = 401, description = "UNAUTHENTICATED or TOKEN_REVOKED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: a device's token", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("person_token" = [])))]
pub(crate) async fn assignments(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<GoldAssignment>>, ApiError> {
    let p = person(caller)?;
    let settings = gold::parse_settings(state.db.setting(gold::SETTINGS_NAME).await?.as_deref())?;
    let open = gold::open_cases(&state.db).await?;
    Ok(axum::Json(gold::tasks_of(&open, &p, &settings)))
}

/// The region's gold-standard settings.
#[utoipa::path(get, path = "/api/v1/gold/settings",
    responses((status = 200, description = "the settings in force", body = GoldSettings),
        (status = 401, description = "UNAUTHENTICATED or TOKEN_REVOKED", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("device_token" = []), ("person_token" = [])))]
pub(crate) async fn get_settings(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<axum::Json<GoldSettings>, ApiError> {
    Ok(axum::Json(gold::parse_settings(state.db.setting(gold::SETTINGS_NAME).await?.as_deref())?))
}

/// Sets the region's gold-standard settings (a center administrator) and publishes them to
/// every site (the `gold` feed).
#[utoipa::path(put, path = "/api/v1/gold/settings", request_body = GoldSettings,
    responses((status = 200, description = "the settings now in force", body = GoldSettings),
        (status = 400, description = "INVALID_BODY: `dispute_days` outside 1-365", body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED or TOKEN_REVOKED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not a center administrator", body = ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("person_token" = [])))]
pub(crate) async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(settings): ApiJson<GoldSettings>,
) -> Result<axum::Json<GoldSettings>, ApiError> {
    let p = person(caller)?;
    let grants = state.grants().await?;
    if !p.administers_region(&grants) {
        return Err(ApiError::forbidden("only a center administrator sets the gold standard's settings"));
    }
    set_settings(&state.db, &settings).await?;
    Ok(axum::Json(settings))
}

/// Stores and publishes the region's settings (the API and `radqc center gold settings`).
pub async fn set_settings(db: &crate::Db, settings: &GoldSettings) -> Result<(), ApiError> {
    if !(1..=365).contains(&settings.dispute_days) {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            format!("`dispute_days`: 1 to 365 days, got {}", settings.dispute_days),
        ));
    }
    db.put_setting(gold::SETTINGS_NAME, &serde_json::to_string(settings).expect("settings serialize")).await?;
    let body =
        serde_json::to_value(GoldMessage::Settings { settings: settings.clone() }).expect("a message serializes");
    db.publish(radqc_protocol::FeedKind::Gold, None, &body, Utc::now()).await?;
    Ok(())
}
