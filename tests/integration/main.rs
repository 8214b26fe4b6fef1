//! All integration tests in one binary (each extra test binary is another long link).

mod annotate_ui;
mod app_flow;
mod browse_ui;
mod cli;
mod crash;
mod demo;
mod eval;
mod exchange;
mod fuzz;
mod gpu;
mod hostile;
mod layering;
mod ml;
mod review_ui;
mod store;
mod support;
mod train_ui;
mod weights;
mod what_is_shown;
mod window;
