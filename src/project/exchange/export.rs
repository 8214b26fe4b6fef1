//! Exporters: Supervisely, VOC / DeepLab, plain masks, and the lab's class folders. Each writes
//! into a hidden folder beside the destination and moves it into place when complete.

use super::supervisely::{
    Annotation, BitmapJson, CLASS_TAG, EXPERIMENT_TAG, FRAME_TAG, MASK_TAG, Meta, MetaClass,
    Object, STATUS_TAG, Size, Tag,
};
use super::{ExportFormat, Progress, bitmap, folders, voc};
use crate::mask::{Mask, encode_mask_png};
use crate::project::error::{ProjectError, Result};
use crate::project::label::{MaskProvenance, Status};
use crate::project::splits::{Split, stem_list};
use crate::project::staging::{Staging, check_new_destination};
use crate::project::store::{ImageEntry, Project};
use crate::project::{names, parallel};
use serde_json::{Value, json};
use std::path::Path;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ExportReport {
    pub images: usize,
    pub masks: usize,
    pub notes: Vec<String>,
}

pub fn export(
    project: &Project,
    format: ExportFormat,
    dest: &Path,
    progress: Progress<'_>,
) -> Result<ExportReport> {
    check_new_destination(dest)?;
    let staging = Staging::beside(dest)?;
    let root = staging.path();
    let report = match format {
        ExportFormat::Supervisely => supervisely(project, root, progress)?,
        ExportFormat::Voc => voc_layout(project, root, progress)?,
        ExportFormat::Masks => masks(project, root, progress)?,
        ExportFormat::Folders => class_folders(project, root, progress)?,
    };
    staging.finish()?;
    Ok(report)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(ProjectError::io(parent))?;
    }
    std::fs::write(path, bytes).map_err(ProjectError::io(path))
}

/// A failed copy names the file being written (a full disk is the destination's problem) and
/// the one it came from.
pub(super) fn copy_error(from: &Path, to: &Path, e: std::io::Error) -> ProjectError {
    ProjectError::invalid(
        to,
        format!("cannot be written (copying {}): {e}", from.display()),
    )
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(ProjectError::io(parent))?;
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| copy_error(from, to, e))
}

/// Runs `job` for every image on all cores and counts the masks it wrote.
fn each_image(
    project: &Project,
    stage: &str,
    progress: Progress<'_>,
    job: impl Fn(&ImageEntry, Option<Mask>) -> Result<bool> + Sync,
) -> Result<usize> {
    let written = parallel::try_map(
        project.images(),
        |e| job(e, project.load_mask(&e.stem)?),
        &mut |done, total| progress(stage, done, total),
    )?;
    Ok(written.into_iter().filter(|&w| w).count())
}

fn masks(project: &Project, root: &Path, progress: Progress<'_>) -> Result<ExportReport> {
    std::fs::create_dir_all(root).map_err(ProjectError::io(root))?;
    let masks = each_image(project, "writing masks", progress, |e, mask| {
        let Some(mask) = mask else { return Ok(false) };
        write(
            &root.join(format!("{}.png", e.stem)),
            &encode_mask_png(&mask),
        )?;
        Ok(true)
    })?;
    Ok(ExportReport {
        images: 0,
        masks,
        notes: Vec::new(),
    })
}

fn class_folders(project: &Project, root: &Path, progress: Progress<'_>) -> Result<ExportReport> {
    let unlabeled: Vec<&str> = project
        .images()
        .iter()
        .filter(|e| e.label.class.is_none())
        .map(|e| e.stem.as_str())
        .collect();
    each_image(project, "copying images", progress, |e, _| {
        if let Some(class) = &e.label.class {
            let folder = root.join(folders::split_folder(e.split));
            let class_folder = names::join(&folder, class, &format!("the class of {}", e.stem))?;
            let to = names::join(&class_folder, &e.file_name, "an image's file name")?;
            copy(&project.image_path(e), &to)?;
        }
        Ok(false)
    })?;
    let mut notes = Vec::new();
    if !unlabeled.is_empty() {
        notes.push(format!(
            "{} images without a class were left out, e.g. `{}`",
            unlabeled.len(),
            unlabeled[0]
        ));
    }
    Ok(ExportReport {
        images: project.images().len() - unlabeled.len(),
        masks: 0,
        notes,
    })
}

