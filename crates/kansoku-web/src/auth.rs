//! Who may see what: operator accounts with sessions, CSRF tokens for forms, and owner API
//! tokens.
//!
//! - Operators are listed in `web/operators.json` in the store directory with argon2id
//!   password hashes (`kansoku operator add`). Logging in creates a session: a random
//!   256-bit id in a cookie that is `HttpOnly`, `SameSite=Strict` and `Secure` (browsers
//!   treat 127.0.0.1 and localhost as secure, so this holds on a laptop too). Sessions live
//!   in memory for 12 hours; a restart logs everyone out. A session is bound to the password
//!   hash it logged in with and checked against the file on every request, so removing an
//!   operator (`kansoku operator remove`) or setting a new password ends their sessions.
//! - Forms carry a CSRF token that must equal the `__Host-kansoku_csrf` cookie (the double-submit
//!   pattern of the OWASP cheat sheet); the cookie is `SameSite=Strict`, so another site can
//!   neither send it nor read it to copy into a forged form. JSON endpoints need no token:
//!   a cross-site form cannot send `application/json` without a CORS preflight, which this
//!   server never grants.
//! - Owner tokens (`kansoku token add`) are random secrets stored only as BLAKE3 hashes in
//!   `web/tokens.json`, each bound to one owner and that owner's prefixes; the file is read on
//!   every request, so `kansoku token revoke` takes effect at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::{AppState, WebError};

/// The `__Host-` prefix makes browsers refuse these cookies unless they are `Secure`, for
/// path `/` and without a `Domain`: a sibling subdomain cannot plant its own CSRF token
/// or session cookie here (RFC 6265bis, cookie prefixes).
pub const SESSION_COOKIE: &str = "__Host-kansoku_session";
pub const CSRF_COOKIE: &str = "__Host-kansoku_csrf";
const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// `count` random bytes from the thread's CSPRNG (ChaCha seeded by the OS), as hex.
pub fn random_hex(count: usize) -> String {
    let mut bytes = vec![0u8; count];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value for one of this server's cookies.
pub fn set_cookie(name: &str, value: &str, max_age: Duration) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
        max_age.as_secs()
    )
}

/// The CSRF token of a form page: the request's cookie, or a new one together with the
/// `Set-Cookie` that installs it.
pub fn csrf_token(headers: &HeaderMap) -> (String, Option<String>) {
    match cookie(headers, CSRF_COOKIE).filter(|t| t.len() == 32) {
        Some(token) => (token, None),
        None => {
            let token = random_hex(16);
            let set = set_cookie(CSRF_COOKIE, &token, Duration::from_secs(86_400));
            (token, Some(set))
        }
    }
}

/// A form page with the `Set-Cookie` that installs its CSRF token, when it needs one.
pub fn with_csrf_cookie(page: maud::Markup, set_cookie: Option<String>) -> Response {
    match set_cookie {
        Some(c) => ([(SET_COOKIE, c)], page).into_response(),
        None => page.into_response(),
    }
}

/// Checks a submitted form's token against the cookie, in constant time.
pub fn check_csrf(headers: &HeaderMap, submitted: &str) -> Result<(), WebError> {
    let forbidden = || {
        WebError::Forbidden(
            "the form's CSRF token does not match this browser's: reload the form and submit \
             it again"
                .into(),
        )
    };
    let cookie = cookie(headers, CSRF_COOKIE).ok_or_else(forbidden)?;
    if cookie.len() != submitted.len() || cookie.is_empty() {
        return Err(forbidden());
    }
    let differ = cookie
        .bytes()
        .zip(submitted.bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if differ == 0 {
        Ok(())
    } else {
        Err(forbidden())
    }
}

/// One operator account as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OperatorAccount {
    pub name: String,
    /// PHC string of an argon2id hash.
    pub hash: String,
}

/// One owner token as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OwnerToken {
    pub owner: String,
    /// BLAKE3 of the token, hex; the token itself is shown once, when created.
    pub token_hash: String,
    /// The owner's prefixes, in CIDR notation.
    pub prefixes: Vec<String>,
    pub contact: Option<String>,
}

fn web_dir(store_dir: &Path) -> PathBuf {
    store_dir.join("web")
}

fn read_json<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> Result<T, WebError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| WebError::Internal(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(WebError::Internal(format!("{}: {e}", path.display()))),
    }
}

