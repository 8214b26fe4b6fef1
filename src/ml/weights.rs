//! Weights: importing torchvision state dicts (`.pth` / `.safetensors`) the user supplies, and
//! saving and loading our own (burn's record format, written atomically).

use crate::ml::{Error, Result};
use std::path::Path;

use burn::module::Module;
use burn::store::ModuleStore;
use burn::store::burn_pack::Tensor as PackTensor;
use burn::store::{ModuleSnapshot, PyTorchToBurnAdapter, PytorchStore, SafetensorsStore};
use serde::Serialize;

use super::models::{Arch, Network};
use crate::atomic::write_atomic;

/// What an import loaded and what it could not.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ImportReport {
    pub file: String,
    /// Tensors loaded into the network.
    pub loaded: usize,
    /// Network tensors the file did not provide (they keep their random start).
    pub missing: Vec<String>,
    /// File tensors the network has no place for (e.g. a 1000-class ImageNet head).
    pub unused: Vec<String>,
    /// Tensors present in both but of another shape, with the reason.
    pub mismatched: Vec<String>,
    /// Backbone (or encoder) tensors the file filled.
    pub backbone_loaded: usize,
    /// Backbone tensors left at their random start (missing or of another shape).
    pub backbone_random: usize,
}

impl ImportReport {
    /// The whole backbone came from the file: only then is freezing it meaningful.
    pub fn backbone_pretrained(&self) -> bool {
        self.backbone_loaded > 0 && self.backbone_random == 0
    }

    pub fn summary(&self) -> String {
        let mut text = format!("{}: loaded {} tensors", self.file, self.loaded);
        if !self.mismatched.is_empty() {
            text.push_str(&format!(
                "; {} of another shape (kept random): {}",
                self.mismatched.len(),
                short_list(&self.mismatched)
            ));
        }
        if !self.missing.is_empty() {
            text.push_str(&format!(
                "; {} not in the file (kept random): {}",
                self.missing.len(),
                short_list(&self.missing)
            ));
        }
        if !self.unused.is_empty() {
            text.push_str(&format!(
                "; {} in the file not used: {}",
                self.unused.len(),
                short_list(&self.unused)
            ));
        }
        text
    }
}

fn short_list(items: &[String]) -> String {
    let mut shown: Vec<&str> = items.iter().take(4).map(String::as_str).collect();
    if items.len() > 4 {
        shown.push("...");
    }
    shown.join(", ")
}

/// Every tensor of a .safetensors file or a PyTorch checkpoint.
fn read_tensors(path: &Path) -> Result<Vec<PackTensor>> {
    if !path.is_file() {
        return Err(Error::invalid(path, "no such weights file"));
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    Ok(match ext.as_str() {
        "safetensors" => all_tensors(SafetensorsStore::from_file(path), path, "safetensors file")?,
        // Keep torchvision's indices (`features.18`, `classifier.1`): the key maps rely on them.
        "pth" | "pt" | "bin" | "ckpt" => all_tensors(
            PytorchStore::from_file(path).map_indices_contiguous(false),
            path,
            "PyTorch checkpoint",
        )?,
        _ => {
            return Err(Error::invalid(
                path,
                "weights must be a .pth or .safetensors file",
            ));
        }
    })
}

/// Loads a torchvision-format state dict into `network`, mapping its keys to ours.
pub fn import_torchvision(network: &mut Network, arch: Arch, path: &Path) -> Result<ImportReport> {
    let name = path.display().to_string();
    let tensors = read_tensors(path)?;
    if tensors.is_empty() {
        return Err(Error::invalid(path, "the file holds no tensors"));
    }
    let mut report = ImportReport {
        file: name.clone(),
        ..Default::default()
    };
    let mut mapped = Vec::new();
    for mut t in tensors {
        if t.name.ends_with("num_batches_tracked") {
            continue;
        }
        match arch.torchvision_key(&t.name) {
            Some(ours) => {
                t.name = ours;
                mapped.push(t);
            }
            None => report.unused.push(t.name.clone()),
        }
    }
    if mapped.is_empty() {
        return Err(Error::invalid(
            path,
            format!(
                "none of its {} tensors match a torchvision {} (first key: {})",
                report.unused.len(),
                arch,
                report.unused.first().map(String::as_str).unwrap_or("none")
            ),
        ));
    }
    let result = network.apply(mapped, None, Some(Box::new(PyTorchToBurnAdapter)), true);
    report.loaded = result.applied.len();
    report.missing = result
        .missing
        .iter()
        .map(|(path, _)| path.clone())
        .collect();
    report.unused.extend(result.unused.iter().cloned());
    report.mismatched = result.errors.iter().map(|e| e.to_string()).collect();
    report.missing.sort();
    report.unused.sort();
    let backbone = arch.backbone_prefix();
    report.backbone_loaded = result
        .applied
        .iter()
        .filter(|p| p.contains(backbone))
        .count();
    report.backbone_random = report
        .missing
        .iter()
        .chain(&report.mismatched)
        .filter(|p| p.contains(backbone))
        .count();
    Ok(report)
}

/// Every tensor a weights file holds, or why it cannot be read.
fn all_tensors<S: ModuleStore>(mut store: S, path: &Path, kind: &str) -> Result<Vec<PackTensor>> {
    Ok(store
        .get_all_tensors()
        .map_err(|e| Error::invalid(path, format!("not a readable {kind}: {e}")))?
        .values()
        .cloned()
        .collect())
}

/// Writes a network's weights atomically.
pub fn save(network: &Network, path: &Path) -> Result<()> {
    let bytes = network
        .clone()
        .into_record()
        .into_bytes()
        .map_err(Error::unreadable(path, "cannot encode the weights"))?;
    write_atomic(path, &bytes).map_err(Error::file(path))
}

/// Loads weights saved by [`save`] for inference only, batch norms folded into their
/// convolutions (see `models::fold`): faster, and never to be trained or saved again.
pub fn load_for_inference(network: Network, path: &Path) -> Result<Network> {
    load(network, path).map(Network::folded)
}

/// Loads weights saved by [`save`] into a network of the same architecture.
pub fn load(network: Network, path: &Path) -> Result<Network> {
    let record = burn::store::ModuleRecord::load(path)
        .map_err(Error::unreadable(path, "not a readable weights file"))?;
    network
        .try_load_record(record)
        .map_err(Error::unreadable(path, "does not fit this architecture"))
}
