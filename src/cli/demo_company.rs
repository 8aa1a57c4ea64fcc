//! The company `keystead demo` shows: four weeks in the life of a small product's
//! customers, played through the core operations every door calls (sign-up, invite and
//! accept, role change, removal, keys, the operator's suspend and delete with a reason),
//! on a clock set to each event's day and hour of the last four weeks (events are played
//! by kind, not strictly in order: every list orders by time), so that rows and the audit
//! log read as if they had happened then. Only what no operation makes is written
//! through `store`: the daily activity of the weeks before (the charts' history) and one
//! delivery that failed (no SMTP server runs here).
use super::demo_people::{Person, TENANTS};
use crate::app::App;
use crate::core::admin_tenants::{self, Lifecycle};
use crate::core::auth::{self, SignedUp, Signup};
use crate::core::keys::{self, NewKey};
use crate::core::members::{self, Activate, Invite};
use crate::core::operators::{self, NewAdmin};
use crate::core::principal::{Actor, Operator, Origin, PortalUser, Staff};
use crate::core::sessions::{self, Holder};
use crate::crypto::secret::{Secret, random_token};
use crate::error::Error;
use crate::store::activity::{self, Metric, SECS_PER_DAY};
use crate::store::{self, page::Page};
use crate::types::{Reason, Role, TenantId, Timestamp, UserId};

pub const OPERATOR_EMAIL: &str = "operator@demo.test";
pub const OWNER_EMAIL: &str = "owner@demo.test";
/// How far back the story starts.
const WEEKS: i64 = 4;
const HOUR: i64 = 3600;

/// What the demo prints: the two logins and the first tenant's first key.
pub struct Seeded {
    pub operator_password: Secret,
    pub owner_password: Secret,
    pub tenant_name: String,
    pub key: Secret,
}

