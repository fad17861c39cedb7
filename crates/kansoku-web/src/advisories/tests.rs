use std::path::{Path, PathBuf};

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn text(title: &str, body: &str) -> String {
    format!("+++\ntitle = \"{title}\"\npublished = 2003-08-12\n+++\n{body}\n")
}

fn write(dir: &Path, file: &str, content: &str) {
    fs::write(dir.join(file), content).unwrap();
}

/// The repository's `advisories/` directory.
fn sample_dir() -> PathBuf {
    // Read at run time: a test binary from a shared build cache may have been compiled in
    // another checkout.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../../advisories")
}

#[test]
fn an_edit_on_disk_is_recorded_once_by_file_on_the_next_load() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.en.md", &text("A", "one"));
    let first = load_at(dir.path(), "a", at("2003-08-12T00:00:00Z")).unwrap();
    assert_eq!(first.history().len(), 1);
    assert_eq!(first.history()[0].revision.summary, "first seen on disk");

    write(dir.path(), "a.en.md", &text("A", "two"));
    let edited = load_at(dir.path(), "a", at("2003-08-13T10:00:00Z")).unwrap();
    let history = edited.history();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].revision.who, "file");
    assert_eq!(history[1].revision.summary, "edited on disk");
    assert_eq!(history[1].revision.text, text("A", "two"));
    assert_eq!(edited.last_updated(), at("2003-08-13T10:00:00Z"));

    let again = load_at(dir.path(), "a", at("2003-08-14T00:00:00Z")).unwrap();
    assert_eq!(again.history().len(), 2);
    assert_eq!(again.last_updated(), at("2003-08-13T10:00:00Z"));
}

#[test]
fn save_replaces_the_file_and_appends_the_revision() {
    let dir = tempfile::tempdir().unwrap();
    let new = text("A", "saved");
    let r = save_at(
        dir.path(),
        "a",
        Lang::Ja,
        &new,
        "operator",
        "first version",
        at("2003-08-12T01:00:00Z"),
    )
    .unwrap();
    assert_eq!(fs::read_to_string(dir.path().join("a.ja.md")).unwrap(), new);
    assert_eq!(r.who, "operator");
    assert_eq!(r.sha256, sha256_hex(&new));
    let log = revisions::read(dir.path(), "a.ja.md").unwrap();
    assert_eq!(log, vec![r]);
    // Loading what was saved adds nothing; no temporary file is left behind.
    assert_eq!(load(dir.path(), "a").unwrap().history().len(), 1);
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn save_records_a_pending_disk_edit_before_its_own_revision() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.en.md", &text("A", "one"));
    load_at(dir.path(), "a", at("2003-08-12T00:00:00Z")).unwrap();
    write(dir.path(), "a.en.md", &text("A", "hand edit"));
    let t = at("2003-08-13T00:00:00Z");
    save_at(
        dir.path(),
        "a",
        Lang::En,
        &text("A", "three"),
        "op",
        "fix",
        t,
    )
    .unwrap();
    let log = revisions::read(dir.path(), "a.en.md").unwrap();
    let who: Vec<_> = log.iter().map(|r| r.who.as_str()).collect();
    assert_eq!(who, ["file", "file", "op"]);
    assert_eq!(log[1].text, text("A", "hand edit"));
}

#[test]
fn save_refuses_bad_front_matter_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let e = save(dir.path(), "a", Lang::En, "no front matter", "op", "x").unwrap_err();
    assert!(matches!(e, WebError::BadRequest(_)), "{e:?}");
    assert!(e.to_string().contains("a.en.md"), "{e}");
    let e = save(dir.path(), "../a", Lang::En, &text("A", "b"), "op", "x").unwrap_err();
    assert!(matches!(e, WebError::BadRequest(_)), "{e:?}");
    let e = save(dir.path(), "a", Lang::En, &text("A", "b"), " ", "x").unwrap_err();
    assert!(matches!(e, WebError::BadRequest(_)), "{e:?}");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_broken_file_is_an_error_row_not_a_broken_list() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.en.md", &text("Good", "fine"));
    write(dir.path(), "bad.en.md", "+++\ntitle = \"Bad\"\n+++\n");
    write(dir.path(), "notes.txt", "not an advisory");
    let rows = list(dir.path()).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].as_ref().unwrap().id, "good");
    let (id, e) = rows[1].as_ref().unwrap_err();
    assert_eq!(id, "bad");
    assert!(
        e.to_string().contains("bad.en.md: `published` is missing"),
        "{e}"
    );
}

#[test]
fn the_list_is_newest_published_first() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "old.en.md", &text("Old", "x"));
    let newer = "+++\ntitle = \"New\"\npublished = 2004-05-01\n+++\nx\n";
    write(dir.path(), "new.en.md", newer);
    let ids: Vec<_> = list(dir.path())
        .unwrap()
        .into_iter()
        .map(|r| r.unwrap().id)
        .collect();
    assert_eq!(ids, ["new", "old"]);
}

#[test]
fn the_history_merges_both_languages_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.en.md", &text("A", "en"));
    load_at(dir.path(), "a", at("2003-08-12T00:00:00Z")).unwrap();
    write(dir.path(), "a.ja.md", &text("エー", "ja"));
    let a = load_at(dir.path(), "a", at("2003-08-12T05:00:00Z")).unwrap();
    let history: Vec<_> = a.history().iter().map(|e| (e.n, e.lang)).collect();
    assert_eq!(history, [(1, Lang::En), (2, Lang::Ja)]);
    assert_eq!(a.document(Lang::Ja).front.title, "エー");
    assert_eq!(a.last_updated(), at("2003-08-12T05:00:00Z"));
}

#[test]
fn ids_must_be_plain_file_names() {
    for bad in ["", "../etc", ".hidden", "a/b", "a b", "<script>"] {
        assert!(check_id(bad).is_err(), "{bad}");
    }
    assert!(check_id("ms03-026-blaster").is_ok());
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        load(dir.path(), "missing"),
        Err(WebError::NotFound(_))
    ));
}

#[test]
fn the_sample_advisory_loads_without_a_new_revision() {
    let dir = tempfile::tempdir().unwrap();
    let revisions_dir = dir.path().join(revisions::DIR_NAME);
    fs::create_dir(&revisions_dir).unwrap();
    for entry in fs::read_dir(sample_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    for entry in fs::read_dir(sample_dir().join(revisions::DIR_NAME)).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, revisions_dir.join(path.file_name().unwrap())).unwrap();
    }
    let before: Vec<_> = ["en", "ja"]
        .map(|l| revisions::read(dir.path(), &format!("ms03-026-blaster.{l}.md")).unwrap())
        .into();
    assert!(before.iter().all(|log| log.len() >= 2), "{before:?}");

    let a = load(dir.path(), "ms03-026-blaster").unwrap();
    assert_eq!(a.documents.len(), 2);
    assert!(a.history().iter().all(|e| e.revision.who != DISK_EDITOR));
    assert_eq!(a.history().len(), before[0].len() + before[1].len());
    assert_eq!(a.published().date.to_string(), "2003-08-12");
    let (signatures, ports) = a.subjects();
    assert!(signatures.contains(&"blaster".to_owned()), "{signatures:?}");
    assert!(ports.contains(&"tcp/135".to_owned()), "{ports:?}");
    for d in &a.documents {
        let html = markdown(&d.body, d.lang);
        assert!(!html.contains("chart-error"), "{}: {html}", d.file);
        assert!(
            html.contains(r#"<img src="/chart/port/tcp/135.svg""#),
            "{}",
            d.file
        );
    }
}
