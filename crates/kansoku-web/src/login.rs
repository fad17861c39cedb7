//! Operator pages: log in, log out, and the reports with their contacts.

use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::auth::{
    Operator, SESSION_COOKIE, check_csrf, cookie, csrf_token, set_cookie, verify_operator,
    with_csrf_cookie,
};
use crate::data::blocking;
use crate::limits::ClientIp;
use crate::pages::layout;
use crate::reports::ReportLog;
use crate::{AppState, WebError};

fn login_page(token: &str, error: Option<&str>) -> Markup {
    let body = html! {
        h1 { "Operator login" }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.report method="post" action="/login" {
            input type="hidden" name="csrf" value=(token);
            label { "Name" input type="text" name="name" autocomplete="username" required; }
            label { "Password" input type="password" name="password" autocomplete="current-password" required; }
            button type="submit" { "Log in" }
        }
    };
    layout("Operator login", body)
}

/// `GET /login`.
pub async fn form(headers: HeaderMap) -> Response {
    let (token, set) = csrf_token(&headers);
    let page = login_page(&token, None);
    with_csrf_cookie(page, set)
}

#[derive(Debug, Deserialize)]
pub struct Credentials {
    #[serde(default)]
    csrf: String,
    name: String,
    password: String,
}

/// `POST /login`: a session cookie and a redirect to the operator page, or the form again.
/// Attempts are limited per client, so passwords cannot be guessed at speed.
pub async fn login(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    Form(c): Form<Credentials>,
) -> Result<Response, WebError> {
    check_csrf(&headers, &c.csrf)?;
    state
        .login_limit
        .check(client.0, Instant::now())
        .map_err(WebError::TooManyRequests)?;
    let dir = state.store_dir.clone();
    let name = c.name.clone();
    let _permit = state
        .password_checks
        .acquire()
        .await
        .map_err(|_| WebError::Internal("the server is shutting down".into()))?;
    let verified = blocking(move || verify_operator(&dir, &name, &c.password)).await?;
    let Some(credential) = verified else {
        let page = login_page(&c.csrf, Some("Unknown name or wrong password."));
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    };
    let id = state.sessions.start(&c.name, &credential);
    let cookie = set_cookie(SESSION_COOKIE, &id, Duration::from_secs(12 * 3600));
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/operator")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct Token {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout`.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(t): Form<Token>,
) -> Result<Response, WebError> {
    check_csrf(&headers, &t.csrf)?;
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        state.sessions.end(&id);
    }
    let expired = set_cookie(SESSION_COOKIE, "", Duration::ZERO);
    Ok(([(header::SET_COOKIE, expired)], Redirect::to("/")).into_response())
}

/// `GET /operator`: the reports with their contacts.
pub async fn operator_page(
    Operator(name): Operator,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let dir = state.store_dir.clone();
    let reports = blocking(move || ReportLog::new(&dir).read()).await?;
    let (token, set) = csrf_token(&headers);
    let body = html! {
        h1 { "Operator: " (name) }
        form method="post" action="/logout" {
            input type="hidden" name="csrf" value=(token);
            button type="submit" { "Log out" }
        }
        h2 { "Infection reports, newest first" }
        div.table-wrap { table {
            tr { th.n { "id" } th { "received" } th { "worm" } th { "day" } th { "OS" } th { "text" } th { "contact" } }
            @for r in reports.iter().rev() {
                tr {
                    td.n { (r.id) } td { (r.received) } td { (r.signature) } td { (r.date) }
                    td { (r.os) } td { (r.text) } td { (r.contact.as_deref().unwrap_or("")) }
                }
            }
        } }
        p.muted { "JSON: " a href="/api/v1/reports" { "/api/v1/reports" } }
    };
    let page = layout("Operator", body);
    Ok(with_csrf_cookie(page, set))
}