/// Plays the story on `app` (whose config must allow sign-up and send no mail).
pub fn seed(app: &App) -> Result<Seeded, Error> {
    let today = app.clock.now();
    // Midnight (UTC) four weeks ago, so that the hours below read as office hours.
    let start = Timestamp::from_unix((activity::day_of(today) - WEEKS * 7) * SECS_PER_DAY);
    let at = |day: i64, hour: i64| travel(app, start.plus_secs(day * SECS_PER_DAY + hour * HOUR));

    at(0, 9);
    let operator_password = random_token();
    let operator = NewAdmin {
        email: OPERATOR_EMAIL.into(),
        name: Some("Robin Hale".into()),
        password: Secret::new(operator_password.expose().to_owned()),
    };
    operators::create_admin(app, Actor::System, None, operator)?;
    let desk = Origin { ip: "192.0.2.10".into(), user_agent: BROWSERS[0].into() };
    let signed_in = operators::admin_login(app, &desk, OPERATOR_EMAIL, &operator_password)?;
    let staff =
        Staff::Operator(Operator { session_id: signed_in.session.id, admin_id: signed_in.admin.id, origin: desk });

    // Each customer signs up on its own day, from its own address.
    let owner_password = random_token();
    let mut tenants = Vec::new();
    for (i, t) in TENANTS.iter().enumerate() {
        at(t.signed_up_on, 10 + i as i64);
        let password = if i == 0 { Secret::new(owner_password.expose().to_owned()) } else { random_token() };
        let origin = origin(i, 1);
        let signup = Signup {
            tenant_name: t.name.into(),
            email: t.owner.email.into(),
            password,
            name: Some(t.owner.name.into()),
        };
        let seeded = auth::signup(app, &origin, signup)?;
        tenants.push(Tenant { owner: owner_of(&seeded, origin), seeded, members: Vec::new() });
    }

    // The people the owners invite, who accept within a day (each through the link it was
    // handed, as no mail goes out here).
    for (i, t) in TENANTS.iter().enumerate() {
        for (j, p) in t.team.iter().enumerate() {
            at(p.joined_on, 11);
            let user = invite(app, &tenants[i].owner, p)?;
            at(p.joined_on + 1, 9);
            let link = user.1.ok_or_else(|| Error::internal("demo invitation without a link"))?;
            accept(app, origin(i, 2 + j), &link)?;
            tenants[i].members.push(user.0);
        }
    }

    let bakery = &tenants[0];
    let [marco, _priya, lena] = bakery.members[..] else {
        return Err(Error::internal("the bakery's team is three"));
    };
    at(6, 14);
    let owner = &bakery.owner;
    keys::create_key(app, owner, named_key("Point of sale", &["orders:write", "menu:read"], None))?;
    at(9, 16);
    members::change_role(app, &owner.in_tenant(), marco, Role::Admin)?;
    at(12, 10);
    let staging = keys::create_key(app, owner, named_key("Staging", &["orders:write"], None))?;
    at(18, 15);
    keys::revoke_key(app, owner, staging.row.id)?;
    at(21, 17);
    members::remove_member(app, &owner.in_tenant(), lena)?;
    if let Some(tom) = &TENANTS[0].invited {
        at(tom.joined_on, 11);
        invite(app, owner, tom)?;
        // The invitation bounced: the one failed delivery of the outbox.
        let refused = format!("550 5.1.1 <{}>: Recipient address rejected: mailbox unavailable", tom.email);
        fail_delivery(app, tom.email, &refused)?;
    }
    at(25, 9);
    let campaign_ends = today.plus_secs(3 * SECS_PER_DAY);
    keys::create_key(app, owner, named_key("Holiday campaign", &["promotions:read"], Some(campaign_ends)))?;

    // The operator's side: an unpaid customer is suspended, one that closed is deleted.
    let id = |name: &str| tenants.iter().find(|t| t.seeded.tenant.name == name).map(|t| t.seeded.tenant.id);
    let closed_on = at(17, 10);
    let closed = id("Bluebird Tutoring").ok_or_else(|| Error::internal("no Bluebird"))?;
    let reason = Reason::parse(Some("The owner closed the business and asked for the account to be deleted"))?;
    admin_tenants::change_tenant(app, &staff, closed, Lifecycle::Delete, &reason)?;
    let suspended_on = at(22, 10);
    let unpaid = id("Copperleaf Studio").ok_or_else(|| Error::internal("no Copperleaf"))?;
    let reason = Reason::parse(Some("Invoice unpaid for 60 days; restore once payment arrives"))?;
    admin_tenants::change_tenant(app, &staff, unpaid, Lifecycle::Suspend, &reason)?;

    travel(app, today);
    open_sessions(app, &tenants, &[lena], today)?;
    history(app, &tenants, start, today, &[(closed, closed_on), (unpaid, suspended_on)])?;
    let first = tenants.swap_remove(0).seeded;
    Ok(Seeded { operator_password, owner_password, tenant_name: first.tenant.name, key: first.key.key })
}

struct Tenant {
    seeded: SignedUp,
    owner: PortalUser,
    members: Vec<UserId>,
}

fn owner_of(s: &SignedUp, origin: Origin) -> PortalUser {
    PortalUser {
        session_id: s.session.id,
        user_id: s.member.account.id,
        tenant_id: s.tenant.id,
        role: Role::Owner,
        origin,
    }
}

/// Moves the seeding app's clock to `to`, and tells it.
fn travel(app: &App, to: Timestamp) -> Timestamp {
    app.clock.advance(to.unix() - app.clock.now().unix());
    to
}

const BROWSERS: [&str; 4] = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
];

/// Person `person` of tenant `tenant`: an address of the documentation range 198.51.100.0/24
/// per tenant and person (also keeps each under the per-address limits).
fn origin(tenant: usize, person: usize) -> Origin {
    Origin {
        ip: format!("198.51.100.{}", tenant * 10 + person),
        user_agent: BROWSERS[(tenant + person) % BROWSERS.len()].into(),
    }
}

/// The owner invites `p`; the invited account and its activation link.
fn invite(app: &App, owner: &PortalUser, p: &Person) -> Result<(UserId, Option<Secret>), Error> {
    let role = if p.admin { Role::Admin } else { Role::Member };
    let input = Invite { email: p.email.into(), role, name: Some(p.name.into()) };
    let invited = members::invite_member(app, &owner.in_tenant(), input)?;
    Ok((invited.member.account.id, invited.activation_url))
}

