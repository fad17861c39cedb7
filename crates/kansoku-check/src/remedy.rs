//! Carrying out a plan (`apply`) and undoing one action (`restore`). Every action follows
//! the same discipline: re-check the target against the plan, make and verify the backup,
//! make and verify the change on a copy, then replace the original in one atomic step,
//! logging each step. A failed action leaves the original untouched and the next action
//! still runs; the report then says "partly remediated".
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::hive::edit::{self, Edit};
use crate::hive::{Hive, regexport, verify};
use crate::ioc::hex;
use crate::plan::{Action, ActionKind, Plan, check_quarantine};
use crate::quarantine::{
    Entry, Session, Stamp, State, Undo, neuter, sync_dir, unneuter, write_durable,
};
use crate::report::ActionResult;
use crate::volume::Volume;

/// Largest file quarantined (worm binaries are a few KiB; anything huge is not one).
const MAX_FILE: u64 = 64 << 20;

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn result(
    id: &str,
    rule_ids: &[String],
    description: String,
    outcome: Result<String, String>,
) -> ActionResult {
    let (ok, detail) = match outcome {
        Ok(d) => (true, d),
        Err(e) => (false, e),
    };
    ActionResult {
        id: id.to_string(),
        rule_ids: rule_ids.to_vec(),
        description,
        ok,
        detail,
    }
}

/// Runs a plan. Returns the session id and one result per action. Errors before any action
/// (bad root, unacceptable quarantine) are returned as `Err`.
pub fn apply(plan: &Plan, plan_text: &str) -> Result<(String, Vec<ActionResult>), String> {
    let volume = Volume::open(Path::new(&plan.root)).map_err(|e| e.to_string())?;
    let quarantine = PathBuf::from(&plan.quarantine);
    check_quarantine(&volume, &quarantine)?;
    let mut session = Session::create(&quarantine, &plan.root, &sha256(plan_text.as_bytes()))
        .map_err(|e| format!("cannot create a session in {}: {e}", quarantine.display()))?;
    let mut results = Vec::new();
    for action in &plan.actions {
        let _ = session.log(&action.id, "start", true, &action.describe());
        let outcome = match &action.kind {
            ActionKind::QuarantineFile { path, size, sha256 } => {
                quarantine_file(&volume, &mut session, action, path, *size, sha256)
            }
            ActionKind::EditHive { hive, mount, edit } => {
                edit_hive(&volume, &mut session, action, hive, mount, edit)
            }
        };
        let _ = session.log(
            &action.id,
            "end",
            outcome.is_ok(),
            outcome.as_ref().map_or_else(|e| e.as_str(), |d| d.as_str()),
        );
        let restore_id = format!("{}/{}", session.manifest.session, action.id);
        results.push(result(
            &restore_id,
            &action.rule_ids,
            action.describe(),
            outcome,
        ));
    }
    Ok((session.manifest.session.clone(), results))
}

fn record(session: &mut Session, action: &Action, undo: Undo) -> Result<(), String> {
    session.manifest.entries.push(Entry {
        id: format!("{}/{}", session.manifest.session, action.id),
        action: action.id.clone(),
        rule_ids: action.rule_ids.clone(),
        state: State::Applied,
        applied_at: crate::timefmt::now(),
        restored_at: None,
        undo,
    });
    session
        .save()
        .map_err(|e| format!("the change was made but the manifest could not be saved: {e}"))
}

fn quarantine_file(
    volume: &Volume,
    session: &mut Session,
    action: &Action,
    rel: &str,
    size: u64,
    want_sha: &str,
) -> Result<String, String> {
    let Some(path) = volume
        .resolve_win(volume.root(), rel)
        .map_err(|e| e.to_string())?
    else {
        // A plan applied twice, or the file removed by hand: what the plan wanted holds.
        return Ok(format!(
            "already done: {rel} is not there; nothing to quarantine"
        ));
    };
    let meta = fs::metadata(&path).map_err(|e| format!("{rel}: {e}"))?;
    if !meta.is_file() || meta.len() > MAX_FILE {
        return Err(format!("{rel} is not a regular file of a plausible size"));
    }
    let bytes = fs::read(&path).map_err(|e| format!("{rel}: {e}"))?;
    let got = sha256(&bytes);
    if bytes.len() as u64 != size || got != want_sha {
        return Err(format!(
            "{rel} changed since the plan was made (now {} bytes, SHA-256 {got}); scan and plan again",
            bytes.len()
        ));
    }
    let container_rel = format!("files/{}.quarantine", action.id);
    let container = session.dir.join(&container_rel);
    write_durable(&container, &neuter(&bytes))
        .map_err(|e| format!("writing the container: {e}"))?;
    let back = fs::read(&container).map_err(|e| format!("reading the container back: {e}"))?;
    if unneuter(&back).map(|b| sha256(&b)) != Ok(got.clone()) {
        let _ = fs::remove_file(&container);
        return Err(
            "the container did not read back identical; the original was left in place".into(),
        );
    }
    let _ = session.log(&action.id, "container verified", true, &container_rel);
    fs::remove_file(&path)
        .map_err(|e| format!("removing {rel}: {e} (the copy is in {container_rel})"))?;
    if let Some(parent) = path.parent() {
        let _ = sync_dir(parent);
    }
    if path.exists() {
        return Err(format!("{rel} still exists after removal"));
    }
    let modified = meta.modified().ok();
    record(
        session,
        action,
        Undo::File {
            original: rel.to_string(),
            original_abs: path.display().to_string(),
            size,
            sha256: got.clone(),
            modified: modified.and_then(Stamp::of),
            accessed: meta.accessed().ok().and_then(Stamp::of),
            modified_rfc3339: modified.map(crate::timefmt::system).unwrap_or_default(),
            container: container_rel.clone(),
        },
    )?;
    Ok(format!("moved to {container_rel} (SHA-256 {got})"))
}

