//! The authorization endpoint (OIDC Core 1.0 §3.1.2, RFC 6749 §4.1, RFC 7636 §4.3): it
//! checks a request, then says what the browser needs next (sign in, choose a tenant,
//! consent) until it can send the browser back to the client with a code.
//!
//! The request lives in the browser, not here: each page carries its parameters to the
//! next (the login page in `next`, the forms as hidden fields) and every step checks them
//! again from the start, so there is no server-side state to expire or to leak.
use url::Url;

use super::{OAuthError, Scope, consent};
use crate::app::App;
use crate::core::audit::{Action, Event};
use crate::core::auth::can_act_in;
use crate::core::mfa::policy;
use crate::core::principal::{Actor, PortalUser};
use crate::crypto::secret::random_token;
use crate::error::Error;
use crate::store::oauth_clients::{self, ClientRow};
use crate::store::oauth_codes::{self, CodeRow};
use crate::store::tenants::TenantRow;
use crate::store::{memberships, sessions};
use crate::types::{ClientStatus, Person, TenantId};

/// How long a code may wait for its exchange: the browser's redirect and one back-channel
/// call need seconds, and a short life limits what a leaked code is worth.
pub const CODE_LIFETIME_SECS: i64 = 60;

/// The longest `state`, `nonce` or `login_hint` taken: they are echoed into URLs and
/// tokens, so their size is bounded.
pub(super) const MAX_ECHO_CHARS: usize = 512;

/// What `prompt` asks for (OIDC Core §3.1.2.1).
#[derive(Default, Clone, Copy)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

/// A checked authorization request.
pub struct Request {
    pub client: ClientRow,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub scope: Scope,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// The parameters as they came, for the next page to carry.
    pub params: Vec<(String, String)>,
}

/// Why a request is refused.
pub enum Refusal {
    /// The client or its redirect URI cannot be trusted: the visitor sees the error and
    /// the browser is never sent to an address the client did not register (RFC 6749
    /// §4.1.2.1).
    Shown(OAuthError),
    /// Back to the client's redirect URI with the error.
    Redirect(String),
}

/// A parameter, which a request may carry once (RFC 6749 §3.1); an empty one is absent.
pub(super) fn one<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, &'static str> {
    let mut found = params.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let first = found.next();
    if found.next().is_some() { Err("a parameter is repeated") } else { Ok(first.filter(|v| !v.is_empty())) }
}

/// Checks a request's parameters (query or form).
pub fn check(app: &App, params: Vec<(String, String)>) -> Result<Request, Refusal> {
    let shown = |description: &str| Refusal::Shown(OAuthError::invalid_request(description));
    let client_id = one(&params, "client_id").map_err(shown)?.ok_or_else(|| shown("client_id is missing"))?;
    let client = client_id
        .parse()
        .ok()
        .map(|id| app.db.read(|c| oauth_clients::get(c, id)))
        .transpose()
        .map_err(|e| Refusal::Shown(e.into()))?
        .flatten()
        .filter(|c| c.status == ClientStatus::Active)
        .ok_or_else(|| shown("the client is unknown or disabled"))?;
    let redirect_uri = one(&params, "redirect_uri").map_err(shown)?.ok_or_else(|| shown("redirect_uri is missing"))?;
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(shown("redirect_uri is not one the client registered"));
    }
    let redirect_uri = redirect_uri.to_owned();
    let state = one(&params, "state").ok().flatten().map(str::to_owned);
    let back = |code: &'static str, description: &str| {
        Refusal::Redirect(redirect(
            app,
            &redirect_uri,
            state.as_deref(),
            &[("error", code), ("error_description", description)],
        ))
    };
    let invalid = |description: &str| back("invalid_request", description);
    let param = |name: &str| one(&params, name).map_err(invalid);
    // Request objects are refused with their own codes (OIDC Core §6).
    if param("request")?.is_some() {
        return Err(back("request_not_supported", "request objects are not supported"));
    }
    if param("request_uri")?.is_some() {
        return Err(back("request_uri_not_supported", "request_uri is not supported"));
    }
    if param("response_type")? != Some("code") {
        return Err(back("unsupported_response_type", "only response_type=code is supported"));
    }
    if param("response_mode")?.is_some_and(|m| m != "query") {
        return Err(invalid("only response_mode=query is supported"));
    }
    let scope = Scope::parse(param("scope")?.unwrap_or_default());
    if !scope.has("openid") {
        return Err(back("invalid_scope", "the scope must include openid"));
    }
    let code_challenge = pkce_challenge(param("code_challenge")?, param("code_challenge_method")?).map_err(invalid)?;
    if client.public && code_challenge.is_none() {
        return Err(invalid("a public client must use PKCE (code_challenge with S256)"));
    }
    let prompt = parse_prompt(param("prompt")?).map_err(invalid)?;
    let max_age = param("max_age")?
        .map(|v| v.parse::<i64>().ok().filter(|s| *s >= 0).ok_or("max_age must be a whole number of seconds"))
        .transpose()
        .map_err(invalid)?;
    let echoed = |name: &str| -> Result<Option<String>, Refusal> {
        match param(name)? {
            Some(v) if v.chars().count() > MAX_ECHO_CHARS => Err(invalid("a parameter is too long")),
            v => Ok(v.map(str::to_owned)),
        }
    };
    // `state` was read leniently above, to go back with the error; here it is checked.
    echoed("state")?;
    let (nonce, login_hint) = (echoed("nonce")?, echoed("login_hint")?);
    Ok(Request { client, redirect_uri, state, nonce, scope, code_challenge, prompt, max_age, login_hint, params })
}

