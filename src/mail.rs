//! Mail: composing a message into the outbox (inside the transaction of the change that
//! causes it), scrubbing single-use links out of stored messages, and the sender thread
//! that delivers due messages over SMTP with retries and exponential backoff.
//!
//! Security: a letter carrying a link is stored twice, neither copy raw: its bodies as
//! sent, sealed under the master key (bound to the message id), and the same bodies with
//! the link cut out. The sender opens the sealed copy; scrubbing drops it. So no raw token
//! reaches the database file, its WAL, its free pages or a backup.
//!
//! Without `--smtp-url` nothing leaves the machine: messages stay in the outbox, and a log
//! line (never the link) says so.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use askama::Template;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::SmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, Transport as _};
use rusqlite::Transaction;

use crate::app::App;
use crate::background::Background;
use crate::brand::Brand;
use crate::brand::mail_texts::Slot;
use crate::config::{SmtpSettings, SmtpTls};
use crate::core::tokens;
use crate::crypto::aead::MasterKey;
use crate::crypto::secret::{Secret, TokenHash};
use crate::error::Error;
use crate::store::outbox::{self, NewMessage, PendingRow};
use crate::types::{Email, Realm, Timestamp, TokenKind};

/// One message and what it needs to say. Those carrying a link hold the raw token, which
/// only the sealed body (until scrubbed) and the mail itself ever contain.
pub enum Letter<'a> {
    Invitation {
        tenant: &'a str,
        new_account: bool,
        token: &'a Secret,
    },
    VerifyEmail {
        token: &'a Secret,
    },
    PasswordReset {
        token: &'a Secret,
    },
    ConfirmEmailChange {
        new_email: &'a Email,
        token: &'a Secret,
    },
    EmailChanged {
        new_email: &'a Email,
    },
    /// A security notice to the person it concerns (an account or an operator).
    Notice {
        notice: Notice<'a>,
        realm: Realm,
    },
}

/// What a security notice tells. Never a secret: no password, code, token or key.
pub enum Notice<'a> {
    /// A sign-in from a device or network the account had not used (`device`: "Firefox on
    /// Linux"; `network`: "203.0.113.0/24").
    NewDevice {
        device: &'a str,
        network: &'a str,
    },
    PasswordChanged,
    PasswordReset,
    /// A second factor added, removed or reset; `what` is core's sentence for it.
    FactorChanged {
        what: &'a str,
    },
    /// An API key the person created: its name, its shown prefix and its tenant.
    ApiKeyCreated {
        name: &'a str,
        prefix: &'a str,
        tenant: &'a str,
    },
}

impl Notice<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Notice::NewDevice { .. } => "notice_new_device",
            Notice::PasswordChanged => "notice_password_changed",
            Notice::PasswordReset => "notice_password_reset",
            Notice::FactorChanged { .. } => "notice_factor_changed",
            Notice::ApiKeyCreated { .. } => "notice_api_key_created",
        }
    }

    fn subject(&self, product: &str) -> String {
        match self {
            Notice::NewDevice { .. } => format!("New sign-in to your {product} account"),
            Notice::PasswordChanged => format!("The password of your {product} account was changed"),
            Notice::PasswordReset => format!("The password of your {product} account was reset"),
            Notice::FactorChanged { .. } => format!("A second factor of your {product} account changed"),
            Notice::ApiKeyCreated { .. } => format!("A new API key was created with your {product} account"),
        }
    }

    /// What happened, in one sentence.
    fn what(&self) -> String {
        match self {
            Notice::NewDevice { device, network } => format!(
                "Your account was signed in to from {device}, on the network {network}: a device or network it had not used before."
            ),
            Notice::PasswordChanged => {
                "The password of your account was changed, and its other sessions were ended.".to_owned()
            }
            Notice::PasswordReset => {
                "The password of your account was reset through a link sent to this address, and every session of the account was ended."
                    .to_owned()
            }
            Notice::FactorChanged { what } => (*what).to_owned(),
            Notice::ApiKeyCreated { name, prefix, tenant } => {
                format!("A new API key named \"{name}\" (it starts with {prefix}) was created in {tenant} by your account.")
            }
        }
    }
}

/// The page a notice sends its reader to: where an account ends the sessions it does not
/// recognise; an operator, who has no such page, to its second factor.
fn notice_page(realm: Realm) -> &'static str {
    match realm {
        Realm::Portal => "/app/sessions",
        Realm::Admin => "/admin/security",
    }
}

