//! The next most useful images to label, after a segmenter is trained. Every unlabeled image
//! is predicted three times (as it is, mirrored left-right, mirrored top-bottom, each mirrored
//! back); its uncertainty is the mean binary entropy of the averaged prediction taken only near
//! predicted nerve (the foreground grown by a few pixels: a clear background says little), plus
//! how much the three predictions disagree on the nerve's course (1 − their clDice with the
//! average). Picks then keep diversity: no two from one experiment within a few frames of each
//! other (chronological frames are near-duplicates), and a share of random picks among images
//! where some nerve is predicted. The ranking and a heat map per image are kept in
//! `cache/uncertainty/<run>/`.

use super::data::{self, Item, Prepared};
use super::models::Task;
use super::run::{self, RunDir};
use super::{Error, Result, infer, weights};
use crate::eval::skeleton::cl_dice;
use crate::ml::device::ComputeDevice;
use crate::project::{ImageEntry, Project, Split, Status};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Frames of one experiment closer than this are not both picked.
pub const FRAME_GAP: u32 = 3;
/// The share of picks made at random (among images with predicted nerve).
pub const RANDOM_SHARE: f64 = 0.2;

/// One image's uncertainty.
#[derive(Debug, Clone, Serialize)]
pub struct Uncertainty {
    pub stem: String,
    pub experiment: String,
    pub frame: Option<u32>,
    /// `entropy_near_nerve + disagreement`.
    pub score: f64,
    pub entropy_near_nerve: f64,
    /// 1 − mean clDice of each mirrored prediction with the average.
    pub disagreement: f64,
    /// Mean binary entropy over the whole image (the plain baseline).
    pub entropy_whole: f64,
    /// Whether any nerve is predicted.
    pub nerve: bool,
}

pub fn dir(project: &Path, run: &str) -> PathBuf {
    project.join("cache").join("uncertainty").join(run)
}

/// The heat map of `stem` (per-pixel uncertainty, model input size), if scored.
pub fn heat_map_path(project: &Path, run: &str, stem: &str) -> PathBuf {
    dir(project, run).join(format!("{stem}.png"))
}

