//! Infection-report intake over HTTP: the public form (`/report`), the JSON endpoint
//! (`POST /api/v1/reports`), the public daily counts (`/reports`, `/api/v1/reports/daily`)
//! and the operators' list (`GET /api/v1/reports`). Every submission is validated, limited
//! in size (the router's body limit) and in rate per client.

use std::fmt::Write;
use std::time::Instant;

use axum::Json;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use crate::auth::{Operator, check_csrf, csrf_token, with_csrf_cookie};
use crate::data::blocking;
use crate::limits::ClientIp;
use crate::pages::layout;
use crate::reports::{
    DailyCount, Report, ReportLog, SIGNATURES, SYSTEMS, Submission, daily_counts,
};
use crate::{AppState, WebError};

/// Validates, rate-limits and stores one submission.
async fn accept(state: &AppState, client: ClientIp, s: Submission) -> Result<Report, WebError> {
    let s = s.validate(chrono::Utc::now().date_naive())?;
    state
        .report_limit
        .check(client.0, Instant::now())
        .map_err(WebError::TooManyRequests)?;
    let dir = state.store_dir.clone();
    let lock = state.report_writer.clone();
    blocking(move || {
        let _one_writer = lock.lock().unwrap_or_else(|e| e.into_inner());
        ReportLog::new(&dir).append(s)
    })
    .await
}