/// Writes `value` to `path` through a synced temporary file and a rename, so a crash leaves
/// either the old file or the new one.
fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), WebError> {
    let io = |e: std::io::Error| WebError::Internal(format!("{}: {e}", path.display()));
    let dir = path.parent().expect("web files have a directory");
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    serde_json::to_writer_pretty(&mut temp, value)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    temp.as_file().sync_all().map_err(io)?;
    temp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

pub fn operators(store_dir: &Path) -> Result<Vec<OperatorAccount>, WebError> {
    read_json(&web_dir(store_dir).join("operators.json"))
}

/// Adds an operator, or sets the password of an existing one.
pub fn set_operator(store_dir: &Path, name: &str, password: &str) -> Result<(), WebError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(|c| c.is_control()) {
        return Err(WebError::BadRequest(
            "an operator name is 1 to 64 printable characters".into(),
        ));
    }
    if password.chars().count() < 12 {
        return Err(WebError::BadRequest(
            "an operator password has at least 12 characters".into(),
        ));
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| WebError::Internal(e.to_string()))?;
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| WebError::Internal(e.to_string()))?
        .to_string();
    let mut all = operators(store_dir)?;
    all.retain(|o| o.name != name);
    all.push(OperatorAccount {
        name: name.to_owned(),
        hash,
    });
    all.sort_by(|a, b| a.name.cmp(&b.name));
    write_json(&web_dir(store_dir).join("operators.json"), &all)
}

/// Whether `password` is `name`'s: if so, the stored hash it verified against (the session is
/// bound to it). Unknown names cost a hash too, so timing does not tell which names exist.
pub fn verify_operator(
    store_dir: &Path,
    name: &str,
    password: &str,
) -> Result<Option<String>, WebError> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        let salt = SaltString::encode_b64(b"kansoku-dummy-salt").expect("a valid salt");
        Argon2::default()
            .hash_password(random_hex(16).as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    });
    let all = operators(store_dir)?;
    let account = all.iter().find(|o| o.name == name);
    let hash = account.map_or(dummy.as_str(), |o| o.hash.as_str());
    let ok = PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    Ok(account.filter(|_| ok).map(|o| o.hash.clone()))
}

/// Removes an operator; returns whether there was one of that name. Their sessions end at
/// their next request.
pub fn remove_operator(store_dir: &Path, name: &str) -> Result<bool, WebError> {
    let mut all = operators(store_dir)?;
    let before = all.len();
    all.retain(|o| o.name != name);
    if all.len() == before {
        return Ok(false);
    }
    write_json(&web_dir(store_dir).join("operators.json"), &all)?;
    Ok(true)
}

pub fn owner_tokens(store_dir: &Path) -> Result<Vec<OwnerToken>, WebError> {
    read_json(&web_dir(store_dir).join("tokens.json"))
}

/// Creates a token for `owner` over `prefixes` and returns it (it is stored only hashed).
pub fn add_owner_token(
    store_dir: &Path,
    owner: &str,
    prefixes: Vec<String>,
    contact: Option<String>,
) -> Result<String, WebError> {
    if prefixes.is_empty() {
        return Err(WebError::BadRequest(format!(
            "owner `{owner}` has no prefixes"
        )));
    }
    let token = random_hex(32);
    let mut all = owner_tokens(store_dir)?;
    all.push(OwnerToken {
        owner: owner.to_owned(),
        token_hash: blake3::hash(token.as_bytes()).to_hex().to_string(),
        prefixes,
        contact,
    });
    write_json(&web_dir(store_dir).join("tokens.json"), &all)?;
    Ok(token)
}

/// Removes every token of `owner`; returns how many there were.
pub fn revoke_owner_tokens(store_dir: &Path, owner: &str) -> Result<usize, WebError> {
    let mut all = owner_tokens(store_dir)?;
    let before = all.len();
    all.retain(|t| t.owner != owner);
    if all.len() < before {
        write_json(&web_dir(store_dir).join("tokens.json"), &all)?;
    }
    Ok(before - all.len())
}

#[derive(Debug)]
struct Session {
    operator: String,
    /// The password hash the operator logged in with.
    credential: String,
    expires: Instant,
}