fn voc_layout(project: &Project, root: &Path, progress: Progress<'_>) -> Result<ExportReport> {
    let masks = each_image(project, "writing images and masks", progress, |e, mask| {
        copy(
            &project.image_path(e),
            &root.join("JPEGImages").join(&e.file_name),
        )?;
        let Some(mask) = mask else { return Ok(false) };
        write(
            &root
                .join("SegmentationClass")
                .join(format!("{}.png", e.stem)),
            &voc::encode_class_png(&mask),
        )?;
        Ok(true)
    })?;
    voc_lists(project, root)?;
    let mut notes = vec!["VOC keeps images, masks, classes and splits; review status and provenance stay in the project".into()];
    if project.images().iter().any(|e| e.split.is_none()) {
        notes.push("some images have no split and are in no ImageSets list".into());
    }
    let unmasked = project.images().iter().filter(|e| !e.has_mask).count();
    if unmasked > 0 {
        notes.push(format!(
            "{unmasked} images without a mask are in JPEGImages and ImageSets/Main but not in the \
             ImageSets/Segmentation lists (VOC readers open a mask for every image listed there)"
        ));
    }
    Ok(ExportReport {
        images: project.images().len(),
        masks,
        notes,
    })
}

/// VOC's image lists: ImageSets/Segmentation (images with a mask, per split), and
/// ImageSets/Main (every image per split, and per class).
fn voc_lists(project: &Project, root: &Path) -> Result<()> {
    // VOC readers (torchvision's VOCSegmentation, DeepLab's converters) open the class mask of
    // every image a segmentation list names: only images with a mask are listed there. The
    // classes of the others are in ImageSets/Main.
    let sets = root.join("ImageSets").join("Segmentation");
    let of = |wanted: &[Split]| {
        stem_list(
            project
                .images()
                .iter()
                .filter(|e| e.has_mask && e.split.is_some_and(|s| wanted.contains(&s)))
                .map(|e| &e.stem),
        )
    };
    write(&sets.join("train.txt"), of(&[Split::Train]).as_bytes())?;
    write(&sets.join("val.txt"), of(&[Split::Val]).as_bytes())?;
    write(
        &sets.join("trainval.txt"),
        of(&[Split::Train, Split::Val]).as_bytes(),
    )?;
    write(&sets.join("test.txt"), of(&[Split::Test]).as_bytes())?;
    // Every image's split, masks or not, in VOC's classification lists.
    let main = root.join("ImageSets").join("Main");
    let all_of = |wanted: &[Split]| {
        stem_list(
            project
                .images()
                .iter()
                .filter(|e| e.split.is_some_and(|s| wanted.contains(&s)))
                .map(|e| &e.stem),
        )
    };
    for (name, wanted) in [
        ("train", &[Split::Train][..]),
        ("val", &[Split::Val]),
        ("trainval", &[Split::Train, Split::Val]),
        ("test", &[Split::Test]),
    ] {
        write(&main.join(format!("{name}.txt")), all_of(wanted).as_bytes())?;
    }
    for class in &project.manifest.classes {
        let stems = project
            .images()
            .iter()
            .filter(|e| e.label.class.as_ref() == Some(class))
            .map(|e| &e.stem);
        let file = names::join(
            &root.join("ImageSets").join("Main"),
            &format!("{}.txt", class.replace(' ', "_")),
            "a class",
        )?;
        write(&file, stem_list(stems).as_bytes())?;
    }
    Ok(())
}