fn edit_hive(
    volume: &Volume,
    session: &mut Session,
    action: &Action,
    rel: &str,
    mount: &str,
    edit: &Edit,
) -> Result<String, String> {
    let path = volume
        .resolve_win(volume.root(), rel)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{rel} no longer exists"))?;
    let hive = Hive::open(&path).map_err(|e| e.to_string())?;
    // A plan applied twice finds its targets gone: done already, not a damaged hive.
    if !edit::target_present(&hive, edit).map_err(|e| e.to_string())? {
        let what = match edit {
            Edit::DeleteValue { key, value } => format!("value {value:?} of {key}"),
            Edit::DeleteKey { key } => format!("key {key}"),
        };
        return Ok(format!(
            "already done: {what} is not in {rel}; nothing was changed"
        ));
    }
    let before = hive.bytes().to_vec();
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("hive")
        .to_string();

    // 1. Backup of the whole hive, read back.
    let backup_rel = format!("hives/{}-{name}.orig", action.id);
    let backup_sha = sha256(&before);
    write_durable(&session.dir.join(&backup_rel), &before).map_err(|e| format!("backup: {e}"))?;
    let back = fs::read(session.dir.join(&backup_rel)).map_err(|e| format!("backup: {e}"))?;
    if sha256(&back) != backup_sha {
        return Err("the hive backup did not read back identical; nothing was changed".into());
    }
    // 2. The affected keys as a .reg file.
    let (key, recurse) = match edit {
        Edit::DeleteValue { key, .. } => (key, false),
        Edit::DeleteKey { key } => (key, true),
    };
    let reg_rel = format!("hives/{}-{name}.reg", action.id);
    let reg = regexport::export_text(&hive, mount, key, recurse).map_err(|e| e.to_string())?;
    write_durable(&session.dir.join(&reg_rel), &regexport::encode(&reg))
        .map_err(|e| format!(".reg export: {e}"))?;
    let _ = session.log(
        &action.id,
        "backup and .reg export written",
        true,
        &backup_rel,
    );

    // 3. The change on a copy, verified by nt-hive and by this crate's reader.
    let after = edit::apply(&hive, std::slice::from_ref(edit), edit::filetime_now())
        .map_err(|e| format!("the planned change cannot be made: {e}"))?;
    verify::verify(&before, &after, std::slice::from_ref(edit))?;
    let _ = session.log(
        &action.id,
        "edited copy verified",
        true,
        "nt-hive: the change equals the plan, nothing else differs",
    );

    // 4. Atomic swap, after checking nobody changed the hive meanwhile.
    if fs::read(&path).map(|b| sha256(&b)).ok() != Some(backup_sha.clone()) {
        return Err(format!(
            "{rel} changed while it was being edited; nothing was changed"
        ));
    }
    write_durable(&path, &after).map_err(|e| format!("replacing {rel}: {e}"))?;
    let after_sha = sha256(&after);
    if fs::read(&path).map(|b| sha256(&b)).ok() != Some(after_sha.clone()) {
        return Err(format!(
            "{rel} does not read back as written; restore {backup_rel}"
        ));
    }
    record(
        session,
        action,
        Undo::Hive {
            hive: rel.to_string(),
            hive_abs: path.display().to_string(),
            edit: edit.clone(),
            backup: backup_rel.clone(),
            backup_sha256: backup_sha,
            reg_export: reg_rel.clone(),
            after_sha256: after_sha,
        },
    )?;
    Ok(format!(
        "done; backup {backup_rel}, exported keys {reg_rel}"
    ))
}

