//! Building a whole project (or a batch of files) in a hidden folder beside its destination,
//! then moving it into place, so that a failure half-way leaves nothing half-written.

use super::error::{ProjectError, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// A hidden folder next to `dest`, removed on drop unless it was moved into place.
pub struct Staging {
    dir: Option<tempfile::TempDir>,
    dest: PathBuf,
}

impl Staging {
    pub fn beside(dest: &Path) -> Result<Staging> {
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(ProjectError::io(&parent))?;
        let name = dest
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("project");
        remove_stale(&parent, &format!(".{name}.staging-"));
        let dir = tempfile::Builder::new()
            .prefix(&format!(".{name}.staging-"))
            .tempdir_in(&parent)
            .map_err(ProjectError::io(&parent))?;
        Ok(Staging {
            dir: Some(dir),
            dest: dest.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.as_ref().expect("staging folder is live").path()
    }

    /// Moves the staged folder to the destination, which must be missing or an empty folder.
    pub fn finish(mut self) -> Result<PathBuf> {
        if self.dest.exists() {
            let empty = fs::read_dir(&self.dest)
                .map_err(ProjectError::io(&self.dest))?
                .next()
                .is_none();
            if !empty {
                return Err(ProjectError::invalid(
                    &self.dest,
                    "already exists and is not empty; choose a new folder",
                ));
            }
            fs::remove_dir(&self.dest).map_err(ProjectError::io(&self.dest))?;
        }
        let dir = self.dir.take().expect("staging folder is live").keep();
        fs::rename(&dir, &self.dest).map_err(ProjectError::io(&self.dest))?;
        if let Some(parent) = self.dest.parent() {
            crate::atomic::sync_dir(parent);
        }
        Ok(self.dest.clone())
    }
}

/// Staging folders of earlier writers to the same destination that were killed (older than ten
/// minutes, so never one a live writer is filling).
fn remove_stale(parent: &Path, prefix: &str) {
    let Ok(rd) = fs::read_dir(parent) else { return };
    for e in rd.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().unwrap_or_default().as_secs() > 600);
        if old && e.file_name().to_string_lossy().starts_with(prefix) && e.path().is_dir() {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// Checks early that a project can be created at `dest`, before any long work.
pub fn check_new_destination(dest: &Path) -> Result<()> {
    if dest.exists() {
        let empty = fs::read_dir(dest)
            .map_err(ProjectError::io(dest))?
            .next()
            .is_none();
        if !empty {
            return Err(ProjectError::invalid(
                dest,
                "already exists and is not empty; choose a new folder",
            ));
        }
    }
    Ok(())
}
