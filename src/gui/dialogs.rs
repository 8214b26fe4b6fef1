//! Choosing a file or folder: the system's dialog where there is one, else a path typed into the
//! window. On Linux the dialog needs a desktop portal or zenity; where neither exists the
//! dialog library answers "nothing chosen" at once, which would look like a button that does
//! nothing. An answer faster than a person could give is taken to mean "no dialog was shown".

use crate::ml::models::Task;
use crate::project::exchange::ImportFormat;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What the chosen path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    OpenProject,
    Import(ImportFormat),
    /// Torchvision weights for the classifier's or the segmenter's recipe.
    Weights(Task),
    /// The folder for the linked view's GIF and PNG frames.
    LinkedExport,
}

impl Purpose {
    pub fn title(self) -> &'static str {
        match self {
            Purpose::OpenProject => "Open a Nerve Studio project",
            Purpose::Import(ImportFormat::Folders) => {
                "Choose the folder with class (or split/class) folders"
            }
            Purpose::Import(ImportFormat::Supervisely) => {
                "Choose the Supervisely project (the folder with meta.json)"
            }
            Purpose::Import(ImportFormat::Voc) => {
                "Choose the VOC dataset (the folder with JPEGImages)"
            }
            Purpose::Weights(_) => "Choose torchvision weights (.pth or .safetensors)",
            Purpose::LinkedExport => "Choose a folder for the GIF and the PNG frames",
        }
    }

    /// Whether a file (not a folder) is chosen.
    fn is_file(self) -> bool {
        matches!(self, Purpose::Weights(_))
    }

    /// Whether the path must exist already (an export folder is made when missing).
    fn must_exist(self) -> bool {
        !matches!(self, Purpose::LinkedExport)
    }

    /// Checks a typed path; the error names the path and what is wrong with it.
    pub fn check(self, typed: &str) -> Result<PathBuf, PathProblem> {
        let typed = typed.trim();
        if typed.is_empty() {
            return Err(PathProblem::Empty);
        }
        let path = expand_home(typed);
        let named = typed.to_string();
        if !self.must_exist() {
            return match std::fs::metadata(&path) {
                Ok(m) if !m.is_dir() => Err(PathProblem::FileNotFolder(named)),
                _ => Ok(path),
            };
        }
        match std::fs::metadata(&path) {
            Err(e) => Err(PathProblem::Unreachable(named, IoKind(e.kind()))),
            Ok(m) if self.is_file() && !m.is_file() => Err(PathProblem::NotAFile(named)),
            Ok(m) if !self.is_file() && !m.is_dir() => Err(PathProblem::NotAFolder(named)),
            Ok(_) => Ok(path),
        }
    }
}

/// Why a path cannot be reached (not found, permission denied), as the system says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoKind(pub std::io::ErrorKind);

impl std::fmt::Display for IoKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::io::Error::from(self.0).fmt(f)
    }
}

/// What is wrong with a typed path, naming it as typed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PathProblem {
    #[error("Type a path first.")]
    Empty,
    #[error("{0}: {1}")]
    Unreachable(String, IoKind),
    #[error("{0}: this is a file, not a folder")]
    FileNotFolder(String),
    #[error("{0}: not a file")]
    NotAFile(String),
    #[error("{0}: not a folder")]
    NotAFolder(String),
}

fn expand_home(typed: &str) -> PathBuf {
    match typed.strip_prefix("~/") {
        Some(rest) => dirs::home_dir().map_or_else(|| PathBuf::from(typed), |h| h.join(rest)),
        None => PathBuf::from(typed),
    }
}

/// How a dialog ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Picked {
    Chosen(PathBuf),
    Cancelled,
    /// No dialog could be shown on this system.
    Unavailable,
}

/// A dialog that answers faster than this was never on screen.
const TOO_FAST: Duration = Duration::from_millis(600);

/// Reads how a dialog ended from what it returned and how long it took.
pub fn judge(chosen: Option<PathBuf>, took: Duration) -> Picked {
    match chosen {
        Some(p) => Picked::Chosen(p),
        None if took < TOO_FAST => Picked::Unavailable,
        None => Picked::Cancelled,
    }
}

/// Shows the system's dialog for `purpose` (on the dialog library's own thread).
pub async fn show(purpose: Purpose) -> Picked {
    let start = Instant::now();
    let dialog = rfd::AsyncFileDialog::new().set_title(purpose.title());
    let chosen = if purpose.is_file() {
        dialog
            .add_filter(
                "PyTorch or SafeTensors weights",
                &["pth", "pt", "safetensors"],
            )
            .pick_file()
            .await
    } else {
        dialog.pick_folder().await
    };
    judge(chosen.map(|h| h.path().to_path_buf()), start.elapsed())
}

/// The path being typed where no dialog could be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub purpose: Purpose,
    pub text: String,
    /// Why the last typed path was refused.
    pub error: Option<PathProblem>,
}

impl Prompt {
    pub fn new(purpose: Purpose) -> Prompt {
        Prompt {
            purpose,
            text: String::new(),
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_empty_answer_means_no_dialog() {
        assert_eq!(judge(None, Duration::from_millis(5)), Picked::Unavailable);
        assert_eq!(judge(None, Duration::from_secs(3)), Picked::Cancelled);
        assert_eq!(
            judge(Some("/x".into()), Duration::from_millis(5)),
            Picked::Chosen("/x".into())
        );
    }

    #[test]
    fn typed_paths_are_checked_for_what_they_are_for() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.pth");
        std::fs::write(&file, b"x").unwrap();
        let d = dir.path().to_str().unwrap();
        let f = file.to_str().unwrap();
        assert!(Purpose::OpenProject.check(d).is_ok());
        assert!(
            Purpose::OpenProject
                .check(f)
                .unwrap_err()
                .to_string()
                .contains("not a folder")
        );
        assert!(Purpose::Weights(Task::Segment).check(f).is_ok());
        assert!(
            Purpose::Weights(Task::Segment)
                .check(d)
                .unwrap_err()
                .to_string()
                .contains("not a file")
        );
        let missing = dir.path().join("nowhere");
        let err = Purpose::Import(ImportFormat::Voc)
            .check(missing.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("nowhere"), "{err}");
        assert!(
            Purpose::LinkedExport
                .check(missing.to_str().unwrap())
                .is_ok()
        );
        assert!(Purpose::OpenProject.check("  ").is_err());
    }
}
