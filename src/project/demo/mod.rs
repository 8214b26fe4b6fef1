//! `nerve-studio demo`: a synthetic project that looks like the lab's data. Deterministic for a
//! seed (the same bytes on every machine), grouped in dated experiments of chronological frames.

mod band;
pub mod random;
pub mod render;

use super::error::{ProjectError, Result};
use super::label::{ImageLabel, MaskProvenance, Status};
use super::manifest::Manifest;
use super::parallel;
use super::staging::{Staging, check_new_destination};
use super::store::Project;
use crate::mask::encode_mask_png;
use random::Rng;
use render::Tissue;
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    pub images: usize,
    pub seed: u64,
    pub width: u32,
    pub height: u32,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            images: 120,
            seed: 42,
            width: 960,
            height: 540,
        }
    }
}

/// Frames per experiment (one surgery, one date).
const FRAMES_PER_EXPERIMENT: usize = 20;

/// One planned frame.
#[derive(Debug, Clone)]
pub struct PlannedFrame {
    pub stem: String,
    pub experiment: String,
    pub experiment_seed: u64,
    pub frame: u32,
    pub tissue: Tissue,
    pub status: Status,
}

impl PlannedFrame {
    pub fn class_name(&self) -> &'static str {
        match self.tissue {
            Tissue::Nerve => "nerve",
            Tissue::OpeningWound => "opening wound",
            Tissue::Tendon => "tendon",
        }
    }
}

/// The frames of the demo: each surgery opens (wound frames), exposes the nerve, then a tendon.
pub fn plan(opts: &DemoOptions) -> Vec<PlannedFrame> {
    let mut r = Rng::new(opts.seed);
    let start = chrono::NaiveDate::from_ymd_opt(2021, 3, 9).expect("valid date");
    let mut frames = Vec::with_capacity(opts.images);
    let mut e = 0;
    while frames.len() < opts.images {
        let n = FRAMES_PER_EXPERIMENT.min(opts.images - frames.len());
        let date = start + chrono::Days::new(7 * e as u64 + r.below(3) as u64);
        let experiment = date.format("%Y-%m-%d").to_string();
        let experiment_seed = r.next_u64();
        let wound = ((n as f32 * r.range(0.22, 0.36)).round() as usize).min(n);
        let tendon = ((n as f32 * r.range(0.18, 0.3)).round() as usize).min(n - wound);
        for i in 0..n {
            let tissue = if i < wound {
                Tissue::OpeningWound
            } else if i >= n - tendon {
                Tissue::Tendon
            } else {
                Tissue::Nerve
            };
            let roll = r.unit();
            let status = if roll < 0.1 {
                Status::Unlabeled
            } else if roll < 0.2 {
                Status::Reviewed
            } else {
                Status::Labeled
            };
            frames.push(PlannedFrame {
                stem: format!("{}_{:04}", date.format("%Y%m%d"), i + 1),
                experiment: experiment.clone(),
                experiment_seed,
                frame: i as u32 + 1,
                tissue,
                status,
            });
        }
        e += 1;
    }
    frames
}

/// A demo project of `images` Full-HD frames in a temporary folder (gone with the `TempDir`).
pub fn full_hd(images: usize) -> Result<(tempfile::TempDir, std::path::PathBuf)> {
    let dir = tempfile::tempdir().map_err(ProjectError::io(std::env::temp_dir()))?;
    let root = dir.path().join("demo");
    generate(
        &root,
        &DemoOptions {
            images,
            width: 1920,
            height: 1080,
            ..DemoOptions::default()
        },
        &mut |_, _| {},
    )?;
    Ok((dir, root))
}

/// Writes the demo project to `dest` (missing or empty). `progress(done, total)` is called as
/// frames are finished. The project appears whole or not at all.
pub fn generate(
    dest: &Path,
    opts: &DemoOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<()> {
    if opts.images == 0 || opts.width < 64 || opts.height < 36 {
        return Err(ProjectError::invalid(
            dest,
            "a demo needs at least one image of at least 64x36 pixels",
        ));
    }
    check_new_destination(dest)?;
    let staging = Staging::beside(dest)?;
    let root = staging.path().to_path_buf();
    let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("demo");
    let project = Project::create(&root, Manifest::new(name))?;
    let frames = plan(opts);
    parallel::try_map(&frames, |f| write_frame(&root, f, opts), progress)?;
    drop(project);
    let mut project = Project::open(&root)?;
    project.assign_splits()?;
    drop(project);
    staging.finish()?;
    Ok(())
}

fn write_frame(root: &Path, f: &PlannedFrame, opts: &DemoOptions) -> Result<()> {
    let (img, mask) = render::render(
        opts.width,
        opts.height,
        f.tissue,
        f.experiment_seed,
        f.frame,
    );
    let image_path = root.join("images").join(format!("{}.jpg", f.stem));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&img)
        .map_err(|e| ProjectError::invalid(&image_path, e.to_string()))?;
    std::fs::write(&image_path, jpeg).map_err(ProjectError::io(&image_path))?;
    let labeled = f.status != Status::Unlabeled;
    let label = ImageLabel {
        class: labeled.then(|| f.class_name().to_string()),
        status: f.status,
        mask: labeled.then_some(MaskProvenance::Drawn),
        experiment: Some(f.experiment.clone()),
        frame: Some(f.frame),
        annotator: if labeled {
            "demo".into()
        } else {
            String::new()
        },
        updated_at: if labeled {
            format!(
                "{}T10:{:02}:{:02}.000Z",
                f.experiment,
                f.frame / 60,
                f.frame % 60
            )
        } else {
            String::new()
        },
        ..Default::default()
    };
    let label_path = root.join("labels").join(format!("{}.json", f.stem));
    let text = serde_json::to_string_pretty(&label).expect("labels serialise");
    std::fs::write(&label_path, text).map_err(ProjectError::io(&label_path))?;
    if labeled {
        let mask_path = root.join("masks").join(format!("{}.png", f.stem));
        std::fs::write(&mask_path, encode_mask_png(&mask)).map_err(ProjectError::io(&mask_path))?;
    }
    Ok(())
}