impl Letter<'_> {
    /// The outbox's `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Letter::Invitation { .. } => "invitation",
            Letter::VerifyEmail { .. } => "verify_email",
            Letter::PasswordReset { .. } => "password_reset",
            Letter::ConfirmEmailChange { .. } => "email_change",
            Letter::EmailChanged { .. } => "email_changed",
            Letter::Notice { notice, .. } => notice.kind(),
        }
    }

    /// The token this letter's link carries, with the page that takes it and its kind.
    fn link(&self) -> Option<(&'static str, TokenKind, &Secret)> {
        match self {
            Letter::Invitation { token, .. } => Some(("/activate", TokenKind::Activation, token)),
            Letter::VerifyEmail { token } => Some(("/verify-email", TokenKind::VerifyEmail, token)),
            Letter::PasswordReset { token } => Some(("/reset-password", TokenKind::Reset, token)),
            Letter::ConfirmEmailChange { token, .. } => Some(("/confirm-email", TokenKind::ChangeEmail, token)),
            Letter::EmailChanged { .. } | Letter::Notice { .. } => None,
        }
    }

    /// The built-in subject, naming the product.
    fn subject(&self, product: &str) -> String {
        match self {
            Letter::Invitation { tenant, .. } => format!("You are invited to {tenant} on {product}"),
            Letter::VerifyEmail { .. } => format!("Confirm your email address for {product}"),
            Letter::PasswordReset { .. } => format!("Reset your {product} password"),
            Letter::ConfirmEmailChange { .. } => format!("Confirm your new {product} email address"),
            Letter::EmailChanged { .. } => format!("The email address of your {product} account changed"),
            Letter::Notice { notice, .. } => notice.subject(product),
        }
    }
}

/// What the templates see.
struct View<'a> {
    product: &'a str,
    base_url: &'a str,
    /// `--support-url`, or empty.
    support_url: &'a str,
    link: &'a str,
    valid_for: &'a str,
    tenant: &'a str,
    new_account: bool,
    new_email: &'a str,
    /// A notice's sentence, its time, the page it sends to and whether that is the portal's.
    what: &'a str,
    when: &'a str,
    page_url: &'a str,
    portal: bool,
    /// A security notice (its own footer line).
    notice: bool,
    /// The operator's text for this kind (`brand::mail_texts`), filled in: the body of
    /// the `custom` templates.
    custom_text: String,
    custom_html: String,
}

impl View<'_> {
    /// The value of a placeholder of the operator's texts.
    fn value(&self, slot: Slot) -> String {
        match slot {
            Slot::Product => self.product,
            Slot::BaseUrl => self.base_url,
            Slot::SupportUrl => self.support_url,
            Slot::Link => self.link,
            Slot::ValidFor => self.valid_for,
            Slot::Tenant => self.tenant,
            Slot::NewEmail => self.new_email,
            Slot::What => self.what,
            Slot::When => self.when,
            Slot::PageUrl => self.page_url,
        }
        .to_owned()
    }
}

/// A text and an HTML template per kind of letter, each over the same `View`.
macro_rules! templates {
    ($($text:ident $text_path:tt, $html:ident $html_path:tt;)+) => {$(
        #[derive(Template)]
        #[template(path = $text_path)]
        struct $text<'a> {
            v: &'a View<'a>,
        }

        #[derive(Template)]
        #[template(path = $html_path)]
        struct $html<'a> {
            v: &'a View<'a>,
        }
    )+};
}

templates! {
    InvitationText "mail/invitation.txt", InvitationHtml "mail/invitation.html";
    VerifyText "mail/verify_email.txt", VerifyHtml "mail/verify_email.html";
    ResetText "mail/password_reset.txt", ResetHtml "mail/password_reset.html";
    ChangeText "mail/email_change.txt", ChangeHtml "mail/email_change.html";
    ChangedText "mail/email_changed.txt", ChangedHtml "mail/email_changed.html";
    NoticeText "mail/notice.txt", NoticeHtml "mail/notice.html";
    CustomText "mail/custom.txt", CustomHtml "mail/custom.html";
}

/// How long a link of this kind stays usable, in words ("7 days", "1 hour"), from
/// core's lifetime: the mails and the CLI say it, core decides it.
pub fn valid_for(kind: TokenKind) -> String {
    duration_text(tokens::lifetime_secs(kind))
}

