//! Supervisely project import (see shared/reference/supervisely-format.md). The image class
//! comes from a tag (a `oneof_string` tag such as `tissue=nerve`, or one tag per class); the
//! nerve mask from the bitmap (or polygon) objects of the project's mask class, or else from
//! `masks_machine/` through `obj_class_to_machine_color.json`.

use super::{ImportItem, SplitHint, bitmap, project_class, sorted_entries};
use crate::mask::{Mask, polygon};
use crate::project::error::{ProjectError, Result};
use crate::project::label::{ImageLabel, MaskProvenance, Status};
use crate::project::limits;
use crate::project::manifest::{Manifest, class_key};
use crate::project::splits::Split;
use crate::project::stem::split_name;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Tags this program writes besides the class tag, read back on import.
pub const STATUS_TAG: &str = "status";
pub const EXPERIMENT_TAG: &str = "experiment";
pub const FRAME_TAG: &str = "frame";
pub const MASK_TAG: &str = "nerve_studio_mask";
pub const CLASS_TAG: &str = "tissue";

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Meta {
    #[serde(default)]
    pub classes: Vec<MetaClass>,
    #[serde(default)]
    pub tags: Vec<Value>,
    #[serde(
        default,
        rename = "projectType",
        skip_serializing_if = "Option::is_none"
    )]
    pub project_type: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct MetaClass {
    pub title: String,
    #[serde(default)]
    pub shape: String,
    #[serde(default)]
    pub color: String,
    #[serde(default)]
    pub geometry_config: Value,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Annotation {
    #[serde(default)]
    pub description: String,
    pub size: Size,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub objects: Vec<Object>,
}

#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
pub struct Size {
    pub height: u32,
    pub width: u32,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Tag {
    pub name: String,
    #[serde(default)]
    pub value: Value,
    #[serde(
        default,
        rename = "labelerLogin",
        skip_serializing_if = "Option::is_none"
    )]
    pub labeler_login: Option<String>,
    #[serde(default, rename = "updatedAt", skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Object {
    #[serde(rename = "classTitle")]
    pub class_title: String,
    #[serde(default, rename = "geometryType")]
    pub geometry_type: String,
    /// The object's tags: required by Supervisely's own reader (its SDK refuses an object
    /// without the key), written even when empty.
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitmap: Option<BitmapJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Points>,
    #[serde(
        default,
        rename = "labelerLogin",
        skip_serializing_if = "Option::is_none"
    )]
    pub labeler_login: Option<String>,
    #[serde(default, rename = "updatedAt", skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default, rename = "nnCreated")]
    pub nn_created: bool,
    #[serde(default, rename = "nnUpdated")]
    pub nn_updated: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct BitmapJson {
    pub data: String,
    pub origin: [i64; 2],
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Points {
    #[serde(default)]
    pub exterior: Vec<[f64; 2]>,
    #[serde(default)]
    pub interior: Vec<Vec<[f64; 2]>>,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(ProjectError::io(path))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ProjectError::invalid(path, format!("not valid Supervisely JSON: {e}")))
}

/// Folders holding `ann/`: at the top level, or under `datasets/` as newer SDKs write them.
fn datasets(src: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for (name, path) in sorted_entries(src)? {
        if path.join("ann").is_dir() {
            out.push((name, path));
        } else if name == "datasets" && path.is_dir() {
            for (n, p) in sorted_entries(&path)? {
                if p.join("ann").is_dir() {
                    out.push((n, p));
                }
            }
        }
    }
    Ok(out)
}

/// An annotation file and the image it describes.
struct Pair<'a> {
    image_path: PathBuf,
    stem: &'a str,
    ext: &'a str,
    ann: Annotation,
    /// The image's size, which the annotation's `size` must match.
    size: (u32, u32),
}

/// The image `image_name` that the annotation at `ann_path` describes, checked against it.
fn read_pair<'a>(dir: &Path, image_name: &'a str, ann_path: &Path) -> Result<Pair<'a>> {
    let image_path = dir.join("img").join(image_name);
    if !image_path.is_file() {
        return Err(ProjectError::invalid(
            &image_path,
            format!("missing: {} has no image", ann_path.display()),
        ));
    }
    let (stem, ext) = split_name(image_name)
        .ok_or_else(|| ProjectError::invalid(&image_path, "image name has no extension"))?;
    let ann: Annotation = read_json(ann_path)?;
    let (w, h) = limits::image_size(&image_path)?;
    if (ann.size.width, ann.size.height) != (w, h) {
        return Err(ProjectError::invalid(
            ann_path,
            format!(
                "`size` says {}x{}, but its image is {w}x{h}",
                ann.size.width, ann.size.height
            ),
        ));
    }
    Ok(Pair {
        image_path,
        stem,
        ext,
        ann,
        size: (w, h),
    })
}

