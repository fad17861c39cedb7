//! A minimal SVG writer: the charts need rectangles, paths, lines and text, nothing more, so
//! they are written directly (a few hundred bytes of markup per element kind, no DOM).
//! Coordinates are rounded to 0.1 px, which keeps a 30-day chart's paths small without a
//! visible difference.

use std::fmt::Write as _;

use crate::font;
use crate::palette::INK;

/// Horizontal anchor of a text element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// A text element's style. There is no bold: the PNG has only the regular face (a bold one
/// would add 700 kB to every binary), and the SVG should look the same.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextStyle<'a> {
    pub size: f64,
    pub anchor: Anchor,
    pub fill: &'a str,
    /// A class name, so that tests and style sheets can find the element.
    pub class: Option<&'a str>,
}

impl TextStyle<'_> {
    pub(crate) const fn plain(size: f64) -> TextStyle<'static> {
        TextStyle {
            size,
            anchor: Anchor::Start,
            fill: INK,
            class: None,
        }
    }
}

/// An SVG document being written.
pub(crate) struct Svg {
    buf: String,
}

impl Svg {
    /// A `width` × `height` document on a white background.
    pub(crate) fn new(width: f64, height: f64) -> Svg {
        let mut buf = String::with_capacity(64 * 1024);
        let _ = write!(
            buf,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{family}">"#,
            w = fmt(width),
            h = fmt(height),
            family = font::FONT_FAMILY_CSS,
        );
        let _ = write!(
            buf,
            r##"<rect width="{}" height="{}" fill="#ffffff"/>"##,
            fmt(width),
            fmt(height)
        );
        Svg { buf }
    }

    /// Raw markup (already escaped) appended as is.
    pub(crate) fn raw(&mut self, markup: &str) {
        self.buf.push_str(markup);
    }

    /// Open a group with the given attributes (written as is).
    pub(crate) fn open_group(&mut self, attrs: &str) {
        let _ = write!(self.buf, "<g {attrs}>");
    }

    pub(crate) fn close_group(&mut self) {
        self.buf.push_str("</g>");
    }

    pub(crate) fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str) {
        let _ = write!(
            self.buf,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}"/>"#,
            fmt(x),
            fmt(y),
            fmt(w.max(0.0)),
            fmt(h.max(0.0))
        );
    }

    pub(crate) fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64) {
        let _ = write!(
            self.buf,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}" stroke-width="{}"/>"#,
            fmt(x1),
            fmt(y1),
            fmt(x2),
            fmt(y2),
            fmt(width)
        );
    }

    /// A path; `d` is built with [`PathData`]. `extra` holds further attributes.
    pub(crate) fn path(&mut self, d: &str, fill: &str, stroke: &str, width: f64, extra: &str) {
        let _ = write!(
            self.buf,
            r#"<path d="{d}" fill="{fill}" stroke="{stroke}" stroke-width="{}" {extra}/>"#,
            fmt(width)
        );
    }

    /// A text element; `content` is escaped here.
    pub(crate) fn text(&mut self, x: f64, y: f64, style: TextStyle<'_>, content: &str) {
        self.text_transformed(x, y, style, content, "");
    }

    /// Text turned 90° counter-clockwise about its anchor (vertical axis titles).
    pub(crate) fn text_vertical(&mut self, x: f64, y: f64, style: TextStyle<'_>, content: &str) {
        let transform = format!(r#" transform="rotate(-90 {} {})""#, fmt(x), fmt(y));
        self.text_transformed(x, y, style, content, &transform);
    }

    fn text_transformed(&mut self, x: f64, y: f64, s: TextStyle<'_>, content: &str, extra: &str) {
        let _ = write!(
            self.buf,
            r#"<text x="{}" y="{}" font-size="{}" text-anchor="{}" fill="{}""#,
            fmt(x),
            fmt(y),
            fmt(s.size),
            s.anchor.as_str(),
            s.fill
        );
        if let Some(class) = s.class {
            let _ = write!(self.buf, r#" class="{class}""#);
        }
        self.buf.push_str(extra);
        self.buf.push('>');
        escape_into(&mut self.buf, content);
        self.buf.push_str("</text>");
    }

    pub(crate) fn finish(mut self) -> String {
        self.buf.push_str("</svg>\n");
        self.buf
    }
}

/// Path data (`d` attribute) in absolute coordinates with 0.1 px precision.
#[derive(Default)]
pub(crate) struct PathData {
    d: String,
}

impl PathData {
    pub(crate) fn with_capacity(n: usize) -> PathData {
        PathData {
            d: String::with_capacity(n),
        }
    }
    pub(crate) fn move_to(&mut self, x: f64, y: f64) {
        let _ = write!(self.d, "M{} {}", fmt(x), fmt(y));
    }
    pub(crate) fn line_to(&mut self, x: f64, y: f64) {
        let _ = write!(self.d, "L{} {}", fmt(x), fmt(y));
    }
    pub(crate) fn horizontal_to(&mut self, x: f64) {
        let _ = write!(self.d, "H{}", fmt(x));
    }
    pub(crate) fn vertical_to(&mut self, y: f64) {
        let _ = write!(self.d, "V{}", fmt(y));
    }
    pub(crate) fn close(&mut self) {
        self.d.push('Z');
    }
    pub(crate) fn as_str(&self) -> &str {
        &self.d
    }
}

/// A coordinate with at most one decimal and no trailing `.0`.
pub(crate) fn fmt(v: f64) -> String {
    let v = if v.is_finite() {
        (v * 10.0).round() / 10.0
    } else {
        0.0
    };
    // -0.0 prints as "-0".
    let v = if v == 0.0 { 0.0 } else { v };
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

/// XML-escape `text` into `out`. Characters XML 1.0 cannot hold at all (most C0 controls,
/// unpaired surrogates cannot occur in a `str`) become U+FFFD, so that a hostile series name
/// can neither break the document nor inject markup.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(fmt(12.0), "12");
        assert_eq!(fmt(12.34), "12.3");
        assert_eq!(fmt(-0.01), "0");
        assert_eq!(fmt(f64::NAN), "0");
    }

    #[test]
    fn text_is_escaped() {
        let mut s = String::new();
        escape_into(&mut s, "<a & 'b'>\u{0}\u{7}\"");
        assert_eq!(s, "&lt;a &amp; &apos;b&apos;&gt;\u{fffd}\u{fffd}&quot;");
    }

    #[test]
    fn document_parses() {
        let mut svg = Svg::new(100.0, 50.0);
        svg.text(1.0, 2.0, TextStyle::plain(12.0), "x</text><script>");
        let mut p = PathData::default();
        p.move_to(0.0, 0.0);
        p.horizontal_to(5.0);
        p.vertical_to(5.0);
        p.line_to(1.0, 1.0);
        p.close();
        svg.path(p.as_str(), "none", "#000", 1.0, "");
        let doc = svg.finish();
        let parsed = roxmltree::Document::parse(&doc).unwrap();
        assert_eq!(
            parsed
                .descendants()
                .filter(|n| n.has_tag_name("script"))
                .count(),
            0
        );
    }
}
