//! What can go wrong in a review, each naming the image or file involved. `Clone` (sources
//! behind `Arc`), so it travels in the window's messages as it is.

use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        source: Arc<std::io::Error>,
    },
    /// A picture or a probability map could not be decoded.
    #[error("{}: {source}", path.display())]
    Picture {
        path: PathBuf,
        source: Arc<image::ImageError>,
    },
    /// A file holds something other than what it should.
    #[error("{}: {why}", path.display())]
    Invalid { path: PathBuf, why: String },
    /// An image cannot take the decision asked for.
    #[error("{stem}: {why}")]
    Image { stem: String, why: String },
    /// The build was stopped: the screen that asked for it was left or closed.
    #[error("the review was stopped before it was built")]
    Stopped,
    /// The review itself cannot be made as asked.
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Project(#[from] crate::project::ProjectError),
    #[error(transparent)]
    Mask(#[from] crate::mask::MaskError),
    #[error(transparent)]
    Table(Arc<crate::table::TableError>),
    #[error(transparent)]
    Eval(crate::eval::Error),
    #[error(transparent)]
    Ml(crate::ml::Error),
    /// What a lower layer reported in words: the learning engine (a run that cannot be
    /// loaded, a prediction that failed) or the report's plots.
    #[error("{0}")]
    Reported(String),
}

path_errors!(Error);

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// For `map_err`: a decoding error of `path`.
    pub fn picture(path: &Path) -> impl FnOnce(image::ImageError) -> Error + '_ {
        move |source| Error::Picture {
            path: path.to_path_buf(),
            source: Arc::new(source),
        }
    }

    pub fn image(stem: &str, why: impl Into<String>) -> Error {
        Error::Image {
            stem: stem.to_string(),
            why: why.into(),
        }
    }
}

impl From<crate::eval::Error> for Error {
    fn from(e: crate::eval::Error) -> Self {
        Error::Eval(e)
    }
}

impl From<crate::ml::Error> for Error {
    fn from(e: crate::ml::Error) -> Self {
        match e {
            crate::ml::Error::Stopped => Error::Stopped,
            e => Error::Ml(e),
        }
    }
}

impl From<crate::table::TableError> for Error {
    fn from(e: crate::table::TableError) -> Self {
        Error::Table(Arc::new(e))
    }
}