pub fn read(src: &Path, manifest: &Manifest, notes: &mut Vec<String>) -> Result<Vec<ImportItem>> {
    let meta_path = src.join("meta.json");
    if !meta_path.is_file() {
        return Err(ProjectError::invalid(
            &meta_path,
            "missing: not a Supervisely project export",
        ));
    }
    let meta: Meta = read_json(&meta_path)?;
    let mask_key = class_key(&manifest.mask_class);
    let mask_titles: BTreeSet<String> = meta
        .classes
        .iter()
        .filter(|c| class_key(&c.title) == mask_key)
        .map(|c| c.title.clone())
        .collect();
    let machine_value = machine_value(src, &mask_titles, notes)?;
    let sets = datasets(src)?;
    if sets.is_empty() {
        return Err(ProjectError::invalid(
            src,
            "no dataset folder with an ann/ folder inside",
        ));
    }
    let mut ignored: BTreeMap<String, usize> = BTreeMap::new();
    let mut items = Vec::new();
    for (dataset, dir) in sets {
        for (ann_name, ann_path) in sorted_entries(&dir.join("ann"))? {
            let Some(image_name) = ann_name.strip_suffix(".json") else {
                notes.push(format!(
                    "{}: not an annotation file (ignored)",
                    ann_path.display()
                ));
                continue;
            };
            let Pair {
                image_path,
                stem,
                ext,
                ann,
                size: (w, h),
            } = read_pair(&dir, image_name, &ann_path)?;
            let machine = machine_value
                .and_then(|v| read_machine_mask(&dir, image_name, stem, v, (w, h)).transpose())
                .transpose()?;
            let item = read_item(
                &ann,
                &ann_path,
                &dataset,
                stem,
                manifest,
                &mask_titles,
                machine,
                &mut ignored,
            )?;
            items.push(ImportItem {
                source: image_path,
                extension: ext.to_string(),
                ..item
            });
        }
    }
    for (what, n) in ignored {
        notes.push(format!(
            "{n} objects of {what} ignored (only {} masks are imported)",
            manifest.mask_class
        ));
    }
    Ok(items)
}

/// The grey value of the mask class in `masks_machine/`, from `obj_class_to_machine_color.json`.
fn machine_value(
    src: &Path,
    mask_titles: &BTreeSet<String>,
    notes: &mut Vec<String>,
) -> Result<Option<u8>> {
    let path = src.join("obj_class_to_machine_color.json");
    if !path.is_file() {
        return Ok(None);
    }
    let map: BTreeMap<String, Vec<u8>> = read_json(&path)?;
    let value = map
        .iter()
        .find(|(k, _)| mask_titles.contains(*k))
        .and_then(|(_, v)| v.first().copied());
    if value.is_none() {
        notes.push(format!(
            "{}: no colour for the mask class; masks_machine/ ignored",
            path.display()
        ));
    }
    Ok(value)
}

/// An image file that must be no larger than `within` (its image's size), decoded with limits.
fn open_limited(path: &Path, within: (u32, u32)) -> Result<image::DynamicImage> {
    let bad = |e: String| ProjectError::invalid(path, format!("not a readable mask: {e}"));
    let mut reader = image::ImageReader::open(path)
        .map_err(ProjectError::io(path))?
        .with_guessed_format()
        .map_err(ProjectError::io(path))?;
    reader.limits(limits::decoder(within.0, within.1));
    reader.decode().map_err(|e| bad(e.to_string()))
}

fn read_machine_mask(
    dir: &Path,
    image_name: &str,
    stem: &str,
    value: u8,
    within: (u32, u32),
) -> Result<Option<Mask>> {
    let machine = dir.join("masks_machine");
    let Some(path) = [format!("{stem}.png"), format!("{image_name}.png")]
        .into_iter()
        .map(|n| machine.join(n))
        .find(|p| p.is_file())
    else {
        return Ok(None);
    };
    let img = open_limited(&path, within)?;
    let gray = img.to_luma8();
    let on: Vec<u8> = gray.pixels().map(|p| (p.0[0] == value) as u8).collect();
    Ok(Some(Mask::from_nonzero(gray.width(), gray.height(), &on)))
}