/// Whole days from two days up, else hours, else minutes.
fn duration_text(secs: i64) -> String {
    const HOUR: i64 = 3600;
    const DAY: i64 = 24 * HOUR;
    let (n, unit) = match secs {
        s if s >= 2 * DAY && s % DAY == 0 => (s / DAY, "day"),
        s if s >= HOUR && s % HOUR == 0 => (s / HOUR, "hour"),
        s => ((s + 59) / 60, "minute"),
    };
    if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") }
}

/// Subject, text body and HTML body of a letter, written at `now`: the operator's text
/// for its kind when there is one, else the built-in one.
fn render(
    brand: &Brand,
    letter: &Letter<'_>,
    base_url: &str,
    link: &str,
    now: Timestamp,
) -> Result<(String, String, String), Error> {
    let valid = letter.link().map(|(_, kind, _)| valid_for(kind)).unwrap_or_default();
    let (what, when, page_url, portal) = match letter {
        Letter::Notice { notice, realm } => {
            (notice.what(), now.rfc3339(), format!("{base_url}{}", notice_page(*realm)), *realm == Realm::Portal)
        }
        _ => Default::default(),
    };
    let mut v = View {
        product: &brand.product,
        base_url,
        support_url: brand.support_url.as_deref().unwrap_or_default(),
        link,
        valid_for: &valid,
        tenant: "",
        new_account: false,
        new_email: "",
        what: &what,
        when: &when,
        page_url: &page_url,
        portal,
        notice: matches!(letter, Letter::Notice { .. }),
        custom_text: String::new(),
        custom_html: String::new(),
    };
    match letter {
        Letter::Invitation { tenant, new_account, .. } => {
            v.tenant = tenant;
            v.new_account = *new_account;
        }
        Letter::ConfirmEmailChange { new_email, .. } | Letter::EmailChanged { new_email } => {
            v.new_email = new_email.as_str();
        }
        Letter::VerifyEmail { .. } | Letter::PasswordReset { .. } | Letter::Notice { .. } => {}
    }
    if let Some(custom) = brand.mail_texts.get(letter.kind()) {
        v.custom_text = custom.text(|s| v.value(s));
        v.custom_html = custom.html(|s| v.value(s));
        let subject = custom.subject(|s| v.value(s));
        let v = &v;
        let (text, html) = (CustomText { v }.render(), CustomHtml { v }.render());
        return Ok((subject, text.map_err(Error::internal)?, html.map_err(Error::internal)?));
    }
    let v = &v;
    let bodies = match letter {
        Letter::Invitation { .. } => (InvitationText { v }.render(), InvitationHtml { v }.render()),
        Letter::VerifyEmail { .. } => (VerifyText { v }.render(), VerifyHtml { v }.render()),
        Letter::PasswordReset { .. } => (ResetText { v }.render(), ResetHtml { v }.render()),
        Letter::ConfirmEmailChange { .. } => (ChangeText { v }.render(), ChangeHtml { v }.render()),
        Letter::EmailChanged { .. } => (ChangedText { v }.render(), ChangedHtml { v }.render()),
        Letter::Notice { .. } => (NoticeText { v }.render(), NoticeHtml { v }.render()),
    };
    Ok((letter.subject(&brand.product), bodies.0.map_err(Error::internal)?, bodies.1.map_err(Error::internal)?))
}

/// What queueing a letter did.
pub struct Queued {
    /// True when an SMTP server is configured and the sender will deliver the message.
    pub sent: bool,
    /// The link the letter carries (raw token inside), for a caller that must hand it over
    /// another way when `sent` is false (the invitation's `activation_url`).
    pub link: Option<Secret>,
}

/// Writes a letter into the outbox, in the caller's transaction.
pub fn queue(
    tx: &Transaction<'_>,
    app: &App,
    to: &Email,
    letter: &Letter<'_>,
    now: Timestamp,
) -> Result<Queued, Error> {
    let base_url = &app.config.base_url;
    let link = letter.link().map(|(path, _, token)| Secret::new(format!("{base_url}{path}?token={}", token.expose())));
    let (subject, text, html) = render(&app.brand, letter, base_url, link.as_ref().map_or("", |l| l.expose()), now)?;
    let id = uuid::Uuid::new_v4().to_string();
    let sealed_body = match link {
        Some(_) => Some(seal_bodies(&app.master_key, &id, &text, &html)?),
        None => None,
    };
    let message = NewMessage {
        id: &id,
        to: to.as_str(),
        subject: &subject,
        kind: letter.kind(),
        body_text: &scrub_links(&text),
        body_html: &scrub_links(&html),
        sealed_body,
        token_hash: letter.link().map(|(_, _, token)| token.digest()),
    };
    outbox::insert(tx, &message, now)?;
    let sent = app.config.smtp.is_some();
    if !sent {
        // Security: the id and kind only; the link holds a live token.
        log::info!("mail {id} ({}) kept in the outbox, not sent: no --smtp-url is configured", letter.kind());
    }
    Ok(Queued { sent, link })
}

