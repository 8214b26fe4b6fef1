//! What the window reports going wrong: the layer's own error as it came (project, learning
//! engine, review), or what only the window knows (an image that vanished, a bad typed path).
//! `Clone`, so it travels in messages as it is and is turned into words only where it is shown.

use crate::{ml, project::ProjectError, review};

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Ml(#[from] ml::Error),
    #[error(transparent)]
    Review(#[from] review::Error),
    /// Something the window itself found wrong, in words a technician can act on.
    #[error("{0}")]
    Window(String),
}

impl Error {
    pub fn window(why: impl Into<String>) -> Error {
        Error::Window(why.into())
    }
}

impl From<crate::mask::MaskError> for Error {
    fn from(e: crate::mask::MaskError) -> Self {
        Error::Project(e.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
