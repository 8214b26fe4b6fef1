pub mod browse;
pub mod welcome;
