//! What a killed writer leaves behind: an import's staging folder (`.import-*`) and the
//! temporary files of atomic writes (`.tmp-*.part`). `info` lists them; opening the project
//! for editing (which takes its lock, so no writer of this project is running) removes them.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// In `cache/`, a temporary file this old is no live write: a headless trainer writing the
/// input cache holds no project lock, so younger ones are left to it. Everything else a project
/// holds is written only under its lock, so there any temporary file is a leftover.
const STALE: Duration = Duration::from_secs(600);

/// Leftovers in the project at `root`, with what each is.
pub fn find(root: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(root) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".import-") && e.path().is_dir() {
                out.push((e.path(), "an interrupted import's staging folder"));
            }
        }
    }
    for folder in ["images", "labels", "masks", "splits"] {
        temporaries(&root.join(folder), false, true, &mut out);
    }
    temporaries(&root.join("cache"), true, true, &mut out);
    temporaries(root, false, false, &mut out);
    out.sort();
    out
}

/// Removes the leftovers; returns how many were removed.
pub fn clean(root: &Path) -> usize {
    let mut removed = 0;
    for (path, _) in find(root) {
        let gone = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed += gone.is_ok() as usize;
    }
    removed
}

fn is_temporary(path: &Path, only_stale: bool) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let stale = || {
        std::fs::symlink_metadata(path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| SystemTime::now().duration_since(t).unwrap_or_default() > STALE)
    };
    name.starts_with(".tmp-") && name.ends_with(".part") && (!only_stale || stale())
}

/// Temporary files in `dir` (and its sub-folders when `down`).
fn temporaries(dir: &Path, only_stale: bool, down: bool, out: &mut Vec<(PathBuf, &'static str)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        // Never follow a link out of the project.
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() && down {
            temporaries(&e.path(), only_stale, down, out);
        } else if kind.is_file() && is_temporary(&e.path(), only_stale) {
            out.push((e.path(), "a temporary file of an interrupted write"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_temporaries_and_import_folders_are_found_and_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join(".import-x1/images")).unwrap();
        std::fs::create_dir_all(root.join("cache/thumbnails")).unwrap();
        std::fs::create_dir_all(root.join("labels")).unwrap();
        let old = root.join("cache/thumbnails/.tmp-abc.part");
        let young = root.join("cache/thumbnails/.tmp-def.part");
        let label = root.join("labels/.tmp-ghi.part");
        std::fs::write(&old, b"x").unwrap();
        std::fs::write(&young, b"x").unwrap();
        std::fs::write(&label, b"x").unwrap();
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
        let found: Vec<PathBuf> = find(root).into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            found,
            vec![root.join(".import-x1"), old.clone(), label.clone()]
        );
        assert_eq!(clean(root), 3);
        assert!(!old.exists() && !label.exists());
        assert!(young.exists(), "a live write to the cache is left alone");
    }
}
