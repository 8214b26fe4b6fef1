//! The training data: which project images a model sees, prepared as the seed lab did (ROI crop,
//! resize), cached, loaded on all cores, augmented and batched into tensors.

use crate::ml::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor, TensorData};
use image::{GrayImage, ImageEncoder, RgbImage};
use serde::Serialize;

use super::models::Task;
use super::recipe::{Augment, Normalisation};
use crate::project::demo::random::Rng;
use crate::project::label::Status;
use crate::project::preprocess::{prepare_image, prepare_mask};
use crate::project::splits::Split;
use crate::project::{ImageEntry, Project};
use crate::project::{parallel, thumbnails};

/// One image a run trains or validates on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Item {
    pub stem: String,
    pub split: Split,
    /// Index into the project's classes.
    pub class: usize,
    /// Hash of the mask file's bytes (segmenters), so a run records exactly what it saw.
    pub mask_hash: Option<String>,
}

/// What a run will use, and what it leaves out and why.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DataPlan {
    pub items: Vec<Item>,
    /// (stem, reason) of every image left out.
    pub excluded: Vec<(String, String)>,
    pub classes: Vec<String>,
}

impl DataPlan {
    pub fn of_split(&self, split: Split) -> Vec<&Item> {
        self.items.iter().filter(|i| i.split == split).collect()
    }

    /// Counts per (split, class name).
    pub fn counts(&self) -> BTreeMap<(Split, String), usize> {
        let mut counts = BTreeMap::new();
        for item in &self.items {
            *counts
                .entry((item.split, self.classes[item.class].clone()))
                .or_insert(0) += 1;
        }
        counts
    }

    /// Counts of excluded images per reason.
    pub fn excluded_by_reason(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for (_, reason) in &self.excluded {
            *counts.entry(reason.clone()).or_insert(0) += 1;
        }
        counts
    }
}

/// Which images a model for `task` can learn from: labeled or reviewed, in a split, with a class
/// (and, for segmenters, of the mask class with a mask file).
pub fn plan(project: &Project, task: Task) -> DataPlan {
    let classes = project.manifest.classes.clone();
    let mut plan = DataPlan {
        classes: classes.clone(),
        ..Default::default()
    };
    for entry in project.images() {
        match include(project, entry, task, &classes) {
            Ok(item) => plan.items.push(item),
            Err(reason) => plan.excluded.push((entry.stem.clone(), reason.to_string())),
        }
    }
    plan
}

fn include(
    project: &Project,
    entry: &ImageEntry,
    task: Task,
    classes: &[String],
) -> Result<Item, &'static str> {
    match entry.label.status {
        Status::Labeled | Status::Reviewed => {}
        Status::Unlabeled => return Err("unlabeled"),
        Status::Flagged => return Err("flagged for review"),
    }
    let position = |name: &str| {
        project
            .manifest
            .match_class(name)
            .and_then(|c| classes.iter().position(|k| k == c))
    };
    let class = match (entry.label.class.as_deref(), task) {
        (Some(name), _) => position(name).ok_or("class not in the project")?,
        // A labeled image with a mask and no class (an empty mask from a segmentation source):
        // a negative for the segmenter, "no nerve here", counted with the mask class.
        (None, Task::Segment) if entry.has_mask => {
            position(&project.manifest.mask_class).ok_or("no class")?
        }
        (None, _) => return Err("no class"),
    };
    let split = entry.split.ok_or("in no split")?;
    let mask_hash = match task {
        Task::Classify => None,
        Task::Segment => {
            // As the seed lab: segmenters learn from frames of the mask class (nerve); the
            // classifier decides which frames they run on.
            if project.manifest.match_class(&classes[class])
                != project.manifest.match_class(&project.manifest.mask_class)
            {
                return Err("not a nerve image (segmenters learn from nerve images)");
            }
            if !entry.has_mask {
                return Err("no mask");
            }
            let bytes =
                std::fs::read(project.mask_path(&entry.stem)).map_err(|_| "mask unreadable")?;
            // A mask must lie on its image: one of another size is left out, and said.
            let mask_size = image::ImageReader::new(std::io::Cursor::new(&bytes))
                .with_guessed_format()
                .ok()
                .and_then(|r| r.into_dimensions().ok());
            let image_size = image::image_dimensions(project.image_path(entry)).ok();
            if mask_size.is_none() || image_size.is_none() {
                return Err("mask unreadable");
            }
            if mask_size != image_size {
                return Err("mask of another size than its image");
            }
            Some(format!("{:016x}", fnv1a(&bytes)))
        }
    };
    Ok(Item {
        stem: entry.stem.clone(),
        split,
        class,
        mask_hash,
    })
}

