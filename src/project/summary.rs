//! Counts by class, status and split, and a deeper check for `nerve-studio info`.

use super::label::Status;
use super::splits::{Split, parse_stem_list};
use super::store::{Problem, Project};
use crate::mask;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counts {
    pub images: usize,
    /// Images per class, in the project's class order; `unlabeled` counts images with no class.
    pub classes: BTreeMap<String, usize>,
    pub no_class: usize,
    pub status: BTreeMap<String, usize>,
    /// Images per split; `unassigned` counts images in no split.
    pub splits: BTreeMap<String, usize>,
    pub unassigned: usize,
    pub masks: usize,
    pub experiments: usize,
}

impl Project {
    pub fn counts(&self) -> Counts {
        let mut classes: BTreeMap<String, usize> = self
            .manifest
            .classes
            .iter()
            .map(|c| (c.clone(), 0))
            .collect();
        let mut status: BTreeMap<String, usize> = Status::ALL
            .iter()
            .map(|s| (s.name().to_string(), 0))
            .collect();
        let mut splits: BTreeMap<String, usize> = Split::ALL
            .iter()
            .map(|s| (s.name().to_string(), 0))
            .collect();
        let (mut no_class, mut unassigned, mut masks) = (0, 0, 0);
        let mut experiments = HashSet::new();
        for e in self.images() {
            match e
                .label
                .class
                .as_deref()
                .and_then(|c| self.manifest.match_class(c))
            {
                Some(c) => *classes.entry(c.to_string()).or_default() += 1,
                None => no_class += 1,
            }
            *status.entry(e.label.status.name().to_string()).or_default() += 1;
            match e.split {
                Some(s) => *splits.entry(s.name().to_string()).or_default() += 1,
                None => unassigned += 1,
            }
            masks += e.has_mask as usize;
            experiments.insert(e.experiment());
        }
        Counts {
            images: self.images().len(),
            classes,
            no_class,
            status,
            splits,
            unassigned,
            masks,
            experiments: experiments.len(),
        }
    }

    /// Everything worth a person's attention: what opening found, plus a read of every mask's
    /// header against its image, stray files, unknown classes and stale split entries.
    pub fn check(&self) -> Vec<Problem> {
        let mut out = self.open_problems.clone();
        let mut push = |file: String, problem: String| out.push(Problem { file, problem });
        for (path, what) in super::leftovers::find(self.root()) {
            let file = path
                .strip_prefix(self.root())
                .unwrap_or(&path)
                .display()
                .to_string();
            push(
                file,
                format!("{what}; removed when the project is next opened for editing"),
            );
        }
        let stems: HashSet<&str> = self.images().iter().map(|e| e.stem.as_str()).collect();
        for e in self.images() {
            if let Some(c) = e
                .label
                .class
                .as_ref()
                .filter(|c| self.manifest.match_class(c).is_none())
            {
                push(
                    format!("labels/{}.json", e.stem),
                    format!("class `{c}` is not one of the project's classes"),
                );
            }
            if e.label.status != Status::Unlabeled && e.label.class.is_none() {
                push(
                    format!("labels/{}.json", e.stem),
                    format!("status is {} but no class is set", e.label.status),
                );
            }
            if !e.has_mask {
                continue;
            }
            self.check_mask(e, &mut push);
        }
        for (folder, suffix) in [("labels", ".json"), ("masks", ".png")] {
            if let Ok(rd) = std::fs::read_dir(self.root().join(folder)) {
                let mut orphans: Vec<String> = rd
                    .filter_map(|d| d.ok()?.file_name().into_string().ok())
                    .filter(|n| n.strip_suffix(suffix).is_some_and(|s| !stems.contains(s)))
                    .collect();
                orphans.sort();
                for name in orphans {
                    push(format!("{folder}/{name}"), "no image with this stem".into());
                }
            }
        }
        for name in ["train", "val", "test", "trainval"] {
            let path = self.root().join("splits").join(format!("{name}.txt"));
            if let Ok(text) = std::fs::read_to_string(&path) {
                let missing: Vec<String> = parse_stem_list(&text)
                    .into_iter()
                    .filter(|s| !stems.contains(s.as_str()))
                    .collect();
                if !missing.is_empty() {
                    push(
                        format!("splits/{name}.txt"),
                        format!(
                            "{} stems with no image, e.g. `{}`",
                            missing.len(),
                            missing[0]
                        ),
                    );
                }
            }
        }
        out
    }

    /// An image's mask against its image: readable, the same size, 8-bit grey of 0 and 255.
    fn check_mask(&self, e: &super::ImageEntry, push: &mut impl FnMut(String, String)) {
        let mask_file = format!("masks/{}.png", e.stem);
        let image_size = image::image_dimensions(self.image_path(e));
        let mask_size = image::image_dimensions(self.mask_path(&e.stem));
        match (image_size, mask_size) {
            (Err(err), _) => push(
                format!("images/{}", e.file_name),
                format!("not a readable image: {err}"),
            ),
            (_, Err(err)) => push(mask_file, format!("not a readable mask: {err}")),
            (Ok(i), Ok(m)) if i != m => push(
                mask_file,
                format!("mask is {}x{} but its image is {}x{}", m.0, m.1, i.0, i.1),
            ),
            _ => {
                let Ok(bytes) = std::fs::read(self.mask_path(&e.stem)) else {
                    return;
                };
                if let Some(kind) = not_grey8(&bytes) {
                    push(
                        mask_file.clone(),
                        format!("mask is {kind}, not an 8-bit grey PNG of 0 and 255"),
                    );
                }
                match mask::decode_mask_png(&bytes) {
                    Ok((_, true)) => push(mask_file, "mask has values other than 0 and 255".into()),
                    Err(err) => push(mask_file, err.to_string()),
                    _ => {}
                }
            }
        }
    }
}

/// What a mask PNG is when it is not 8-bit grey ("RGBA, 8-bit"), from its header.
fn not_grey8(png_bytes: &[u8]) -> Option<String> {
    let reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .ok()?;
    let info = reader.info();
    let grey8 =
        info.color_type == png::ColorType::Grayscale && info.bit_depth == png::BitDepth::Eight;
    (!grey8).then(|| format!("{:?}, {}-bit", info.color_type, info.bit_depth as u8))
}
