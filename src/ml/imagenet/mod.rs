//! ImageNet weights on demand: the lab's method is transfer learning, and the files come by
//! themselves as Keras' `weights="imagenet"` does. One copy per user, shared by every project.

pub mod catalog;
pub mod download;
pub mod store;

pub use catalog::Source;
pub use download::{FetchError, Transfer, fetch};

use std::path::PathBuf;

use super::models::Arch;

/// The downloaded ImageNet file for a recipe, if it is there.
pub fn ready_for(arch: Arch, width: f64) -> Option<PathBuf> {
    let source = catalog::for_recipe(arch, width).ok()?;
    store::downloaded(&store::folder().ok()?, &source)
}
