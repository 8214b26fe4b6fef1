//! `project.toml`: the project's name, classes, region of interest and split settings.

use serde::{Deserialize, Serialize};

use super::ProjectError;

pub const MANIFEST_FILE: &str = "project.toml";
pub const SCHEMA_VERSION: u32 = 1;

/// The lab's three tissue classes, in the order of the seed notebooks.
pub const DEFAULT_CLASSES: [&str; 3] = ["nerve", "opening wound", "tendon"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub name: String,
    #[serde(default = "default_classes")]
    pub classes: Vec<String>,
    /// Which class has nerve masks (the segmenters' positive class).
    #[serde(default = "default_mask_class")]
    pub mask_class: String,
    #[serde(default)]
    pub roi: Roi,
    #[serde(default)]
    pub splits: SplitSettings,
}

fn default_classes() -> Vec<String> {
    DEFAULT_CLASSES.iter().map(|s| s.to_string()).collect()
}

fn default_mask_class() -> String {
    DEFAULT_CLASSES[0].to_string()
}

impl Manifest {
    pub fn new(name: &str) -> Self {
        Manifest {
            schema_version: SCHEMA_VERSION,
            name: name.to_string(),
            classes: default_classes(),
            mask_class: default_mask_class(),
            roi: Roi::default(),
            splits: SplitSettings::default(),
        }
    }

    /// The project's spelling of a class name given in any case, with `_`, `-` or spaces.
    pub fn match_class(&self, name: &str) -> Option<&str> {
        let key = class_key(name);
        self.classes
            .iter()
            .find(|c| class_key(c) == key)
            .map(|c| c.as_str())
    }

    pub fn validate(&self) -> Result<(), ProjectError> {
        if self.schema_version > SCHEMA_VERSION {
            return Err(ProjectError::unacceptable(format!(
                "schema_version {} is newer than this program understands ({}); update Nerve Studio",
                self.schema_version, SCHEMA_VERSION
            )));
        }
        if self.classes.is_empty() {
            return Err(ProjectError::unacceptable("`classes` is empty"));
        }
        for (i, c) in self.classes.iter().enumerate() {
            // A class names folders in exports (class folders, VOC's ImageSets/Main).
            if let Some(why) = super::names::problem(c) {
                return Err(ProjectError::unacceptable(format!("class {why}")));
            }
            if self.classes[..i]
                .iter()
                .any(|d| class_key(d) == class_key(c))
            {
                return Err(ProjectError::unacceptable(format!(
                    "class `{c}` is listed twice"
                )));
            }
        }
        if self.match_class(&self.mask_class).is_none() {
            return Err(ProjectError::unacceptable(format!(
                "mask_class `{}` is not one of the classes",
                self.mask_class
            )));
        }
        self.roi.validate()?;
        self.splits.validate()
    }
}

/// Compares class names the way a person would: "Opening_Wound" is "opening wound".
pub fn class_key(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| if c == '_' || c == '-' { ' ' } else { c })
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The region of interest used by training and inference, as fractions of the image size, so
/// one setting serves every resolution. The seed lab cropped the over-exposed left part of its
/// 1920x1080 frames to the right-hand 1080x1080 square: left = 840/1920 = 0.4375.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Roi {
    pub left: f32,
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
}

impl Default for Roi {
    fn default() -> Self {
        Roi {
            left: 0.4375,
            top: 0.0,
            right: 1.0,
            bottom: 1.0,
        }
    }
}

/// A pixel rectangle inside an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelRect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Roi {
    pub const FULL: Roi = Roi {
        left: 0.0,
        top: 0.0,
        right: 1.0,
        bottom: 1.0,
    };

    pub fn validate(&self) -> Result<(), ProjectError> {
        let ok = |v: f32| (0.0..=1.0).contains(&v);
        if !(ok(self.left) && ok(self.top) && ok(self.right) && ok(self.bottom)) {
            return Err(ProjectError::unacceptable(
                "roi values must lie between 0 and 1",
            ));
        }
        if self.left >= self.right || self.top >= self.bottom {
            return Err(ProjectError::unacceptable(
                "roi must have left < right and top < bottom",
            ));
        }
        Ok(())
    }

    /// The crop rectangle for an image of the given size (at least one pixel each way).
    pub fn to_pixels(&self, width: u32, height: u32) -> PixelRect {
        let x0 = (self.left * width as f32).round() as u32;
        let y0 = (self.top * height as f32).round() as u32;
        let x1 = ((self.right * width as f32).round() as u32).clamp(x0 + 1, width.max(x0 + 1));
        let y1 = ((self.bottom * height as f32).round() as u32).clamp(y0 + 1, height.max(y0 + 1));
        PixelRect {
            x: x0.min(width.saturating_sub(1)),
            y: y0.min(height.saturating_sub(1)),
            width: x1 - x0,
            height: y1 - y0,
        }
    }
}

/// How images are divided into train / val / test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSettings {
    pub seed: u64,
    /// Fractions for train, val and test (normalised when used).
    pub ratios: [f64; 3],
    /// Keep all frames of one experiment on the same side (no leak between sequences).
    pub group_by_experiment: bool,
}

impl Default for SplitSettings {
    fn default() -> Self {
        SplitSettings {
            seed: 42,
            ratios: [0.7, 0.15, 0.15],
            group_by_experiment: false,
        }
    }
}

impl SplitSettings {
    pub fn validate(&self) -> Result<(), ProjectError> {
        if self.ratios.iter().any(|r| !r.is_finite() || *r < 0.0)
            || self.ratios.iter().sum::<f64>() <= 0.0
        {
            return Err(ProjectError::unacceptable(
                "split ratios must be non-negative and not all zero",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips_through_toml() {
        let m = Manifest::new("demo");
        let text = toml::to_string_pretty(&m).unwrap();
        let back: Manifest = toml::from_str(&text).unwrap();
        assert_eq!(m, back);
    }

    #[test]
    fn old_minimal_manifest_gets_defaults() {
        let m: Manifest = toml::from_str("schema_version = 1\nname = \"x\"\n").unwrap();
        assert_eq!(m.classes, ["nerve", "opening wound", "tendon"]);
        assert_eq!(m.roi, Roi::default());
        m.validate().unwrap();
    }

    #[test]
    fn class_names_match_case_and_separator_insensitively() {
        let m = Manifest::new("x");
        assert_eq!(m.match_class("Opening_Wound"), Some("opening wound"));
        assert_eq!(m.match_class(" TENDON "), Some("tendon"));
        assert_eq!(m.match_class("bone"), None);
    }

    #[test]
    fn seed_roi_on_full_hd_is_the_right_square() {
        let r = Roi::default().to_pixels(1920, 1080);
        assert_eq!(
            r,
            PixelRect {
                x: 840,
                y: 0,
                width: 1080,
                height: 1080
            }
        );
        assert_eq!(
            Roi::FULL.to_pixels(7, 3),
            PixelRect {
                x: 0,
                y: 0,
                width: 7,
                height: 3
            }
        );
    }

    #[test]
    fn newer_schema_is_refused() {
        let mut m = Manifest::new("x");
        m.schema_version = 99;
        assert!(m.validate().unwrap_err().to_string().contains("newer"));
    }
}
