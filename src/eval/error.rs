//! What can go wrong when scoring and reporting, each naming the file involved. `Clone`
//! (sources behind `Arc`), so it travels in the window's messages as it is.

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
    /// A file is not what it should be (no masks in a folder, a table without its columns).
    #[error("{}: {why}", path.display())]
    Invalid { path: PathBuf, why: String },
    /// A line of a table is wrong.
    #[error("{} line {line}: {why}", path.display())]
    Line {
        path: PathBuf,
        line: usize,
        why: String,
    },
    /// An option given is out of its range.
    #[error("{0}")]
    Option(String),
    /// No prediction's stem matches a truth mask's.
    #[error(
        "no prediction in {} has the stem of a truth mask in {} ({truths} truth masks, \
         {predictions} predictions)",
        predicted.display(),
        truth.display()
    )]
    NothingMatched {
        truth: PathBuf,
        predicted: PathBuf,
        truths: usize,
        predictions: usize,
    },
    /// Nothing could be scored; every image's problem is listed.
    #[error("no image could be scored:\n  {}", .0.join("\n  "))]
    NothingScored(Vec<String>),
    /// A plot or a picture could not be drawn or encoded.
    #[error("{0}")]
    Drawing(String),
    #[error(transparent)]
    Table(Arc<crate::table::TableError>),
}

path_errors!(Error);

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn line(path: &Path, line: usize, why: impl std::fmt::Display) -> Error {
        Error::Line {
            path: path.to_path_buf(),
            line,
            why: why.to_string(),
        }
    }

    /// For `map_err`: a drawing backend's error.
    pub fn drawing(e: impl std::fmt::Debug) -> Error {
        Error::Drawing(format!("{e:?}"))
    }
}

impl From<crate::table::TableError> for Error {
    fn from(e: crate::table::TableError) -> Self {
        Error::Table(Arc::new(e))
    }
}
