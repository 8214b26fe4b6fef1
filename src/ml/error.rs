//! What can go wrong in the learning engine, each naming the file, run or request involved.
//! `Clone` (sources behind `Arc`), so it travels in the window's messages as it is.

use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        source: Arc<std::io::Error>,
    },
    /// A file holds something other than what it should (a recipe, weights, a run's record).
    #[error("{}: {why}", path.display())]
    Invalid { path: PathBuf, why: String },
    /// A run cannot do what was asked in its state (training now, not finished, not a segmenter).
    #[error("run {run}: {why}")]
    Run { run: String, why: String },
    /// The work cannot be done as asked: no data, runs of two kinds, no GPU.
    #[error("{0}")]
    Request(String),
    /// A download from the internet failed, or a file brought in is not the one expected.
    #[error("{file}: {why}")]
    Fetch { file: String, why: String },
    /// Training panicked; the run is marked failed.
    #[error("training stopped on an internal error: {0}")]
    Internal(String),
    /// The work was stopped by whoever asked for it (a screen left, a newer request).
    #[error("stopped before it finished")]
    Stopped,
    #[error(transparent)]
    Project(#[from] crate::project::ProjectError),
    #[error(transparent)]
    Mask(#[from] crate::mask::MaskError),
    #[error(transparent)]
    Table(Arc<crate::table::TableError>),
    #[error(transparent)]
    Eval(crate::eval::Error),
}

path_errors!(Error);

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// For `map_err`: `path` could not be parsed or decoded, `what` it should have been.
    pub fn unreadable<'a, E: std::fmt::Display>(
        path: &'a Path,
        what: &'static str,
    ) -> impl FnOnce(E) -> Error + 'a {
        move |e| Error::invalid(path, format!("{what}: {e}"))
    }

    pub fn run(run: &str, why: impl Into<String>) -> Error {
        Error::Run {
            run: run.to_string(),
            why: why.into(),
        }
    }

    pub fn fetch(file: &str, why: impl Into<String>) -> Error {
        Error::Fetch {
            file: file.to_string(),
            why: why.into(),
        }
    }

    pub fn request(why: impl Into<String>) -> Error {
        Error::Request(why.into())
    }
}

impl From<crate::table::TableError> for Error {
    fn from(e: crate::table::TableError) -> Self {
        Error::Table(Arc::new(e))
    }
}

impl From<crate::eval::Error> for Error {
    fn from(e: crate::eval::Error) -> Self {
        Error::Eval(e)
    }
}