/// `code_challenge` as RFC 7636 §4.2 makes it with S256: 43 base64url characters. A
/// challenge without a method is `plain` (§4.3), which is refused like `plain` itself: it
/// protects nothing once the request is seen.
fn pkce_challenge(challenge: Option<&str>, method: Option<&str>) -> Result<Option<String>, &'static str> {
    match (challenge, method) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err("code_challenge_method without code_challenge"),
        (Some(_), method) if method != Some("S256") => Err("code_challenge_method must be S256"),
        (Some(c), _) if c.len() == 43 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {
            Ok(Some(c.to_owned()))
        }
        (Some(_), _) => Err("code_challenge must be the base64url SHA-256 of the verifier"),
    }
}

fn parse_prompt(raw: Option<&str>) -> Result<Prompt, &'static str> {
    let mut prompt = Prompt::default();
    for value in raw.unwrap_or_default().split(' ').filter(|v| !v.is_empty()) {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => prompt.select_account = true,
            _ => return Err("prompt has an unknown value"),
        }
    }
    if prompt.none && (prompt.login || prompt.consent || prompt.select_account) {
        return Err("prompt=none cannot be combined with other values");
    }
    Ok(prompt)
}

/// The client's redirect URI with `pairs`, `state` and `iss` (RFC 9207, so a client that
/// talks to several providers knows which one answered) added to its query.
fn redirect(app: &App, redirect_uri: &str, state: Option<&str>, pairs: &[(&str, &str)]) -> String {
    let Ok(mut url) = Url::parse(redirect_uri) else { return redirect_uri.to_owned() };
    {
        let mut query = url.query_pairs_mut();
        query.extend_pairs(pairs);
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", &app.config.base_url);
    }
    url.into()
}

/// The origin of a redirect URI, which the pages on the way must allow their forms to
/// reach: a browser applies a page's `form-action` to every redirect after its POST, and
/// the last one goes to the client.
pub fn origin(redirect_uri: &str) -> Option<String> {
    let origin = Url::parse(redirect_uri).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// The client's redirect origin when a login page's `next` continues an authorization
/// request (see `origin`).
pub fn origin_of_next(app: &App, next: &str) -> Option<String> {
    let query = next.strip_prefix("/oauth/authorize?")?;
    let request = check(app, form_urlencoded::parse(query.as_bytes()).into_owned().collect()).ok()?;
    origin(&request.redirect_uri)
}

/// What the browser's answers on our pages add to the request.
#[derive(Default)]
pub struct Answers {
    /// The tenant chosen on the tenant page.
    pub tenant: Option<TenantId>,
    /// Allow (true) or deny (false) on the consent page.
    pub consent: Option<bool>,
}

/// What the browser needs next.
pub enum Next {
    /// The login page, coming back here with these parameters.
    SignIn {
        next: String,
        login_hint: Option<String>,
        again: bool,
    },
    ChooseTenant(Vec<TenantRow>),
    Consent {
        tenant: TenantId,
    },
    /// Back to the client, with a code or an error.
    Done(String),
}

impl Request {
    fn back(&self, app: &App, code: &'static str, description: &str) -> Next {
        let pairs = [("error", code), ("error_description", description)];
        Next::Done(redirect(app, &self.redirect_uri, self.state.as_deref(), &pairs))
    }

    /// This request as a path on our server, without `drop`ped parameters.
    fn path_without(&self, drop: &[&str]) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(self.params.iter().filter(|(n, _)| !drop.contains(&n.as_str())));
        format!("/oauth/authorize?{}", query.finish())
    }
}

