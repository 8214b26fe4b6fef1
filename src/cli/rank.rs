//! `nerve-studio rank`: the unlabeled images ordered by how useful labeling them would be
//! (a segmenter's uncertainty, with diversity; see `ml::uncertainty`).

use super::progress::Progress;
use crate::ml::device::{self, DeviceChoice};
use crate::ml::uncertainty;
use anyhow::{Result, anyhow};
use std::path::Path;

pub fn rank(project: &Path, run: Option<String>, device: DeviceChoice, json: bool) -> Result<()> {
    let run = match run {
        Some(r) => r,
        None => crate::ml::registry::read_active(project)
            .segmenter
            .ok_or_else(|| {
                anyhow!(
                    "{}: no active segmenter; train one or name a run with --run",
                    project.display()
                )
            })?,
    };
    let device = device::select(device)?;
    let mut bar = Progress::new();
    let ranked = uncertainty::rank(project, &run, &device, &mut |d, t| {
        bar.update("scoring unlabeled images", d, t)
    })?;
    bar.finish();
    if json {
        println!("{}", serde_json::to_string_pretty(&ranked)?);
        return Ok(());
    }
    println!(
        "{} unlabeled images ranked by run {run} (written to {}):",
        ranked.len(),
        uncertainty::dir(project, &run)
            .join(uncertainty::RANKING)
            .display()
    );
    println!(
        "  rank  {:<28} {:>6} {:>9} {:>12}",
        "image", "score", "entropy", "disagreement"
    );
    for (i, u) in ranked.iter().take(20).enumerate() {
        println!(
            "  {:>4}  {:<28} {:>6.3} {:>9.3} {:>12.3}",
            i + 1,
            u.stem,
            u.score,
            u.entropy_near_nerve,
            u.disagreement
        );
    }
    Ok(())
}
