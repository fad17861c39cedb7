//! `GET /api/v1/owner/hosts`: an owner's infected and scanning hosts, for the holder of that
//! owner's token only. The report is built from the token's own prefixes and nothing else,
//! so no request can reach another owner's hosts: the scoping is by construction, not by a
//! filter that could be forgotten.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kansoku_analyse::owners::{
    Directory, Document, Format, GroupOptions, Period as ReportPeriod, Prefix, PrefixOwner,
    PrefixOwners, SCHEMA, group, rfc3339_micros, write,
};
use kansoku_store::Store;
use kansoku_store::activity::{ActivityFilter, read_activity};
use serde::Deserialize;

use crate::auth::Owner;
use crate::data::{query, rfc3339};
use crate::period::PeriodParams;
use crate::{AppState, Period, WebError};

#[derive(Debug, Default, Deserialize)]
pub struct OwnerParams {
    #[serde(flatten)]
    period: PeriodParams,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

pub async fn hosts(
    Owner(token): Owner,
    State(state): State<AppState>,
    Query(params): Query<OwnerParams>,
) -> Result<Response, WebError> {
    let period = Period::try_from(&params.period)?;
    let (format, content_type) = match params.format.as_deref() {
        None | Some("json") => (Format::Json, "application/json"),
        Some("csv") => (Format::Csv, "text/csv; charset=utf-8"),
        Some(other) => {
            return Err(WebError::BadRequest(format!(
                "format `{other}` is not json or csv"
            )));
        }
    };
    let prefixes = token
        .prefixes
        .iter()
        .map(|p| Prefix::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| WebError::Internal(format!("owner token of {}: {e}", token.owner)))?;
    let directory = Directory::Prefixes(PrefixOwners::new(vec![PrefixOwner {
        name: token.owner.clone(),
        contact: token.contact.clone(),
        prefixes,
    }]));
    let dir = state.store_dir.clone();
    let body = query(move || {
        let store = Store::open(&dir)?;
        let filter = ActivityFilter {
            from: period.from_s.map(rfc3339),
            to: period.to_s.map(rfc3339),
            signatures: Vec::new(),
        };
        let activity = read_activity(&store, &filter)?;
        let options = GroupOptions {
            skip_unassigned: true,
            ..GroupOptions::default()
        };
        let owners = group(&directory, &activity, &options)
            .map_err(|e| WebError::Internal(e.to_string()))?;
        let document = Document {
            schema: SCHEMA,
            generated_at: rfc3339_micros(chrono::Utc::now().timestamp_micros()),
            generator: format!("kansoku {}", env!("CARGO_PKG_VERSION")),
            store: "kansoku serve".into(),
            period: ReportPeriod {
                from: filter.from,
                to: filter.to,
            },
            owners,
        };
        let mut out = Vec::new();
        write(&mut out, &document, format).map_err(|e| WebError::Internal(e.to_string()))?;
        Ok(out)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}
