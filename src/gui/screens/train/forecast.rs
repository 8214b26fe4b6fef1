//! The Train screen's forecast: the speed of each recipe as set, measured once per setting in
//! the background (a warm-up step and a timed step on the chosen device), kept while the screen
//! lives so that going back to a setting costs nothing.

use std::collections::HashMap;

use crate::ml::device::DeviceChoice;
use crate::ml::forecast::StepTimes;

/// What a measurement depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub recipe: String,
    pub image_size: usize,
    pub batch_size: usize,
    pub device: DeviceChoice,
}

#[derive(Debug, Default)]
pub struct Forecasts {
    measured: HashMap<Key, Result<(StepTimes, String), crate::ml::Error>>,
    measuring: Option<Key>,
}

impl Forecasts {
    /// Whether `key` should be measured now (not known, nothing else in flight); marks it.
    pub fn want(&mut self, key: &Key) -> bool {
        if self.measuring.is_some() || self.measured.contains_key(key) {
            return false;
        }
        self.measuring = Some(key.clone());
        true
    }

    /// A measurement's result: the step times and the device's name, or why there are none.
    pub fn measured(&mut self, key: Key, result: Result<(StepTimes, String), crate::ml::Error>) {
        if self.measuring.as_ref() == Some(&key) {
            self.measuring = None;
        }
        self.measured.insert(key, result);
    }

    pub fn get(&self, key: &Key) -> Option<&Result<(StepTimes, String), crate::ml::Error>> {
        self.measured.get(key)
    }

    pub fn is_measuring(&self, key: &Key) -> bool {
        self.measuring.as_ref() == Some(key)
    }

    /// Failed measurements are tried again (the device may be free now).
    pub fn forget_failures(&mut self) {
        self.measured.retain(|_, r| r.is_ok());
    }
}
