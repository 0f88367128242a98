//! Writing a set of files as one change.
//!
//! Input: target paths with their text, and generated files to remove.
//! Output: the paths written, or the first failure with every target as it
//! was before.
//!
//! Every file is staged in a temporary file beside its target (same
//! directory, so the final rename is atomic); only when all are staged are
//! they renamed into place. Each replaced or removed file is kept as a
//! hard-linked backup until the whole set is in place, so a failure halfway
//! through renames the backups back: readers see the old set or the new one,
//! never a half-written file, and no temporary file is left behind.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::WriteError;

/// Prefix of every temporary and backup file.
pub const TEMP_PREFIX: &str = ".z2jh-policy-";

fn fail(path: &Path, e: &dyn std::fmt::Display) -> WriteError {
    WriteError {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes `writes` and removes `removes`, all or nothing. Returns every
/// target of `writes` (each now holds its text).
pub fn apply(
    writes: &[(PathBuf, String)],
    removes: &[PathBuf],
) -> Result<Vec<PathBuf>, WriteError> {
    for (target, _) in writes {
        if fs::symlink_metadata(target).is_ok_and(|m| m.is_dir()) {
            return Err(fail(
                target,
                &"is a directory; expected a file that z2jh-policy may replace",
            ));
        }
    }
    // A file that already holds its new text is left alone: re-running on an
    // unchanged policy touches nothing (and keeps modification times).
    let changed: Vec<(PathBuf, String)> = writes
        .iter()
        .filter(|(p, text)| !holds(p, text))
        .cloned()
        .collect();
    let mut created = Vec::new();
    let result = stage(&changed, &mut created)
        .and_then(commit_all)
        .and_then(|(_, undo)| {
            remove_all(removes, undo).map(|undo| {
                // Success: dropping the backups deletes them.
                drop(undo);
                writes.iter().map(|(p, _)| p.clone()).collect()
            })
        });
    if result.is_err() {
        // Directories made for files that were never put in place.
        for dir in created.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
    result
}

/// True when `path` is a regular file whose content is exactly `text`.
fn holds(path: &Path, text: &str) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == text.len() as u64)
        && fs::read(path).is_ok_and(|bytes| bytes == text.as_bytes())
}

type Staged = Vec<(NamedTempFile, PathBuf)>;

/// What to do to put a target back: restore the backup, or remove the new file.
struct Undo {
    target: PathBuf,
    backup: Option<NamedTempFile<()>>,
}

/// Threads staging files: writing and syncing is I/O-bound, and syncs
/// issued together share the filesystem's journal commits.
const STAGE_THREADS: usize = 8;

fn stage(writes: &[(PathBuf, String)], created: &mut Vec<PathBuf>) -> Result<Staged, WriteError> {
    for (target, _) in writes {
        make_dirs(parent_of(target), created)?;
    }
    let threads = writes.len().min(STAGE_THREADS);
    // On error the files already staged are deleted as they drop.
    crate::par::map(writes, threads, |(target, text)| stage_one(target, text))
        .into_iter()
        .collect()
}

fn stage_one(target: &Path, text: &str) -> Result<(NamedTempFile, PathBuf), WriteError> {
    let parent = parent_of(target);
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(parent)
        .map_err(|e| fail(parent, &e))?;
    tmp.write_all(text.as_bytes())
        .map_err(|e| fail(target, &e))?;
    tmp.as_file().sync_all().map_err(|e| fail(target, &e))?;
    Ok((tmp, target.to_path_buf()))
}

fn parent_of(p: &Path) -> &Path {
    p.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Creates `dir` and its missing ancestors, recording the ones it made.
fn make_dirs(dir: &Path, created: &mut Vec<PathBuf>) -> Result<(), WriteError> {
    let mut missing = Vec::new();
    let mut d = Some(dir);
    while let Some(p) = d.filter(|p| !p.as_os_str().is_empty() && fs::symlink_metadata(p).is_err())
    {
        missing.push(p.to_path_buf());
        d = p.parent();
    }
    fs::create_dir_all(dir).map_err(|e| fail(dir, &e))?;
    created.extend(missing.into_iter().rev());
    Ok(())
}

/// Backup of an existing file beside it: a hard link (the file stays in
/// place for readers), or a copy where links are not supported.
fn backup(target: &Path) -> Result<Option<NamedTempFile<()>>, WriteError> {
    if fs::symlink_metadata(target).is_err() {
        return Ok(None);
    }
    let dir = parent_of(target);
    let make = |link: bool| {
        tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(".bak")
            .make_in(dir, |p| {
                if link {
                    fs::hard_link(target, p)
                } else {
                    fs::copy(target, p).map(|_| ())
                }
            })
    };
    make(true)
        .or_else(|_| make(false))
        .map(Some)
        .map_err(|e| fail(target, &e))
}

fn commit_all(staged: Staged) -> Result<(Vec<PathBuf>, Vec<Undo>), WriteError> {
    let mut undo = Vec::with_capacity(staged.len());
    let mut written = Vec::with_capacity(staged.len());
    for (tmp, target) in staged {
        let step = backup(&target).and_then(|backup| {
            tmp.persist(&target).map_err(|e| fail(&target, &e.error))?;
            Ok(backup)
        });
        match step {
            Ok(backup) => {
                undo.push(Undo {
                    target: target.clone(),
                    backup,
                });
                written.push(target);
            }
            // The files not yet renamed are deleted as `staged` drops.
            Err(e) => return Err(rollback(undo, e)),
        }
    }
    Ok((written, undo))
}

fn remove_all(removes: &[PathBuf], mut undo: Vec<Undo>) -> Result<Vec<Undo>, WriteError> {
    for path in removes {
        let dir = parent_of(path);
        // Removing is renaming to a backup name, so it can be undone too.
        match tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(".bak")
            .make_in(dir, |p| fs::rename(path, p))
        {
            Ok(b) => undo.push(Undo {
                target: path.clone(),
                backup: Some(b),
            }),
            Err(e) => return Err(rollback(undo, fail(path, &e))),
        }
    }
    Ok(undo)
}

/// Puts every target back as it was, newest change first.
fn rollback(undo: Vec<Undo>, mut err: WriteError) -> WriteError {
    let mut stuck = Vec::new();
    for u in undo.into_iter().rev() {
        let restored = match u.backup {
            Some(b) => b.persist(&u.target).map(|_| ()).map_err(|e| e.error),
            None => fs::remove_file(&u.target),
        };
        if restored.is_err() {
            stuck.push(u.target.display().to_string());
        }
    }
    if !stuck.is_empty() {
        err.message
            .push_str(&format!("; could not restore {}", stuck.join(", ")));
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(dir: &Path) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if p.is_dir() {
                out.push((name, "<dir>".into()));
            } else {
                out.push((name, fs::read_to_string(&p).unwrap()));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn writes_removes_and_leaves_no_temp_files() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("old.yaml"), "old").unwrap();
        let writes = vec![
            (d.path().join("a.yaml"), "A".to_string()),
            (d.path().join("sub/b.yaml"), "B".to_string()),
        ];
        let written = apply(&writes, &[d.path().join("old.yaml")]).unwrap();
        assert_eq!(written.len(), 2);
        assert_eq!(
            listing(d.path()),
            vec![
                ("a.yaml".into(), "A".into()),
                ("sub".into(), "<dir>".into())
            ]
        );
        assert_eq!(
            listing(&d.path().join("sub")),
            vec![("b.yaml".into(), "B".into())]
        );
    }

    #[test]
    fn a_failed_rename_rolls_back_the_files_already_replaced() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("a.yaml"), "old A").unwrap();
        fs::write(d.path().join("gone.yaml"), "old gone").unwrap();
        let writes = vec![
            (d.path().join("a.yaml"), "new A".to_string()),
            (d.path().join("new.yaml"), "new file".to_string()),
            (d.path().join("b.yaml"), "new B".to_string()),
        ];
        let mut created = Vec::new();
        let staged = stage(&writes, &mut created).unwrap();
        // Between staging and renaming, the last target turns into a directory.
        fs::create_dir(d.path().join("b.yaml")).unwrap();
        let err = commit_all(staged).err().unwrap();
        assert!(err.path.ends_with("b.yaml"), "{err:?}");
        assert!(!err.message.contains("could not restore"), "{err:?}");
        assert_eq!(
            listing(d.path()),
            vec![
                ("a.yaml".into(), "old A".into()),
                ("b.yaml".into(), "<dir>".into()),
                ("gone.yaml".into(), "old gone".into())
            ]
        );
    }

    #[test]
    fn a_failed_removal_rolls_back_the_writes() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("a.yaml"), "old A").unwrap();
        let writes = vec![(d.path().join("a.yaml"), "new A".to_string())];
        let err = apply(&writes, &[d.path().join("missing.yaml")])
            .err()
            .unwrap();
        assert!(err.path.ends_with("missing.yaml"), "{err:?}");
        assert_eq!(listing(d.path()), vec![("a.yaml".into(), "old A".into())]);
    }

    #[test]
    fn a_directory_target_changes_nothing_and_new_directories_are_removed() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("a.yaml"), "old A").unwrap();
        fs::create_dir(d.path().join("x.yaml")).unwrap();
        let writes = vec![
            (d.path().join("a.yaml"), "new A".to_string()),
            (d.path().join("x.yaml"), "X".to_string()),
        ];
        assert!(apply(&writes, &[]).is_err());
        assert_eq!(
            listing(d.path()),
            vec![
                ("a.yaml".into(), "old A".into()),
                ("x.yaml".into(), "<dir>".into())
            ]
        );

        // A parent that cannot be created: the directories made before it go again.
        fs::write(d.path().join("file"), "f").unwrap();
        let writes = vec![
            (d.path().join("n1/n2/a.yaml"), "A".to_string()),
            (d.path().join("file/b.yaml"), "B".to_string()),
        ];
        assert!(apply(&writes, &[]).is_err());
        assert!(!d.path().join("n1").exists());
    }
}