/// FNV-1a over a file's bytes: a stable fingerprint of a mask.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// An image (and its mask) cropped and resized to the network's input.
#[derive(Clone)]
pub struct Prepared {
    pub rgb: RgbImage,
    pub mask: Option<GrayImage>,
    pub class: usize,
    /// Hash of the mask file these pixels came from.
    pub mask_hash: Option<String>,
}

/// Where the resized inputs are cached: `cache/inputs/<size>/`.
fn cache_dir(project: &Project, size: u32) -> PathBuf {
    project.cache_dir().join("inputs").join(size.to_string())
}

/// Loads every item on all cores, from the cache when it is there.
///
/// A mask is cached by the hash of its file, so a run resumed after its masks were edited still
/// trains on the masks of its snapshot. `strict`: a mask whose file changed since its item's hash
/// was taken (and whose snapshot pixels are not cached) is an error; otherwise the current file is
/// used and its hash returned in `Prepared::mask_hash`.
pub fn load(
    project: &Project,
    items: &[&Item],
    size: u32,
    strict: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Prepared>> {
    let dir = cache_dir(project, size);
    let _ = std::fs::create_dir_all(&dir);
    parallel::try_map(
        items,
        |item| prepare(project, &dir, item, size, strict),
        progress,
    )
}

fn prepare(
    project: &Project,
    dir: &Path,
    item: &Item,
    size: u32,
    strict: bool,
) -> Result<Prepared> {
    let entry = project
        .get(&item.stem)
        .ok_or_else(|| crate::project::ProjectError::UnknownStem(item.stem.clone()))?;
    let cached = dir.join(format!("{}.png", item.stem));
    let rgb = match image::open(&cached) {
        Ok(img) if img.width() == size && img.height() == size => img.to_rgb8(),
        _ => {
            let path = project.image_path(entry);
            let img = thumbnails::decode_image(&path).map_err(|e| Error::invalid(&path, e))?;
            let rgb = prepare_image(&img, &project.manifest.roi, size);
            cache_png(&cached, rgb.as_raw(), size, image::ExtendedColorType::Rgb8);
            rgb
        }
    };
    let (mask, mask_hash) = match &item.mask_hash {
        None => (None, None),
        Some(expected) => {
            let (mask, hash) = prepare_mask_file(project, dir, &item.stem, expected, size, strict)?;
            (Some(mask), Some(hash))
        }
    };
    Ok(Prepared {
        rgb,
        mask,
        class: item.class,
        mask_hash,
    })
}

/// The mask of `stem` at the input size: the cached pixels of the file with hash `expected`, else
/// the file as it is now (see `load` for `strict`). An empty `expected` means "whatever is there".
fn prepare_mask_file(
    project: &Project,
    dir: &Path,
    stem: &str,
    expected: &str,
    size: u32,
    strict: bool,
) -> Result<(GrayImage, String)> {
    let cached = |hash: &str| dir.join(format!("{stem}.mask-{hash}.png"));
    if !expected.is_empty()
        && let Ok(img) = image::open(cached(expected))
        && img.width() == size
        && img.height() == size
    {
        return Ok((img.to_luma8(), expected.to_string()));
    }
    let path = project.mask_path(stem);
    let bytes = std::fs::read(&path).map_err(Error::file(&path))?;
    let hash = format!("{:016x}", fnv1a(&bytes));
    if strict && hash != expected {
        return Err(Error::invalid(
            &path,
            "the mask changed after this run's data snapshot was taken; start a new run to \
             train on the new mask",
        ));
    }
    let (mask, _) = crate::mask::decode_mask_png(&bytes)
        .map_err(Error::unreadable(&path, "not a readable PNG mask"))?;
    let small = prepare_mask(&mask, &project.manifest.roi, size);
    let img = GrayImage::from_raw(size, size, small.as_bytes().to_vec()).expect("mask size");
    cache_png(
        &cached(&hash),
        img.as_raw(),
        size,
        image::ExtendedColorType::L8,
    );
    Ok((img, hash))
}

/// Writes a prepared input to the cache; the cache is an optimisation, so failing is no error.
fn cache_png(path: &Path, pixels: &[u8], size: u32, color: image::ExtendedColorType) {
    let mut bytes = Vec::new();
    if image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(pixels, size, size, color)
        .is_ok()
    {
        let _ = crate::atomic::write_atomic(path, &bytes);
    }
}

/// One augmented sample's pixels as floats, channel-major.
fn augmented(
    sample: &Prepared,
    augment: Option<(&Augment, &mut Rng)>,
) -> (Vec<u8>, Option<Vec<u8>>) {
    let (w, h) = sample.rgb.dimensions();
    let mut rgb = sample.rgb.clone();
    let mut mask = sample.mask.clone();
    if let Some((a, rng)) = augment {
        if a.horizontal_flip && rng.unit() < 0.5 {
            image::imageops::flip_horizontal_in_place(&mut rgb);
            if let Some(m) = mask.as_mut() {
                image::imageops::flip_horizontal_in_place(m);
            }
        }
        if a.rotation_degrees > 0.0 {
            let angle = (rng.unit() * 2.0 - 1.0) * a.rotation_degrees.to_radians();
            rgb = rotate(&rgb, angle);
            mask = mask.map(|m| rotate(&m, angle));
        }
        if a.brightness > 0.0 {
            let factor = 1.0 + (rng.unit() * 2.0 - 1.0) * a.brightness;
            for p in rgb.iter_mut() {
                *p = (*p as f32 * factor).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    debug_assert_eq!(rgb.dimensions(), (w, h));
    (rgb.into_raw(), mask.map(|m| m.into_raw()))
}

/// Rotates about the centre (nearest neighbour, black outside), keeping the size.
fn rotate<P: image::Pixel<Subpixel = u8>>(
    img: &image::ImageBuffer<P, Vec<u8>>,
    angle: f32,
) -> image::ImageBuffer<P, Vec<u8>> {
    let (w, h) = img.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (s, c) = angle.sin_cos();
    let mut out = image::ImageBuffer::<P, Vec<u8>>::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let dx = x as f32 + 0.5 - cx;
            let dy = y as f32 + 0.5 - cy;
            let sx = (c * dx + s * dy + cx).floor();
            let sy = (-s * dx + c * dy + cy).floor();
            if sx >= 0.0 && sy >= 0.0 && (sx as u32) < w && (sy as u32) < h {
                out.put_pixel(x, y, *img.get_pixel(sx as u32, sy as u32));
            }
        }
    }
    out
}

/// A batch on the device.
pub struct Batch {
    /// `[n, 3, S, S]`, normalised.
    pub images: Tensor<4>,
    /// `[n, 1, S, S]` in {0, 1} (segmenters).
    pub masks: Option<Tensor<4>>,
    /// `[n]` class indices.
    pub classes: Tensor<1, Int>,
}

/// Builds a batch; `augment` (with its random source) is applied when given (training only).
pub fn batch(
    samples: &[&Prepared],
    normalisation: Normalisation,
    mut augment: Option<(&Augment, &mut Rng)>,
    device: &Device,
) -> Batch {
    let (w, h) = samples[0].rgb.dimensions();
    let (w, h) = (w as usize, h as usize);
    let plane = w * h;
    let coeff = normalisation.coefficients();
    let mut pixels = Vec::with_capacity(samples.len() * 3 * plane);
    let mut masks = Vec::new();
    let mut classes = Vec::with_capacity(samples.len());
    for sample in samples {
        let (rgb, mask) = augmented(sample, augment.as_mut().map(|(a, r)| (*a, &mut **r)));
        for (c, (scale, offset)) in coeff.iter().enumerate() {
            pixels.extend(
                rgb[c..]
                    .iter()
                    .step_by(3)
                    .map(|&v| v as f32 / 255.0 * scale + offset),
            );
        }
        if let Some(m) = mask {
            masks.extend(m.iter().map(|&v| {
                if crate::mask::is_nerve(v) {
                    1.0f32
                } else {
                    0.0
                }
            }));
        }
        classes.push(sample.class as i64);
    }
    let n = samples.len();
    let images = Tensor::from_data(TensorData::new(pixels, [n, 3, h, w]), device);
    let masks = (masks.len() == n * plane)
        .then(|| Tensor::from_data(TensorData::new(masks, [n, 1, h, w]), device));
    let classes = Tensor::from_data(TensorData::new(classes, [n]), device);
    Batch {
        images,
        masks,
        classes,
    }
}

/// Normalises one RGB image into a `[1, 3, H, W]` tensor (inference).
pub fn image_tensor(rgb: &RgbImage, normalisation: Normalisation, device: &Device) -> Tensor<4> {
    let sample = Prepared {
        rgb: rgb.clone(),
        mask: None,
        class: 0,
        mask_hash: None,
    };
    batch(&[&sample], normalisation, None, device).images
}
