//! The open project: its folder, manifest, image index, labels, masks and splits.

use super::error::{ProjectError, Result};
use super::label::ImageLabel;
use super::lock::{LockAttempt, LockOwner, ProjectLock};
use super::manifest::{MANIFEST_FILE, Manifest};
use super::names;
use super::splits::{self, Split, SplitItem};
use super::stem::{check_stem, is_image_file, split_name};
use crate::atomic::write_atomic;
use crate::mask::{self, Mask};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

pub const FOLDERS: [&str; 6] = ["images", "labels", "masks", "splits", "runs", "cache"];

/// One image of the project.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageEntry {
    pub stem: String,
    /// File name inside `images/`, with its extension.
    pub file_name: String,
    pub label: ImageLabel,
    pub has_mask: bool,
    pub split: Option<Split>,
}

impl ImageEntry {
    /// The experiment of the frame: recorded in its label, else the stem up to its last `_`.
    pub fn experiment(&self) -> &str {
        match &self.label.experiment {
            Some(e) => e,
            None => self.stem.rsplit_once('_').map_or(&self.stem, |(e, _)| e),
        }
    }
}

/// Whether this copy of the program may write.
#[derive(Debug)]
pub enum Access {
    ReadWrite(ProjectLock),
    ReadOnly { held_by: LockOwner },
}

/// A problem found while opening or checking a project; never fatal.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Problem {
    pub file: String,
    pub problem: String,
}

#[derive(Debug)]
pub struct Project {
    root: PathBuf,
    pub manifest: Manifest,
    images: Vec<ImageEntry>,
    index: HashMap<String, usize>,
    access: Access,
    /// Problems seen while opening (unreadable labels, duplicate stems, stray files).
    pub open_problems: Vec<Problem>,
}

impl Project {
    /// Creates an empty project in `root` (made if missing, must not hold a project yet).
    pub fn create(root: &Path, manifest: Manifest) -> Result<Project> {
        if root.join(MANIFEST_FILE).exists() {
            return Err(ProjectError::AlreadyExists(root.to_path_buf()));
        }
        manifest
            .validate()
            .map_err(|r| ProjectError::invalid(root.join(MANIFEST_FILE), r))?;
        for folder in FOLDERS {
            fs::create_dir_all(root.join(folder)).map_err(ProjectError::io(root.join(folder)))?;
        }
        write_manifest(root, &manifest)?;
        Project::open(root)
    }

    /// Opens a project for editing, or read-only when another live copy holds its lock.
    pub fn open(root: &Path) -> Result<Project> {
        let manifest = read_manifest(root)?;
        let access = match ProjectLock::try_acquire(root) {
            Ok(LockAttempt::Acquired(lock)) => {
                // No writer of this project runs now: what a killed one left goes.
                super::leftovers::clean(root);
                Access::ReadWrite(lock)
            }
            Ok(LockAttempt::HeldBy(held_by)) => Access::ReadOnly { held_by },
            // A folder we may not write to (a read-only share, a CD) is still worth showing.
            Err(e)
                if e.kind() == std::io::ErrorKind::PermissionDenied
                    || e.raw_os_error() == Some(30) =>
            {
                Access::ReadOnly {
                    held_by: LockOwner::not_writable(),
                }
            }
            Err(e) => return Err(ProjectError::io(root.join(super::lock::LOCK_FILE))(e)),
        };
        Project::load(root, manifest, access)
    }

    /// Reads the folder again, keeping the lock (after files were moved in by an import).
    pub fn reload(self) -> Result<Project> {
        let Project {
            root,
            manifest,
            access,
            ..
        } = self;
        Project::load(&root, manifest, access)
    }

    /// Opens without taking the lock: for commands that only read (info, export).
    pub fn open_read_only(root: &Path) -> Result<Project> {
        let manifest = read_manifest(root)?;
        let held_by = LockOwner::read_only_command();
        Project::load(root, manifest, Access::ReadOnly { held_by })
    }

