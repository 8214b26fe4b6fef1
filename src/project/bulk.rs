//! Labeling many images at once: choose them (by name or by what they are), then set their
//! class, status or split in one step. Every label is written atomically; what each image was
//! before is returned, so the step can be undone exactly.

use super::error::{ProjectError, Result};
use super::label::{ImageLabel, Status, current_user};
use super::splits::Split;
use super::store::{Project, write_label};
use crate::atomic::write_atomic;
use std::collections::HashMap;
use std::path::PathBuf;

/// What to set on every chosen image; `None` leaves that part as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    /// `Some(None)` removes the class.
    pub class: Option<Option<String>>,
    pub status: Option<Status>,
    pub split: Option<Split>,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        self.class.is_none() && self.status.is_none() && self.split.is_none()
    }

    /// "class nerve, status labeled", for the count shown before it applies.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        match &self.class {
            Some(Some(c)) => parts.push(format!("class {c}")),
            Some(None) => parts.push("no class".to_string()),
            None => {}
        }
        if let Some(s) = self.status {
            parts.push(format!("status {}", s.name()));
        }
        if let Some(s) = self.split {
            parts.push(format!("split {}", s.name()));
        }
        parts.join(", ")
    }
}

/// Which images: every condition given must hold (`class` "none" means no class).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub class: Option<String>,
    pub status: Option<Status>,
    pub split: Option<Split>,
    pub experiment: Option<String>,
}

impl Filter {
    /// Reads `KEY=VALUE` (class, status, split, experiment) into the filter.
    pub fn add(&mut self, condition: &str) -> Result<()> {
        let (key, value) = condition.split_once('=').ok_or_else(|| {
            ProjectError::unacceptable(format!(
                "`{condition}`: write a filter as KEY=VALUE, e.g. status=unlabeled"
            ))
        })?;
        let value = value.trim();
        match key.trim() {
            "class" => self.class = Some(value.to_string()),
            "status" => self.status = Some(parse_status(value)?),
            "split" => self.split = Some(parse_split(value)?),
            "experiment" => self.experiment = Some(value.to_string()),
            other => {
                return Err(ProjectError::unacceptable(format!(
                    "`{other}`: filters are class, status, split and experiment"
                )));
            }
        }
        Ok(())
    }
}

pub fn parse_status(name: &str) -> Result<Status> {
    Status::ALL
        .into_iter()
        .find(|s| s.name() == name)
        .ok_or_else(|| {
            ProjectError::unacceptable(format!(
                "`{name}` is not a status (unlabeled, labeled, reviewed, flagged)"
            ))
        })
}

pub fn parse_split(name: &str) -> Result<Split> {
    Split::from_name(name).ok_or_else(|| {
        ProjectError::unacceptable(format!("`{name}` is not a split (train, val, test)"))
    })
}

/// The stems of the images `filter` keeps, in the project's order.
pub fn matching(project: &Project, filter: &Filter) -> Vec<String> {
    let class = filter.class.as_deref().map(|c| {
        (c != "none").then(|| {
            project
                .manifest
                .match_class(c)
                .map_or_else(|| c.to_string(), str::to_string)
        })
    });
    project
        .images()
        .iter()
        .filter(|e| {
            class.as_ref().is_none_or(|want| {
                let have = e
                    .label
                    .class
                    .as_deref()
                    .and_then(|c| project.manifest.match_class(c));
                have == want.as_deref()
            }) && filter.status.is_none_or(|s| e.label.status == s)
                && filter.split.is_none_or(|s| e.split == Some(s))
                && filter
                    .experiment
                    .as_deref()
                    .is_none_or(|x| e.label.experiment.as_deref() == Some(x))
        })
        .map(|e| e.stem.clone())
        .collect()
}

/// An image as it was before a step: enough to put it back.
#[derive(Debug, Clone, PartialEq)]
pub struct Before {
    pub stem: String,
    pub label: ImageLabel,
    pub split: Option<Split>,
}

/// The files a step writes, worked out before any is written: the writing can then run off the
/// UI thread, holding no project, and the index is updated once it succeeded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Writes {
    /// Each changed image's label and the file it goes to.
    pub labels: Vec<(String, PathBuf, ImageLabel)>,
    /// The new split of every image the step moves (`None`: no split).
    pub splits: HashMap<String, Option<Split>>,
    /// The split lists as they read afterwards (empty when no split changes).
    pub split_files: Vec<(PathBuf, String)>,
}

impl Writes {
    /// Writes every file atomically: the labels, then the split lists.
    pub fn write(&self) -> Result<()> {
        for (_, path, label) in &self.labels {
            write_label(path, label)?;
        }
        for (path, text) in &self.split_files {
            write_atomic(path, text.as_bytes()).map_err(ProjectError::io(path))?;
        }
        Ok(())
    }

    /// Brings the project's index up to what [`Writes::write`] wrote.
    pub fn record(&self, project: &mut Project) {
        for (stem, _, label) in &self.labels {
            // Labels only: the image keeps whether it has a mask.
            project.record_saved(stem, label.clone(), false);
        }
        project.record_splits(&self.splits);
    }

