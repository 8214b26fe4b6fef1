//! Review: the models' predictions beside the ground truth, a queue of the images most worth a
//! look, the reviewer's decisions and their report, and the lab's linked real-time tool. Uses
//! `ml` to predict and `eval` to score; knows nothing of the window.

pub mod decisions;
pub mod error;
pub mod linked;
pub mod overlay;
pub mod report;
pub mod table;

pub use error::{Error, Result};
pub use table::{Filter, Models, Order, Review, Row};
