use nerve_studio::project::demo::{self, DemoOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A small demo project (`images` frames of 192x108) in a fresh temporary folder.
pub fn small_demo(images: usize, seed: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    let opts = DemoOptions {
        images,
        seed,
        width: 192,
        height: 108,
    };
    demo::generate(&root, &opts, &mut |_, _| {}).unwrap();
    (dir, root)
}

/// Every file under `root` (relative path -> bytes), skipping the lock and the cache.
pub fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
        if rel == ".nerve-studio.lock" || rel.starts_with("cache") {
            continue;
        }
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.insert(rel, std::fs::read(&p).unwrap());
        }
    }
}

/// Only the files of one folder of a project tree.
pub fn folder(tree: &BTreeMap<String, Vec<u8>>, name: &str) -> BTreeMap<String, Vec<u8>> {
    tree.iter()
        .filter(|(k, _)| k.starts_with(&format!("{name}/")))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

pub fn quiet() -> impl FnMut(&str, usize, usize) {
    |_, _, _| {}
}

/// A small demo project exported in `format` beside it: (its folder, the project, the export).
pub fn demo_export(
    images: usize,
    seed: u64,
    format: nerve_studio::project::exchange::ExportFormat,
) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (dir, root) = small_demo(images, seed);
    let out = dir.path().join("export");
    nerve_studio::project::exchange::export(
        &nerve_studio::project::Project::open_read_only(&root).unwrap(),
        format,
        &out,
        &mut quiet(),
    )
    .unwrap();
    (dir, root, out)
}

/// What the window gives its screens beside the project, for driving a screen on its own.
#[derive(Default)]
pub struct Shared {
    pub thumbnails: nerve_studio::gui::thumbnails::Thumbnails,
    pub settings: nerve_studio::gui::screens::Settings,
}

impl Shared {
    /// The read-only context a screen sees, over `project`.
    pub fn ctx<'a>(
        &'a self,
        project: &'a nerve_studio::project::Project,
    ) -> nerve_studio::gui::screens::Context<'a> {
        nerve_studio::gui::screens::Context {
            project,
            thumbnails: &self.thumbnails,
            settings: &self.settings,
            training: None,
        }
    }
}

/// Runs a task (a screen's background work really runs) to its end; returns its messages.
pub fn run_task<M: Send + 'static>(task: iced::Task<M>) -> Vec<M> {
    use iced::futures::StreamExt;
    iced::futures::executor::block_on(crate::window::messages(task).collect())
}