/// Accepts an invitation through its link, choosing a random password.
fn accept(app: &App, origin: Origin, link: &Secret) -> Result<(), Error> {
    let token = link.expose().split_once("token=").map(|(_, t)| t.to_owned()).unwrap_or_default();
    let input = Activate { token, password: Some(random_token()), name: None };
    members::activate(app, &origin, input).map(|_| ())
}

fn named_key(name: &str, scopes: &[&str], expires_at: Option<Timestamp>) -> NewKey {
    NewKey { name: name.into(), scopes: scopes.iter().map(|s| (*s).to_owned()).collect(), expires_at, meta: None }
}

/// Records one failed attempt at the newest message to `to`, as the sender does when the
/// SMTP server refuses it.
fn fail_delivery(app: &App, to: &str, error: &str) -> Result<(), Error> {
    let page = Page::parse(Some("10"), None)?;
    let newest = app.db.read(|c| store::outbox::list(c, &page))?;
    let message = newest.into_iter().find(|m| m.to_addr == to).ok_or_else(|| Error::internal("no mail to fail"))?;
    let now = app.clock.now();
    app.db.write(|tx| {
        store::outbox::mark_failed(tx, &message.id, error, now.plus_secs(crate::mail::backoff_secs(1)))?;
        activity::count(tx, now, None, Metric::MailFailed)
    })
}

/// Live sessions for today: every person of the three active tenants but `except` (who
/// left).
fn open_sessions(app: &App, tenants: &[Tenant], except: &[UserId], now: Timestamp) -> Result<(), Error> {
    app.db.write(|tx| {
        for (i, t) in tenants.iter().enumerate().take(3) {
            let people = std::iter::once(t.owner.user_id).chain(t.members.iter().copied());
            for (j, user) in people.enumerate().filter(|(_, u)| !except.contains(u)) {
                let holder = Holder::Portal { user, tenant: t.seeded.tenant.id };
                sessions::open(tx, app, holder, &origin(i, 20 + j), now)?;
            }
        }
        Ok(())
    })
}

/// The charts' history: logins and verifications per day of each tenant from its sign-up
/// on (until it stopped), busier on weekdays, and a few failed logins. Deterministic.
fn history(
    app: &App,
    tenants: &[Tenant],
    start: Timestamp,
    today: Timestamp,
    stopped: &[(TenantId, Timestamp)],
) -> Result<(), Error> {
    let (first, last) = (activity::day_of(start), activity::day_of(today));
    app.db.write(|tx| {
        for day in first..last {
            // 1970-01-01 was a Thursday: days 2 and 3 of the week are the weekend.
            let weekend = matches!(day.rem_euclid(7), 2 | 3);
            let wave = 1 + (day * 7).rem_euclid(5);
            let add = |tenant: Option<TenantId>, metric: Metric, n: i64| activity::add(tx, day, tenant, metric, n);
            for (i, t) in tenants.iter().enumerate() {
                let tenant = &t.seeded.tenant;
                let joined = activity::day_of(tenant.created_at);
                let ended = stopped.iter().any(|(id, on)| *id == tenant.id && day >= activity::day_of(*on));
                if day <= joined || ended {
                    continue;
                }
                let size = (TENANTS.len() - i) as i64;
                let busy = if weekend { 1 } else { 3 };
                let logins = size * busy + wave;
                let valid = logins * 40 + wave * 13;
                let invalid = (day + i as i64).rem_euclid(4);
                for (metric, n) in [
                    (Metric::LoginsSucceeded, logins),
                    (Metric::VerificationsValid, valid),
                    (Metric::VerificationsInvalid, invalid),
                ] {
                    add(Some(tenant.id), metric, n)?;
                    add(None, metric, n)?;
                }
            }
            add(None, Metric::LoginsFailed, (day * 3).rem_euclid(4))?;
        }
        Ok(())
    })
}