/// What an annotation's tags say about its image.
#[derive(Default)]
struct Tags<'a> {
    label: ImageLabel,
    split: Option<SplitHint>,
    status: Option<Status>,
    /// The mask provenance tag, when written by us.
    mask: Option<String>,
    /// The tag that gave the class (its author and time stand for the label's).
    class_tag: Option<&'a Tag>,
}

/// The objects of an annotation drawn into one mask.
struct Drawing {
    mask: Mask,
    any_object: bool,
    nn_created: bool,
    nn_updated: bool,
    /// The latest change and the first author found on the objects.
    latest: String,
    annotator: String,
}

#[allow(clippy::too_many_arguments)]
fn read_item(
    ann: &Annotation,
    ann_path: &Path,
    dataset: &str,
    stem: &str,
    manifest: &Manifest,
    mask_titles: &BTreeSet<String>,
    machine: Option<Mask>,
    ignored: &mut BTreeMap<String, usize>,
) -> Result<ImportItem> {
    let tags = read_tags(ann, ann_path, manifest)?;
    if let Some(why) = limits::size_problem(ann.size.width, ann.size.height) {
        return Err(ProjectError::invalid(
            ann_path,
            format!("`size` claims {why}"),
        ));
    }
    let d = draw_objects(ann, ann_path, mask_titles, tags.class_tag, ignored)?;
    let mut label = tags.label;
    label.mask = match tags.mask.as_deref() {
        Some(v) => Some(provenance_from_name(v).ok_or_else(|| {
            ProjectError::invalid(ann_path, format!("unknown mask provenance `{v}`"))
        })?),
        None if d.any_object => Some(match (d.nn_created, d.nn_updated) {
            (true, true) => MaskProvenance::PredictedEdited,
            (true, false) => MaskProvenance::Predicted,
            _ => MaskProvenance::Drawn,
        }),
        None if machine.is_some() => Some(MaskProvenance::Imported),
        None => None,
    };
    let mask = match (label.mask, d.any_object, machine) {
        (None, _, _) => None,
        (Some(_), false, Some(m)) => Some(m),
        (Some(_), _, _) => Some(d.mask),
    };
    label.status = tags.status.unwrap_or(if label.class.is_some() {
        Status::Labeled
    } else {
        Status::Unlabeled
    });
    label.annotator = d.annotator;
    label.updated_at = d.latest;
    let derived = stem.rsplit_once('_').map_or(stem, |(e, _)| e);
    if label.experiment.is_none() && dataset != derived {
        label.experiment = Some(dataset.to_string());
    }
    Ok(ImportItem {
        stem: stem.to_string(),
        source: PathBuf::new(),
        extension: String::new(),
        status_given: tags.status.is_some(),
        label,
        mask,
        split: tags.split,
    })
}

/// The image's tags: class, status, split, experiment, frame and our mask provenance.
fn read_tags<'a>(ann: &'a Annotation, ann_path: &Path, manifest: &Manifest) -> Result<Tags<'a>> {
    let mut t = Tags {
        label: ImageLabel {
            comment: ann.description.clone(),
            ..Default::default()
        },
        ..Default::default()
    };
    for tag in &ann.tags {
        let value = tag.value.as_str();
        match (tag.name.as_str(), value) {
            (STATUS_TAG, Some(v)) => {
                t.status = Some(Status::ALL.into_iter().find(|s| s.name() == v).ok_or_else(
                    || ProjectError::invalid(ann_path, format!("unknown status `{v}`")),
                )?)
            }
            (EXPERIMENT_TAG, Some(v)) => {
                if let Some(why) = crate::project::names::problem(v) {
                    return Err(ProjectError::invalid(
                        ann_path,
                        format!("the experiment tag {why}"),
                    ));
                }
                t.label.experiment = Some(v.to_string())
            }
            (FRAME_TAG, _) => t.label.frame = tag.value.as_u64().map(|f| f as u32),
            (MASK_TAG, Some(v)) => t.mask = Some(v.to_string()),
            ("train" | "val" | "test" | "trainval", _) if tag.value.is_null() => {
                t.split = Some(match tag.name.as_str() {
                    "trainval" => SplitHint::TrainVal,
                    n => SplitHint::Exact(Split::from_name(n).expect("split tag")),
                })
            }
            ("split", Some(v)) => t.split = super::folders::split_hint(v),
            (name, value) => class_tag(&mut t, tag, name, value, manifest, ann_path)?,
        }
    }
    Ok(t)
}

