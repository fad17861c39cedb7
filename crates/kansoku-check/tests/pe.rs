//! pelite reads the version resource of the fixture PE builder, and truncations of it are
//! errors, not panics.
mod common;

use kansoku_check::pe::{FileVersion, version_of};

#[test]
fn version_resource_round_trips() {
    for v in [
        [5, 1, 2600, 1230],
        [5, 0, 2195, 6753],
        [4, 0, 1381, 7230],
        [10, 0, 19041, 1],
    ] {
        let img = common::pe::dll_with_version(v);
        assert_eq!(version_of(&img), Ok(FileVersion(v)));
    }
}

#[test]
fn truncated_images_are_errors() {
    let img = common::pe::dll_with_version([5, 1, 2600, 1230]);
    for cut in (0..img.len()).step_by(13) {
        assert!(version_of(&img[..cut]).is_err(), "cut at {cut}");
    }
}
