//! The on-disk project (see DESIGN.md): a plain folder a person can read, back up and version.
//! Knows nothing of iced or burn.

pub mod bulk;
pub mod demo;
mod error;
pub mod exchange;
pub mod label;
pub mod leftovers;
pub mod limits;
pub mod lock;
pub mod manifest;
pub mod names;
pub mod parallel;
pub mod preprocess;
pub mod splits;
pub mod staging;
pub mod stem;
mod store;
mod summary;
pub mod thumbnails;

pub use error::{ProjectError, Result};
pub use label::{ImageLabel, MaskProvenance, Status};
pub use manifest::{Manifest, Roi};
pub use splits::Split;
pub use store::{Access, FOLDERS, ImageEntry, Problem, Project, read_manifest, write_label};
pub use summary::Counts;