/// `POST /api/v1/reports`: 201 with the id and time of receipt.
pub async fn submit_json(
    State(state): State<AppState>,
    client: ClientIp,
    Json(s): Json<Submission>,
) -> Result<Response, WebError> {
    let r = accept(&state, client, s).await?;
    let body = serde_json::json!({ "id": r.id, "received": r.received });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /api/v1/reports/daily`: reports per day and signature, for everyone.
pub async fn daily(State(state): State<AppState>) -> Result<Json<Vec<DailyCount>>, WebError> {
    let dir = state.store_dir.clone();
    Ok(Json(
        blocking(move || Ok(daily_counts(&ReportLog::new(&dir).read()?))).await?,
    ))
}

/// `GET /api/v1/reports`: every report with its contact, for operators only.
pub async fn list(
    _operator: Operator,
    State(state): State<AppState>,
) -> Result<Json<Vec<Report>>, WebError> {
    let dir = state.store_dir.clone();
    Ok(Json(blocking(move || ReportLog::new(&dir).read()).await?))
}

/// The form's fields: a submission plus its CSRF token.
#[derive(Debug, Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    csrf: String,
    signature: String,
    date: String,
    os: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    contact: String,
}

/// `GET /report`: the form.
pub async fn form(headers: HeaderMap) -> Response {
    let (token, set_cookie) = csrf_token(&headers);
    let page = form_page(&token, None);
    with_csrf_cookie(page, set_cookie)
}

fn form_page(token: &str, error: Option<&str>) -> Markup {
    let body = html! {
        h1 { "Report an infection" }
        p { "Tell us about a PC infected by a worm. We count reports per day and worm on the "
            a href="/reports" { "public chart" } "; the report itself, and your contact if you give one, only the operators see." }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.report method="post" action="/report" {
            input type="hidden" name="csrf" value=(token);
            label { "Worm"
                select name="signature" required {
                    @for s in SIGNATURES { option value=(s) { (s) } }
                }
            }
            label { "Day it was noticed (UTC)" input type="date" name="date" required; }
            label { "Operating system"
                select name="os" required {
                    @for s in SYSTEMS { option value=(s) { (s) } }
                }
            }
            label { "What happened (optional)" textarea name="text" rows="5" maxlength="2000" {} }
            label { "Contact (optional, never published)" input type="text" name="contact" maxlength="200"; }
            button type="submit" { "Send report" }
        }
    };
    layout("Report an infection", body)
}

/// `POST /report`: the form's submission.
pub async fn submit_form(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    Form(f): Form<ReportForm>,
) -> Result<Response, WebError> {
    check_csrf(&headers, &f.csrf)?;
    let s = Submission {
        signature: f.signature,
        date: f.date,
        os: f.os,
        text: f.text,
        contact: Some(f.contact),
    };
    match accept(&state, client, s).await {
        Ok(r) => {
            let body = html! {
                h1 { "Thank you" }
                p { "Report " (r.id) " was received at " (r.received) ". It is counted on the "
                    a href="/reports" { "daily chart" } "." }
            };
            Ok((StatusCode::CREATED, layout("Report received", body)).into_response())
        }
        Err(WebError::BadRequest(message)) => {
            let page = form_page(&f.csrf, Some(&message));
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e),
    }
}

/// `GET /reports`: the public daily counts, as a chart and a table.
pub async fn counts_page(State(state): State<AppState>) -> Result<Markup, WebError> {
    let dir = state.store_dir.clone();
    let counts = blocking(move || Ok(daily_counts(&ReportLog::new(&dir).read()?))).await?;
    let body = html! {
        h1 { "Infection reports per day" }
        p.muted { "Reports received through " a href="/report" { "the form" } " or the API, by the day the infection was noticed." }
        @if counts.is_empty() {
            p.muted { "No reports yet." }
        } @else {
            div.chart { (PreEscaped(bars(&counts))) }
            div.table-wrap { table {
                tr { th { "day" } th { "worm" } th.n { "reports" } }
                @for c in counts.iter().rev() { tr { td { (c.date) } td { (c.signature) } td.n { (c.reports) } } }
            } }
        }
        p.muted { "JSON: " a href="/api/v1/reports/daily" { "/api/v1/reports/daily" } }
    };
    Ok(layout("Infection reports", body))
}

/// Stacked bars of reports per day, one colour per worm, drawn by hand: a few dozen
/// rectangles need no plotting library, and the page stays one request.
fn bars(counts: &[DailyCount]) -> String {
    const COLOURS: [&str; 7] = [
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#7f7f7f",
    ];
    let days: Vec<&str> = {
        let mut d: Vec<&str> = counts.iter().map(|c| c.date.as_str()).collect();
        d.dedup();
        d
    };
    let worms: Vec<&str> = SIGNATURES
        .iter()
        .copied()
        .filter(|s| counts.iter().any(|c| c.signature == *s))
        .collect();
    let total = |day: &str| -> u64 {
        counts
            .iter()
            .filter(|c| c.date == day)
            .map(|c| c.reports)
            .sum()
    };
    let max = days.iter().map(|d| total(d)).max().unwrap_or(1).max(1) as f64;
    let (w, h, left, bottom, top) = (720.0, 260.0, 40.0, 40.0, 30.0);
    // A few days' bars stay bar-wide instead of filling the chart as one block.
    let slot = ((w - left - 10.0) / days.len() as f64).min(48.0);
    let scale = (h - bottom - top) / max;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="infection reports per day" font-family="DejaVu Sans,sans-serif" font-size="11">"#
    );
    let _ = write!(
        svg,
        r##"<line x1="{left}" y1="{y}" x2="{x2}" y2="{y}" stroke="#444"/><text x="{left}" y="14" text-anchor="start">reports per day (max {max})</text>"##,
        y = h - bottom,
        x2 = w - 10.0
    );
    for (i, day) in days.iter().enumerate() {
        let x = left + i as f64 * slot + slot * 0.1;
        let mut y = h - bottom;
        for (k, worm) in worms.iter().enumerate() {
            let n = counts
                .iter()
                .find(|c| c.date == *day && c.signature == *worm)
                .map_or(0, |c| c.reports);
            if n == 0 {
                continue;
            }
            let bar = n as f64 * scale;
            y -= bar;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{bar:.1}" fill="{}"><title>{day} {worm}: {n}</title></rect>"#,
                slot * 0.8,
                COLOURS[k % COLOURS.len()]
            );
        }
        if days.len() <= 16 || i % days.len().div_ceil(16) == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                x + slot * 0.4,
                h - bottom + 14.0,
                &day[5..]
            );
        }
    }
    for (k, worm) in worms.iter().enumerate() {
        let x = left + k as f64 * 90.0;
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}">{worm}</text>"#,
            h - 16.0,
            COLOURS[k % COLOURS.len()],
            x + 14.0,
            h - 7.0
        );
    }
    svg.push_str("</svg>");
    svg
}
