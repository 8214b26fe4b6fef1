pub mod annotate;
pub mod browse;
pub mod welcome;
