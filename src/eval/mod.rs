//! Metrics, written once and used by training, prediction and (later) reports. No iced, no burn.

pub mod classification;
pub mod segmentation;