/// Decides the next step for a request checked by `check`, as the browser with this
/// portal session (if any) and these answers sees it; issues the code when nothing else
/// is owed.
pub fn next(app: &App, req: &Request, session: Option<&PortalUser>, answers: &Answers) -> Result<Next, Error> {
    let now = app.clock.now();
    let Some(session) = session else {
        if req.prompt.none {
            return Ok(req.back(app, "login_required", "the user is not signed in"));
        }
        return Ok(Next::SignIn { next: req.path_without(&[]), login_hint: req.login_hint.clone(), again: false });
    };
    let (auth_time, amr) = app
        .db
        .read(|c| sessions::authentication(c, session.session_id))?
        .ok_or_else(|| Error::internal("a live session has no row"))?;
    // `prompt=login` and an exceeded `max_age` both ask for a fresh sign-in; the way back
    // drops them, or the fresh sign-in would be asked for again (max_age=0) forever. The
    // client checks `auth_time` in the ID token.
    let stale = req.max_age.is_some_and(|max| now.unix() - auth_time.unix() > max);
    if req.prompt.login || stale {
        if req.prompt.none {
            return Ok(req.back(app, "login_required", "the sign-in is older than max_age"));
        }
        let next = req.path_without(&["prompt", "max_age"]);
        return Ok(Next::SignIn { next, login_hint: req.login_hint.clone(), again: true });
    }
    let user = session.user_id;
    let usable: Vec<TenantRow> = app
        .db
        .read(|c| memberships::list_for_account(c, user))?
        .into_iter()
        .filter(|(m, t)| can_act_in(m, t))
        .map(|(_, t)| t)
        .collect();
    let chosen = match (req.client.tenant_id, answers.tenant) {
        (Some(only), _) => usable.iter().find(|t| t.id == only),
        (None, Some(answer)) => usable.iter().find(|t| t.id == answer),
        (None, None) if usable.len() == 1 => usable.first(),
        // Nobody to ask: the tenant the session acts in.
        (None, None) if req.prompt.none => usable.iter().find(|t| t.id == session.tenant_id),
        (None, None) if usable.is_empty() => None,
        (None, None) => return Ok(Next::ChooseTenant(usable)),
    };
    let Some(tenant) = chosen.map(|t| t.id) else {
        return Ok(req.back(app, "access_denied", "the account has no active membership this client accepts"));
    };
    if let Err(Error::MfaEnrolmentRequired) = policy::gate(app, Person::User(user), Some(tenant)) {
        return Ok(req.back(app, "access_denied", "the tenant requires a second factor the account has not set up"));
    }
    let consenting = match answers.consent {
        Some(false) => return Ok(req.back(app, "access_denied", "the user declined")),
        Some(true) => true,
        None if consent::owed(app, &req.client, user, &req.scope, req.prompt.consent)? => {
            if req.prompt.none {
                return Ok(req.back(app, "consent_required", "the user has not allowed this client"));
            }
            return Ok(Next::Consent { tenant });
        }
        None => false,
    };
    let code = random_token();
    let row = CodeRow {
        client_id: req.client.id,
        session_id: session.session_id,
        user_id: user,
        tenant_id: tenant,
        redirect_uri: req.redirect_uri.clone(),
        scope: req.scope.to_string(),
        nonce: req.nonce.clone(),
        code_challenge: req.code_challenge.clone(),
        auth_time,
        amr,
        expires_at: now.plus_secs(CODE_LIFETIME_SECS),
    };
    app.db.write(|tx| {
        if consenting {
            consent::give(tx, &req.client, user, &req.scope, now)?;
        }
        oauth_codes::insert(tx, &code.digest(), &row, now)?;
        Event::new(Actor::User(user), Some(&session.origin), Action::OAuthAuthorized)
            .tenant(tenant)
            .target("oauth_client", req.client.id)
            .after(serde_json::json!({ "scope": row.scope }))
            .append(tx, now)
    })?;
    Ok(Next::Done(redirect(app, &req.redirect_uri, req.state.as_deref(), &[("code", code.expose())])))
}
