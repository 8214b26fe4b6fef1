//! Nerve Studio: annotate, train and review nerve segmentation of surgical images.
//!
//! `atomic` (how every file is written) is below everything; `project`, `mask` and `eval`
//! know nothing of the GUI or burn; `ml` (burn) knows nothing of the GUI; `gui` is a thin iced shell over them, and `cli`
//! the headless one. See DESIGN.md for the plan.

pub mod atomic;
pub mod cli;
pub mod eval;
pub mod gui;
pub mod mask;
pub mod ml;
pub mod project;
pub mod review;
