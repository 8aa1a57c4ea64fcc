//! What operators read across the whole server: the overview counts and the outbox.
use super::principal::Staff;
use crate::app::App;
use crate::error::Error;
use crate::store::outbox::{self, OutboxRow};
use crate::store::page::Page;
use crate::store::stats::{self, Stats};

pub fn stats(app: &App, _who: &Staff) -> Result<Stats, Error> {
    let now = app.clock.now();
    app.db.read(|c| stats::overview(c, now))
}

/// Mail newest first, without bodies (they may carry single-use links).
pub fn list_outbox(app: &App, _who: &Staff, page: &Page) -> Result<(Vec<OutboxRow>, Option<String>), Error> {
    let rows = app.db.read(|c| outbox::list(c, page))?;
    Ok(page.finish(rows, OutboxRow::cursor))
}
