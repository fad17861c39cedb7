//! Server-rendered HTML (maud escapes every value). Pages work without JavaScript: the period
//! picker is a plain GET form, charts are inline SVG.

use axum::extract::{Path, Query, State};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use kansoku_chart::Format::Svg;

use crate::api::{chart_bytes, detail, overview_data, port_subject};
use crate::data::{AlertView, BandView, Detail, EstimateView, Subject, seconds};
use crate::period::PeriodParams;
use crate::sparkline;
use crate::view::View;
use crate::{AppState, WebError};

const STYLE: &str = "
body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#23395d;color:#fff;padding:.6rem 1rem}header a{color:#fff;text-decoration:none}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}
th,td{padding:.3rem .5rem;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:middle}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
form.period{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin-bottom:1rem}
form.period label{display:flex;flex-direction:column;font-size:.8rem}
.chart svg{width:100%;height:auto;background:#fff}
.kpi{display:flex;flex-wrap:wrap;gap:1rem}.kpi div{background:#fff;padding:.6rem 1rem;border:1px solid #e3e3e3}
.kpi b{display:block;font-size:1.4rem}.muted{color:#666;font-size:.85rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr));gap:1rem}
.table-wrap{overflow-x:auto}
form.report{display:flex;flex-direction:column;gap:.7rem;max-width:32rem}
form.report label{display:flex;flex-direction:column;gap:.2rem;font-size:.9rem}
form.report input,form.report select,form.report textarea{font:inherit;padding:.3rem}
form.report button{align-self:start;padding:.4rem 1rem;font:inherit}
.notice{background:#eef3fa;border-left:4px solid #23395d;padding:.4rem .7rem;font-size:.85rem}
.error{color:#a00;background:#fee;padding:.5rem;border:1px solid #f99}
header nav{display:inline}header nav a{margin-left:1rem}
@media (max-width:40rem){header nav{display:block}header nav a:first-child{margin-left:0}
th,td{padding:.3rem}svg.spark{width:5rem;height:auto}
.chart{overflow-x:auto}.chart svg{min-width:45rem}.chart.observation svg,figure.chart img{min-width:60rem}}
.langs{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,26rem),1fr));gap:2rem}
.langs article{min-width:0;line-height:1.6}.langs article[lang=ja]{line-height:1.8}
@media (max-width:40rem){.langs{grid-template-columns:1fr}}
figure.chart{margin:1rem 0}figure.chart img{width:100%;height:auto;background:#fff;border:1px solid #e3e3e3}
figure.chart figcaption{font-size:.85rem;color:#666}
.chart-error,tr.error td{color:#a40000}pre{overflow-x:auto}pre.source{white-space:pre-wrap;background:#fff;padding:1rem;border:1px solid #e3e3e3}
";

pub(crate) fn layout(title: &str, body: Markup) -> Markup {
    layout_in("en", title, body)
}

/// The page frame for a page in language `lang` (the `html lang` attribute, which screen
/// readers and line breaking follow).
pub(crate) fn layout_in(lang: &str, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · kansoku" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    a href="/" { "kansoku 観測" }
                    nav.site {
                        a href="/advisories" { "Advisories" }
                        a href="/reports" { "Reports" }
                        a href="/report" { "Report an infection" }
                    }
                }
                main { (body) }
            }
        }
    }
}

fn period_form(action: &str, params: &PeriodParams) -> Markup {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    html! {
        form.period method="get" action=(action) {
            label { "from (UTC)" input type="text" name="from" placeholder="2003-08-11" value=(value(&params.from)); }
            label { "to (UTC)" input type="text" name="to" placeholder="2003-08-14" value=(value(&params.to)); }
            label { "bin"
                select name="bin" {
                    @for (v, text) in [("", "auto"), ("5m", "5 min"), ("1h", "1 hour"), ("1d", "1 day")] {
                        option value=(v) selected[params.bin.as_deref().unwrap_or("") == v] { (text) }
                    }
                }
            }
            button type="submit" { "show" }
        }
    }
}

/// What this view holds back, so no reader mistakes a public chart for the whole data.
fn view_note(view: View) -> Markup {
    match view {
        View::Operator => html! {
            p.notice { "Operator view: every bin, count and host. " a href="/operator" { "Operator page" } }
        },
        View::Public(p) => html! {
            p.notice {
                "Public view: bins of at least " (duration_words(i64::from(p.min_bin_s)))
                ", counts under " (p.min_count) " not shown"
                @if p.delay_s > 0 { ", the newest " (duration_words(p.delay_s)) " held back" }
                ", source networks as /24 with at least " (p.min_count) " sources. " a href="/login" { "Operators log in" } " to see everything."
            }
        },
    }
}

fn duration_words(seconds: i64) -> String {
    match seconds {
        s if s > 0 && s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s > 0 && s % 3600 == 0 => format!("{} h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// The infected population behind a signature, with the verdict on each assumption: a
/// refused estimate says why, so no reader takes the seen hosts for the whole outbreak.
fn estimate_section(e: &EstimateView) -> Markup {
    // A plateau the series had not bent towards has no upper edge (see docs/estimate.md).
    let band = |b: &BandView| {
        if b.high.is_finite() {
            format!("{:.0} ({:.0} to {:.0})", b.estimate, b.low, b.high)
        } else {
            format!("{:.0} ({:.0} to no upper bound)", b.estimate, b.low)
        }
    };
    let pct = format!("{:.0}%", e.confidence * 100.0);
    html! {
        h2 { "Infected population" }
        div.kpi {
            div { b { (e.sources) } "sources seen" }
            @if let Some(i) = &e.infected { div { b { (format!("{:.0}", i.estimate)) } "infected by the end (" (pct) " band " (format!("{:.0} to {:.0}", i.low, i.high)) ")" } }
            @if let Some(p) = &e.plateau { div { b { (format!("{:.0}", p.estimate)) } "logistic plateau " (band(p)) } }
            @if let Some(d) = &e.doubling_hours { div { b { (format!("{:.1} h", d.estimate)) } "doubling time (" (format!("{:.1} to {:.1}", d.low, d.high)) ")" } }
        }
        @if e.infected.is_none() {
            p.muted { "No extrapolation: at least " (e.sources) " hosts, the sources seen; see the assumptions." }
        }
        ul.assumptions {
            @for a in &e.assumptions { li { b { (a.name) ": " (a.verdict) "." } " " (a.detail) } }
        }
    }
}

/// The alerts of a period, and, when `alerts_from` is given, why none come before it.
fn alerts_table(alerts: &[AlertView], alerts_from: Option<&str>) -> Markup {
    html! {
        @if let Some(at) = alerts_from {
            p.muted.learning {
                "No alert can be raised before " (at) ": a baseline needs a day of data \
                 (and two hours of guard) from the store's first bin. An outbreak already \
                 under way then raises no onset."
            }
        }
        @if alerts.is_empty() {
            p.muted { "No outbreak alerts in this period." }
        } @else {
            div.table-wrap { table {
                tr { th { "raised" } th { "target" } th { "kind" } th.n { "sources" } th.n { "baseline" } th.n { "score" } }
                @for a in alerts {
                    tr {
                        td { (a.at) }
                        td { a href=(target_link(a)) { (a.target) } }
                        td { (a.kind) }
                        td.n { (a.observed.map_or("hidden".to_owned(), |o| o.to_string())) }
                        td.n { (a.baseline.map_or("hidden".to_owned(), |b| format!("{b:.2}"))) }
                        td.n { (format!("{:.1}", a.score)) }
                    }
                }
            } }
        }
    }
}

fn target_link(a: &AlertView) -> String {
    if a.scope == "port" {
        format!("/port/{}", a.target)
    } else {
        format!("/signature/{}", a.target)
    }
}

fn query_string(params: &PeriodParams) -> String {
    let pairs: Vec<String> = [
        ("from", &params.from),
        ("to", &params.to),
        ("bin", &params.bin),
    ]
    .into_iter()
    .filter_map(|(k, v)| {
        v.as_ref()
            .filter(|v| !v.is_empty())
            .map(|v| format!("{k}={}", encode(v)))
    })
    .collect();
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

/// Percent-encodes what a query value may not hold as is.
pub(crate) fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /`.
pub async fn overview(
    State(state): State<AppState>,
    view: View,
    Query(params): Query<PeriodParams>,
) -> Result<Markup, WebError> {
    let o = overview_data(&state, &params, view).await?;
    let span = (
        o.period.from.as_deref().map(seconds).unwrap_or(0),
        o.period.to.as_deref().map(seconds).unwrap_or(0) - i64::from(o.period.bin_seconds),
    );
    let bin = i64::from(o.period.bin_seconds);
    let qs = query_string(&params);
    let ranked = |rows: &[kansoku_store::dashboard::Ranked], base: &str| {
        html! {
            div.table-wrap { table {
                tr { th { "name" } th.n { "packets" } th.n { "sources" } th { "trend" } }
                @for r in rows {
                    tr {
                        td { a href=(format!("{base}{}{qs}", r.name)) { (r.name) } }
                        td.n { (r.packets) }
                        td.n { (r.sources) }
                        td { (PreEscaped(sparkline::svg(&r.series, span, bin))) }
                    }
                }
            } }
        }
    };
    let body = html! {
        h1 { "What the darknet saw" }
        (view_note(view))
        (period_form("/", &params))
        p.muted { (o.period.from.as_deref().unwrap_or("-")) " to " (o.period.to.as_deref().unwrap_or("-")) " (UTC)" }
        div.kpi {
            div { b { (o.sources.sources.map_or("held back".to_owned(), |n| n.to_string())) } "distinct sources on " (o.sources.day.as_deref().map(|d| &d[..10]).unwrap_or("-")) }
            div { b { (o.sources.baseline.map_or("-".to_owned(), |b| format!("{b:.0}"))) } "median of the days before" }
            div { b { (o.alerts.len()) } "outbreak alerts" }
        }
        div.grid {
            div { h2 { "Top ports" } (ranked(&o.ports, "/port/")) }
            div { h2 { "Top signatures" } (ranked(&o.signatures, "/signature/")) }
        }
        h2 { "Outbreak alerts, newest first" }
        (alerts_table(&o.alerts, o.alerts_from.as_deref()))
        h2 { "Sensors" }
        div.table-wrap { table {
            tr { th { "sensor" } th { "last ingest" } th.n { "captures" } th.n { "frames" } th.n { "malformed" } }
            @for s in &o.sensors {
                tr { td { (s.sensor) } td { (s.last_ingest) } td.n { (s.inputs) } td.n { (s.frames) } td.n { (s.malformed) } }
            }
        } }
        p.muted { "JSON: " a href=(format!("/api/v1/overview{qs}")) { "/api/v1/overview" } }
    };
    Ok(layout("Overview", body))
}

/// `GET /port/{proto}/{port}`.
pub async fn port(
    State(state): State<AppState>,
    view: View,
    Path((proto, port)): Path<(String, String)>,
    Query(params): Query<PeriodParams>,
) -> Result<Markup, WebError> {
    let d = detail(&state, port_subject(&proto, &port)?, &params, view).await?;
    let svg = chart_bytes(&state, port_subject(&proto, &port)?, Svg, &params, view).await?;
    let api = format!("/api/v1/ports/{}", d.name);
    let chart = format!("/chart/port/{}", d.name);
    detail_page(&d, &svg, &params, view, ("Port", "signature"), &api, &chart)
}

/// `GET /signature/{name}`.
pub async fn signature(
    State(state): State<AppState>,
    view: View,
    Path(name): Path<String>,
    Query(params): Query<PeriodParams>,
) -> Result<Markup, WebError> {
    let d = detail(&state, Subject::Signature(name.clone()), &params, view).await?;
    let svg = chart_bytes(&state, Subject::Signature(name), Svg, &params, view).await?;
    let api = format!("/api/v1/signatures/{}", d.name);
    let chart = format!("/chart/signature/{}", d.name);
    detail_page(&d, &svg, &params, view, ("Signature", "port"), &api, &chart)
}

fn detail_page(
    d: &Detail,
    svg: &[u8],
    params: &PeriodParams,
    view: View,
    (kind, stacked_by): (&str, &str),
    api: &str,
    chart: &str,
) -> Result<Markup, WebError> {
    let svg = std::str::from_utf8(svg).map_err(|e| WebError::Internal(e.to_string()))?;
    let qs = query_string(params);
    let action = match kind {
        "Port" => format!("/port/{}", d.name),
        _ => format!("/signature/{}", d.name),
    };
    let body = html! {
        h1 { (kind) " " (d.name) }
        (view_note(view))
        (period_form(&action, params))
        div.kpi {
            div { b { (d.packets) } "packets" }
            div { b { (d.sources.iter().map(|p| p.1).fold(0.0, f64::max)) } "peak distinct sources per bin" }
            div { b { (d.alerts.len()) } "outbreak alerts" }
        }
        h2 { "Packet observation chart" }
        div.chart.observation { (PreEscaped(svg)) }
        p.muted { "Download: " a href=(format!("{chart}.svg{qs}")) { "SVG" } " · " a href=(format!("{chart}.png{qs}")) { "PNG" } " · JSON: " a href=(format!("{api}{qs}")) { (api) } }
        div.grid {
            div {
                h2 { "By " (stacked_by) }
                div.table-wrap { table {
                    tr { th { (stacked_by) } th.n { "packets" } }
                    @for s in &d.stacks {
                        tr {
                            td {
                                @if stacked_by == "port" { a href=(format!("/port/{}{qs}", s.name)) { (s.name) } }
                                @else if s.name.starts_with("scan/") || s.name == "unclassified" { (s.name) }
                                @else { a href=(format!("/signature/{}{qs}", s.name)) { (s.name) } }
                            }
                            td.n { (s.packets) }
                        }
                    }
                } }
            }
            div {
                h2 { @if view.is_operator() { "Top sources" } @else { "Top source networks" } }
                @if d.networks.is_empty() {
                    p.muted {
                        @if let View::Public(p) = view { "No /24 with at least " (p.min_count) " sources: the public view lists no smaller networks." }
                        @else { "No sources in this period." }
                    }
                } @else {
                    div.table-wrap { table {
                        tr { th { @if view.is_operator() { "source" } @else { "network" } } th.n { "sources" } th.n { "packets" } }
                        @for n in &d.networks { tr { td { (n.network) } td.n { (n.sources) } td.n { (n.packets) } } }
                    } }
                }
            }
        }
        @if let Some(e) = &d.estimate { (estimate_section(e)) }
        @if !d.rules.is_empty() {
            h2 { "Rules that matched" }
            div.table-wrap { table {
                tr { th { "rule" } th.n { "packets" } }
                @for r in &d.rules { tr { td { code { (r.rule) } } td.n { (r.packets) } } }
            } }
        }
        h2 { "Outbreak alerts" }
        (alerts_table(&d.alerts, d.alerts_from.as_deref()))
    };
    Ok(layout(&format!("{kind} {}", d.name), body))
}