/// A tag that may name the image's class (as its name, or as its value).
fn class_tag<'a>(
    t: &mut Tags<'a>,
    tag: &'a Tag,
    name: &str,
    value: Option<&str>,
    manifest: &Manifest,
    ann_path: &Path,
) -> Result<()> {
    let candidate = value.unwrap_or(name);
    if !(tag.value.is_null() || value.is_some()) {
        return Ok(());
    }
    if let Some(c) = manifest.match_class(candidate) {
        if let Some(prev) = t.label.class.as_ref().filter(|p| *p != c) {
            return Err(ProjectError::invalid(
                ann_path,
                format!("tagged both `{prev}` and `{c}`"),
            ));
        }
        t.label.class = Some(c.to_string());
        t.class_tag = Some(tag);
    } else if value.is_some() && (name == CLASS_TAG || name == "class") {
        project_class(manifest, candidate, ann_path)?;
    }
    Ok(())
}

/// Draws the objects of the mask classes into one mask (bitmaps and polygons, united);
/// objects of other classes and other geometries are counted in `ignored`.
fn draw_objects(
    ann: &Annotation,
    ann_path: &Path,
    mask_titles: &BTreeSet<String>,
    class_tag: Option<&Tag>,
    ignored: &mut BTreeMap<String, usize>,
) -> Result<Drawing> {
    let mut d = Drawing {
        mask: Mask::empty(ann.size.width, ann.size.height),
        any_object: false,
        nn_created: false,
        nn_updated: false,
        latest: class_tag
            .and_then(|t| t.updated_at.clone())
            .unwrap_or_default(),
        annotator: class_tag
            .and_then(|t| t.labeler_login.clone())
            .unwrap_or_default(),
    };
    for obj in &ann.objects {
        if !mask_titles.contains(&obj.class_title) {
            *ignored
                .entry(format!("class `{}`", obj.class_title))
                .or_default() += 1;
            continue;
        }
        match (obj.geometry_type.as_str(), &obj.bitmap, &obj.points) {
            ("bitmap", Some(b), _) => paste_bitmap(&mut d.mask, b, ann, ann_path)?,
            ("polygon", _, Some(p)) => {
                let ring = |pts: &[[f64; 2]]| pts.iter().map(|q| (q[0], q[1])).collect::<Vec<_>>();
                let holes: Vec<Vec<(f64, f64)>> = p.interior.iter().map(|h| ring(h)).collect();
                polygon::fill_union(&mut d.mask, &ring(&p.exterior), &holes);
            }
            (other, _, _) => {
                *ignored.entry(format!("geometry `{other}`")).or_default() += 1;
                continue;
            }
        }
        d.any_object = true;
        d.nn_created |= obj.nn_created;
        d.nn_updated |= obj.nn_updated;
        if let Some(t) = obj.updated_at.as_ref().filter(|t| **t > d.latest) {
            d.latest = t.clone();
        }
        if d.annotator.is_empty() {
            d.annotator = obj.labeler_login.clone().unwrap_or_default();
        }
    }
    Ok(d)
}

/// Unites a bitmap object with `mask`; a bitmap reaching outside the image is an error.
fn paste_bitmap(mask: &mut Mask, b: &BitmapJson, ann: &Annotation, ann_path: &Path) -> Result<()> {
    let within = (ann.size.width, ann.size.height);
    let decoded = bitmap::decode(&b.data, b.origin, within)
        .map_err(|r| ProjectError::invalid(ann_path, r))?;
    let (x, y) = decoded.origin;
    // In i128: an origin near i64::MAX must not wrap round into the image.
    let inside = |at: i64, len: u32, size: u32| at >= 0 && at as i128 + len as i128 <= size as i128;
    if !inside(x, decoded.data.width(), ann.size.width)
        || !inside(y, decoded.data.height(), ann.size.height)
    {
        return Err(ProjectError::invalid(
            ann_path,
            format!(
                "a bitmap at [{x}, {y}] runs outside the {}x{} image",
                ann.size.width, ann.size.height
            ),
        ));
    }
    mask.paste_union(&decoded.data, x, y);
    Ok(())
}

pub fn provenance_from_name(name: &str) -> Option<MaskProvenance> {
    [
        MaskProvenance::Drawn,
        MaskProvenance::Predicted,
        MaskProvenance::PredictedEdited,
        MaskProvenance::Imported,
    ]
    .into_iter()
    .find(|p| p.name() == name)
}
