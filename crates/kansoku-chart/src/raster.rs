//! SVG to PNG with resvg, so that both formats come from one drawing and look the same.
//!
//! resvg is given a font database holding only the embedded face (see [`crate::font`]) and
//! never looks at the system's fonts: the PNG is identical on a desktop and on a server with
//! no fonts installed.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

use crate::ChartError;
use crate::font;

fn fontdb() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_source(usvg::fontdb::Source::Binary(Arc::new(font::data())));
        db.set_sans_serif_family(font::FAMILY);
        Arc::new(db)
    })
    .clone()
}

/// Rasterise `svg` (as written by this crate) to a PNG of its own size times `scale`.
pub(crate) fn to_png(svg: &str, scale: f32) -> Result<Vec<u8>, ChartError> {
    let options = usvg::Options {
        fontdb: fontdb(),
        font_family: font::FAMILY.to_string(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options)
        .map_err(|e| ChartError::Render(format!("the SVG did not parse: {e}")))?;
    let size =
        tree.size().to_int_size().scale_by(scale).ok_or_else(|| {
            ChartError::Render(format!("cannot scale {:?} by {scale}", tree.size()))
        })?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| ChartError::Render(format!("cannot allocate a {size:?} image")))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| ChartError::Render(format!("PNG encoding failed: {e}")))
}
