//! The headless commands: demo, info, import, export.

use super::progress::Progress;
use crate::project::demo::{self, DemoOptions};
use crate::project::exchange::{self, ExportFormat, ImportFormat};
use crate::project::{Counts, Problem, Project};
use anyhow::Result;
use std::path::Path;

/// The largest demo project (a million frames would fill a disk, not test anything).
const MOST_DEMO_IMAGES: usize = 100_000;

pub fn demo(dir: &Path, images: usize, seed: u64, (width, height): (u32, u32)) -> Result<()> {
    if images == 0 || images > MOST_DEMO_IMAGES {
        anyhow::bail!("--images {images}: a demo project has 1 to {MOST_DEMO_IMAGES} images");
    }
    if let Some(why) = crate::project::limits::size_problem(width, height).or_else(|| {
        (width < 32 || height < 32)
            .then(|| format!("a size of {width}x{height}, smaller than 32x32"))
    }) {
        anyhow::bail!("--size {width}x{height}: {why}");
    }
    let opts = DemoOptions {
        images,
        seed,
        width,
        height,
    };
    let mut bar = Progress::new();
    let started = std::time::Instant::now();
    demo::generate(dir, &opts, &mut |done, total| {
        bar.update("generating frames", done, total)
    })?;
    bar.finish();
    eprintln!(
        "wrote {} demo images to {} in {:.1} s",
        images,
        dir.display(),
        started.elapsed().as_secs_f32()
    );
    Ok(())
}

#[derive(serde::Serialize)]
struct Info<'a> {
    project: String,
    name: &'a str,
    #[serde(flatten)]
    counts: Counts,
    classes_order: &'a [String],
    read_only: bool,
    problems: Vec<Problem>,
}

pub fn info(path: &Path, json: bool) -> Result<()> {
    let project = Project::open_read_only(path)?;
    let counts = project.counts();
    let problems = project.check();
    if json {
        let info = Info {
            project: path.display().to_string(),
            name: &project.manifest.name,
            counts,
            classes_order: &project.manifest.classes,
            read_only: is_locked_elsewhere(path),
            problems,
        };
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    println!("Project {} ({})", project.manifest.name, path.display());
    println!(
        "{} images in {} experiments, {} masks",
        counts.images, counts.experiments, counts.masks
    );
    let classes: Vec<String> = project
        .manifest
        .classes
        .iter()
        .map(|c| format!("{c} {}", counts.classes.get(c).copied().unwrap_or(0)))
        .chain(std::iter::once(format!("no class {}", counts.no_class)))
        .collect();
    println!("  class:  {}", classes.join(" · "));
    let status: Vec<String> = crate::project::Status::ALL
        .iter()
        .map(|s| format!("{s} {}", counts.status.get(s.name()).copied().unwrap_or(0)))
        .collect();
    println!("  status: {}", status.join(" · "));
    let splits: Vec<String> = crate::project::Split::ALL
        .iter()
        .map(|s| format!("{s} {}", counts.splits.get(s.name()).copied().unwrap_or(0)))
        .chain(std::iter::once(format!("unassigned {}", counts.unassigned)))
        .collect();
    println!("  split:  {}", splits.join(" · "));
    if is_locked_elsewhere(path) {
        println!("Being edited in another copy of Nerve Studio.");
    }
    if problems.is_empty() {
        println!("No problems found.");
    } else {
        println!("{} problems:", problems.len());
        for p in &problems {
            println!("  {}: {}", p.file, p.problem);
        }
    }
    Ok(())
}

fn is_locked_elsewhere(path: &Path) -> bool {
    crate::project::lock::current_holder(path).is_some()
}

pub fn import(format: ImportFormat, src: &Path, project: &Path, json: bool) -> Result<()> {
    let report = with_progress(|p| exchange::import(format, src, project, p))?;
    let mut lines = vec![format!(
        "Imported {} images ({} with masks) into {}",
        report.images,
        report.masks,
        project.display()
    )];
    lines.extend(
        report
            .classes
            .iter()
            .map(|(class, n)| format!("  {class}: {n}")),
    );
    lines.extend(
        report
            .statuses
            .iter()
            .map(|(status, n)| format!("  status {status}: {n}")),
    );
    lines.extend(report.notes.iter().map(|n| format!("note: {n}")));
    print_report(json, &report, &lines)
}

pub fn export(format: ExportFormat, project_path: &Path, dest: &Path, json: bool) -> Result<()> {
    let project = Project::open_read_only(project_path)?;
    let report = with_progress(|p| exchange::export(&project, format, dest, p))?;
    let mut lines = vec![format!(
        "Exported {} images and {} masks to {}",
        report.images,
        report.masks,
        dest.display()
    )];
    lines.extend(report.notes.iter().map(|n| format!("note: {n}")));
    print_report(json, &report, &lines)
}

/// Runs a long job with a progress bar on stderr.
fn with_progress<R>(
    job: impl FnOnce(exchange::Progress<'_>) -> crate::project::Result<R>,
) -> Result<R> {
    let mut bar = Progress::new();
    let result = job(&mut |stage, done, total| bar.update(stage, done, total));
    bar.finish();
    Ok(result?)
}

/// One JSON document with `--json`, else the human lines.
fn print_report(json: bool, report: &impl serde::Serialize, lines: &[String]) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        for line in lines {
            println!("{line}");
        }
    }
    Ok(())
}
