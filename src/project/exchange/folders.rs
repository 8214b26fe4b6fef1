//! The lab's classification layout: `ROOT/<split folder>/<class>/*.jpg` (split folders such as
//! "training and validation" and "testing"), or `ROOT/<class>/*.jpg` with no split level.

use super::{ImportItem, SplitHint, project_class, sorted_entries};
use crate::project::error::{ProjectError, Result};
use crate::project::label::{ImageLabel, Status, current_user, now_rfc3339};
use crate::project::manifest::{Manifest, class_key};
use crate::project::splits::Split;
use crate::project::stem::{is_image_file, split_name};
use std::path::Path;

/// The split a folder name asks for: "testing" is test, "training and validation" (or
/// "trainval") is train-or-val, "validation" is val, "training" is train.
pub fn split_hint(folder: &str) -> Option<SplitHint> {
    let k = class_key(folder);
    if k.contains("test") {
        Some(SplitHint::Exact(Split::Test))
    } else if k.contains("train") && k.contains("val") {
        Some(SplitHint::TrainVal)
    } else if k.contains("val") {
        Some(SplitHint::Exact(Split::Val))
    } else if k.contains("train") {
        Some(SplitHint::Exact(Split::Train))
    } else {
        None
    }
}

/// The folder name the exporter writes for a split.
pub fn split_folder(split: Option<Split>) -> &'static str {
    match split {
        Some(Split::Train) => "training",
        Some(Split::Val) => "validation",
        Some(Split::Test) => "testing",
        None => "unassigned",
    }
}

pub fn read(src: &Path, manifest: &Manifest, notes: &mut Vec<String>) -> Result<Vec<ImportItem>> {
    let mut items = Vec::new();
    let (user, now) = (current_user(), now_rfc3339());
    for (name, path) in sorted_entries(src)? {
        if !path.is_dir() {
            notes.push(format!(
                "{}: not in a class folder (ignored)",
                path.display()
            ));
            continue;
        }
        if manifest.match_class(&name).is_some() {
            read_class_folder(
                &path,
                &name,
                None,
                None,
                manifest,
                (&user, &now),
                &mut items,
                notes,
            )?;
            continue;
        }
        let hint = split_hint(&name);
        if hint.is_none() && name != "unassigned" {
            notes.push(format!(
                "{}: not a split name (training / validation / testing); its images are placed by the project's split rule",
                path.display()
            ));
        }
        // Folders named by date or session keep that name as the frames' experiment.
        let experiment = (hint.is_none() && name != "unassigned").then_some(name.as_str());
        for (class_name, class_path) in sorted_entries(&path)? {
            if !class_path.is_dir() {
                notes.push(format!(
                    "{}: not in a class folder (ignored)",
                    class_path.display()
                ));
                continue;
            }
            project_class(manifest, &class_name, &class_path)?;
            read_class_folder(
                &class_path,
                &class_name,
                hint,
                experiment,
                manifest,
                (&user, &now),
                &mut items,
                notes,
            )?;
        }
    }
    Ok(items)
}

#[allow(clippy::too_many_arguments)]
fn read_class_folder(
    dir: &Path,
    class_name: &str,
    split: Option<SplitHint>,
    experiment: Option<&str>,
    manifest: &Manifest,
    (user, now): (&str, &str),
    items: &mut Vec<ImportItem>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let class = project_class(manifest, class_name, dir)?;
    for (name, path) in sorted_entries(dir)? {
        if path.is_dir() || !is_image_file(&name) {
            notes.push(format!("{}: not an image (ignored)", path.display()));
            continue;
        }
        let (stem, ext) =
            split_name(&name).ok_or_else(|| ProjectError::invalid(&path, "no file extension"))?;
        items.push(ImportItem {
            stem: stem.to_string(),
            source: path.clone(),
            extension: ext.to_string(),
            label: ImageLabel {
                class: Some(class.clone()),
                status: Status::Labeled,
                experiment: experiment.map(str::to_string),
                annotator: user.to_string(),
                updated_at: now.to_string(),
                ..Default::default()
            },
            mask: None,
            split,
            status_given: false,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_labs_folder_names_map_to_splits() {
        assert_eq!(
            split_hint("training and validation"),
            Some(SplitHint::TrainVal)
        );
        assert_eq!(split_hint("Testing"), Some(SplitHint::Exact(Split::Test)));
        assert_eq!(split_hint("trainval"), Some(SplitHint::TrainVal));
        assert_eq!(split_hint("validation"), Some(SplitHint::Exact(Split::Val)));
        assert_eq!(split_hint("training"), Some(SplitHint::Exact(Split::Train)));
        assert_eq!(split_hint("091810021113"), None);
        for s in [Some(Split::Train), Some(Split::Val), Some(Split::Test)] {
            assert_eq!(split_hint(split_folder(s)), s.map(SplitHint::Exact));
        }
    }
}