    fn load(root: &Path, manifest: Manifest, access: Access) -> Result<Project> {
        let mut problems = Vec::new();
        let images_dir = root.join("images");
        let mut files: BTreeMap<String, String> = BTreeMap::new();
        for name in list_names(&images_dir)? {
            if !is_image_file(&name) {
                if !name.starts_with('.') {
                    problems.push(Problem {
                        file: format!("images/{name}"),
                        problem: "not an image file (ignored)".into(),
                    });
                }
                continue;
            }
            let stem = split_name(&name)
                .map(|(s, _)| s.to_string())
                .unwrap_or_default();
            if let Err(reason) = check_stem(&stem) {
                problems.push(Problem {
                    file: format!("images/{name}"),
                    problem: reason.to_string(),
                });
                continue;
            }
            if let Some(first) = files.get(&stem) {
                problems.push(Problem {
                    file: format!("images/{name}"),
                    problem: format!("same stem as images/{first} (ignored)"),
                });
                continue;
            }
            files.insert(stem, name);
        }
        let mask_stems: HashSet<String> = list_names(&root.join("masks"))?
            .into_iter()
            .filter_map(|n| n.strip_suffix(".png").map(str::to_string))
            .collect();
        let stems: Vec<&String> = files.keys().collect();
        let labels = read_labels(&root.join("labels"), &stems, &mut problems);
        let known: HashSet<&str> = files.keys().map(String::as_str).collect();
        let split_of = read_splits(root, &known, &mut problems)?;
        let images: Vec<ImageEntry> = files
            .into_iter()
            .zip(labels)
            .map(|((stem, file_name), label)| ImageEntry {
                has_mask: mask_stems.contains(&stem),
                split: split_of.get(&stem).copied(),
                stem,
                file_name,
                label,
            })
            .collect();
        let index = images
            .iter()
            .enumerate()
            .map(|(i, e)| (e.stem.clone(), i))
            .collect();
        Ok(Project {
            root: root.to_path_buf(),
            manifest,
            images,
            index,
            access,
            open_problems: problems,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn images(&self) -> &[ImageEntry] {
        &self.images
    }

    pub fn get(&self, stem: &str) -> Option<&ImageEntry> {
        self.index.get(stem).map(|&i| &self.images[i])
    }

    pub fn is_read_only(&self) -> bool {
        matches!(self.access, Access::ReadOnly { .. })
    }

    pub fn access(&self) -> &Access {
        &self.access
    }

    pub fn image_path(&self, entry: &ImageEntry) -> PathBuf {
        self.root.join("images").join(&entry.file_name)
    }

    pub fn label_path(&self, stem: &str) -> PathBuf {
        self.root.join("labels").join(format!("{stem}.json"))
    }

    pub fn mask_path(&self, stem: &str) -> PathBuf {
        self.root.join("masks").join(format!("{stem}.png"))
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    pub fn writable(&self) -> Result<()> {
        match &self.access {
            Access::ReadWrite(_) => Ok(()),
            Access::ReadOnly { held_by } => Err(ProjectError::ReadOnly(held_by.read_only_reason())),
        }
    }

    fn index_of(&self, stem: &str) -> Result<usize> {
        self.index
            .get(stem)
            .copied()
            .ok_or_else(|| ProjectError::UnknownStem(stem.to_string()))
    }

    /// Writes an image's label atomically and updates the index.
    pub fn save_label(&mut self, stem: &str, label: &ImageLabel) -> Result<()> {
        self.writable()?;
        let i = self.index_of(stem)?;
        write_label(&self.label_path(stem), label)?;
        self.images[i].label = label.clone();
        Ok(())
    }

    /// Why this copy may not write, if it may not.
    pub fn read_only_reason(&self) -> Option<String> {
        self.writable().err().map(|e| e.to_string())
    }

    /// Updates the index after a background save wrote `stem`'s label (and mask).
    pub fn record_saved(&mut self, stem: &str, label: ImageLabel, has_mask: bool) {
        if let Some(&i) = self.index.get(stem) {
            self.images[i].label = label;
            self.images[i].has_mask |= has_mask;
        }
    }

    /// The image's mask file was removed (an undone acceptance that had created it).
    pub fn record_no_mask(&mut self, stem: &str) {
        if let Some(&i) = self.index.get(stem) {
            self.images[i].has_mask = false;
        }
    }

    pub fn load_mask(&self, stem: &str) -> Result<Option<Mask>> {
        let i = self.index_of(stem)?;
        if !self.images[i].has_mask {
            return Ok(None);
        }
        Ok(Some(mask::read_mask(&self.mask_path(stem))?))
    }

    /// Writes an image's mask atomically.
    pub fn save_mask(&mut self, stem: &str, mask: &Mask) -> Result<()> {
        self.writable()?;
        let i = self.index_of(stem)?;
        mask::write_mask(&self.mask_path(stem), mask)?;
        self.images[i].has_mask = true;
        Ok(())
    }

    /// Gives a split to every image without one (see [`splits::assign`]) and writes
    /// `splits/{train,val,test,trainval}.txt`. Returns how many images were newly placed.
    pub fn assign_splits(&mut self) -> Result<usize> {
        self.writable()?;
        let existing: HashMap<String, Split> = self
            .images
            .iter()
            .filter_map(|e| e.split.map(|s| (e.stem.clone(), s)))
            .collect();
        let items: Vec<SplitItem<'_>> = self
            .images
            .iter()
            .map(|e| SplitItem {
                stem: &e.stem,
                experiment: Some(e.experiment()),
            })
            .collect();
        let assigned = splits::assign(&items, &existing, &self.manifest.splits);
        let newly = assigned.len() - existing.len();
        for e in &mut self.images {
            e.split = assigned.get(&e.stem).copied();
        }
        self.write_splits()?;
        Ok(newly)
    }

    /// Sets the splits explicitly (e.g. from an imported VOC ImageSets folder) and writes them.
    pub fn set_splits(&mut self, of: &HashMap<String, Split>) -> Result<()> {
        self.writable()?;
        for e in &mut self.images {
            if let Some(&s) = of.get(&e.stem) {
                e.split = Some(s);
            }
        }
        self.write_splits()
    }

    fn write_splits(&self) -> Result<()> {
        for (path, text) in self.split_files_with(&HashMap::new()) {
            write_atomic(&path, text.as_bytes()).map_err(ProjectError::io(&path))?;
        }
        Ok(())
    }

    /// The split lists (`splits/{train,val,test,trainval}.txt`) as they would read with
    /// `changes` made (`None`: no split), for a writer that holds no project.
    pub fn split_files_with(
        &self,
        changes: &HashMap<String, Option<Split>>,
    ) -> Vec<(PathBuf, String)> {
        let dir = self.root.join("splits");
        let split_of = |e: &ImageEntry| changes.get(&e.stem).copied().unwrap_or(e.split);
        let of = |wanted: &[Split]| {
            splits::stem_list(
                self.images
                    .iter()
                    .filter(|e| split_of(e).is_some_and(|s| wanted.contains(&s)))
                    .map(|e| e.stem.as_str()),
            )
        };
        [
            ("train", &[Split::Train][..]),
            ("val", &[Split::Val]),
            ("test", &[Split::Test]),
            ("trainval", &[Split::Train, Split::Val]),
        ]
        .into_iter()
        .map(|(name, wanted)| (dir.join(format!("{name}.txt")), of(wanted)))
        .collect()
    }

    /// Updates the index after a background writer wrote the split lists.
    pub fn record_splits(&mut self, changes: &HashMap<String, Option<Split>>) {
        for e in &mut self.images {
            if let Some(&s) = changes.get(&e.stem) {
                e.split = s;
            }
        }
    }

    /// Saves project.toml (the region of interest or split settings changed).
    pub fn save_manifest(&self) -> Result<()> {
        self.writable()?;
        write_manifest(&self.root, &self.manifest)
    }
}

/// Writes a label file atomically (also used by background saves, which hold no project).
pub fn write_label(path: &Path, label: &ImageLabel) -> Result<()> {
    let text = serde_json::to_string_pretty(label).expect("labels serialise");
    write_atomic(path, text.as_bytes()).map_err(ProjectError::io(path))
}

pub fn read_manifest(root: &Path) -> Result<Manifest> {
    let path = root.join(MANIFEST_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ProjectError::NotAProject(root.to_path_buf()));
        }
        Err(e) => return Err(ProjectError::io(&path)(e)),
    };
    let manifest: Manifest =
        toml::from_str(&text).map_err(|e| ProjectError::invalid(&path, e.to_string()))?;
    manifest
        .validate()
        .map_err(|r| ProjectError::invalid(&path, r))?;
    Ok(manifest)
}

fn write_manifest(root: &Path, manifest: &Manifest) -> Result<()> {
    let path = root.join(MANIFEST_FILE);
    let text = toml::to_string_pretty(manifest).expect("manifest serialises");
    write_atomic(&path, text.as_bytes()).map_err(ProjectError::io(&path))
}

/// File names in a folder (a missing folder is empty), sorted.
fn list_names(dir: &Path) -> Result<Vec<String>> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ProjectError::io(dir)(e)),
    };
    let mut names = Vec::new();
    for entry in rd {
        let entry = entry.map_err(ProjectError::io(dir))?;
        // A link to a file counts as that file; a pipe or a device named like an image does
        // not (reading it would hang).
        if let (true, Some(n)) = (
            entry.path().metadata().is_ok_and(|m| m.is_file()),
            entry.file_name().to_str(),
        ) {
            names.push(n.to_string());
        }
    }
    names.sort();
    Ok(names)
}

