//! The DeepLab / Pascal VOC layout: `JPEGImages/`, `SegmentationClass/` (palette or grey PNG),
//! `ImageSets/Segmentation/{train,val,trainval,test}.txt` (the splits) and, optionally,
//! `ImageSets/Main/<class>.txt` (the stems of each image class, as this program exports them).
//!
//! Mask values: in a palette PNG the nerve is index 1 (0 background, 255 VOC's "void" border,
//! read as background); in a grey PNG every non-zero value is nerve (0/1 and 0/255 both work).

use super::{ImportItem, SplitHint, sorted_entries};
use crate::mask::Mask;
use crate::project::error::{ProjectError, Result};
use crate::project::label::{ImageLabel, MaskProvenance, Status};
use crate::project::manifest::Manifest;
use crate::project::splits::{Split, parse_stem_list};
use crate::project::stem::{check_stem, is_image_file, split_name};
use std::collections::HashMap;
use std::path::Path;

/// The palette this program writes: VOC's own colours for background and class 1.
pub const PALETTE: [u8; 6] = [0, 0, 0, 128, 0, 0];

pub fn read(src: &Path, manifest: &Manifest, notes: &mut Vec<String>) -> Result<Vec<ImportItem>> {
    let images_dir = src.join("JPEGImages");
    if !images_dir.is_dir() {
        return Err(ProjectError::invalid(
            &images_dir,
            "missing: not a VOC / DeepLab dataset",
        ));
    }
    let mut items = Vec::new();
    for (name, path) in sorted_entries(&images_dir)? {
        if !is_image_file(&name) {
            notes.push(format!("{}: not an image (ignored)", path.display()));
            continue;
        }
        let (stem, ext) = split_name(&name).expect("image files have an extension");
        let mask_path = src.join("SegmentationClass").join(format!("{stem}.png"));
        let mask = if mask_path.is_file() {
            Some(read_class_png(&mask_path)?)
        } else {
            None
        };
        items.push(ImportItem {
            stem: stem.to_string(),
            source: path.clone(),
            extension: ext.to_string(),
            label: ImageLabel {
                mask: mask.as_ref().map(|_| MaskProvenance::Imported),
                ..Default::default()
            },
            mask,
            split: None,
            status_given: false,
        });
    }
    let index: HashMap<String, usize> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.stem.clone(), i))
        .collect();
    let sets = src.join("ImageSets").join("Segmentation");
    for (file, hint) in [
        ("trainval", SplitHint::TrainVal),
        ("train", SplitHint::Exact(Split::Train)),
        ("val", SplitHint::Exact(Split::Val)),
        ("test", SplitHint::Exact(Split::Test)),
    ] {
        let path = sets.join(format!("{file}.txt"));
        for stem in read_list(&path)? {
            let i = find(&index, &stem, &path)?;
            items[i].split = Some(hint);
        }
    }
    let main = src.join("ImageSets").join("Main");
    if main.is_dir() {
        for (name, path) in sorted_entries(&main)? {
            let Some(class) = name
                .strip_suffix(".txt")
                .and_then(|n| manifest.match_class(n))
            else {
                notes.push(format!(
                    "{}: not a class list of this project (ignored)",
                    path.display()
                ));
                continue;
            };
            for stem in read_list(&path)? {
                let i = find(&index, &stem, &path)?;
                items[i].label.class = Some(class.to_string());
                items[i].label.status = Status::Labeled;
            }
        }
    }
    Ok(items)
}

/// Stem lists; VOC's classification lists (`stem  1` / `stem -1`) keep only the positives.
fn read_list(path: &Path) -> Result<Vec<String>> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(path).map_err(ProjectError::io(path))?;
    let mut out = Vec::new();
    for line in parse_stem_list(&text) {
        let mut parts = line.split_whitespace();
        let stem = parts.next().unwrap_or_default().to_string();
        if parts
            .next()
            .is_some_and(|flag| flag.starts_with('-') || flag == "0")
        {
            continue;
        }
        check_stem(&stem).map_err(|r| ProjectError::invalid(path, r))?;
        out.push(stem);
    }
    Ok(out)
}

fn find(index: &HashMap<String, usize>, stem: &str, list: &Path) -> Result<usize> {
    index.get(stem).copied().ok_or_else(|| {
        ProjectError::invalid(list, format!("lists `{stem}`, which is not in JPEGImages/"))
    })
}

/// Reads a VOC class PNG: palette indices where it has a palette, else grey values.
pub fn read_class_png(path: &Path) -> Result<Mask> {
    let bad = |e: String| ProjectError::invalid(path, format!("not a readable mask: {e}"));
    let file = std::fs::File::open(path).map_err(ProjectError::io(path))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(|e| bad(e.to_string()))?;
    let mut buf = vec![
        0;
        reader
            .output_buffer_size()
            .ok_or_else(|| bad("image too large".into()))?
    ];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| bad(e.to_string()))?;
    let (w, h) = (info.width, info.height);
    let bits = info.bit_depth as u8 as usize;
    let samples = info.color_type.samples();
    let row = info.line_size;
    let value = |x: usize, y: usize| -> u16 {
        let line = &buf[y * row..(y + 1) * row];
        match bits {
            16 => u16::from_be_bytes([line[x * samples * 2], line[x * samples * 2 + 1]]),
            8 => line[x * samples] as u16,
            b => {
                let bit = x * b;
                ((line[bit / 8] >> (8 - b - bit % 8)) & ((1 << b) - 1) as u8) as u16
            }
        }
    };
    let palette = info.color_type == png::ColorType::Indexed;
    if !palette && samples >= 3 {
        return Err(bad(
            "a colour mask without a palette; save it as palette or grey PNG".into(),
        ));
    }
    let mut on = Vec::with_capacity(w as usize * h as usize);
    for y in 0..h as usize {
        for x in 0..w as usize {
            let v = value(x, y);
            on.push(if palette {
                (v == 1) as u8
            } else {
                (v != 0) as u8
            });
        }
    }
    Ok(Mask::from_nonzero(w, h, &on))
}

/// Encodes a mask as a VOC palette PNG (index 0 background, 1 nerve).
pub fn encode_class_png(mask: &Mask) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, mask.width(), mask.height());
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_palette(PALETTE.to_vec());
        let mut writer = enc.write_header().expect("in-memory PNG header");
        let idx: Vec<u8> = mask.as_bytes().iter().map(|&v| (v != 0) as u8).collect();
        writer.write_image_data(&idx).expect("in-memory PNG data");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_and_grey_masks_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Mask::empty(9, 5);
        m.set(2, 3, true);
        m.set(8, 0, true);
        let p = dir.path().join("a.png");
        std::fs::write(&p, encode_class_png(&m)).unwrap();
        assert_eq!(read_class_png(&p).unwrap(), m);
        let g = dir.path().join("g.png");
        image::GrayImage::from_raw(3, 1, vec![0, 1, 0])
            .unwrap()
            .save(&g)
            .unwrap();
        assert_eq!(read_class_png(&g).unwrap().count(), 1);
        let rgb = dir.path().join("c.png");
        image::RgbImage::new(2, 2).save(&rgb).unwrap();
        assert!(
            read_class_png(&rgb)
                .unwrap_err()
                .to_string()
                .contains("c.png")
        );
    }
}
