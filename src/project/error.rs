use std::path::PathBuf;

/// Everything that can go wrong with a project; each names the file involved. `Clone` (I/O
/// sources behind `Arc`), so it travels in the window's messages as it is.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProjectError {
    #[error(
        "{0}: not a Nerve Studio project (no project.toml). Create one with `nerve-studio demo` or `nerve-studio import`."
    )]
    NotAProject(PathBuf),
    #[error("{0}: a project already exists here")]
    AlreadyExists(PathBuf),
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::sync::Arc<std::io::Error>,
    },
    #[error("the project is open read-only: {0}")]
    ReadOnly(String),
    /// A value that cannot be used as it is (a name, a filter, a setting, a bitmap), and why;
    /// the caller names the file or option it came from where there is one.
    #[error("{0}")]
    Unacceptable(String),
    #[error("no image with stem `{0}` in this project")]
    UnknownStem(String),
    #[error(transparent)]
    Mask(#[from] crate::mask::MaskError),
}

impl ProjectError {
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ProjectError {
        let path = path.into();
        move |source| ProjectError::Io {
            path,
            source: std::sync::Arc::new(source),
        }
    }

    pub fn invalid(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> ProjectError {
        ProjectError::Invalid {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    pub fn unacceptable(why: impl Into<String>) -> ProjectError {
        ProjectError::Unacceptable(why.into())
    }
}

pub type Result<T, E = ProjectError> = std::result::Result<T, E>;
