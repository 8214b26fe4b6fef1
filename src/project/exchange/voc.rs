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
use crate::project::limits;
use crate::project::manifest::Manifest;
use crate::project::splits::{Split, resolve_stem, stem_lines};
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
            let size = limits::image_size(&path)?;
            Some(read_class_png_of(&mask_path, size)?)
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
    read_splits(src, &index, &mut items)?;
    read_classes(src, manifest, &index, &mut items, notes)?;
    Ok(items)
}

/// The split lists each image is named in.
const SPLIT_LISTS: [(&str, SplitHint); 4] = [
    ("trainval", SplitHint::TrainVal),
    ("train", SplitHint::Exact(Split::Train)),
    ("val", SplitHint::Exact(Split::Val)),
    ("test", SplitHint::Exact(Split::Test)),
];

/// Splits from ImageSets: Segmentation lists name the images with a mask; VOC's Main lists
/// (classification) may name the others, and give a split to an image no Segmentation list has.
fn read_splits(src: &Path, index: &HashMap<String, usize>, items: &mut [ImportItem]) -> Result<()> {
    for folder in ["Segmentation", "Main"] {
        let sets = src.join("ImageSets").join(folder);
        for (file, hint) in SPLIT_LISTS {
            let path = sets.join(format!("{file}.txt"));
            for stem in read_list(&path, index)? {
                let i = find(index, &stem, &path)?;
                // An exact split is better than "train or val"; Main only fills in.
                let better = match (items[i].split, hint) {
                    (None, _) => true,
                    (Some(SplitHint::TrainVal), SplitHint::Exact(_)) => true,
                    _ => folder == "Segmentation",
                };
                if better {
                    items[i].split = Some(hint);
                }
            }
        }
    }
    Ok(())
}

/// Classes from ImageSets/Main's per-class lists (`<class>.txt`).
fn read_classes(
    src: &Path,
    manifest: &Manifest,
    index: &HashMap<String, usize>,
    items: &mut [ImportItem],
    notes: &mut Vec<String>,
) -> Result<()> {
    let main = src.join("ImageSets").join("Main");
    if main.is_dir() {
        for (name, path) in sorted_entries(&main)? {
            if SPLIT_LISTS
                .iter()
                .any(|(file, _)| name == format!("{file}.txt"))
            {
                continue;
            }
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
            for stem in read_list(&path, index)? {
                let i = find(index, &stem, &path)?;
                items[i].label.class = Some(class.to_string());
                items[i].label.status = Status::Labeled;
            }
        }
    }
    Ok(())
}

/// Stem lists; VOC's classification lists (`stem  1` / `stem -1`) keep only the positives. A
/// line is first read whole, so that a stem with spaces survives (`known`: JPEGImages' stems).
fn read_list(path: &Path, known: &HashMap<String, usize>) -> Result<Vec<String>> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let bytes = std::fs::read(path).map_err(ProjectError::io(path))?;
    let text =
        String::from_utf8(bytes).map_err(|_| ProjectError::invalid(path, "not UTF-8 text"))?;
    let is_known = |s: &str| known.contains_key(s);
    let mut out = Vec::new();
    for line in stem_lines(&text) {
        if let Some(stem) = resolve_stem(line, is_known).filter(|s| is_known(s)) {
            out.push(stem.to_string());
            continue;
        }
        let (stem, flag) = match line.trim().rsplit_once(char::is_whitespace) {
            Some((stem, flag)) if matches!(flag, "1" | "-1" | "0") => (stem.trim(), Some(flag)),
            _ => (line.trim(), None),
        };
        if stem.starts_with('#') && !is_known(stem) {
            continue;
        }
        if flag.is_some_and(|f| f != "1") {
            continue;
        }
        check_stem(stem).map_err(|r| ProjectError::invalid(path, r))?;
        out.push(stem.to_string());
    }
    Ok(out)
}

fn find(index: &HashMap<String, usize>, stem: &str, list: &Path) -> Result<usize> {
    index.get(stem).copied().ok_or_else(|| {
        ProjectError::invalid(list, format!("lists `{stem}`, which is not in JPEGImages/"))
    })
}

/// Reads a VOC class PNG: palette indices where it has a palette, else grey values.
#[cfg(test)]
pub fn read_class_png(path: &Path) -> Result<Mask> {
    read_png_within(path, (limits::MAX_SIDE, limits::MAX_SIDE), None)
}

/// Reads the class PNG of an image of `size`: it must be that size (its header is checked
/// before anything is allocated).
pub fn read_class_png_of(path: &Path, size: (u32, u32)) -> Result<Mask> {
    read_png_within(path, size, Some(size))
}

fn read_png_within(path: &Path, within: (u32, u32), exactly: Option<(u32, u32)>) -> Result<Mask> {
    let bad = |e: String| ProjectError::invalid(path, format!("not a readable mask: {e}"));
    let file = std::fs::File::open(path).map_err(ProjectError::io(path))?;
    let bytes = limits::png_bytes(within.0, within.1).min(usize::MAX as u64) as usize;
    let mut decoder =
        png::Decoder::new_with_limits(std::io::BufReader::new(file), png::Limits { bytes });
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(|e| bad(e.to_string()))?;
    let (w, h) = (reader.info().width, reader.info().height);
    if let Some(why) = limits::size_problem(w, h) {
        return Err(bad(format!("its header claims {why}")));
    }
    if let Some((iw, ih)) = exactly.filter(|&s| s != (w, h)) {
        return Err(ProjectError::invalid(
            path,
            format!("the mask is {w}x{h} but its image is {iw}x{ih}"),
        ));
    }
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
