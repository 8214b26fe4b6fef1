use std::path::PathBuf;

/// Everything that can go wrong with a project; each names the file involved.
#[derive(Debug, thiserror::Error)]
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
        source: std::io::Error,
    },
    #[error("the project is open read-only: {0}")]
    ReadOnly(String),
    #[error("no image with stem `{0}` in this project")]
    UnknownStem(String),
    #[error(transparent)]
    Mask(#[from] crate::mask::MaskError),
}

impl ProjectError {
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ProjectError {
        let path = path.into();
        move |source| ProjectError::Io { path, source }
    }

    pub fn invalid(path: impl Into<PathBuf>, reason: impl Into<String>) -> ProjectError {
        ProjectError::Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

pub type Result<T, E = ProjectError> = std::result::Result<T, E>;
