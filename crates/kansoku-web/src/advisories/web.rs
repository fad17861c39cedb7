//! The advisory pages and their JSON twins. The views below are serialised by the API and
//! drawn by the pages, so the API returns what the pages show (dates as ISO strings plus the
//! reader-language strings the page prints).

use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use chrono::SecondsFormat;
use maud::{Markup, PreEscaped, html};
use serde::{Deserialize, Serialize};

use super::{Advisory, HistoryEntry, Lang, ListRow, date, date_time, markdown};
use crate::data::blocking;
use crate::pages::layout_in;
use crate::view::View;
use crate::{AppState, WebError};

/// `?lang=ja|en`: overrides `Accept-Language`.
#[derive(Debug, Default, Deserialize)]
pub struct LangParams {
    pub lang: Option<String>,
}

/// An advisory as pages and the API show it.
#[derive(Debug, Serialize)]
pub struct AdvisoryView {
    pub id: String,
    /// The language dates and the title are shown in.
    pub lang: Lang,
    pub title: String,
    /// First published, as written (`2003-08-12` or RFC 3339).
    pub published: String,
    /// Time of the newest revision, RFC 3339 UTC.
    pub last_updated: String,
    pub published_display: String,
    pub last_updated_display: String,
    pub signatures: Vec<String>,
    pub ports: Vec<String>,
    /// English first, then Japanese, those that exist.
    pub texts: Vec<TextView>,
    /// Newest first, without the texts (`/advisories/{id}/revisions/{n}` has them).
    pub revisions: Vec<RevisionView>,
}

#[derive(Debug, Serialize)]
pub struct TextView {
    pub lang: Lang,
    pub file: String,
    pub title: String,
    pub summary: Option<String>,
    pub published: String,
    /// The Markdown body (front matter removed).
    pub markdown: String,
    /// The body as the page shows it.
    pub html: String,
}

#[derive(Debug, Serialize)]
pub struct RevisionView {
    pub n: usize,
    pub lang: Lang,
    pub file: String,
    pub at: String,
    pub at_display: String,
    pub who: String,
    pub summary: String,
    pub sha256: String,
}

/// Who the public view names as the author of a revision saved through the web.
const PUBLIC_EDITOR: &str = "operator";

/// One row of the list.
#[derive(Debug, Serialize)]
pub struct ListEntry {
    pub id: String,
    pub title: String,
    pub languages: Vec<Lang>,
    pub published: String,
    pub last_updated: String,
    pub published_display: String,
    pub last_updated_display: String,
    pub summary: Option<String>,
}

/// An advisory the list could not read.
#[derive(Debug, Serialize)]
pub struct ListError {
    pub id: String,
    pub error: String,
}

#[derive(Debug, Serialize)]
pub struct ListView {
    pub lang: Lang,
    /// Newest published first.
    pub advisories: Vec<ListEntry>,
    pub errors: Vec<ListError>,
}

fn view(a: &Advisory, lang: Lang, reader: View) -> AdvisoryView {
    let (signatures, ports) = a.subjects();
    let last = a.last_updated();
    AdvisoryView {
        id: a.id.clone(),
        lang,
        title: a.document(lang).front.title.clone(),
        published: a.published().text.clone(),
        last_updated: last.to_rfc3339_opts(SecondsFormat::Secs, true),
        published_display: date(a.published().date, lang),
        last_updated_display: date(last.date_naive(), lang),
        signatures,
        ports,
        texts: a.documents.iter().map(text_view).collect(),
        revisions: a
            .history()
            .iter()
            .rev()
            .map(|e| revision_view(e, lang, reader))
            .collect(),
    }
}

fn text_view(d: &super::Document) -> TextView {
    TextView {
        lang: d.lang,
        file: d.file.clone(),
        title: d.front.title.clone(),
        summary: d.front.summary.clone(),
        published: d.front.published.text.clone(),
        markdown: d.body.clone(),
        html: markdown(&d.body, d.lang),
    }
}

/// One revision as `reader` may see it: the public learns that an operator saved it, not the
/// operator's login name (half of what a password guesser needs).
fn revision_view(e: &HistoryEntry<'_>, lang: Lang, reader: View) -> RevisionView {
    let who = if reader.is_operator() || e.revision.who == super::revisions::DISK_EDITOR {
        e.revision.who.clone()
    } else {
        PUBLIC_EDITOR.to_owned()
    };
    RevisionView {
        n: e.n,
        lang: e.lang,
        file: e.file.to_owned(),
        at: e.revision.at.clone(),
        at_display: date_time(e.revision.time(), lang),
        who,
        summary: e.revision.summary.clone(),
        sha256: e.revision.sha256.clone(),
    }
}

