//! How an `Error` shows on the web UI, decided in one place: a missing session goes to its
//! realm's login page, an error the visitor can fix comes back on its form, and anything
//! else is the error page. Status, sentence and headers are the API's (`Error` and
//! `http::error`), so a page and a JSON call fail alike.
use askama::Template;

use super::Layout;
use crate::app::App;
use crate::error::Error;
use crate::http::{Req, Response, error};

/// Where an error takes the visitor.
#[derive(Debug, PartialEq, Eq)]
pub enum Shown {
    /// No live session: the realm's login page.
    Login,
    /// The form again, with the error's status and message: the visitor can fix it.
    Form,
    /// The error page: nothing on the form would help.
    ErrorPage,
}

/// Exhaustive on purpose: a new `Error` variant must be given its place on the pages.
pub fn shown(e: &Error) -> Shown {
    match e {
        Error::Unauthorized => Shown::Login,
        Error::InvalidRequest { .. }
        | Error::WeakPassword(_)
        | Error::InvalidToken
        | Error::ReasonRequired
        | Error::InvalidCredentials
        | Error::Forbidden
        | Error::AccountDisabled
        | Error::TenantSuspended
        | Error::NoActiveMembership
        | Error::SeatLimitReached
        | Error::EmailTaken
        | Error::SlugTaken
        | Error::AlreadyMember
        | Error::NotInvited
        | Error::AlreadyVerified
        | Error::LastOwner
        | Error::LastAdmin
        | Error::InvalidTransition
        | Error::RateLimited { .. }
        | Error::InvalidCode
        | Error::MfaRequired(_)
        | Error::MfaEnrolmentRequired
        | Error::AlreadyEnrolled
        | Error::NotPending
        | Error::InvalidCredential => Shown::Form,
        Error::CsrfFailed
        | Error::SignupDisabled
        | Error::NotFound
        | Error::MethodNotAllowed { .. }
        | Error::PayloadTooLarge
        | Error::UnsupportedMediaType
        | Error::Unavailable(_)
        | Error::Internal(_) => Shown::ErrorPage,
    }
}

/// A page's answer to an error its handler did not turn into a form: the login page of
/// its realm, or the error page with the API's status, message and headers.
pub fn to_page(app: &App, req: &Req, e: &Error) -> Response {
    if shown(e) == Shown::Login {
        let operator = req.path == "/admin" || req.path.starts_with("/admin/");
        return Response::redirect(if operator { "/admin/login" } else { "/login" });
    }
    // A policy that needs a second factor sends the person to set one up.
    if matches!(e, Error::MfaEnrolmentRequired) {
        let operator = req.path == "/admin" || req.path.starts_with("/admin/");
        return Response::redirect(if operator { "/admin/security" } else { "/app/security" });
    }
    let (status, _) = error::log_internal(e);
    let message = match e {
        Error::UnsupportedMediaType => "Send the form as application/x-www-form-urlencoded.".to_owned(),
        _ => e.message(),
    };
    error::with_retry_headers(e, error_page(app, status, &message))
}

#[derive(Template)]
#[template(path = "web/error.html")]
struct ErrorPage {
    layout: Layout,
    message: String,
}

fn error_page(app: &App, status: u16, message: &str) -> Response {
    let title = match status {
        403 => "Not allowed",
        404 => "Not found",
        429 => "Too many requests",
        s if s >= 500 => "Something went wrong",
        _ => "That did not work",
    };
    let page = ErrorPage { layout: Layout::bare(app, title).status(status), message: message.to_owned() };
    match page.render() {
        Ok(html) => Response::html(status, html),
        // Only a broken template gets here; the status still says what happened.
        Err(_) => Response::html(status, format!("<!DOCTYPE html><title>{status}</title><p>{status}</p>")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_never_come_back_on_a_form() {
        for e in [Error::internal("x"), Error::Unavailable("y".into())] {
            assert_eq!(shown(&e), Shown::ErrorPage);
        }
        assert_eq!(shown(&Error::WeakPassword("short".into())), Shown::Form);
        assert_eq!(shown(&Error::Unauthorized), Shown::Login);
    }
}
