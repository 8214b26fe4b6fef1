//! What a run's weights start from, said plainly and recorded: random, a whole pretrained
//! backbone (which the recipe may freeze), or a file that filled only part of it (never frozen).

use crate::ml::{Error, Result};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::imagenet::{catalog, store};
use super::models::{Arch, Network};
use super::weights;

/// The weights file a run started from (run.json).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightsFile {
    /// The file's name (`mobilenet_v2-b0353104.pth`).
    pub name: String,
    pub sha256: String,
}

/// A run's starting point.
#[derive(Clone, Debug, PartialEq)]
pub struct Start {
    /// In words, for the run and the Train screen.
    pub text: String,
    /// The whole backbone is pretrained: freezing it trains a head on real features.
    pub pretrained: bool,
    pub file: Option<WeightsFile>,
}

/// Where a run's first weights came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// No file: every layer starts random.
    Random,
    /// A file that filled only part of the backbone.
    Partial,
    /// A file that filled the whole backbone (ImageNet or a torchvision file).
    Pretrained,
}

impl Start {
    /// Where these weights come from.
    pub fn provenance(&self) -> Provenance {
        match (&self.file, self.pretrained) {
            (None, _) => Provenance::Random,
            (Some(_), true) => Provenance::Pretrained,
            (Some(_), false) => Provenance::Partial,
        }
    }

    /// Random weights: every layer trains from the first epoch.
    pub fn random() -> Start {
        Start {
            text: RANDOM.to_string(),
            pretrained: false,
            file: None,
        }
    }
}

pub const RANDOM: &str = "random (no pretrained weights): every layer trains from the first \
    epoch, since freezing random features would teach the head nothing";

/// Fills `network` from a torchvision file and says what that gives.
pub fn from_file(network: &mut Network, arch: Arch, path: &Path) -> Result<Start> {
    let sha256 = store::sha256(path).map_err(Error::file(path))?;
    // A file under one of torchvision's names must be that file (someone may have copied a
    // broken one into the weights folder by hand).
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(source) = catalog::all().iter().find(|s| s.file == name)
        && !source.promised_by(&sha256)
    {
        return Err(Error::invalid(
            path,
            format!(
                "its SHA-256 begins {}, not {} as its name says: the file is corrupt or \
                 truncated; delete it and download it again",
                &sha256[..8],
                source.hash_prefix()
            ),
        ));
    }
    let report = weights::import_torchvision(network, arch, path)?;
    let pretrained = report.backbone_pretrained();
    let mut text = report.summary();
    if !pretrained {
        text.push_str(&format!(
            ". Partial: {} of the {} tensors were left random (another width or network?), so \
             nothing is frozen and every layer trains from the first epoch",
            report.backbone_random,
            if arch.task() == super::models::Task::Classify {
                "backbone's"
            } else {
                "encoder's"
            }
        ));
    }
    Ok(Start {
        text,
        pretrained,
        file: Some(WeightsFile { name, sha256 }),
    })
}