/// Undoes entry `id` (`SESSION/ACTION`) of the quarantine at `quarantine`.
pub fn restore(quarantine: &Path, id: &str) -> ActionResult {
    let outcome = restore_inner(quarantine, id);
    result(id, &[], "restore".into(), outcome)
}

fn restore_inner(quarantine: &Path, id: &str) -> Result<String, String> {
    let (session_id, action) = id
        .split_once('/')
        .ok_or_else(|| format!("{id:?} is not SESSION/ACTION (see the apply report)"))?;
    let mut session = Session::open(quarantine, session_id)?;
    let idx = session
        .manifest
        .entries
        .iter()
        .position(|e| e.action == action)
        .ok_or_else(|| format!("session {session_id} has no applied action {action}"))?;
    let entry = session.manifest.entries[idx].clone();
    if entry.state == State::Restored {
        return Err(format!(
            "{id} was already restored at {}",
            entry.restored_at.unwrap_or_default()
        ));
    }
    let volume = Volume::open(Path::new(&session.manifest.root)).map_err(|e| e.to_string())?;
    let _ = session.log(action, "restore start", true, "");
    let detail = match &entry.undo {
        Undo::File {
            original,
            original_abs,
            sha256: want,
            modified,
            accessed,
            container,
            ..
        } => {
            let target = PathBuf::from(original_abs);
            if !volume.contains(&target) {
                return Err(format!(
                    "{original_abs} is not inside {}",
                    volume.root().display()
                ));
            }
            if fs::symlink_metadata(&target).is_ok() {
                return Err(format!(
                    "{original} exists again; move it away before restoring"
                ));
            }
            let parent = target.parent().ok_or("no parent directory")?;
            if !parent.is_dir() {
                return Err(format!("the folder of {original} no longer exists"));
            }
            let bytes =
                unneuter(&fs::read(session.dir.join(container)).map_err(|e| e.to_string())?)?;
            if sha256(&bytes) != *want {
                return Err(format!(
                    "the container {container} does not match its manifest"
                ));
            }
            write_durable(&target, &bytes).map_err(|e| e.to_string())?;
            let mut times = fs::FileTimes::new();
            if let Some(m) = modified {
                times = times.set_modified(m.time());
            }
            if let Some(a) = accessed {
                times = times.set_accessed(a.time());
            }
            fs::File::options()
                .write(true)
                .open(&target)
                .and_then(|f| f.set_times(times))
                .map_err(|e| format!("restoring the time stamps: {e}"))?;
            if fs::read(&target).map(|b| sha256(&b)).ok().as_ref() != Some(want) {
                return Err(format!("{original} does not read back as restored"));
            }
            format!("{original} restored (SHA-256 {want})")
        }
        Undo::Hive {
            hive,
            hive_abs,
            backup,
            backup_sha256,
            after_sha256,
            ..
        } => {
            let target = PathBuf::from(hive_abs);
            if !volume.contains(&target) {
                return Err(format!(
                    "{hive_abs} is not inside {}",
                    volume.root().display()
                ));
            }
            let current = fs::read(&target)
                .map(|b| sha256(&b))
                .map_err(|e| format!("{hive}: {e}"))?;
            if current != *after_sha256 {
                let later = session
                    .manifest
                    .entries
                    .iter()
                    .find(|e| {
                        e.state == State::Applied
                            && matches!(&e.undo, Undo::Hive { after_sha256, .. } if *after_sha256 == current)
                    });
                return Err(match later {
                    Some(l) => format!("{hive} was changed again by {}; restore that first", l.id),
                    None => format!(
                        "{hive} changed after this action (Windows may have run); its backup is {}",
                        session.dir.join(backup).display()
                    ),
                });
            }
            let bytes = fs::read(session.dir.join(backup)).map_err(|e| e.to_string())?;
            if sha256(&bytes) != *backup_sha256 {
                return Err(format!("the backup {backup} does not match its manifest"));
            }
            write_durable(&target, &bytes).map_err(|e| e.to_string())?;
            if fs::read(&target).map(|b| sha256(&b)).ok().as_ref() != Some(backup_sha256) {
                return Err(format!("{hive} does not read back as restored"));
            }
            format!("{hive} restored from {backup}")
        }
    };
    let e = &mut session.manifest.entries[idx];
    e.state = State::Restored;
    e.restored_at = Some(crate::timefmt::now());
    session
        .save()
        .map_err(|e| format!("restored, but the manifest could not be saved: {e}"))?;
    let _ = session.log(action, "restore end", true, &detail);
    Ok(detail)
}
