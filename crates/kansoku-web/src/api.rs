//! The JSON API (`/api/v1`), the chart files and `/healthz`. Each handler parses its
//! parameters, reads on the blocking pool and serialises what the matching page shows.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kansoku_aggregate::PortName;
use kansoku_chart::{Format, render_observation};

use crate::data::{self, AlertView, Detail, Overview, Subject, blocking, query};
use crate::period::{PeriodParams, parse_port};
use crate::view::View;
use crate::{AppState, Period, WebError};

pub async fn overview(
    State(state): State<AppState>,
    view: View,
    Query(params): Query<PeriodParams>,
) -> Result<Response, WebError> {
    let o = overview_data(&state, &params, view).await?;
    Ok(Json(&*o).into_response())
}

pub async fn port(
    State(state): State<AppState>,
    view: View,
    Path((proto, port)): Path<(String, String)>,
    Query(params): Query<PeriodParams>,
) -> Result<Response, WebError> {
    let subject = port_subject(&proto, &port)?;
    let d = detail(&state, subject, &params, view).await?;
    Ok(Json(&*d).into_response())
}

pub async fn signature(
    State(state): State<AppState>,
    view: View,
    Path(name): Path<String>,
    Query(params): Query<PeriodParams>,
) -> Result<Response, WebError> {
    let d = detail(&state, Subject::Signature(name), &params, view).await?;
    Ok(Json(&*d).into_response())
}

pub async fn alerts(
    State(state): State<AppState>,
    view: View,
    Query(params): Query<PeriodParams>,
) -> Result<Json<Vec<AlertView>>, WebError> {
    let period = Period::try_from(&params)?;
    let dir = state.store_dir.clone();
    Ok(Json(
        query(move || data::alerts(&dir, &period, view)).await?,
    ))
}

/// `GET /chart/port/tcp/135.svg` (or `.png`).
pub async fn port_chart(
    State(state): State<AppState>,
    view: View,
    Path((proto, file)): Path<(String, String)>,
    Query(params): Query<PeriodParams>,
) -> Result<Response, WebError> {
    let (port, format) = split_extension(&file)?;
    chart(state, port_subject(&proto, port)?, format, &params, view).await
}

/// `GET /chart/signature/blaster.svg` (or `.png`).
pub async fn signature_chart(
    State(state): State<AppState>,
    view: View,
    Path(file): Path<String>,
    Query(params): Query<PeriodParams>,
) -> Result<Response, WebError> {
    let (name, format) = split_extension(&file)?;
    chart(
        state,
        Subject::Signature(name.to_owned()),
        format,
        &params,
        view,
    )
    .await
}

/// `GET /healthz`: the store opens and its manifest reads.
pub async fn healthz(State(state): State<AppState>) -> Result<&'static str, WebError> {
    let dir = state.store_dir.clone();
    blocking(move || Ok(kansoku_store::Store::open(&dir).map(|_| ())?)).await?;
    Ok("ok\n")
}

pub(crate) fn port_subject(proto: &str, port: &str) -> Result<Subject, WebError> {
    let (proto, port) = parse_port(proto, port)?;
    Ok(Subject::Port(PortName(proto, port)))
}

/// The overview of a period as `view` sees it, from the cache while the store is unchanged.
pub(crate) async fn overview_data(
    state: &AppState,
    params: &PeriodParams,
    view: View,
) -> Result<Arc<Overview>, WebError> {
    let period = Period::try_from(params)?;
    let dir = state.store_dir.clone();
    let key = format!("{period:?}|{view:?}");
    state
        .caches
        .overview
        .get_or_compute(key, &state.store_dir, move || {
            data::overview(&dir, &period, view)
        })
        .await
}

/// A port's or signature's data as `view` sees it, from the cache while the store is
/// unchanged.
pub(crate) async fn detail(
    state: &AppState,
    subject: Subject,
    params: &PeriodParams,
    view: View,
) -> Result<Arc<Detail>, WebError> {
    let period = Period::try_from(params)?;
    let dir = state.store_dir.clone();
    let key = format!("{}|{period:?}|{view:?}", subject.key());
    let share = state.telescope_share;
    state
        .caches
        .detail
        .get_or_compute(key, &state.store_dir, move || {
            data::detail(&dir, &subject, &period, view, share)
        })
        .await
}

/// The packet observation chart of a port or signature, rendered once per store state.
pub(crate) async fn chart_bytes(
    state: &AppState,
    subject: Subject,
    format: Format,
    params: &PeriodParams,
    view: View,
) -> Result<Arc<Vec<u8>>, WebError> {
    let key = format!(
        "{}|{:?}|{view:?}|{format:?}",
        subject.key(),
        Period::try_from(params)?
    );
    let detail = detail(state, subject, params, view).await?;
    state
        .caches
        .chart
        .get_or_compute(key, &state.store_dir, move || {
            Ok(render_observation(&data::chart(&detail), format)?)
        })
        .await
}

async fn chart(
    state: AppState,
    subject: Subject,
    format: Format,
    params: &PeriodParams,
    view: View,
) -> Result<Response, WebError> {
    let name = subject.key();
    let bytes = match chart_bytes(&state, subject, format, params, view).await {
        Ok(bytes) => bytes,
        // An advisory may embed the chart of a worm this store has not seen (yet): an
        // empty chart that says so reads better than a broken image.
        Err(WebError::NotFound(why)) => {
            let empty = kansoku_chart::ObservationChart {
                title: format!(
                    "Packet observation chart: {}",
                    name.split_once(':').map_or(name.as_str(), |n| n.1)
                ),
                subtitle: Some(why),
                bin_seconds: 3600,
                packets: Vec::new(),
                sources: Vec::new(),
            };
            Arc::new(blocking(move || Ok(render_observation(&empty, format)?)).await?)
        }
        Err(e) => return Err(e),
    };
    let content_type = match format {
        Format::Svg => "image/svg+xml",
        Format::Png => "image/png",
    };
    Ok((
        [(header::CONTENT_TYPE, content_type)],
        bytes.as_ref().clone(),
    )
        .into_response())
}

fn split_extension(file: &str) -> Result<(&str, Format), WebError> {
    match file.rsplit_once('.') {
        Some((stem, "svg")) => Ok((stem, Format::Svg)),
        Some((stem, "png")) => Ok((stem, Format::Png)),
        _ => Err(WebError::NotFound(format!(
            "`{file}`: charts are served as NAME.svg or NAME.png"
        ))),
    }
}
