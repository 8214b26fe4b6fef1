//! Nerve Studio: annotate, train and review nerve segmentation of surgical images.
//!
//! `atomic` (how every file is written) and `table` (every comma-separated table) are below
//! everything; `project`, `mask` and `eval` know nothing of the GUI or burn; `ml` (burn) knows
//! nothing of the GUI; `gui` is a thin iced shell over them, and `cli` the headless one, which
//! names no window code either (tests/integration/layering.rs checks both). See DESIGN.md.

#[macro_use]
mod path_errors;

pub mod atomic;
pub mod cli;
pub mod eval;
pub mod gui;
pub mod mask;
pub mod ml;
pub mod project;
pub mod review;
pub mod table;
