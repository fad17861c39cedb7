//! Advisory text as HTML for the public, dates in the reader's language, and the chart tag.
//!
//! Advisories are published to anyone, so the renderer trusts nothing in the Markdown: raw
//! HTML is shown as text, link targets other than http(s), mailto and site-relative ones are
//! dropped, and a chart tag's arguments are validated and escaped before they reach a URL.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use maud::html;
use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, TextMergeStream};
use serde::Serialize;

use super::front_matter::{canonical_port, check_signature_name};
use crate::Period;
use crate::pages::encode;
use crate::period::PeriodParams;

/// The languages advisories are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Ja,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    pub fn parse(text: &str) -> Option<Lang> {
        match text.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }
}

/// The reader's language: `?lang=` if it names one, else the first of `Accept-Language`
/// (by quality) that is Japanese or English, else English.
pub fn reader_lang(query: Option<&str>, accept_language: Option<&str>) -> Lang {
    if let Some(lang) = query.and_then(Lang::parse) {
        return lang;
    }
    let mut ranges: Vec<(f32, Lang)> = accept_language
        .unwrap_or("")
        .split(',')
        .filter_map(language_range)
        .collect();
    // Stable: among equal qualities the header's order decides.
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranges.first().map_or(Lang::En, |r| r.1)
}

/// One `ja-JP;q=0.8` item as (quality, language), if it is a language we have.
fn language_range(item: &str) -> Option<(f32, Lang)> {
    let mut parts = item.split(';');
    let tag = parts.next()?.trim();
    let lang = Lang::parse(tag.split('-').next()?)?;
    let q = parts
        .filter_map(|p| p.trim().strip_prefix("q="))
        .find_map(|q| q.trim().parse::<f32>().ok())
        .unwrap_or(1.0);
    (q > 0.0).then_some((q, lang))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `12 August 2003` or `2003年8月12日`.
pub fn date(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::En => format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year()),
        Lang::Ja => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
    }
}

/// A revision's time: the date in the reader's language and the UTC time of day.
pub fn date_time(t: DateTime<Utc>, lang: Lang) -> String {
    format!("{} {} UTC", date(t.date_naive(), lang), t.format("%H:%M"))
}

/// Markdown to HTML safe to publish. `lang` is the text's language (for chart captions,
/// and for line breaks inside a paragraph: a browser shows them as spaces, which Japanese
/// does not put between words, so Japanese text drops them).
pub fn markdown(body: &str, lang: Lang) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(body, options)
        .map(defang)
        .filter(|e| !(lang == Lang::Ja && *e == Event::SoftBreak));
    let events: Vec<Event> = TextMergeStream::new(events).collect();
    let mut out = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut out, charts(events, lang).into_iter());
    out
}

/// Raw HTML becomes visible text, unsafe link targets become `#`, and headings move down a
/// level because the page's `h1` is the advisory's title.
fn defang(event: Event<'_>) -> Event<'_> {
    match event {
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
        Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: lower(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(lower(level))),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    }
}

fn lower(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H2,
        HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        HeadingLevel::H5 | HeadingLevel::H6 => HeadingLevel::H6,
    }
}