/// Scores the images `which` accepts with segmenter `run_id`; writes their heat maps.
pub fn score(
    project_root: &Path,
    run_id: &str,
    which: &dyn Fn(&ImageEntry) -> bool,
    device: &ComputeDevice,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Uncertainty>> {
    let project = Project::open_read_only(project_root)?;
    let run = RunDir::open(project_root, run_id)?;
    let recipe = run.recipe_for(Task::Segment)?;
    let info = run.info()?;
    let network = weights::load_for_inference(
        recipe.spec(info.classes.len()).build(&device.device),
        &run.file(run::WEIGHTS),
    )?;
    let entries: Vec<&ImageEntry> = project.images().iter().filter(|e| which(e)).collect();
    let out = dir(project_root, &run.id);
    std::fs::create_dir_all(&out).map_err(Error::file(&out))?;
    let size = recipe.image_size as u32;
    let threshold = info.threshold.unwrap_or(0.5);
    let mut scored = Vec::with_capacity(entries.len());
    for (k, group) in entries.chunks(16).enumerate() {
        let items: Vec<Item> = group
            .iter()
            .map(|e| Item {
                stem: e.stem.clone(),
                split: e.split.unwrap_or(Split::Test),
                class: 0,
                mask_hash: None,
            })
            .collect();
        let refs: Vec<&Item> = items.iter().collect();
        let prepared = data::load(&project, &refs, size, false, &mut |_, _| {})?;
        let mut views: Vec<Vec<Vec<f32>>> = Vec::new();
        for flip in [Flip::None, Flip::LeftRight, Flip::TopBottom] {
            let flipped: Vec<Prepared> = prepared.iter().map(|p| flip.prepared(p)).collect();
            let samples: Vec<&Prepared> = flipped.iter().collect();
            let probs = infer::run(
                &network,
                &samples,
                recipe.batch_size,
                recipe.normalisation,
                None,
                &device.device,
            );
            views.push(
                probs
                    .per_image
                    .iter()
                    .map(|p| flip.map(p, size as usize))
                    .collect(),
            );
        }
        for (i, e) in group.iter().enumerate() {
            let maps: Vec<&[f32]> = views.iter().map(|v| v[i].as_slice()).collect();
            let (u, heat) = measure(e, &maps, size as usize, threshold);
            let path = out.join(format!("{}.png", e.stem));
            let heat = image::GrayImage::from_raw(size, size, heat).expect("the model's size");
            crate::atomic::write_atomic(&path, &super::predict::encode_gray_png(&heat))
                .map_err(Error::file(&path))?;
            scored.push(u);
        }
        progress(((k + 1) * 16).min(entries.len()), entries.len());
    }
    Ok(scored)
}

/// One image's uncertainty from its mirrored predictions (`maps`, each `side` x `side`), and
/// its heat map (0-255: the averaged prediction's entropy, strongest where the views differ).
fn measure(e: &ImageEntry, maps: &[&[f32]], side: usize, threshold: f32) -> (Uncertainty, Vec<u8>) {
    let n = maps[0].len();
    let mean: Vec<f32> = (0..n)
        .map(|k| maps.iter().map(|m| m[k]).sum::<f32>() / maps.len() as f32)
        .collect();
    let entropy: Vec<f32> = mean.iter().map(|&p| binary_entropy(p)).collect();
    let fg: Vec<bool> = mean.iter().map(|&p| p >= threshold).collect();
    let near = dilate(&fg, side, (side / 32).max(2));
    let (sum_near, count_near) = entropy
        .iter()
        .zip(&near)
        .filter(|(_, n)| **n)
        .fold((0f64, 0usize), |(s, c), (h, _)| (s + *h as f64, c + 1));
    let nerve = fg.iter().any(|&v| v);
    let disagreement = if nerve {
        let each: Vec<f64> = maps
            .iter()
            .map(|m| {
                let own: Vec<bool> = m.iter().map(|&p| p >= threshold).collect();
                cl_dice(&fg, &own, side, side)
            })
            .collect();
        1.0 - each.iter().sum::<f64>() / each.len() as f64
    } else {
        0.0
    };
    let entropy_near_nerve = if count_near == 0 {
        0.0
    } else {
        sum_near / count_near as f64
    };
    let spread: Vec<u8> = (0..n)
        .map(|k| {
            let (lo, hi) = maps
                .iter()
                .fold((1f32, 0f32), |(lo, hi), m| (lo.min(m[k]), hi.max(m[k])));
            ((entropy[k] * 0.6 + (hi - lo) * 0.4).clamp(0.0, 1.0) * 255.0) as u8
        })
        .collect();
    (
        Uncertainty {
            stem: e.stem.clone(),
            experiment: e.experiment().to_string(),
            frame: e.label.frame,
            score: entropy_near_nerve + disagreement,
            entropy_near_nerve,
            disagreement,
            entropy_whole: entropy.iter().map(|&h| h as f64).sum::<f64>() / n as f64,
            nerve,
        },
        spread,
    )
}

fn binary_entropy(p: f32) -> f32 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    -(p * p.log2() + (1.0 - p) * (1.0 - p).log2())
}

/// `mask` grown by `r` cells (a square neighbourhood).
fn dilate(mask: &[bool], side: usize, r: usize) -> Vec<bool> {
    let mut rows = vec![false; mask.len()];
    for y in 0..side {
        for x in 0..side {
            if mask[y * side + x] {
                for xx in x.saturating_sub(r)..(x + r + 1).min(side) {
                    rows[y * side + xx] = true;
                }
            }
        }
    }
    let mut out = vec![false; mask.len()];
    for y in 0..side {
        for x in 0..side {
            if rows[y * side + x] {
                for yy in y.saturating_sub(r)..(y + r + 1).min(side) {
                    out[yy * side + x] = true;
                }
            }
        }
    }
    out
}