fn supervisely(project: &Project, root: &Path, progress: Progress<'_>) -> Result<ExportReport> {
    let m = &project.manifest;
    let provenances = [
        MaskProvenance::Drawn,
        MaskProvenance::Predicted,
        MaskProvenance::PredictedEdited,
        MaskProvenance::Imported,
    ];
    let meta = Meta {
        classes: vec![MetaClass { title: m.mask_class.clone(), shape: "bitmap".into(), color: "#00FF12".into(), geometry_config: json!({}) }],
        tags: [
            vec![
                json!({"name": CLASS_TAG, "value_type": "oneof_string", "values": m.classes, "color": "#855D79", "applicable_type": "imagesOnly", "classes": []}),
                json!({"name": STATUS_TAG, "value_type": "oneof_string", "values": Status::ALL.map(Status::name), "color": "#5D7985", "applicable_type": "imagesOnly", "classes": []}),
                json!({"name": EXPERIMENT_TAG, "value_type": "any_string", "color": "#79855D", "applicable_type": "imagesOnly", "classes": []}),
                json!({"name": FRAME_TAG, "value_type": "any_number", "color": "#857D5D", "applicable_type": "imagesOnly", "classes": []}),
                json!({"name": MASK_TAG, "value_type": "oneof_string", "values": provenances.map(MaskProvenance::name), "color": "#5D855F", "applicable_type": "imagesOnly", "classes": []}),
            ],
            Split::ALL.map(|s| json!({"name": s.name(), "value_type": "none", "color": "#A0A08C", "applicable_type": "imagesOnly", "classes": []})).to_vec(),
        ]
        .concat(),
        project_type: Some("images".into()),
    };
    write(
        &root.join("meta.json"),
        serde_json::to_string_pretty(&meta)
            .expect("meta")
            .as_bytes(),
    )?;
    write(
        &root.join("obj_class_to_machine_color.json"),
        json!({ &m.mask_class: [1, 1, 1] }).to_string().as_bytes(),
    )?;
    let masks = each_image(project, "writing annotations", progress, |e, mask| {
        // A dataset is a folder named after the experiment: made safe rather than refused.
        let dataset = root.join(names::sanitised(e.experiment()));
        let image_path = project.image_path(e);
        let (width, height) = image::image_dimensions(&image_path).map_err(|err| {
            ProjectError::invalid(&image_path, format!("not a readable image: {err}"))
        })?;
        copy(&image_path, &dataset.join("img").join(&e.file_name))?;
        let ann = annotation(e, &m.mask_class, mask.as_ref(), Size { width, height });
        let text = serde_json::to_string_pretty(&ann).expect("annotation");
        write(
            &dataset.join("ann").join(format!("{}.json", e.file_name)),
            text.as_bytes(),
        )?;
        let Some(mask) = mask else { return Ok(false) };
        let machine: Vec<u8> = mask.as_bytes().iter().map(|&v| (v != 0) as u8).collect();
        let gray =
            image::GrayImage::from_raw(mask.width(), mask.height(), machine).expect("mask size");
        let path = dataset
            .join("masks_machine")
            .join(format!("{}.png", e.stem));
        std::fs::create_dir_all(path.parent().expect("has parent"))
            .map_err(ProjectError::io(&path))?;
        gray.save(&path)
            .map_err(|err| ProjectError::invalid(&path, err.to_string()))?;
        Ok(true)
    })?;
    Ok(ExportReport {
        images: project.images().len(),
        masks,
        notes: Vec::new(),
    })
}

fn annotation(e: &ImageEntry, mask_class: &str, mask: Option<&Mask>, size: Size) -> Annotation {
    let l = &e.label;
    let who = (!l.annotator.is_empty()).then(|| l.annotator.clone());
    let when = (!l.updated_at.is_empty()).then(|| l.updated_at.clone());
    let tag = |name: &str, value: Value| Tag {
        name: name.into(),
        value,
        labeler_login: None,
        updated_at: None,
    };
    let mut tags = Vec::new();
    if let Some(c) = &l.class {
        tags.push(Tag {
            labeler_login: who.clone(),
            updated_at: when.clone(),
            ..tag(CLASS_TAG, json!(c))
        });
    }
    tags.push(tag(STATUS_TAG, json!(l.status.name())));
    if let Some(x) = &l.experiment {
        tags.push(tag(EXPERIMENT_TAG, json!(x)));
    }
    if let Some(f) = l.frame {
        tags.push(tag(FRAME_TAG, json!(f)));
    }
    if let Some(s) = e.split {
        tags.push(tag(s.name(), Value::Null));
    }
    if let Some(p) = l.mask {
        tags.push(tag(MASK_TAG, json!(p.name())));
    }
    let objects = mask
        .and_then(bitmap::encode)
        .map(|(data, origin)| Object {
            class_title: mask_class.to_string(),
            geometry_type: "bitmap".into(),
            tags: Vec::new(),
            description: String::new(),
            bitmap: Some(BitmapJson {
                data,
                origin: [origin[0] as i64, origin[1] as i64],
            }),
            points: None,
            labeler_login: who.clone(),
            updated_at: when.clone(),
            nn_created: matches!(
                l.mask,
                Some(MaskProvenance::Predicted | MaskProvenance::PredictedEdited)
            ),
            nn_updated: l.mask == Some(MaskProvenance::PredictedEdited),
        })
        .into_iter()
        .collect();
    Annotation {
        description: l.comment.clone(),
        size,
        tags,
        objects,
    }
}
