//! A simulation of labeling rounds, to measure whether picking the next images by the
//! segmenter's uncertainty (`uncertainty::Strategy::Ours`) beats picking at random or by the
//! whole image's entropy: start with a few labeled nerve frames of a generated project, train
//! the same small U-Net, score the test split (Dice, clDice), let each strategy choose the next
//! frames to "label" (their truth is restored), and train again, over several seeds.

use super::device::ComputeDevice;
use super::predict;
use super::run::RunDir;
use super::train::train_small;
use super::uncertainty::{self, Strategy};
use super::{Error, Result};
use crate::eval::segmentation::{MaskPair, ScoreHistogram, score_image};
use crate::project::bulk::{self, Change};
use crate::project::{ImageEntry, Project, Split, Status};
use serde::Serialize;
use std::path::Path;

/// How a simulation is run.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub seeds: Vec<u64>,
    /// Labeled nerve frames at the start, and added each round.
    pub start: usize,
    pub per_round: usize,
    /// Rounds of training (the first on the starting frames).
    pub rounds: usize,
    pub recipe: String,
    pub image_size: usize,
    pub epochs: usize,
}

/// One training of one round.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub seed: u64,
    pub strategy: Strategy,
    pub labeled: usize,
    pub dice: f64,
    pub cl_dice: f64,
}

pub const STRATEGIES: [Strategy; 3] = [
    Strategy::Random,
    Strategy::WholeImageEntropy,
    Strategy::Ours,
];

