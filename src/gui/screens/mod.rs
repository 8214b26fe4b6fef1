pub mod annotate;
pub mod browse;
pub mod models;
pub mod review;
pub mod train;
pub mod welcome;
