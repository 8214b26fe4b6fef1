//! Metrics, written once and used by training, prediction and reports; the reports themselves
//! (metrics.json, a per-image CSV, Markdown with PNG and SVG plots). No iced, no burn.

pub mod annotator;
pub mod classification;
pub mod error;
pub mod evaluate;
pub mod labels;
pub mod masks;
pub mod report;
pub mod roc;
pub mod segmentation;
pub mod skeleton;
pub mod stats;

pub use error::{Error, Result};

#[cfg(test)]
mod fixture_tests;