#[derive(Clone, Copy)]
enum Flip {
    None,
    LeftRight,
    TopBottom,
}

impl Flip {
    fn prepared(self, p: &Prepared) -> Prepared {
        let rgb = match self {
            Flip::None => p.rgb.clone(),
            Flip::LeftRight => image::imageops::flip_horizontal(&p.rgb),
            Flip::TopBottom => image::imageops::flip_vertical(&p.rgb),
        };
        Prepared {
            rgb,
            mask: None,
            class: p.class,
            mask_hash: None,
        }
    }

    /// A prediction of the mirrored picture, mirrored back.
    fn map(self, p: &[f32], side: usize) -> Vec<f32> {
        (0..side * side)
            .map(|k| {
                let (x, y) = (k % side, k / side);
                match self {
                    Flip::None => p[k],
                    Flip::LeftRight => p[y * side + (side - 1 - x)],
                    Flip::TopBottom => p[(side - 1 - y) * side + x],
                }
            })
            .collect()
    }
}

/// How a batch of images to label is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Uniformly at random.
    Random,
    /// Highest mean entropy over the whole image, nothing else.
    WholeImageEntropy,
    /// Ours: entropy near nerve + flip disagreement, with diversity and random picks.
    Ours,
}

/// Chooses `n` images of `scored` by `strategy` (`seed` for the random parts), most useful
/// first.
pub fn pick(scored: &[Uncertainty], n: usize, strategy: Strategy, seed: u64) -> Vec<String> {
    let mut rng = crate::project::demo::random::Rng::new(seed);
    let mut order: Vec<&Uncertainty> = scored.iter().collect();
    match strategy {
        Strategy::Random => {
            shuffle(&mut order, &mut rng);
            return order.iter().take(n).map(|u| u.stem.clone()).collect();
        }
        Strategy::WholeImageEntropy => {
            order.sort_by(|a, b| b.entropy_whole.total_cmp(&a.entropy_whole));
            return order.iter().take(n).map(|u| u.stem.clone()).collect();
        }
        Strategy::Ours => order.sort_by(|a, b| b.score.total_cmp(&a.score)),
    }
    let random = ((n as f64 * RANDOM_SHARE).round() as usize).min(n);
    let mut picked: Vec<&Uncertainty> = Vec::new();
    let close = |a: &Uncertainty, b: &Uncertainty| {
        a.experiment == b.experiment
            && a.frame
                .zip(b.frame)
                .is_none_or(|(x, y)| x.abs_diff(y) <= FRAME_GAP)
    };
    for u in &order {
        if picked.len() + random >= n {
            break;
        }
        if !picked.iter().any(|p| close(p, u)) {
            picked.push(u);
        }
    }
    let mut rest: Vec<&Uncertainty> = order
        .iter()
        .filter(|u| u.nerve && !picked.iter().any(|p| p.stem == u.stem))
        .copied()
        .collect();
    shuffle(&mut rest, &mut rng);
    picked.extend(rest.into_iter().take(n - picked.len()));
    // Too few far-apart images: fill with the next most uncertain.
    for u in &order {
        if picked.len() >= n {
            break;
        }
        if !picked.iter().any(|p| p.stem == u.stem) {
            picked.push(u);
        }
    }
    picked.iter().map(|u| u.stem.clone()).collect()
}

