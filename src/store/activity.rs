//! Daily counts (`daily_activity`): what the dashboard's charts draw. A count is added by
//! an upsert, in the transaction of what it counts or in the usage flusher's; a chart
//! reads one metric of one tenant (or of the installation) over a range of days.
use rusqlite::{Connection, Transaction, named_params};

use crate::error::Error;
use crate::types::{TenantId, Timestamp};

pub const SECS_PER_DAY: i64 = 86_400;

/// What is counted per day.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Metric {
    Signups,
    LoginsSucceeded,
    LoginsFailed,
    VerificationsValid,
    VerificationsInvalid,
    MailFailed,
}

impl Metric {
    pub const fn as_str(self) -> &'static str {
        match self {
            Metric::Signups => "signups",
            Metric::LoginsSucceeded => "logins_succeeded",
            Metric::LoginsFailed => "logins_failed",
            Metric::VerificationsValid => "verifications_valid",
            Metric::VerificationsInvalid => "verifications_invalid",
            Metric::MailFailed => "mail_failed",
        }
    }
}

/// The unix day (days since 1970-01-01, UTC) of `t`.
pub fn day_of(t: Timestamp) -> i64 {
    t.unix().div_euclid(SECS_PER_DAY)
}

/// The column value of a tenant: '' stands for the whole installation.
fn tenant_key(tenant: Option<TenantId>) -> String {
    tenant.map(|t| t.to_string()).unwrap_or_default()
}

/// Adds `n` to the day's count of `metric` for `tenant` (None: the installation).
pub fn add(tx: &Transaction<'_>, day: i64, tenant: Option<TenantId>, metric: Metric, n: i64) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO daily_activity (day, tenant_id, metric, count) VALUES (:day, :tenant, :metric, :n)
         ON CONFLICT (day, tenant_id, metric) DO UPDATE SET count = count + excluded.count",
    )?
    .execute(named_params! { ":day": day, ":tenant": tenant_key(tenant), ":metric": metric.as_str(), ":n": n })?;
    Ok(())
}

/// Counts one event of `metric` at `now`, for the installation and, when known, its tenant.
pub fn count(tx: &Transaction<'_>, now: Timestamp, tenant: Option<TenantId>, metric: Metric) -> Result<(), Error> {
    let day = day_of(now);
    add(tx, day, None, metric, 1)?;
    if tenant.is_some() {
        add(tx, day, tenant, metric, 1)?;
    }
    Ok(())
}

/// The `days` days up to and including `today`, oldest first, each with its count (0 when
/// no row): at most `days` rows read from `daily_activity_by_tenant`.
pub fn daily(
    conn: &Connection,
    tenant: Option<TenantId>,
    metric: Metric,
    today: i64,
    days: i64,
) -> Result<Vec<(i64, i64)>, Error> {
    let first = today - days + 1;
    let mut stmt = conn.prepare_cached(
        "SELECT day, count FROM daily_activity
         WHERE tenant_id = :tenant AND metric = :metric AND day BETWEEN :first AND :today",
    )?;
    let rows: Vec<(i64, i64)> = stmt
        .query_map(
            named_params! { ":tenant": tenant_key(tenant), ":metric": metric.as_str(), ":first": first, ":today": today },
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<Result<_, _>>()?;
    Ok((first..=today).map(|d| (d, rows.iter().find(|r| r.0 == d).map_or(0, |r| r.1))).collect())
}

/// Messages whose last attempt failed and that are still to be retried (the pending ones,
/// by the partial index `outbox_pending`: few, however large the outbox).
pub fn mail_failing(conn: &Connection) -> Result<i64, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM outbox
         WHERE sent_at IS NULL AND scrubbed_at IS NULL AND last_error IS NOT NULL",
        )?
        .query_row([], |r| r.get(0))?)
}
