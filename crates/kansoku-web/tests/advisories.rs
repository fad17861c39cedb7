//! The advisory routes through the whole router, on a copy of the repository's sample
//! advisory (tests never write into the repository). The advisory routes do not open the
//! store, so the store path need not exist.

use std::fs;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use kansoku_web::{Config, app};
use tower::ServiceExt;

const ID: &str = "ms03-026-blaster";

fn sample_dir() -> PathBuf {
    // Read at run time: a test binary from a shared build cache may have been compiled in
    // another checkout.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../../advisories")
}

/// A temporary copy of `advisories/`, revision logs included.
fn sample_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_files(&sample_dir(), dir.path());
    fs::create_dir(dir.path().join(".revisions")).unwrap();
    copy_files(
        &sample_dir().join(".revisions"),
        &dir.path().join(".revisions"),
    );
    dir
}

fn copy_files(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

fn config(advisories: Option<&Path>) -> Config {
    Config {
        advisories: advisories.map(Path::to_path_buf),
        ..Config::new(PathBuf::from("/nonexistent/kansoku-store"))
    }
}

async fn get(config: Config, uri: &str, accept_language: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::get(uri);
    if let Some(lang) = accept_language {
        request = request.header(header::ACCEPT_LANGUAGE, lang);
    }
    let response = app(config)
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn position(haystack: &str, needle: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in the page"))
}

#[tokio::test]
async fn without_advisories_the_routes_say_how_to_enable_them() {
    for uri in [
        "/advisories",
        "/advisories/x",
        "/api/v1/advisories",
        "/api/v1/advisories/x",
    ] {
        let (status, body) = get(config(None), uri, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(body.contains("--advisories DIR"), "{uri}: {body}");
    }
}

#[tokio::test]
async fn the_advisory_page_shows_title_dates_texts_charts_and_history() {
    let dir = sample_copy();
    let uri = format!("/advisories/{ID}");
    let (status, page) = get(config(Some(dir.path())), &uri, Some("en-GB,en;q=0.9")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("<h1>W32/MSBlaster and W32/Welchia"), "{page}");
    assert!(page.contains(r#"<a href="/advisories">Advisories</a>"#));
    assert!(page.contains("First published: <time datetime=\"2003-08-12\">12 August 2003</time>"));
    assert!(page.contains(">11 September 2003</time>"), "last updated");
    assert!(page.contains(r#"<img src="/chart/port/tcp/135.svg""#));
    assert!(page.contains(r#"<img src="/chart/signature/blaster.svg""#));
    // Both languages, side by side.
    assert!(page.contains(r#"<article lang="en">"#) && page.contains(r#"<article lang="ja">"#));
    assert!(page.contains("修正プログラム"));
    // History: newest first.
    let newest = position(&page, "how to check a PC with kansoku-check");
    let welchia = position(&page, "Added W32/Welchia");
    let first = position(&page, "Initial publication");
    assert!(newest < welchia && welchia < first);
    assert!(
        page.contains(">11 September 2003 02:30 UTC</time>"),
        "{page}"
    );
}

#[tokio::test]
async fn dates_follow_the_reader_language() {
    let dir = sample_copy();
    let uri = format!("/advisories/{ID}");
    let (_, page) = get(config(Some(dir.path())), &uri, Some("ja,en;q=0.5")).await;
    assert!(page.contains(r#"<html lang="ja">"#));
    assert!(
        page.contains("初版公開日: <time datetime=\"2003-08-12\">2003年8月12日</time>"),
        "{page}"
    );
    assert!(page.contains("<h1>W32/MSBlaster・W32/Welchia"));
    let (_, page) = get(
        config(Some(dir.path())),
        &format!("{uri}?lang=en"),
        Some("ja"),
    )
    .await;
    assert!(page.contains("12 August 2003") && !page.contains("2003年8月12日</time>"));
}

#[tokio::test]
async fn the_list_shows_advisories_and_broken_files_as_rows() {
    let dir = sample_copy();
    fs::write(dir.path().join("broken.en.md"), "no front matter").unwrap();
    let (status, page) = get(config(Some(dir.path())), "/advisories", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(&format!(r#"<a href="/advisories/{ID}">W32/MSBlaster"#)));
    assert!(page.contains("12 August 2003"));
    assert!(
        page.contains("broken.en.md: the file must start with"),
        "{page}"
    );
}

#[tokio::test]
async fn the_json_api_serves_what_the_pages_show() {
    let dir = sample_copy();
    let (status, body) = get(
        config(Some(dir.path())),
        &format!("/api/v1/advisories/{ID}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["id"], ID);
    assert_eq!(v["published"], "2003-08-12");
    assert_eq!(v["last_updated"], "2003-09-11T02:30:00Z");
    assert_eq!(v["published_display"], "12 August 2003");
    assert_eq!(v["texts"].as_array().unwrap().len(), 2);
    assert!(
        v["texts"][0]["html"]
            .as_str()
            .unwrap()
            .contains("/chart/port/tcp/135.svg")
    );
    let revisions = v["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 6);
    assert_eq!(revisions[0]["n"], 6);
    assert_eq!(revisions[0]["at"], "2003-09-11T02:30:00Z");
    assert!(revisions[0]["sha256"].as_str().unwrap().len() == 64);
    assert!(revisions.iter().all(|r| r.get("text").is_none()));

    let (status, body) = get(config(Some(dir.path())), "/api/v1/advisories?lang=ja", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["advisories"][0]["id"], ID);
    assert_eq!(list["advisories"][0]["published_display"], "2003年8月12日");
    assert_eq!(list["errors"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn old_revisions_are_shown_escaped_and_unknown_ones_are_404() {
    let dir = sample_copy();
    fs::write(
        dir.path().join("x.en.md"),
        "+++\ntitle = \"<script>t</script>\"\npublished = 2003-08-12\n+++\n<script>alert(1)</script>\n",
    )
    .unwrap();
    let (status, page) = get(config(Some(dir.path())), "/advisories/x/revisions/1", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let (status, page) = get(config(Some(dir.path())), "/advisories/x", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("<script>"), "{page}");
    let (_, first) = get(
        config(Some(dir.path())),
        &format!("/advisories/{ID}/revisions/1"),
        None,
    )
    .await;
    assert!(first.contains("W32/MSBlaster: a worm attacking"), "{first}");
    for uri in [
        format!("/advisories/{ID}/revisions/7"),
        format!("/advisories/{ID}/revisions/zero"),
        "/advisories/nope".to_owned(),
        "/advisories/..%2Fetc".to_owned(),
    ] {
        let (status, _) = get(config(Some(dir.path())), &uri, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
    }
}