/// Runs `plan` on a copy of the project at `source` (left untouched) inside `work`.
pub fn simulate(
    source: &Path,
    work: &Path,
    plan: &Plan,
    device: &ComputeDevice,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Outcome>> {
    let mut out = Vec::new();
    for &seed in &plan.seeds {
        // Round one is the same for every strategy: trained once.
        let base = work.join(format!("seed{seed}-start"));
        copy_dir(source, &base)?;
        let pool = nerve_frames(&base, Split::Train)?;
        let first = uncertainty::pick(
            &as_candidates(&base, &pool)?,
            plan.start,
            Strategy::Random,
            seed,
        );
        let hidden: Vec<String> = pool
            .iter()
            .filter(|s| !first.contains(s))
            .cloned()
            .collect();
        set_status(&base, &hidden, Status::Unlabeled)?;
        progress(&format!("seed {seed}: round 1 ({} labeled)", plan.start));
        let (run, dice, cl) = train_and_score(&base, plan, device)?;
        for strategy in STRATEGIES {
            out.push(Outcome {
                seed,
                strategy,
                labeled: plan.start,
                dice,
                cl_dice: cl,
            });
        }
        for strategy in STRATEGIES {
            let dir = work.join(format!("seed{seed}-{strategy:?}"));
            copy_dir(&base, &dir)?;
            let mut run = run.clone();
            let mut labeled = plan.start;
            for round in 1..plan.rounds {
                let unlabeled = unlabeled_frames(&dir)?;
                let which = |e: &ImageEntry| unlabeled.contains(&e.stem);
                let scored = match strategy {
                    Strategy::Random => as_candidates(&dir, &unlabeled)?,
                    _ => uncertainty::score(&dir, &run, &which, device, &mut |_, _| {})?,
                };
                let picks =
                    uncertainty::pick(&scored, plan.per_round, strategy, seed * 100 + round as u64);
                set_status(&dir, &picks, Status::Labeled)?;
                labeled += picks.len();
                progress(&format!(
                    "seed {seed}: {strategy:?} round {} ({labeled} labeled)",
                    round + 1
                ));
                let (next, dice, cl) = train_and_score(&dir, plan, device)?;
                run = next;
                out.push(Outcome {
                    seed,
                    strategy,
                    labeled,
                    dice,
                    cl_dice: cl,
                });
            }
        }
    }
    Ok(out)
}

/// The nerve frames with a mask in `split`.
fn nerve_frames(root: &Path, split: Split) -> Result<Vec<String>> {
    let project = Project::open_read_only(root)?;
    let nerve = project.manifest.mask_class.clone();
    Ok(project
        .images()
        .iter()
        .filter(|e| {
            e.split == Some(split) && e.has_mask && e.label.class.as_deref() == Some(&nerve)
        })
        .map(|e| e.stem.clone())
        .collect())
}

fn unlabeled_frames(root: &Path) -> Result<Vec<String>> {
    let project = Project::open_read_only(root)?;
    Ok(nerve_frames(root, Split::Train)?
        .into_iter()
        .filter(|s| {
            project
                .get(s)
                .is_some_and(|e| e.label.status == Status::Unlabeled)
        })
        .collect())
}

/// Frames as candidates for a random pick (no scores needed).
fn as_candidates(root: &Path, stems: &[String]) -> Result<Vec<uncertainty::Uncertainty>> {
    let project = Project::open_read_only(root)?;
    Ok(stems
        .iter()
        .filter_map(|s| project.get(s))
        .map(|e| uncertainty::Uncertainty {
            stem: e.stem.clone(),
            experiment: e.experiment().to_string(),
            frame: e.label.frame,
            score: 0.0,
            entropy_near_nerve: 0.0,
            disagreement: 0.0,
            entropy_whole: 0.0,
            nerve: true,
        })
        .collect())
}

fn set_status(root: &Path, stems: &[String], status: Status) -> Result<()> {
    let mut project = Project::open(root)?;
    let change = Change {
        class: None,
        status: Some(status),
        split: None,
    };
    let (writes, _) = bulk::plan(&project, stems, &change)?;
    writes.write()?;
    writes.record(&mut project);
    Ok(())
}

/// Trains the plan's network on what is labeled and scores it on the test split's nerve
/// frames: mean Dice and clDice at the run's threshold, at full size.
fn train_and_score(root: &Path, plan: &Plan, device: &ComputeDevice) -> Result<(String, f64, f64)> {
    let outcome = train_small(root, &plan.recipe, plan.image_size, plan.epochs, device)?;
    let run = outcome.run.id.clone();
    let report = predict::predict(root, &run, Some(Split::Test), device, &mut |_, _| {})?;
    let threshold = RunDir::open(root, &run)?.info()?.threshold.unwrap_or(0.5);
    let project = Project::open_read_only(root)?;
    let (mut dice, mut cl, mut n) = (0.0, 0.0, 0usize);
    let mut pixels = ScoreHistogram::new(255);
    for stem in nerve_frames(root, Split::Test)? {
        let truth = crate::mask::read_mask(&project.mask_path(&stem))?;
        let path = report.output.join(format!("{stem}.png"));
        let map = image::open(&path)
            .map_err(Error::unreadable(&path, "not a readable probability map"))?
            .to_luma8();
        let scores = score_image(
            &MaskPair {
                stem: &stem,
                width: truth.width() as usize,
                height: truth.height() as usize,
                truth: truth.as_bytes(),
                predicted: map.as_raw(),
            },
            f64::from(threshold),
            &mut pixels,
        );
        dice += scores.dice;
        cl += scores.cl_dice;
        n += 1;
    }
    let n = n.max(1) as f64;
    Ok((run, dice / n, cl / n))
}

/// Copies a project folder with its runs (the round before's run scores the next picks), not
/// its cache.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(Error::file(to))?;
    for entry in std::fs::read_dir(from).map_err(Error::file(from))? {
        let entry = entry.map_err(Error::file(from))?;
        let name = entry.file_name();
        if name == "cache" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if src.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(Error::file(&dst))?;
        }
    }
    Ok(())
}

/// Mean and standard deviation over seeds of each (strategy, labeled) cell.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub strategy: Strategy,
    pub labeled: usize,
    pub dice_mean: f64,
    pub dice_sd: f64,
    pub cl_dice_mean: f64,
    pub cl_dice_sd: f64,
}

pub fn table(outcomes: &[Outcome]) -> Vec<Cell> {
    let mut cells = Vec::new();
    let mut keys: Vec<(usize, usize)> = outcomes
        .iter()
        .map(|o| {
            (
                STRATEGIES
                    .iter()
                    .position(|s| *s == o.strategy)
                    .unwrap_or(0),
                o.labeled,
            )
        })
        .collect();
    keys.sort();
    keys.dedup();
    for (s, labeled) in keys {
        let strategy = STRATEGIES[s];
        let of: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| o.strategy == strategy && o.labeled == labeled)
            .collect();
        let stats = |f: fn(&Outcome) -> f64| {
            let v: Vec<f64> = of.iter().map(|o| f(o)).collect();
            let s = crate::eval::stats::Summary::of(&v);
            (s.mean, s.std)
        };
        let (dm, ds) = stats(|o| o.dice);
        let (cm, cs) = stats(|o| o.cl_dice);
        cells.push(Cell {
            strategy,
            labeled,
            dice_mean: dm,
            dice_sd: ds,
            cl_dice_mean: cm,
            cl_dice_sd: cs,
        });
    }
    cells
}
