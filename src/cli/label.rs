//! `nerve-studio label`: set the class, status or split of many images in one step.

use crate::project::Project;
use crate::project::bulk::{self, Change, Filter};
use crate::project::splits::parse_stem_list;
use anyhow::{Result, anyhow, bail};
use std::path::PathBuf;

/// `nerve-studio label`'s arguments.
#[derive(clap::Args, Debug)]
pub struct Request {
    pub project: PathBuf,
    /// The class to set ("none" removes it)
    #[arg(long)]
    pub class: Option<String>,
    /// The status to set: unlabeled, labeled, reviewed or flagged
    #[arg(long)]
    pub status: Option<String>,
    /// The split to set: train, val or test
    #[arg(long)]
    pub split: Option<String>,
    /// The images: a file with one stem per line
    #[arg(long)]
    pub stems: Option<PathBuf>,
    /// The images: KEY=VALUE (class, status, split, experiment), repeatable, all must hold
    #[arg(long = "filter")]
    pub filters: Vec<String>,
    /// Every image of the project
    #[arg(long)]
    pub all: bool,
    /// Say how many images would change, write nothing
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(serde::Serialize)]
struct Report {
    images: usize,
    change: String,
    /// Images whose label or split differs afterwards.
    changed: usize,
    dry_run: bool,
}

/// What to set, from --class, --status and --split.
fn change_of(r: &Request) -> Result<Change> {
    let change = Change {
        class: r.class.clone().map(|c| (c != "none").then_some(c)),
        status: r
            .status
            .as_deref()
            .map(bulk::parse_status)
            .transpose()
            .map_err(|e| anyhow!(e))?,
        split: r
            .split
            .as_deref()
            .map(bulk::parse_split)
            .transpose()
            .map_err(|e| anyhow!(e))?,
    };
    if change.is_empty() {
        bail!("nothing to set: give --class, --status or --split");
    }
    Ok(change)
}

/// The images to set: listed in --stems, matching the filters, or --all.
fn chosen(r: &Request, project: &Project, filter: &Filter) -> Result<Vec<String>> {
    Ok(match &r.stems {
        Some(file) => {
            let text =
                std::fs::read_to_string(file).map_err(|e| anyhow!("{}: {e}", file.display()))?;
            let stems = parse_stem_list(&text);
            if let Some(missing) = stems.iter().find(|s| project.get(s).is_none()) {
                bail!(
                    "{}: `{missing}` is not an image of the project",
                    file.display()
                );
            }
            stems
        }
        None if r.all => project.images().iter().map(|e| e.stem.clone()).collect(),
        None => bulk::matching(project, filter),
    })
}

/// Whether setting `change` on `stem` changes anything.
fn changes(project: &Project, change: &Change, stem: &str) -> bool {
    let e = project.get(stem).expect("checked above");
    change.class.as_ref().is_some_and(|c| {
        e.label
            .class
            .as_deref()
            .and_then(|k| project.manifest.match_class(k))
            != c.as_deref().and_then(|k| project.manifest.match_class(k))
    }) || change.status.is_some_and(|st| e.label.status != st)
        || change.split.is_some_and(|sp| e.split != Some(sp))
}

pub fn run(r: Request) -> Result<()> {
    let change = change_of(&r)?;
    let mut filter = Filter::default();
    for f in &r.filters {
        filter.add(f).map_err(|e| anyhow!(e))?;
    }
    let chosen_by =
        usize::from(r.stems.is_some()) + usize::from(!r.filters.is_empty()) + usize::from(r.all);
    if chosen_by != 1 {
        bail!("choose the images one way: --stems FILE, --filter KEY=VALUE (repeatable) or --all");
    }
    let mut project = if r.dry_run {
        Project::open_read_only(&r.project)?
    } else {
        Project::open(&r.project)?
    };
    if let Some(why) = project.read_only_reason().filter(|_| !r.dry_run) {
        bail!("{}: {why}", r.project.display());
    }
    if let Some(Some(class)) = &change.class
        && project.manifest.match_class(class).is_none()
    {
        bail!(
            "`{class}` is not one of the project's classes ({}), or none",
            project.manifest.classes.join(", ")
        );
    }
    let stems = chosen(&r, &project, &filter)?;
    let changed = stems
        .iter()
        .filter(|s| changes(&project, &change, s))
        .count();
    if !r.dry_run {
        bulk::apply(&mut project, &stems, &change)?;
    }
    let report = Report {
        images: stems.len(),
        change: change.describe(),
        changed,
        dry_run: r.dry_run,
    };
    if r.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} {} on {} images ({} of them change){}",
            if r.dry_run { "Would set" } else { "Set" },
            report.change,
            report.images,
            report.changed,
            if r.dry_run { "; nothing written" } else { "" }
        );
    }
    Ok(())
}