/// Keeps http(s), mailto, fragment and relative targets; anything else (`javascript:`,
/// `data:`) could run in the reader's browser under this site's origin.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let scheme_end = url.find([':', '/', '?', '#']);
    let has_scheme = scheme_end.is_some_and(|i| url[i..].starts_with(':'));
    let lower = url.trim_start().to_ascii_lowercase();
    let allowed = ["http:", "https:", "mailto:"];
    if !has_scheme || allowed.iter().any(|s| lower.starts_with(s)) {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

/// Replaces each paragraph that is only `{{...}}` by a chart figure, or by a visible error
/// when the tag is wrong.
fn charts(events: Vec<Event<'_>>, lang: Lang) -> Vec<Event<'_>> {
    let mut out = Vec::with_capacity(events.len());
    let mut i = 0;
    while i < events.len() {
        if let Some(tag) = tag_paragraph(&events[i..]) {
            out.push(Event::Html(CowStr::from(chart_html(tag, lang))));
            i += 3;
        } else {
            out.push(events[i].clone());
            i += 1;
        }
    }
    out
}

/// The tag text when `events` starts with a paragraph holding only `{{...}}`.
fn tag_paragraph<'e>(events: &'e [Event<'_>]) -> Option<&'e str> {
    match events {
        [
            Event::Start(Tag::Paragraph),
            Event::Text(text),
            Event::End(TagEnd::Paragraph),
            ..,
        ] => {
            let text = text.trim();
            (text.starts_with("{{") && text.ends_with("}}")).then_some(text)
        }
        _ => None,
    }
}

fn chart_html(tag: &str, lang: Lang) -> String {
    match ChartTag::parse(tag) {
        Ok(chart) => html! {
            figure.chart {
                img src=(chart.src()) alt=(chart.alt(lang)) loading="lazy";
                figcaption { a href=(chart.page()) { (chart.alt(lang)) } }
            }
        },
        Err(e) => html! { p.chart-error { "chart tag " code { (tag) } ": " (e) } },
    }
    .into_string()
}

/// What a chart tag draws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChartSubject {
    /// A canonical port name (`tcp/135`).
    Port(String),
    Signature(String),
}

/// `{{chart port=tcp/135 from=2003-08-11 to=2003-08-14 bin=1h}}`, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartTag {
    pub subject: ChartSubject,
    /// (key, value) of from, to and bin, in that order, as written (already validated).
    pub period: Vec<(&'static str, String)>,
}

impl ChartTag {
    /// Parses a whole tag, braces included.
    pub fn parse(tag: &str) -> Result<ChartTag, String> {
        let inner = tag
            .trim()
            .strip_prefix("{{")
            .and_then(|t| t.strip_suffix("}}"))
            .ok_or("a tag is written {{chart ...}}")?;
        let mut words = inner.split_whitespace();
        match words.next() {
            Some("chart") => {}
            Some(other) => return Err(format!("unknown tag `{other}`: the only tag is `chart`")),
            None => return Err("empty tag: write {{chart port=tcp/135}}".into()),
        }
        let mut params = PeriodParams::default();
        let mut subject = None;
        for word in words {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| format!("`{word}` is not key=value"))?;
            let slot = match key {
                "port" | "signature" => {
                    if subject.is_some() {
                        return Err("give one of port= or signature=, once".into());
                    }
                    subject = Some(chart_subject(key, value)?);
                    continue;
                }
                "from" => &mut params.from,
                "to" => &mut params.to,
                "bin" => &mut params.bin,
                _ => {
                    return Err(format!(
                        "unknown key `{key}` (known: port, signature, from, to, bin)"
                    ));
                }
            };
            if slot.replace(value.to_owned()).is_some() {
                return Err(format!("`{key}` is given twice"));
            }
        }
        let subject = subject.ok_or("say what to draw: port=tcp/135 or signature=NAME")?;
        Period::try_from(&params).map_err(|e| e.to_string())?;
        let period = [
            ("from", params.from),
            ("to", params.to),
            ("bin", params.bin),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        Ok(ChartTag { subject, period })
    }

    /// The chart image's URL (an existing chart route).
    pub fn src(&self) -> String {
        let path = match &self.subject {
            ChartSubject::Port(port) => format!("/chart/port/{port}.svg"),
            ChartSubject::Signature(name) => format!("/chart/signature/{name}.svg"),
        };
        format!("{path}{}", self.query())
    }

    /// The dashboard page the chart comes from, for the same period.
    pub fn page(&self) -> String {
        let path = match &self.subject {
            ChartSubject::Port(port) => format!("/port/{port}"),
            ChartSubject::Signature(name) => format!("/signature/{name}"),
        };
        format!("{path}{}", self.query())
    }

    fn query(&self) -> String {
        let pairs: Vec<String> = self
            .period
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }

    /// Alternative text and caption in the text's language.
    pub fn alt(&self, lang: Lang) -> String {
        match (&self.subject, lang) {
            (ChartSubject::Port(p), Lang::En) => {
                format!("Packets to {p} seen by the darknet sensors")
            }
            (ChartSubject::Port(p), Lang::Ja) => {
                format!("ダークネットのセンサーが観測した {p} 宛てのパケット")
            }
            (ChartSubject::Signature(s), Lang::En) => {
                format!("Packets classified as {s} seen by the darknet sensors")
            }
            (ChartSubject::Signature(s), Lang::Ja) => {
                format!("ダークネットのセンサーが観測した {s} と判定されたパケット")
            }
        }
    }
}

fn chart_subject(key: &str, value: &str) -> Result<ChartSubject, String> {
    if key == "port" {
        canonical_port(value).map(ChartSubject::Port)
    } else {
        check_signature_name(value)?;
        Ok(ChartSubject::Signature(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_paragraphs_join_their_lines_without_spaces() {
        let ja = markdown("観測して\nいるため", Lang::Ja);
        assert!(ja.contains("観測しているため"), "{ja}");
        let en = markdown("observed\nby", Lang::En);
        assert!(en.contains("observed\nby"), "English keeps the break: {en}");
    }

    #[test]
    fn dates_read_in_either_language() {
        let d = NaiveDate::from_ymd_opt(2003, 8, 12).unwrap();
        assert_eq!(date(d, Lang::En), "12 August 2003");
        assert_eq!(date(d, Lang::Ja), "2003年8月12日");
        let t = d.and_hms_opt(9, 5, 0).unwrap().and_utc();
        assert_eq!(date_time(t, Lang::En), "12 August 2003 09:05 UTC");
        assert_eq!(date_time(t, Lang::Ja), "2003年8月12日 09:05 UTC");
    }

    #[test]
    fn the_reader_language_follows_the_query_then_accept_language() {
        assert_eq!(reader_lang(None, None), Lang::En);
        assert_eq!(reader_lang(None, Some("ja,en-US;q=0.7")), Lang::Ja);
        assert_eq!(reader_lang(None, Some("fr, en;q=0.5, ja;q=0.9")), Lang::Ja);
        assert_eq!(reader_lang(None, Some("ja-JP;q=0, en;q=0.1")), Lang::En);
        assert_eq!(reader_lang(None, Some("de")), Lang::En);
        assert_eq!(reader_lang(Some("en"), Some("ja")), Lang::En);
        assert_eq!(reader_lang(Some("xx"), Some("ja")), Lang::Ja);
    }

    #[test]
    fn chart_tags_become_figures_with_chart_urls() {
        let html = markdown("Before.\n\n{{chart port=tcp/135}}\n\nAfter.\n", Lang::En);
        assert!(
            html.contains(r#"<figure class="chart"><img src="/chart/port/tcp/135.svg" alt="Packets to tcp/135"#),
            "{html}"
        );
        let html = markdown(
            "{{chart signature=blaster from=2003-08-11 to=2003-08-14T12:00 bin=1h}}",
            Lang::Ja,
        );
        assert!(
            html.contains(
                r#"src="/chart/signature/blaster.svg?from=2003-08-11&amp;to=2003-08-14T12%3A00&amp;bin=1h""#
            ),
            "{html}"
        );
        assert!(html.contains("blaster と判定された"), "{html}");
    }

    #[test]
    fn bad_chart_tags_show_an_error_instead_of_a_chart() {
        for (tag, says) in [
            ("{{chart port=tcp/99999}}", "tcp/99999"),
            ("{{chart port=tcp/135 colour=red}}", "unknown key `colour`"),
            ("{{chart}}", "say what to draw"),
            ("{{chart port=tcp/135 signature=blaster}}", "once"),
            ("{{chart signature=blaster bin=7m}}", "7m"),
            (
                "{{chart signature=blaster from=2003-08-14 to=2003-08-11}}",
                "before",
            ),
            ("{{graph port=tcp/135}}", "unknown tag `graph`"),
            ("{{chart port}}", "not key=value"),
        ] {
            let html = markdown(tag, Lang::En);
            assert!(html.contains("chart-error"), "{tag}: {html}");
            assert!(html.contains(says), "{tag}: {html}");
            assert!(!html.contains("<img"), "{tag}: {html}");
        }
    }

    #[test]
    fn script_in_markdown_or_tag_arguments_comes_out_escaped() {
        let html = markdown(
            "Hi <script>alert(1)</script>\n\n<div onclick=\"x()\">block</div>\n\n\
             {{chart signature=<script>alert(1)</script>}}\n\n\
             {{chart port=tcp/135 from=\"><script>}}\n",
            Lang::En,
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<div"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert_eq!(html.matches("chart-error").count(), 2, "{html}");
    }

    #[test]
    fn unsafe_links_are_dropped_and_headings_move_down() {
        let html = markdown(
            "# Top\n\n[a](javascript:alert(1)) [b](https://www.ipa.go.jp/) [c](/port/tcp/135) \
             ![i](data:text/html,x)",
            Lang::En,
        );
        assert!(html.contains("<h2>Top</h2>"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        assert!(html.contains(r#"href="https://www.ipa.go.jp/""#), "{html}");
        assert!(html.contains(r#"href="/port/tcp/135""#), "{html}");
    }
}
