//! Bringing a lab's existing data in, and taking it out again, without losing a pixel.
//!
//! Every importer reads its source into [`ImportItem`]s; everything is then checked (stems,
//! duplicates, every image decoded, every mask's size) before a single file is written, staged
//! in a hidden folder and moved into place, so a bad source leaves the project untouched.

mod annotated;
mod bitmap;
mod export;
mod folders;
mod supervisely;
mod voc;

pub use bitmap::{Bitmap, decode as decode_bitmap, encode as encode_bitmap};
pub use export::export;
pub use voc::encode_class_png as encode_voc_mask;

use super::error::{ProjectError, Result};
use super::label::ImageLabel;
use super::manifest::{MANIFEST_FILE, Manifest, SplitSettings};
use super::parallel;
use super::splits::{self, Split, SplitItem};
use super::staging::Staging;
use super::stem::check_stem;
use super::store::Project;
use super::thumbnails::decode_image;
use crate::atomic::write_atomic;
use crate::mask::{Mask, encode_mask_png};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    /// ROOT/<split folder>/<class>/*.jpg, the lab's classification layout
    Folders,
    /// A Supervisely project export (meta.json, <dataset>/img, <dataset>/ann)
    Supervisely,
    /// The DeepLab/VOC layout (JPEGImages, SegmentationClass, ImageSets/Segmentation)
    Voc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Supervisely,
    Voc,
    /// Plain 0/255 PNG masks named by image stem
    Masks,
    /// ROOT/<split folder>/<class>/<image>, the lab's classification layout
    Folders,
}

/// Which split an imported image asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitHint {
    Exact(Split),
    /// In "training and validation": train or val, chosen by the project's ratios.
    TrainVal,
}