fn list_view(rows: Vec<ListRow>, lang: Lang) -> ListView {
    let mut advisories = Vec::new();
    let mut errors = Vec::new();
    for row in rows {
        match row {
            Ok(a) => advisories.push(list_entry(&a, lang)),
            Err((id, e)) => errors.push(ListError {
                id,
                error: e.to_string(),
            }),
        }
    }
    ListView {
        lang,
        advisories,
        errors,
    }
}

fn list_entry(a: &Advisory, lang: Lang) -> ListEntry {
    let document = a.document(lang);
    let last = a.last_updated();
    ListEntry {
        id: a.id.clone(),
        title: document.front.title.clone(),
        languages: a.documents.iter().map(|d| d.lang).collect(),
        published: a.published().text.clone(),
        last_updated: last.to_rfc3339_opts(SecondsFormat::Secs, true),
        published_display: date(a.published().date, lang),
        last_updated_display: date(last.date_naive(), lang),
        summary: document.front.summary.clone(),
    }
}

/// The advisories directory, or a 404 saying how to serve advisories.
pub(super) fn advisories_dir(state: &AppState) -> Result<Arc<PathBuf>, WebError> {
    state.advisories.clone().ok_or_else(|| {
        WebError::NotFound(
            "advisories are not enabled on this server: start it with \
             `kansoku serve --advisories DIR`"
                .into(),
        )
    })
}

fn lang_of(params: &LangParams, headers: &HeaderMap) -> Lang {
    let accept = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    super::reader_lang(params.lang.as_deref(), accept)
}

async fn load_list(state: &AppState, lang: Lang) -> Result<ListView, WebError> {
    let dir = advisories_dir(state)?;
    let rows = blocking(move || super::list(&dir)).await?;
    Ok(list_view(rows, lang))
}

async fn load_one(state: &AppState, id: String) -> Result<Advisory, WebError> {
    let dir = advisories_dir(state)?;
    blocking(move || super::load(&dir, &id)).await
}

/// `GET /api/v1/advisories`.
pub async fn api_list(
    State(state): State<AppState>,
    Query(params): Query<LangParams>,
    headers: HeaderMap,
) -> Result<Json<ListView>, WebError> {
    Ok(Json(load_list(&state, lang_of(&params, &headers)).await?))
}

/// `GET /api/v1/advisories/{id}`.
pub async fn api_one(
    State(state): State<AppState>,
    reader: View,
    Path(id): Path<String>,
    Query(params): Query<LangParams>,
    headers: HeaderMap,
) -> Result<Json<AdvisoryView>, WebError> {
    let lang = lang_of(&params, &headers);
    let advisory = load_one(&state, id).await?;
    Ok(Json(view(&advisory, lang, reader)))
}

/// Labels of the advisory pages in the reader's language.
struct Labels {
    advisories: &'static str,
    published: &'static str,
    updated: &'static str,
    history: &'static str,
    date: &'static str,
    who: &'static str,
    summary: &'static str,
    language: &'static str,
    none: &'static str,
    unreadable: &'static str,
    revision: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::En => Labels {
            advisories: "Advisories",
            published: "First published",
            updated: "Last updated",
            history: "Update history",
            date: "Date",
            who: "By",
            summary: "Summary",
            language: "Text",
            none: "No advisories yet.",
            unreadable: "could not be read",
            revision: "Revision",
        },
        Lang::Ja => Labels {
            advisories: "注意喚起",
            published: "初版公開日",
            updated: "最終更新日",
            history: "更新履歴",
            date: "日時",
            who: "更新者",
            summary: "内容",
            language: "言語",
            none: "注意喚起はまだありません。",
            unreadable: "読み込めませんでした",
            revision: "版",
        },
    }
}

/// `GET /advisories`.
pub async fn list_page(
    State(state): State<AppState>,
    Query(params): Query<LangParams>,
    headers: HeaderMap,
) -> Result<Markup, WebError> {
    let lang = lang_of(&params, &headers);
    let list = load_list(&state, lang).await?;
    let l = labels(lang);
    let body = html! {
        h1 { (l.advisories) }
        @if list.advisories.is_empty() && list.errors.is_empty() {
            p.muted { (l.none) }
        } @else {
            div.table-wrap { table {
                tr { th { "" } th { (l.published) } th { (l.updated) } }
                @for a in &list.advisories {
                    tr {
                        td {
                            a href=(format!("/advisories/{}", a.id)) { (a.title) }
                            @if let Some(s) = &a.summary { div.muted { (s) } }
                        }
                        td { time datetime=(a.published) { (a.published_display) } }
                        td { time datetime=(a.last_updated) { (a.last_updated_display) } }
                    }
                }
                @for e in &list.errors {
                    tr.error { td colspan="3" { code { (e.id) } " " (l.unreadable) ": " (e.error) } }
                }
            } }
        }
        p.muted { "JSON: " a href="/api/v1/advisories" { "/api/v1/advisories" } }
    };
    Ok(layout_in(lang.as_str(), l.advisories, body))
}

