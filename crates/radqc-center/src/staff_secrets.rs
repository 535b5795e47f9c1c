//! People's secrets at the center: the region's policy, setting or resetting a person's secret
//! (an administrator, `radqc center staff password`), a secret a person chose at a workstation
//! (sent by its device as a verifier), and the roster each site receives with its staff's
//! verifiers. A secret is never stored or published, only its argon2id verifier.

use chrono::{DateTime, Utc};
use radqc_domain::credential::{self, SecretPolicy};
use radqc_protocol::{ErrorCode, FeedKind, RosterBody, SecretChange, SecretChangeAnswer, SecretChangeStatus};

use crate::db::{Device, SecretWrite};
use crate::{ApiError, Db};

const POLICY: &str = "secret_policy";

/// The region's secret policy: the one set, else the default.
pub async fn policy(db: &Db) -> Result<SecretPolicy, ApiError> {
    match db.setting(POLICY).await? {
        None => Ok(SecretPolicy::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| ApiError::storage(format!("the stored secret policy does not parse: {e}"))),
    }
}

/// Sets the region's policy and publishes every site's roster with it.
pub async fn set_policy(db: &Db, policy: SecretPolicy) -> Result<(), ApiError> {
    policy.validate().map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.en))?;
    db.put_setting(POLICY, &serde_json::to_string(&policy).expect("a policy serializes")).await?;
    for site in db.sites().await? {
        publish_roster(db, &site).await?;
    }
    Ok(())
}

/// Sets or resets a person's secret (checked against the policy) and publishes their site's
/// roster. `must_change`: the person chooses their own at the next sign-in.
pub async fn set_secret(
    db: &Db,
    site: &str,
    staff: &str,
    secret: &str,
    must_change: bool,
    set_by: &str,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    policy(db).await?.check_new(staff, secret).map_err(|e| ApiError::new(ErrorCode::WeakSecret, e.en))?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the OS has randomness");
    // Slow on purpose (a fraction of a second): off the async threads.
    let secret = secret.to_owned();
    let verifier = tokio::task::spawn_blocking(move || credential::make_verifier(&secret, &salt))
        .await
        .map_err(|e| ApiError::new(ErrorCode::InternalError, format!("hashing failed: {e}")))?;
    let write = SecretWrite {
        site: site.to_owned(),
        staff: staff.to_owned(),
        verifier,
        must_change,
        set_by: set_by.to_owned(),
        at: now,
        based_on: None,
    };
    let answer = db.set_staff_secret(&write).await?;
    publish_roster(db, site).await?;
    Ok(answer.version)
}

/// A secret a person chose at a workstation of the device's site: applied when the center still
/// holds the version it was changed from, its verifier checked (argon2id, the minimum cost).
pub async fn device_change(
    db: &Db,
    device: &Device,
    change: &SecretChange,
    now: DateTime<Utc>,
) -> Result<SecretChangeAnswer, ApiError> {
    credential::check_verifier(&change.verifier).map_err(|e| ApiError::new(ErrorCode::InvalidVerifier, e.en))?;
    let member = db.staff(&device.site).await?.into_iter().find(|m| m.code == change.staff && m.active);
    if member.is_none() {
        return Err(ApiError::new(
            ErrorCode::UnknownStaff,
            format!("no active staff member {} at site {}", change.staff, device.site),
        ));
    }
    let write = SecretWrite {
        site: device.site.clone(),
        staff: change.staff.clone(),
        verifier: change.verifier.clone(),
        must_change: false,
        set_by: format!("device:{}", device.id),
        // The workstation's time of the change, bounded by the center's clock (an expiry counts
        // from it, so a clock ahead cannot make a secret last longer).
        at: change.changed_at.min(now),
        based_on: Some(change.based_on),
    };
    let answer = db.set_staff_secret(&write).await?;
    if answer.status == SecretChangeStatus::Applied {
        publish_roster(db, &device.site).await?;
    }
    Ok(answer)
}

/// Publishes a site's roster: its staff, its time zone, the active staff's verifiers and the
/// region's policy.
pub async fn publish_roster(db: &Db, site: &str) -> Result<i64, ApiError> {
    let staff = db.staff(site).await?;
    let zone = db.site_zones().await?.of(site);
    let active: std::collections::HashSet<&str> = staff.iter().filter(|m| m.active).map(|m| m.code.as_str()).collect();
    let credentials = db.staff_secrets(site).await?.into_iter().filter(|c| active.contains(c.code.as_str())).collect();
    let body = RosterBody {
        staff: staff.clone(),
        time_zone: Some(zone.name().to_owned()),
        credentials,
        policy: Some(policy(db).await?),
    };
    let body = serde_json::to_value(&body).expect("a roster serializes");
    db.publish(FeedKind::Roster, Some(site), &body, Utc::now()).await
}