/// The live sessions of one server.
#[derive(Debug, Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session for `operator`, who logged in against the stored hash `credential`;
    /// returns its id.
    pub fn start(&self, operator: &str, credential: &str) -> String {
        let id = random_hex(32);
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        live.retain(|_, s| s.expires > now);
        let session = Session {
            operator: operator.to_owned(),
            credential: credential.to_owned(),
            expires: now + SESSION_LIFETIME,
        };
        live.insert(id.clone(), session);
        id
    }

    /// The operator and credential of a live session.
    fn get(&self, id: &str) -> Option<(String, String)> {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.get(id)
            .filter(|s| s.expires > Instant::now())
            .map(|s| (s.operator.clone(), s.credential.clone()))
    }

    /// The operator logged in with the session cookie of `headers`, if the session is live
    /// and the operator's account still holds the password they logged in with; a session
    /// whose account is gone or changed is ended.
    pub(crate) async fn operator(
        &self,
        headers: &HeaderMap,
        store_dir: &Path,
    ) -> Result<Option<String>, WebError> {
        let Some(id) = cookie(headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let Some((name, credential)) = self.get(&id) else {
            return Ok(None);
        };
        let dir = store_dir.to_path_buf();
        let accounts = crate::data::blocking(move || operators(&dir)).await?;
        if accounts
            .iter()
            .any(|a| a.name == name && a.hash == credential)
        {
            Ok(Some(name))
        } else {
            self.end(&id);
            Ok(None)
        }
    }

    pub fn end(&self, id: &str) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// A request from a logged-in operator; rejects others with 401.
#[derive(Clone, Debug)]
pub struct Operator(pub String);

impl FromRequestParts<AppState> for Operator {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        state
            .sessions
            .operator(&parts.headers, &state.store_dir)
            .await?
            .map(Operator)
            .ok_or_else(|| WebError::Unauthorized("operators only: log in at /login first".into()))
    }
}

/// A request carrying an owner's token (`Authorization: Bearer TOKEN`); rejects others with
/// 401.
#[derive(Clone, Debug)]
pub struct Owner(pub OwnerToken);

impl FromRequestParts<AppState> for Owner {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let unauthorized = || {
            WebError::Unauthorized("send the owner token as `Authorization: Bearer TOKEN`".into())
        };
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            // The scheme name is case-insensitive (RFC 9110 §11.1): `bearer` is `Bearer`.
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or_else(unauthorized)?;
        let hash = blake3::hash(token.as_bytes()).to_hex().to_string();
        let dir = state.store_dir.clone();
        let tokens = crate::data::blocking(move || owner_tokens(&dir)).await?;
        tokens
            .into_iter()
            .find(|t| t.token_hash == hash)
            .map(Owner)
            .ok_or_else(|| WebError::Unauthorized("unknown owner token".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn passwords_verify_only_for_their_operator() {
        let dir = tempfile::tempdir().unwrap();
        assert!(set_operator(dir.path(), "sato", "short").is_err());
        set_operator(dir.path(), "sato", "correct horse battery").unwrap();
        let stored = std::fs::read_to_string(dir.path().join("web/operators.json")).unwrap();
        assert!(stored.contains("$argon2id$") && !stored.contains("horse"));
        let hash = verify_operator(dir.path(), "sato", "correct horse battery").unwrap();
        assert!(hash.is_some_and(|h| stored.contains(&h)));
        assert_eq!(
            verify_operator(dir.path(), "sato", "correct horse batterx").unwrap(),
            None
        );
        assert_eq!(
            verify_operator(dir.path(), "suzuki", "correct horse battery").unwrap(),
            None
        );
        assert!(remove_operator(dir.path(), "sato").unwrap());
        assert!(!remove_operator(dir.path(), "sato").unwrap());
        assert_eq!(
            verify_operator(dir.path(), "sato", "correct horse battery").unwrap(),
            None
        );
    }

    #[test]
    fn csrf_needs_the_cookie_and_the_same_token() {
        let mut headers = HeaderMap::new();
        let (token, set) = csrf_token(&headers);
        assert!(set.unwrap().contains("SameSite=Strict"));
        assert!(check_csrf(&headers, &token).is_err(), "no cookie");
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("a=b; {CSRF_COOKIE}={token}")).unwrap(),
        );
        assert_eq!(csrf_token(&headers), (token.clone(), None));
        assert!(check_csrf(&headers, &token).is_ok());
        assert!(check_csrf(&headers, &random_hex(16)).is_err());
        assert!(check_csrf(&headers, "").is_err());
    }

    #[test]
    fn sessions_end() {
        let sessions = Sessions::default();
        let id = sessions.start("sato", "$argon2id$x");
        let live = Some(("sato".to_owned(), "$argon2id$x".to_owned()));
        assert_eq!(sessions.get(&id), live);
        assert_eq!(sessions.get(&random_hex(32)), None);
        sessions.end(&id);
        assert_eq!(sessions.get(&id), None);
    }
}