/// Reads the labels of `stems` on all cores; a missing label is an unlabeled image, an
/// unreadable one is reported and shown as unlabeled (the file itself is left untouched).
fn read_labels(dir: &Path, stems: &[&String], problems: &mut Vec<Problem>) -> Vec<ImageLabel> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    let chunk = stems.len().div_ceil(threads).max(64);
    let results: Vec<Vec<(ImageLabel, Option<Problem>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = stems
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|s| read_label(dir, s)).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("label reader"))
            .collect()
    });
    results
        .into_iter()
        .flatten()
        .map(|(label, problem)| {
            problems.extend(problem);
            label
        })
        .collect()
}

/// A label whose class or experiment could not be a folder name (they name folders in exports)
/// is shown without it, and the file is reported; it stays as it is on disk.
fn checked_names(mut label: ImageLabel, stem: &str) -> (ImageLabel, Option<Problem>) {
    let mut why = Vec::new();
    if let Some(p) = label.class.as_deref().and_then(names::problem) {
        why.push(format!("class {p}"));
        label.class = None;
    }
    if let Some(p) = label.experiment.as_deref().and_then(names::problem) {
        why.push(format!("experiment {p}"));
        label.experiment = None;
    }
    let problem = (!why.is_empty()).then(|| Problem {
        file: format!("labels/{stem}.json"),
        problem: format!(
            "{}; shown without it, the file left as it is",
            why.join(", ")
        ),
    });
    (label, problem)
}