/// Cuts the value out of every `token=` in a body, so a stored message holds no live link.
pub fn scrub_links(body: &str) -> String {
    const KEY: &str = "token=";
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find(KEY) {
        let (head, tail) = rest.split_at(at + KEY.len());
        out.push_str(head);
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).unwrap_or(tail.len());
        if end > 0 {
            out.push_str("removed");
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The text and HTML bodies of message `id`, sealed as one value.
fn seal_bodies(key: &MasterKey, id: &str, text: &str, html: &str) -> Result<Vec<u8>, Error> {
    let plain = serde_json::to_vec(&(text, html)).map_err(Error::internal)?;
    key.seal(&plain, id)
}

/// The bodies of message `id` as sent: the sealed ones when it has them, else the stored
/// ones (a letter without a link). The test harness reads the outbox through this too.
pub fn bodies(
    key: &MasterKey,
    id: &str,
    sealed: Option<&[u8]>,
    text: &str,
    html: &str,
) -> Result<(String, String), Error> {
    match sealed {
        Some(sealed) => serde_json::from_slice(&key.open(sealed, id)?).map_err(Error::internal),
        None => Ok((text.to_owned(), html.to_owned())),
    }
}

/// Seals the live links of messages queued before bodies were sealed (an upgraded
/// database); returns how many. secure_delete (see `store`) zeroes the raw bytes replaced.
pub fn seal_unsealed(app: &App) -> Result<usize, Error> {
    let mut sealed = 0;
    loop {
        let rows = app.db.read(|c| outbox::unsealed_links(c, 100))?;
        if rows.is_empty() {
            break;
        }
        sealed += rows.len();
        app.db.write(|tx| {
            for m in &rows {
                let body = seal_bodies(&app.master_key, &m.id, &m.body_text, &m.body_html)?;
                outbox::set_sealed(tx, &m.id, &scrub_links(&m.body_text), &scrub_links(&m.body_html), &body)?;
            }
            Ok(())
        })?;
    }
    if sealed > 0 {
        log::info!("sealed the links of {sealed} messages stored before mail bodies were sealed");
    }
    Ok(sealed)
}

/// Scrubs the messages carrying this token's link (called when the token is used).
pub fn scrub_token(tx: &Transaction<'_>, hash: &TokenHash, now: Timestamp) -> Result<(), Error> {
    outbox::scrub_for_token(tx, hash, now)
}

/// Scrubs messages whose token was used, superseded or has expired; returns how many.
pub fn scrub_dead_links(app: &App) -> Result<usize, Error> {
    let now = app.clock.now();
    app.db.write(|tx| outbox::scrub_dead(tx, now, 500))
}

/// How often the sender looks for due messages.
const TICK: Duration = Duration::from_millis(100);
/// How often (in app seconds) it scrubs links whose token died.
const SWEEP_EVERY_SECS: i64 = 60;
/// After this many failed attempts a message is left alone (its last_error says why).
pub const MAX_ATTEMPTS: i64 = 10;
const BATCH: i64 = 20;

/// Seconds to wait after the `attempts`-th failure: 1 min, 2, 4 … capped at 6 hours.
pub fn backoff_secs(attempts: i64) -> i64 {
    let exp = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    60i64.saturating_mul(1i64 << exp).min(6 * 3600)
}

/// Starts the sender thread: it delivers due messages when SMTP is configured, and in
/// every case scrubs links whose token died.
pub fn start(app: Arc<App>) -> Result<Background, Error> {
    seal_unsealed(&app)?;
    let smtp = match &app.config.smtp {
        Some(s) => Some((transport(s)?, app.brand.mail_from.clone())),
        None => None,
    };
    Background::spawn("mail-sender", move |stopping| run(&app, smtp.as_ref(), stopping))
}

fn run(app: &App, smtp: Option<&(SmtpTransport, Mailbox)>, stopping: &AtomicBool) {
    let mut last_sweep: Option<Timestamp> = None;
    while !stopping.load(Ordering::SeqCst) {
        let now = app.clock.now();
        if last_sweep.is_none_or(|t| now.unix() - t.unix() >= SWEEP_EVERY_SECS) {
            match scrub_dead_links(app) {
                Ok(_) => last_sweep = Some(now),
                Err(e) => log::warn!("could not scrub used or expired links from the outbox: {e}"),
            }
        }
        if let Some((transport, from)) = smtp {
            if let Err(e) = deliver_due(app, transport, from, stopping) {
                log::warn!("mail sender: {e}");
            }
        }
        std::thread::sleep(TICK);
    }
}

fn transport(s: &SmtpSettings) -> Result<SmtpTransport, Error> {
    let builder = match s.tls {
        SmtpTls::StartTls => SmtpTransport::starttls_relay(&s.host).map_err(Error::internal)?,
        SmtpTls::Wrapper => SmtpTransport::relay(&s.host).map_err(Error::internal)?,
        SmtpTls::None => SmtpTransport::builder_dangerous(&s.host),
    };
    let mut builder = builder.port(s.port).timeout(Some(Duration::from_secs(20)));
    if let Some(user) = &s.username {
        let password = s.password.as_ref().map_or("", |p| p.expose());
        builder = builder.credentials(Credentials::new(user.clone(), password.to_owned()));
    }
    Ok(builder.build())
}

fn deliver_due(app: &App, transport: &SmtpTransport, from: &Mailbox, stopping: &AtomicBool) -> Result<(), Error> {
    let due = app.db.read(|c| outbox::due(c, app.clock.now(), MAX_ATTEMPTS, BATCH))?;
    for m in due {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let result = send(app, transport, from, &m);
        let now = app.clock.now();
        match result {
            Ok(()) => {
                app.db.write(|tx| outbox::mark_sent(tx, &m.id, now))?;
                log::info!("mail {} sent", m.id);
            }
            Err(e) => {
                let attempts = m.attempts + 1;
                let error: String = e.chars().take(500).collect();
                let next = now.plus_secs(backoff_secs(attempts));
                app.db.write(|tx| {
                    outbox::mark_failed(tx, &m.id, &error, next)?;
                    crate::store::activity::count(tx, now, None, crate::store::activity::Metric::MailFailed)
                })?;
                log::warn!("mail {} attempt {attempts} failed: {error}", m.id);
            }
        }
    }
    Ok(())
}

fn send(app: &App, transport: &SmtpTransport, from: &Mailbox, m: &PendingRow) -> Result<(), String> {
    let to: Mailbox = m.to.parse().map_err(|e| format!("bad recipient: {e}"))?;
    let (text, html) = bodies(&app.master_key, &m.id, m.sealed_body.as_deref(), &m.body_text, &m.body_html)
        .map_err(|_| "its sealed body does not open with this master key".to_owned())?;
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(m.subject.as_str())
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| format!("could not build the message: {e}"))?;
    transport.send(&message).map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_unix(1_700_000_000);

    /// The brand of the defaults: Keystead, no support address, the built-in texts.
    fn brand() -> Brand {
        Brand::load(&crate::config::Config::new("unused.db".into())).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn scrubbing_cuts_token_values_and_keeps_the_rest() {
        let body = "Go to http://x/activate?token=abc-DEF_123 now.\n<a href=\"http://x/activate?token=abc-DEF_123\">";
        let clean = scrub_links(body);
        assert!(!clean.contains("abc-DEF_123"), "{clean}");
        assert!(clean.contains("http://x/activate?token=removed now."));
        assert_eq!(scrub_links("no link; token= alone"), "no link; token= alone");
    }

    #[test]
    fn sealed_bodies_open_only_as_their_own_message() -> Result<(), Error> {
        let key = MasterKey::load(Some(&Secret::new("A".repeat(43) + "=")), std::path::Path::new("unused"), None)?;
        let sealed = seal_bodies(&key, "m-1", "text ?token=T0KEN", "<p>T0KEN</p>")?;
        assert!(!sealed.windows(5).any(|w| w == b"T0KEN"));
        let opened = bodies(&key, "m-1", Some(&sealed), "", "")?;
        assert_eq!(opened, ("text ?token=T0KEN".to_owned(), "<p>T0KEN</p>".to_owned()));
        assert!(bodies(&key, "m-2", Some(&sealed), "", "").is_err(), "bound to the message id");
        assert_eq!(bodies(&key, "m-3", None, "plain", "html")?, ("plain".to_owned(), "html".to_owned()));
        Ok(())
    }

    #[test]
    fn link_lifetimes_are_told_in_words_from_core() {
        assert_eq!(valid_for(TokenKind::Activation), "7 days");
        assert_eq!(valid_for(TokenKind::Reset), "1 hour");
        assert_eq!(valid_for(TokenKind::VerifyEmail), "24 hours");
        assert_eq!(
            (duration_text(90 * 60), duration_text(60), duration_text(2 * 86_400)),
            ("90 minutes".into(), "1 minute".into(), "2 days".into())
        );
        for kind in [TokenKind::Activation, TokenKind::Reset, TokenKind::VerifyEmail, TokenKind::ChangeEmail] {
            let said = valid_for(kind);
            let token = Secret::new("T".into());
            let letter = match kind {
                TokenKind::Activation => Letter::Invitation { tenant: "Acme", new_account: true, token: &token },
                TokenKind::Reset => Letter::PasswordReset { token: &token },
                _ => Letter::VerifyEmail { token: &token },
            };
            let rendered = render(&brand(), &letter, "https://b", "https://b/x?token=T", NOW).map(|(_, text, _)| text);
            assert!(rendered.is_ok_and(|text| text.contains(&said)), "{said}");
        }
    }

    #[test]
    fn a_notice_sends_accounts_to_their_sessions_and_operators_to_their_factor() -> Result<(), Error> {
        for (realm, page) in [(Realm::Portal, "https://b/app/sessions"), (Realm::Admin, "https://b/admin/security")] {
            let letter = Letter::Notice { notice: Notice::PasswordChanged, realm };
            let (_, text, html) = render(&brand(), &letter, "https://b", "", NOW)?;
            assert!(text.contains(page) && html.contains(&format!("href=\"{page}\"")), "{text}");
            assert!(text.contains(&NOW.rfc3339()) && !text.contains("ignore this message"), "{text}");
        }
        Ok(())
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!((backoff_secs(1), backoff_secs(2), backoff_secs(3)), (60, 120, 240));
        assert_eq!(backoff_secs(50), 6 * 3600);
    }

    #[test]
    fn every_letter_renders_with_product_base_url_and_link() -> Result<(), Error> {
        let token = Secret::new("T0KEN".into());
        let email = Email::parse("e", "new@example.test")?;
        let letters = [
            Letter::Invitation { tenant: "Acme <&>", new_account: true, token: &token },
            Letter::VerifyEmail { token: &token },
            Letter::PasswordReset { token: &token },
            Letter::ConfirmEmailChange { new_email: &email, token: &token },
            Letter::EmailChanged { new_email: &email },
            Letter::Notice {
                notice: Notice::NewDevice { device: "Firefox on Linux", network: "192.0.2.0/24" },
                realm: Realm::Portal,
            },
            Letter::Notice { notice: Notice::PasswordChanged, realm: Realm::Portal },
            Letter::Notice { notice: Notice::PasswordReset, realm: Realm::Portal },
            Letter::Notice {
                notice: Notice::FactorChanged { what: "An authenticator was added." },
                realm: Realm::Admin,
            },
            Letter::Notice {
                notice: Notice::ApiKeyCreated { name: "ci <&>", prefix: "ks_live_abcd", tenant: "Acme" },
                realm: Realm::Portal,
            },
        ];
        for letter in &letters {
            let (subject, text, html) =
                render(&brand(), letter, "https://id.example.test", "https://id.example.test/x?token=T0KEN", NOW)?;
            assert!(!subject.is_empty());
            for body in [&text, &html] {
                assert!(body.contains("Keystead") && body.contains("https://id.example.test"), "{body}");
                assert_eq!(body.contains("token=T0KEN"), letter.link().is_some(), "{}: {body}", letter.kind());
            }
        }
        let (_, _, html) = render(&brand(), &letters[0], "https://b", "https://b/activate?token=T0KEN", NOW)?;
        assert!(html.contains("Acme &#60;&#38;&#62;") && !html.contains("Acme <&>"), "HTML is escaped: {html}");
        Ok(())
    }
}
