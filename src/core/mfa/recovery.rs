//! Recovery codes: ten single-use codes that come with the first factor (and with a factor
//! added when every code is spent), shown once and
//! stored as SHA-256 (80 random bits each: a fast hash is enough). A new set replaces the
//! old one.
use data_encoding::BASE32_NOPAD;
use rusqlite::Transaction;

use super::{Holder, check_password, spend_code};
use crate::app::App;
use crate::core::audit::Action;
use crate::core::notices::{self, FactorChange};
use crate::crypto::secret::{Secret, TokenHash, random_bytes};
use crate::error::Error;
use crate::store::recovery_codes;
use crate::types::{Person, Timestamp};

pub const COUNT: usize = 10;

/// A code as typed: case, spaces and dashes do not matter.
pub fn digest(code: &str) -> TokenHash {
    let normalized: String =
        code.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_lowercase()).collect();
    TokenHash::of(&normalized)
}

/// One code: 80 random bits as 16 base32 letters in groups of four (`abcd-efgh-…`).
fn new_code() -> Secret {
    let letters = BASE32_NOPAD.encode(&random_bytes()[..10]).to_ascii_lowercase();
    let groups: Vec<&str> = (0..4).map(|i| &letters[i * 4..i * 4 + 4]).collect();
    Secret::new(groups.join("-"))
}

/// Issues a new set in the caller's transaction (the old codes die); the raw codes.
pub(crate) fn issue(tx: &Transaction<'_>, person: Person, now: Timestamp) -> Result<Vec<Secret>, Error> {
    let codes: Vec<Secret> = (0..COUNT).map(|_| new_code()).collect();
    let hashes: Vec<TokenHash> = codes.iter().map(|c| digest(c.expose())).collect();
    recovery_codes::replace(tx, person, &hashes, now)?;
    Ok(codes)
}

/// The codes that come with a factor just added: a new set when the person holds no
/// unused code (a first factor, or every code spent), else None (the set stands).
pub(crate) fn with_new_factor(
    tx: &Transaction<'_>,
    person: Person,
    now: Timestamp,
) -> Result<Option<Vec<Secret>>, Error> {
    if recovery_codes::count(tx, person)?.1 > 0 { Ok(None) } else { issue(tx, person, now).map(Some) }
}

/// `POST /v1/me/mfa/recovery-codes`: password and a current code (TOTP or recovery) give
/// a new set.
pub fn regenerate(app: &App, holder: &Holder<'_>, password: &Secret, code: &str) -> Result<Vec<Secret>, Error> {
    check_password(app, holder, password)?;
    let now = app.clock.now();
    app.db.write(|tx| {
        let method = spend_code(tx, app, holder.person, code, now)?;
        let codes = issue(tx, holder.person, now)?;
        holder
            .event(Action::MfaRecoveryCodesRegenerated)
            .after(serde_json::json!({ "recovery_codes": COUNT, "confirmed_with": method.as_str() }))
            .append(tx, now)?;
        notices::factor_changed(tx, app, holder.person, FactorChange::RecoveryCodesRegenerated, now)?;
        Ok(codes)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_four_groups_and_typing_variants_match() {
        let code = new_code();
        let text = code.expose();
        assert_eq!(text.len(), 19);
        assert_eq!(text.split('-').count(), 4);
        assert_eq!(digest(text), digest(&text.to_ascii_uppercase().replace('-', " ")));
        assert_ne!(digest(text), digest(new_code().expose()));
    }
}
