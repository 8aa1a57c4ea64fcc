//! What operators read across the whole server: the overview counts, the daily activity
//! the dashboard charts, and the outbox.
use super::principal::Staff;
use crate::app::App;
use crate::error::Error;
use crate::store::activity::{self, Metric};
use crate::store::outbox::{self, OutboxRow};
use crate::store::page::Page;
use crate::store::stats::{self, Stats};
use crate::types::TenantId;

/// Days a dashboard chart covers, today included.
pub const CHART_DAYS: i64 = 30;

/// The metrics charted, in the order shown.
pub const CHARTED: &[Metric] = &[
    Metric::Signups,
    Metric::LoginsSucceeded,
    Metric::LoginsFailed,
    Metric::VerificationsValid,
    Metric::VerificationsInvalid,
    Metric::MailFailed,
];

pub struct Activity {
    /// Each charted metric with its last `CHART_DAYS` days, oldest first.
    pub series: Vec<(Metric, Vec<(i64, i64)>)>,
    /// Mail whose last attempt failed, still to be retried (installation-wide only).
    pub mail_failing: i64,
}

/// The daily counts of the installation (`tenant` None) or of one tenant. Verifications
/// counted in memory show after the usage flusher's next turn (seconds).
pub fn activity(app: &App, _who: &Staff, tenant: Option<TenantId>) -> Result<Activity, Error> {
    let today = activity::day_of(app.clock.now());
    app.db.read(|c| {
        let series = CHARTED
            .iter()
            // Mail has no tenant: a tenant's page leaves its chart out.
            .filter(|m| tenant.is_none() || **m != Metric::MailFailed)
            .map(|&m| Ok((m, activity::daily(c, tenant, m, today, CHART_DAYS)?)))
            .collect::<Result<_, Error>>()?;
        let mail_failing = if tenant.is_none() { activity::mail_failing(c)? } else { 0 };
        Ok(Activity { series, mail_failing })
    })
}

pub fn stats(app: &App, _who: &Staff) -> Result<Stats, Error> {
    let now = app.clock.now();
    app.db.read(|c| stats::overview(c, now))
}

/// Mail newest first, without bodies (they may carry single-use links).
pub fn list_outbox(app: &App, _who: &Staff, page: &Page) -> Result<(Vec<OutboxRow>, Option<String>), Error> {
    let rows = app.db.read(|c| outbox::list(c, page))?;
    Ok(page.finish(rows, OutboxRow::cursor))
}
