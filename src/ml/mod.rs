//! The learning engine (burn): devices, architectures, recipes, data, training, inference and
//! weight import. Knows nothing of iced.

pub mod active;
pub mod calibrate;
pub mod data;
pub mod device;
pub mod error;
pub mod evaluate;
pub mod forecast;
pub mod imagenet;
pub mod infer;
pub mod job;
pub mod kernels;
pub mod loss;
pub mod models;
pub mod preannotate;
pub mod predict;
pub mod progress;
pub mod recipe;
pub mod registry;
pub mod run;
pub mod speed;
pub mod start;
pub mod train;
pub mod uncertainty;
pub mod weights;

pub use error::{Error, Result};