fn read_label(dir: &Path, stem: &str) -> (ImageLabel, Option<Problem>) {
    let path = dir.join(format!("{stem}.json"));
    match fs::read(&path) {
        Ok(bytes) => match serde_json::from_slice::<ImageLabel>(&bytes) {
            Ok(label) => checked_names(label, stem),
            Err(e) => (
                ImageLabel::default(),
                Some(Problem {
                    file: format!("labels/{stem}.json"),
                    problem: format!("unreadable label ({e}); left as it is, shown as unlabeled"),
                }),
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (ImageLabel::default(), None),
        Err(e) => (
            ImageLabel::default(),
            Some(Problem {
                file: format!("labels/{stem}.json"),
                problem: e.to_string(),
            }),
        ),
    }
}

/// Reads `splits/{train,val,test}.txt`; `trainval.txt` is derived and only checked.
fn read_splits(
    root: &Path,
    stems: &HashSet<&str>,
    problems: &mut Vec<Problem>,
) -> Result<HashMap<String, Split>> {
    let mut of = HashMap::new();
    for split in Split::ALL {
        let path = root.join("splits").join(format!("{}.txt", split.name()));
        let bytes = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(ProjectError::io(&path)(e)),
        };
        // A list spoiled by another program (not UTF-8) still opens: its unreadable lines are
        // reported and ignored.
        let text = String::from_utf8_lossy(&bytes);
        if matches!(text, std::borrow::Cow::Owned(_)) {
            problems.push(Problem {
                file: format!("splits/{}.txt", split.name()),
                problem: "not UTF-8 text: the lines that are not were ignored".into(),
            });
        }
        for line in splits::stem_lines(&text) {
            let Some(stem) = splits::resolve_stem(line, |s| stems.contains(s)) else {
                continue;
            };
            if let Some(prev) = of.insert(stem.to_string(), split) {
                problems.push(Problem {
                    file: format!("splits/{}.txt", split.name()),
                    problem: format!("`{stem}` is also in {prev}.txt"),
                });
            }
        }
    }
    Ok(of)
}