/// `GET /advisories/{id}`.
pub async fn page(
    State(state): State<AppState>,
    reader: View,
    Path(id): Path<String>,
    Query(params): Query<LangParams>,
    headers: HeaderMap,
) -> Result<Markup, WebError> {
    let lang = lang_of(&params, &headers);
    let advisory = load_one(&state, id).await?;
    let v = view(&advisory, lang, reader);
    let l = labels(lang);
    let body = html! {
        p.muted { a href="/advisories" { (l.advisories) } }
        h1 { (v.title) }
        p.dates {
            (l.published) ": " time datetime=(v.published) { (v.published_display) }
            " · " (l.updated) ": " time datetime=(v.last_updated) { (v.last_updated_display) }
        }
        (subjects(&v))
        div.langs {
            @for t in &v.texts {
                article lang=(t.lang.as_str()) {
                    @if v.texts.len() > 1 { h2.text-title { (t.title) } }
                    (PreEscaped(&t.html))
                }
            }
        }
        @if reader.is_operator() {
            p.notice {
                "Operator: edit the "
                a href=(format!("/advisories/{}/edit?lang=en", v.id)) { "English" } " or "
                a href=(format!("/advisories/{}/edit?lang=ja", v.id)) { "Japanese" } " text."
            }
        }
        h2 { (l.history) }
        (history_table(&v, &l))
        p.muted { "JSON: " a href=(format!("/api/v1/advisories/{}", v.id)) { (format!("/api/v1/advisories/{}", v.id)) } }
    };
    Ok(layout_in(lang.as_str(), &v.title, body))
}

/// Links to the dashboard pages of the signatures and ports the advisory is about.
fn subjects(v: &AdvisoryView) -> Markup {
    html! {
        @if !v.signatures.is_empty() || !v.ports.is_empty() {
            p.muted {
                @for s in &v.signatures { a href=(format!("/signature/{s}")) { (s) } " " }
                @for p in &v.ports { a href=(format!("/port/{p}")) { (p) } " " }
            }
        }
    }
}

fn history_table(v: &AdvisoryView, l: &Labels) -> Markup {
    html! {
        div.table-wrap { table.history {
            tr { th { (l.date) } th { (l.who) } th { (l.summary) } th { (l.language) } th { "" } }
            @for r in &v.revisions {
                tr {
                    td { time datetime=(r.at) { (r.at_display) } }
                    td { (r.who) }
                    td lang=(r.lang.as_str()) { (r.summary) }
                    td { (r.lang.as_str()) }
                    td { a href=(format!("/advisories/{}/revisions/{}", v.id, r.n)) { (l.revision) " " (r.n) } }
                }
            }
        } }
    }
}

/// `GET /advisories/{id}/revisions/{n}`: an old text exactly as it was saved, escaped.
pub async fn revision_page(
    State(state): State<AppState>,
    reader: View,
    Path((id, n)): Path<(String, String)>,
    Query(params): Query<LangParams>,
    headers: HeaderMap,
) -> Result<Markup, WebError> {
    let lang = lang_of(&params, &headers);
    let advisory = load_one(&state, id).await?;
    let history = advisory.history();
    let entry = n
        .parse::<usize>()
        .ok()
        .and_then(|n| history.iter().find(|e| e.n == n))
        .ok_or_else(|| {
            WebError::NotFound(format!(
                "advisory `{}` has revisions 1 to {}, not `{n}`",
                advisory.id,
                history.len()
            ))
        })?;
    let r = revision_view(entry, lang, reader);
    let l = labels(lang);
    let title = format!(
        "{} · {} {}",
        advisory.document(lang).front.title,
        l.revision,
        r.n
    );
    let body = html! {
        p.muted { a href=(format!("/advisories/{}", advisory.id)) { (advisory.document(lang).front.title) } }
        h1 { (title) }
        p { code { (r.file) } " · " time datetime=(r.at) { (r.at_display) } " · " (r.who) " · " (r.summary) }
        p.muted { "SHA-256 " code { (r.sha256) } }
        pre.source lang=(entry.lang.as_str()) { (entry.revision.text) }
    };
    Ok(layout_in(lang.as_str(), &title, body))
}