    /// How many images the step changes.
    pub fn images(&self) -> usize {
        let mut stems: std::collections::HashSet<&str> =
            self.labels.iter().map(|(s, _, _)| s.as_str()).collect();
        stems.extend(self.splits.keys().map(String::as_str));
        stems.len()
    }
}

/// Plans `change` on every image of `stems`. Everything is checked first (every stem in the
/// project, the class one of the project's), so a bad request writes nothing. Returns the
/// files to write and the images as they were, for [`plan_restore`].
pub fn plan(project: &Project, stems: &[String], change: &Change) -> Result<(Writes, Vec<Before>)> {
    let class = match &change.class {
        Some(Some(name)) => Some(Some(
            project
                .manifest
                .match_class(name)
                .ok_or_else(|| {
                    ProjectError::invalid(
                        project.root().join("project.toml"),
                        format!(
                            "`{name}` is not one of the project's classes ({})",
                            project.manifest.classes.join(", ")
                        ),
                    )
                })?
                .to_string(),
        )),
        Some(None) => Some(None),
        None => None,
    };
    let mut before = Vec::with_capacity(stems.len());
    for stem in stems {
        let e = project
            .get(stem)
            .ok_or_else(|| ProjectError::UnknownStem(stem.clone()))?;
        before.push(Before {
            stem: stem.clone(),
            label: e.label.clone(),
            split: e.split,
        });
    }
    let user = current_user();
    let mut writes = Writes::default();
    for b in &before {
        let mut label = b.label.clone();
        if let Some(c) = &class {
            label.class = c.clone();
        }
        if let Some(s) = change.status {
            label.status = s;
        }
        if label != b.label {
            label.touch(&user);
            writes
                .labels
                .push((b.stem.clone(), project.label_path(&b.stem), label));
        }
        if let Some(split) = change.split
            && b.split != Some(split)
        {
            writes.splits.insert(b.stem.clone(), Some(split));
        }
    }
    if !writes.splits.is_empty() {
        writes.split_files = project.split_files_with(&writes.splits);
    }
    Ok((writes, before))
}

/// Plans putting the images back as they were before a step: labels as they were serialised,
/// and splits (no split included).
pub fn plan_restore(project: &Project, before: &[Before]) -> Writes {
    let mut writes = Writes::default();
    for b in before {
        let Some(now) = project.get(&b.stem) else {
            continue;
        };
        if now.label != b.label {
            writes
                .labels
                .push((b.stem.clone(), project.label_path(&b.stem), b.label.clone()));
        }
        if now.split != b.split {
            writes.splits.insert(b.stem.clone(), b.split);
        }
    }
    if !writes.splits.is_empty() {
        writes.split_files = project.split_files_with(&writes.splits);
    }
    writes
}

/// Sets `change` on every image of `stems` here and now (the command line). Returns the images
/// as they were, for [`restore`].
pub fn apply(project: &mut Project, stems: &[String], change: &Change) -> Result<Vec<Before>> {
    let (writes, before) = plan(project, stems, change)?;
    project.writable()?;
    writes.write()?;
    writes.record(project);
    Ok(before)
}

/// Puts the images back as they were before an [`apply`].
pub fn restore(project: &mut Project, before: &[Before]) -> Result<()> {
    let writes = plan_restore(project, before);
    project.writable()?;
    writes.write()?;
    writes.record(project);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::demo::{self, DemoOptions};

    fn files(root: &std::path::Path) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for folder in ["labels", "splits"] {
            let mut entries: Vec<_> = std::fs::read_dir(root.join(folder))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            for p in entries {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
        out
    }

    #[test]
    fn a_step_on_many_images_is_undone_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        let options = DemoOptions {
            images: 8,
            seed: 3,
            width: 64,
            height: 36,
        };
        demo::generate(&root, &options, &mut |_, _| {}).unwrap();
        let mut project = Project::open(&root).unwrap();
        let before_files = files(&root);
        let mut filter = Filter::default();
        filter.add("status=labeled").unwrap();
        let stems = matching(&project, &filter);
        assert!(!stems.is_empty(), "{stems:?}");
        let change = Change {
            class: Some(Some("Tendon".into())),
            status: Some(Status::Reviewed),
            split: Some(Split::Test),
        };
        assert_eq!(
            change.describe(),
            "class Tendon, status reviewed, split test"
        );
        let before = apply(&mut project, &stems, &change).unwrap();
        for s in &stems {
            let e = project.get(s).unwrap();
            assert_eq!(
                e.label.class.as_deref(),
                Some("tendon"),
                "matched to the project's name"
            );
            assert_eq!(e.label.status, Status::Reviewed);
            assert_eq!(e.split, Some(Split::Test));
        }
        assert_ne!(files(&root), before_files);
        restore(&mut project, &before).unwrap();
        assert_eq!(files(&root), before_files);

        // A class the project does not have: nothing is written.
        let bad = Change {
            class: Some(Some("bone".into())),
            ..Change::default()
        };
        assert!(apply(&mut project, &stems, &bad).is_err());
        assert_eq!(files(&root), before_files);
        assert!(Filter::default().add("colour=red").is_err());
    }
}
