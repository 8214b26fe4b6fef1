//! Nerve Studio: annotate, train and review nerve segmentation of surgical images.
//!
//! `project`, `mask` know nothing of the GUI; `gui` is a thin iced shell over them, and `cli`
//! the headless one. See DESIGN.md for the plan.

pub mod cli;
pub mod gui;
pub mod mask;
pub mod project;