fn shuffle<T>(v: &mut [T], rng: &mut crate::project::demo::random::Rng) {
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// Scores the project's unlabeled images with segmenter `run_id`, ranks them (ours) and
/// writes `ranking.csv` (stem, rank, score, entropy near nerve, disagreement): what Browse
/// sorts by and the "next most useful image" key follows. Returns them most useful first.
pub fn rank(
    project_root: &Path,
    run_id: &str,
    device: &ComputeDevice,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Uncertainty>> {
    let unlabeled = |e: &ImageEntry| e.label.status == Status::Unlabeled;
    let scored = score(project_root, run_id, &unlabeled, device, progress)?;
    let ranked: Vec<Uncertainty> = pick(&scored, scored.len(), Strategy::Ours, 1)
        .iter()
        .filter_map(|stem| scored.iter().find(|u| &u.stem == stem).cloned())
        .collect();
    let rows = ranked.iter().enumerate().map(|(i, u)| {
        vec![
            u.stem.clone(),
            (i + 1).to_string(),
            format!("{:.4}", u.score),
            format!("{:.4}", u.entropy_near_nerve),
            format!("{:.4}", u.disagreement),
        ]
    });
    let text = crate::table::to_text(&RANKING_COLUMNS, rows);
    let path = dir(project_root, run_id).join(RANKING);
    crate::atomic::write_atomic(&path, text.as_bytes()).map_err(Error::file(&path))?;
    Ok(ranked)
}

pub const RANKING: &str = "ranking.csv";
const RANKING_COLUMNS: [&str; 5] = [
    "stem",
    "rank",
    "score",
    "entropy_near_nerve",
    "disagreement",
];

/// The ranking of the active segmenter's last scoring: stem → rank (1 = most useful).
pub fn read_ranking(project_root: &Path) -> std::collections::HashMap<String, usize> {
    let Some(run) = super::registry::read_active(project_root).segmenter else {
        return Default::default();
    };
    crate::table::read(&dir(project_root, &run).join(RANKING))
        .map(|t| {
            t.rows
                .iter()
                .filter_map(|r| Some((r.fields.first()?.clone(), r.fields.get(1)?.parse().ok()?)))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(stem: &str, experiment: &str, frame: u32, score: f64) -> Uncertainty {
        Uncertainty {
            stem: stem.into(),
            experiment: experiment.into(),
            frame: Some(frame),
            score,
            entropy_near_nerve: score,
            disagreement: 0.0,
            entropy_whole: score / 2.0,
            nerve: true,
        }
    }

    #[test]
    fn picks_skip_near_duplicate_frames_and_keep_a_random_share() {
        // One experiment's five neighbouring frames are the most uncertain.
        let mut scored: Vec<Uncertainty> = (0..5)
            .map(|f| u(&format!("a{f}"), "a", f, 0.9 - f as f64 * 0.01))
            .collect();
        scored.extend((0..10).map(|k| u(&format!("b{k}"), &format!("b{k}"), 0, 0.5)));
        let picks = pick(&scored, 5, Strategy::Ours, 7);
        assert_eq!(picks.len(), 5);
        assert_eq!(picks[0], "a0");
        // The four chosen by doubt skip a1..a3 (within three frames of a0); a4 is four frames
        // away. The fifth is the random share (one in five), drawn among all with nerve.
        assert_eq!(picks[..4], ["a0", "a4", "b0", "b1"], "{picks:?}");
        assert!(!picks[..4].contains(&"a1".to_string()));
        // The plain entropy ranking takes the duplicates.
        let plain = pick(&scored, 3, Strategy::WholeImageEntropy, 7);
        assert_eq!(plain, ["a0", "a1", "a2"]);
        // Random picks differ with the seed.
        assert_ne!(
            pick(&scored, 5, Strategy::Random, 1),
            pick(&scored, 5, Strategy::Random, 2)
        );
    }

    #[test]
    fn entropy_is_highest_at_a_half() {
        assert!(binary_entropy(0.5) > 0.99);
        assert!(binary_entropy(0.01) < 0.1);
        let mirrored = Flip::LeftRight.map(&Flip::LeftRight.map(&[1.0, 2.0, 3.0, 4.0], 2), 2);
        assert_eq!(mirrored, [1.0, 2.0, 3.0, 4.0]);
    }
}
