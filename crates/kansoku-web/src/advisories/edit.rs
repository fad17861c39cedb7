//! Editing an advisory through the web: operators only, with a CSRF token, and every save
//! recorded as a revision under the operator's name (`advisories::save`).

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Lang, check_id, file_name, save};
use crate::auth::{Operator, check_csrf, csrf_token, with_csrf_cookie};
use crate::data::blocking;
use crate::pages::layout;
use crate::{AppState, WebError};

#[derive(Debug, Default, Deserialize)]
pub struct EditParams {
    lang: Option<String>,
}

fn lang_param(lang: Option<&str>) -> Result<Lang, WebError> {
    match lang {
        None | Some("") => Ok(Lang::En),
        Some(l) => Lang::parse(l)
            .ok_or_else(|| WebError::BadRequest(format!("language `{l}` is not en or ja"))),
    }
}

fn form_page(id: &str, lang: Lang, text: &str, token: &str, error: Option<&str>) -> Markup {
    let body = html! {
        p.muted { a href=(format!("/advisories/{id}")) { "Back to the advisory" } }
        h1 { "Edit " code { (file_name(id, lang)) } }
        p.muted { "Markdown with TOML front matter between +++ lines; charts with "
            code { "{{chart port=tcp/135}}" } " on a line of their own. See docs/advisories.md." }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.report.edit method="post" action=(format!("/advisories/{id}/edit")) {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="lang" value=(lang.as_str());
            label { "Text" textarea name="text" rows="24" lang=(lang.as_str()) { (text) } }
            label { "What changed (shown in the update history)" input type="text" name="summary" required maxlength="200"; }
            button type="submit" { "Save revision" }
        }
    };
    layout(&format!("Edit {id}"), body)
}

/// `GET /advisories/{id}/edit?lang=en|ja`: the file's text in a form.
pub async fn form(
    _operator: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<EditParams>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    check_id(&id)?;
    let lang = lang_param(params.lang.as_deref())?;
    let dir = super::web::advisories_dir(&state)?;
    let path = dir.join(file_name(&id, lang));
    let text = blocking(move || match std::fs::read_to_string(&path) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(WebError::Internal(format!("{}: {e}", path.display()))),
    })
    .await?;
    let (token, set) = csrf_token(&headers);
    let page = form_page(&id, lang, &text, &token, None);
    Ok(with_csrf_cookie(page, set))
}

#[derive(Debug, Deserialize)]
pub struct Edit {
    #[serde(default)]
    csrf: String,
    lang: String,
    text: String,
    summary: String,
}

/// `POST /advisories/{id}/edit`: saves a revision and shows the advisory, or the form
/// again with what is wrong.
pub async fn submit(
    Operator(who): Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(edit): Form<Edit>,
) -> Result<Response, WebError> {
    check_csrf(&headers, &edit.csrf)?;
    check_id(&id)?;
    let lang = lang_param(Some(&edit.lang))?;
    let dir = super::web::advisories_dir(&state)?;
    // Browsers send form text with CRLF line ends; the files and their hashes use LF.
    let text = edit.text.replace("\r\n", "\n");
    let (saved_id, summary) = (id.clone(), edit.summary.clone());
    let saved = blocking(move || save(&dir, &saved_id, lang, &text, &who, &summary)).await;
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("/advisories/{id}")).into_response()),
        Err(WebError::BadRequest(message)) => {
            let page = form_page(&id, lang, &edit.text, &edit.csrf, Some(&message));
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e),
    }
}
