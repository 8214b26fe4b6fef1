//! Recipes: `models/<name>.toml`, an architecture with the seed lab's hyper-parameters.

use crate::ml::{Error, Result};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::models::{Arch, ModelSpec, Task};

/// The loss a segmenter trains with (classifiers always use cross-entropy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    CrossEntropy,
    Dice,
    BceDice,
}

/// How pixels are scaled before the network (the weights' convention).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Normalisation {
    /// torchvision: RGB in [0,1], minus mean (0.485, 0.456, 0.406), over std (0.229, 0.224, 0.225).
    #[default]
    Imagenet,
    /// RGB in [0,1] (the TF tutorials' U-Net).
    Unit,
    /// RGB in [-1,1] (Keras MobileNetV2 `preprocess_input`).
    Symmetric,
}

impl Normalisation {
    /// (scale, offset) per channel so that `value/255 * scale + offset` is the network input.
    pub fn coefficients(self) -> [(f32, f32); 3] {
        match self {
            Normalisation::Imagenet => {
                let mean = [0.485f32, 0.456, 0.406];
                let std = [0.229f32, 0.224, 0.225];
                [0, 1, 2].map(|c| (1.0 / std[c], -mean[c] / std[c]))
            }
            Normalisation::Unit => [(1.0, 0.0); 3],
            Normalisation::Symmetric => [(2.0, -1.0); 3],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Augment {
    /// Mirror left-right with probability 0.5 (image and mask together).
    #[serde(default = "yes")]
    pub horizontal_flip: bool,
    /// Rotate by a random angle in [-d, d] degrees.
    #[serde(default)]
    pub rotation_degrees: f32,
    /// Scale brightness by a random factor in [1-b, 1+b].
    #[serde(default)]
    pub brightness: f32,
}

fn yes() -> bool {
    true
}

impl Default for Augment {
    fn default() -> Self {
        Self {
            horizontal_flip: true,
            rotation_degrees: 0.0,
            brightness: 0.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    pub architecture: Arch,
    /// Square input side in pixels, a multiple of 32.
    pub image_size: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Epochs of the first stage (classifiers: backbone frozen; segmenters: all epochs).
    pub epochs: usize,
    /// Classifiers: epochs of the second stage, from `fine_tune_at` on at `learning_rate/10`.
    #[serde(default)]
    pub fine_tune_epochs: usize,
    /// Classifiers: the first backbone unit trained in the second stage (0 = the stem; units are
    /// the stem, then each block, then the last layer).
    #[serde(default)]
    pub fine_tune_at: usize,
    #[serde(default = "default_dropout")]
    pub dropout: f64,
    /// MobileNetV2 width multiplier (classifier).
    #[serde(default = "default_width")]
    pub width: f64,
    #[serde(default = "default_loss")]
    pub loss: Loss,
    #[serde(default)]
    pub normalisation: Normalisation,
    /// Stop when validation loss has not improved for this many epochs (0: never).
    #[serde(default = "default_patience")]
    pub early_stopping_patience: usize,
    /// Segmenters with pretrained weights: keep the encoder frozen (the TF tutorial does).
    #[serde(default)]
    pub freeze_encoder: bool,
    #[serde(default)]
    pub augment: Augment,
    /// Shuffling and initialisation seed.
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_dropout() -> f64 {
    0.3
}
fn default_width() -> f64 {
    1.0
}
fn default_loss() -> Loss {
    Loss::CrossEntropy
}
fn default_patience() -> usize {
    5
}
fn default_seed() -> u64 {
    42
}

/// A recipe and where it came from.
#[derive(Clone, Debug)]
pub struct NamedRecipe {
    pub name: String,
    pub path: PathBuf,
    pub recipe: Recipe,
}

impl Recipe {
    pub fn task(&self) -> Task {
        self.architecture.task()
    }

    pub fn spec(&self, classes: usize) -> ModelSpec {
        ModelSpec {
            arch: self.architecture,
            classes,
            width: self.width,
            dropout: self.dropout,
        }
    }

    pub fn total_epochs(&self) -> usize {
        self.epochs + self.fine_tune_epochs
    }

    /// `--epochs N` sets the total; a classifier keeps its stages' proportions (at least one
    /// epoch in each stage that had any).
    pub fn with_total_epochs(mut self, total: usize) -> Self {
        let total = total.max(1);
        if self.fine_tune_epochs == 0 || total == 1 {
            self.epochs = total;
            self.fine_tune_epochs = 0;
        } else {
            let first =
                (total as f64 * self.epochs as f64 / self.total_epochs() as f64).round() as usize;
            self.epochs = first.clamp(1, total - 1);
            self.fine_tune_epochs = total - self.epochs;
        }
        self
    }

    pub fn validate(&self) -> Result<()> {
        let multiple = self.architecture.size_multiple();
        if self.image_size == 0 || !self.image_size.is_multiple_of(multiple) {
            return Err(Error::request(format!(
                "image_size {} is not a positive multiple of {multiple}",
                self.image_size
            )));
        }
        if !(1..=4096).contains(&self.batch_size) {
            return Err(Error::request(format!(
                "batch_size {} is outside 1..=4096",
                self.batch_size
            )));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate < 1.0) {
            return Err(Error::request(format!(
                "learning_rate {} must be between 0 and 1",
                self.learning_rate
            )));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::request(format!(
                "dropout {} must be in [0, 1)",
                self.dropout
            )));
        }
        if self.total_epochs() == 0 {
            return Err(Error::request("epochs must be at least 1"));
        }
        if !(self.width > 0.0 && self.width <= 2.0) {
            return Err(Error::request(format!(
                "width {} must be in (0, 2]",
                self.width
            )));
        }
        if self.task() == Task::Classify && self.loss != Loss::CrossEntropy {
            return Err(Error::request(
                "a classifier trains with loss = \"cross_entropy\"",
            ));
        }
        Ok(())
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("recipes serialise")
    }

    pub fn parse(text: &str, path: &Path) -> Result<Recipe> {
        let recipe: Recipe = toml::from_str(text).map_err(|e| Error::invalid(path, e.message()))?;
        recipe.validate().map_err(|e| Error::invalid(path, e))?;
        Ok(recipe)
    }
}

/// Where the recipe files are: `models/` beside the program's sources or the working directory,
/// or `$NERVE_STUDIO_MODELS`.
pub fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("NERVE_STUDIO_MODELS") {
        return PathBuf::from(dir);
    }
    let here = PathBuf::from("models");
    if here.is_dir() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// Finds a recipe by name (`models/<name>.toml`) or path.
pub fn load(name_or_path: &str) -> Result<NamedRecipe> {
    let as_path = PathBuf::from(name_or_path);
    let path =
        if as_path.extension().is_some_and(|e| e == "toml") || as_path.components().count() > 1 {
            as_path
        } else {
            models_dir().join(format!("{name_or_path}.toml"))
        };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::invalid(
                &path,
                format!("no such recipe (known: {})", list().join(", ")),
            )
        } else {
            Error::file(&path)(e)
        }
    })?;
    let recipe = Recipe::parse(&text, &path)?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(NamedRecipe { name, path, recipe })
}

/// Names of the recipes in `models/`.
pub fn list() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(models_dir())
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let p = e.path();
                    let stem = p.file_stem()?.to_string_lossy().into_owned();
                    (p.extension()? == "toml").then_some(stem)
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