/// One image read from a source, not yet written anywhere.
#[derive(Debug, Clone)]
pub struct ImportItem {
    pub stem: String,
    pub source: PathBuf,
    /// Extension the copied image keeps (as in the source).
    pub extension: String,
    pub label: ImageLabel,
    pub mask: Option<Mask>,
    pub split: Option<SplitHint>,
    /// The source stated the status (a Supervisely `status` tag): it is kept as it is.
    pub status_given: bool,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportReport {
    pub images: usize,
    pub masks: usize,
    pub classes: BTreeMap<String, usize>,
    /// Images by the status they were imported with.
    pub statuses: BTreeMap<String, usize>,
    /// Things the user should know that did not stop the import.
    pub notes: Vec<String>,
}

/// Progress of a long import or export: a stage and how far it is.
pub type Progress<'a> = &'a mut dyn FnMut(&str, usize, usize);

/// Imports `items` into the existing project at `dest`: staged beside it, then moved in;
/// images already there (the same files) are left, so a repeated import completes a killed one.
fn import_into(dest: &Path, items: &[ImportItem], progress: Progress<'_>) -> Result<()> {
    // The lock is held from the first check to the last split written.
    let project = Project::open(dest)?;
    if project.is_read_only() {
        return Err(ProjectError::ReadOnly(match project.access() {
            super::Access::ReadOnly { held_by } => held_by.read_only_reason(),
            _ => unreachable!(),
        }));
    }
    let (done, completed) = already_imported(&project, items)?;
    let placed = items
        .iter()
        .all(|i| project.get(&i.stem).is_some_and(|e| e.split.is_some()));
    if done.len() == items.len() && !completed && placed {
        let first = &items[0];
        return Err(ProjectError::invalid(
            &first.source,
            format!(
                "`{}` is already in the project (the same file), as are all {} images of \
                 this import: nothing to import",
                first.stem,
                items.len()
            ),
        ));
    }
    let stage = tempfile::Builder::new()
        .prefix(".import-")
        .tempdir_in(dest)
        .map_err(ProjectError::io(dest))?;
    let to_write: Vec<ImportItem> = items
        .iter()
        .filter(|i| !done.contains(&i.stem))
        .cloned()
        .collect();
    write_items(stage.path(), &to_write, &mut *progress)?;
    // Masks and labels before images: an image makes its item part of the project, so a
    // kill in between leaves only files of this import, which a repeated import finds
    // identical and completes.
    for folder in ["masks", "labels", "images"] {
        move_all(&stage.path().join(folder), &dest.join(folder))?;
    }
    let mut project = project.reload()?;
    apply_split_hints(&mut project, items)?;
    Ok(())
}

/// Imports `src` in `format` into the project at `dest` (created when it holds none).
pub fn import(
    format: ImportFormat,
    src: &Path,
    dest: &Path,
    progress: Progress<'_>,
) -> Result<ImportReport> {
    if !src.is_dir() {
        return Err(ProjectError::invalid(src, "no such folder to import from"));
    }
    let existing = dest.join(MANIFEST_FILE).exists();
    let manifest = if existing {
        super::read_manifest(dest)?
    } else {
        super::staging::check_new_destination(dest)?;
        let name = dest
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("project");
        Manifest::new(name)
    };
    let mut notes = Vec::new();
    let mut items = match format {
        ImportFormat::Folders => folders::read(src, &manifest, &mut notes)?,
        ImportFormat::Supervisely => supervisely::read(src, &manifest, &mut notes)?,
        ImportFormat::Voc => voc::read(src, &manifest, &mut notes)?,
    };
    if items.is_empty() {
        return Err(ProjectError::invalid(
            src,
            format!("no images found for the {format:?} layout"),
        ));
    }
    annotated::label_from_masks(&mut items, &manifest, &mut notes);
    check_sources(&items, &mut notes)?;
    check_items(&items, &mut *progress)?;
    let report = report_of(&items, notes);
    if existing {
        import_into(dest, &items, progress)?;
    } else {
        let staging = Staging::beside(dest)?;
        drop(Project::create(staging.path(), manifest)?);
        write_items(staging.path(), &items, &mut *progress)?;
        let mut project = Project::open(staging.path())?;
        apply_split_hints(&mut project, &items)?;
        drop(project);
        staging.finish()?;
    }
    Ok(report)
}

fn report_of(items: &[ImportItem], notes: Vec<String>) -> ImportReport {
    let mut classes = BTreeMap::new();
    for i in items {
        *classes
            .entry(i.label.class.clone().unwrap_or_else(|| "(no class)".into()))
            .or_default() += 1;
    }
    let mut statuses = BTreeMap::new();
    for i in items {
        *statuses
            .entry(i.label.status.name().to_string())
            .or_default() += 1;
    }
    ImportReport {
        images: items.len(),
        masks: items.iter().filter(|i| i.mask.is_some()).count(),
        classes,
        statuses,
        notes,
    }
}

/// Every source image is a regular file (a pipe named `x.jpg` would hang the import); links
/// are followed, and said.
fn check_sources(items: &[ImportItem], notes: &mut Vec<String>) -> Result<()> {
    let mut links = 0;
    for item in items {
        let meta = std::fs::metadata(&item.source).map_err(ProjectError::io(&item.source))?;
        if !meta.is_file() {
            return Err(ProjectError::invalid(
                &item.source,
                "is not a regular file (a pipe, a device or a folder named like an image)",
            ));
        }
        if std::fs::symlink_metadata(&item.source).is_ok_and(|m| m.file_type().is_symlink()) {
            links += 1;
        }
    }
    if links > 0 {
        notes.push(format!(
            "{links} source images are links: the files they point to were copied"
        ));
    }
    Ok(())
}

/// Stems safe and unique; every image decodes; every mask has its image's size.
fn check_items(items: &[ImportItem], progress: Progress<'_>) -> Result<()> {
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    for item in items {
        check_stem(&item.stem).map_err(|r| ProjectError::invalid(&item.source, r))?;
        if let Some(first) = seen.insert(&item.stem, &item.source) {
            return Err(ProjectError::invalid(
                &item.source,
                format!(
                    "has the same name (stem `{}`) as {}",
                    item.stem,
                    first.display()
                ),
            ));
        }
    }
    parallel::try_map(
        items,
        |item| {
            let img = decode_image(&item.source)?;
            match &item.mask {
                Some(m) if (m.width(), m.height()) != (img.width(), img.height()) => {
                    Err(ProjectError::invalid(
                        &item.source,
                        format!(
                            "its mask is {}x{} but the image is {}x{}",
                            m.width(),
                            m.height(),
                            img.width(),
                            img.height()
                        ),
                    ))
                }
                _ => Ok(()),
            }
        },
        &mut |done, total| progress("checking images", done, total),
    )?;
    Ok(())
}

fn write_items(root: &Path, items: &[ImportItem], progress: Progress<'_>) -> Result<()> {
    for sub in ["images", "labels", "masks"] {
        std::fs::create_dir_all(root.join(sub)).map_err(ProjectError::io(root.join(sub)))?;
    }
    parallel::try_map(
        items,
        |item| {
            let image = root
                .join("images")
                .join(format!("{}.{}", item.stem, item.extension));
            std::fs::copy(&item.source, &image)
                .map_err(|e| export::copy_error(&item.source, &image, e))?;
            let label = root.join("labels").join(format!("{}.json", item.stem));
            let text = serde_json::to_string_pretty(&item.label).expect("labels serialise");
            write_atomic(&label, text.as_bytes()).map_err(ProjectError::io(&label))?;
            if let Some(mask) = &item.mask {
                let path = root.join("masks").join(format!("{}.png", item.stem));
                write_atomic(&path, &encode_mask_png(mask)).map_err(ProjectError::io(&path))?;
            }
            Ok::<(), ProjectError>(())
        },
        &mut |done, total| progress("copying", done, total),
    )?;
    Ok(())
}

fn move_all(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(ProjectError::io(to))?;
    for entry in std::fs::read_dir(from).map_err(ProjectError::io(from))? {
        let entry = entry.map_err(ProjectError::io(from))?;
        let target = to.join(entry.file_name());
        std::fs::rename(entry.path(), &target).map_err(ProjectError::io(&target))?;
    }
    crate::atomic::sync_dir(to);
    Ok(())
}

/// The items a killed import already brought in: their image is in the project with the same
/// bytes, and their label and mask files (if any) are there (written again if not: then the
/// second value is true). Any other image or stray label or mask of the same stem is a
/// conflict, named.
fn already_imported(project: &Project, items: &[ImportItem]) -> Result<(HashSet<String>, bool)> {
    let mut done = HashSet::new();
    let mut completed = false;
    let same = |path: &Path, bytes: &[u8]| std::fs::read(path).is_ok_and(|b| b == bytes);
    for item in items {
        let label = serde_json::to_string_pretty(&item.label).expect("labels serialise");
        let mask = item.mask.as_ref().map(encode_mask_png);
        let label_path = project.label_path(&item.stem);
        let mask_path = project.mask_path(&item.stem);
        if let Some(e) = project.get(&item.stem) {
            let source = std::fs::read(&item.source).map_err(ProjectError::io(&item.source))?;
            if !same(&project.image_path(e), &source) {
                return Err(ProjectError::invalid(
                    &item.source,
                    format!(
                        "an image with stem `{}` is already in the project (images/{})",
                        item.stem, e.file_name
                    ),
                ));
            }
            // Imported before, perhaps by an import that was killed: complete it.
            if !label_path.exists() {
                write_atomic(&label_path, label.as_bytes())
                    .map_err(ProjectError::io(&label_path))?;
                completed = true;
            }
            if let Some(m) = &mask
                && !mask_path.exists()
            {
                write_atomic(&mask_path, m).map_err(ProjectError::io(&mask_path))?;
                completed = true;
            }
            done.insert(item.stem.clone());
            continue;
        }
        // No image yet: a label or mask of this stem must be this import's own.
        let stray = [(label_path, Some(label.into_bytes())), (mask_path, mask)]
            .into_iter()
            .find(|(path, ours)| path.exists() && !ours.as_ref().is_some_and(|b| same(path, b)));
        if let Some((path, _)) = stray {
            return Err(ProjectError::invalid(
                &path,
                format!(
                    "has no image, and the imported image `{}` would adopt it; move it away \
                     first",
                    item.stem
                ),
            ));
        }
    }
    Ok((done, completed))
}

/// Exact split hints are kept; "train and validation" images are divided by the project's
/// train:val ratio; the rest are placed by the project's usual rule. Images that have a split
/// (imported before a kill, and placed) keep it.
fn apply_split_hints(project: &mut Project, items: &[ImportItem]) -> Result<()> {
    let items: Vec<&ImportItem> = items
        .iter()
        .filter(|i| project.get(&i.stem).is_some_and(|e| e.split.is_none()))
        .collect();
    let mut chosen: HashMap<String, Split> = items
        .iter()
        .filter_map(|i| match i.split {
            Some(SplitHint::Exact(s)) => Some((i.stem.clone(), s)),
            _ => None,
        })
        .collect();
    let trainval: Vec<SplitItem<'_>> = items
        .iter()
        .filter(|i| i.split == Some(SplitHint::TrainVal))
        .map(|i| SplitItem {
            stem: &i.stem,
            experiment: i.label.experiment.as_deref(),
        })
        .collect();
    if !trainval.is_empty() {
        let s = &project.manifest.splits;
        let settings = SplitSettings {
            ratios: [s.ratios[0], s.ratios[1], 0.0],
            ..s.clone()
        };
        chosen.extend(splits::assign(&trainval, &HashMap::new(), &settings));
    }
    project.set_splits(&chosen)?;
    project.assign_splits()?;
    Ok(())
}

/// Matches a class name from a source to the project's classes, or says which file is wrong.
pub(crate) fn project_class(manifest: &Manifest, name: &str, file: &Path) -> Result<String> {
    manifest
        .match_class(name)
        .map(str::to_string)
        .ok_or_else(|| {
            ProjectError::invalid(
                file,
                format!(
                    "`{name}` is not one of the project's classes ({})",
                    manifest.classes.join(", ")
                ),
            )
        })
}

/// Lists a folder's entries sorted by name, skipping hidden ones.
pub(crate) fn sorted_entries(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(ProjectError::io(dir))? {
        let entry = entry.map_err(ProjectError::io(dir))?;
        let Ok(name) = entry.file_name().into_string() else {
            return Err(ProjectError::invalid(
                entry.path(),
                "file name is not valid Unicode",
            ));
        };
        if !name.starts_with('.') {
            out.push((name, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}
