//! `bench`'s `tracer` figures: a simulated annotator (see `eval::annotator`) on generated nerve
//! frames with known truth, clicking with the nerve tracer, with the brush alone, and with the
//! brush correcting a small segmenter's pre-annotation (trained here on the same kind of
//! frames, its test split being the frames annotated).

use crate::eval::annotator::{self, Curve, Nerve};
use crate::mask::Mask;
use crate::ml::device::ComputeDevice;
use crate::ml::train::{TrainRequest, train};
use crate::project::demo::{self, DemoOptions};
use crate::project::{Project, Split};
use anyhow::Result;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// The frames' size, and the segmenter's recipe.
const SIZE: (u32, u32) = (480, 270);
const SEGMENTER: &str = "mu_net";
const SEGMENTER_SIZE: usize = 128;
const SEGMENTER_EPOCHS: usize = 8;

#[derive(Debug, Serialize)]
pub struct TracerBench {
    /// Nerve frames annotated (one simple nerve each), and their size.
    pub images: usize,
    pub image_size: String,
    /// How the pre-annotation was made.
    pub segmenter: String,
    pub strategies: Vec<Strategy>,
}

#[derive(Debug, Serialize)]
pub struct Strategy {
    pub name: &'static str,
    /// Median clicks to reach IoU 0.85 and 0.90 (`None` when fewer than half the images got
    /// there within the clicks simulated), and on how many images it was reached.
    pub clicks_to_iou_085: Option<f64>,
    pub reached_085: usize,
    pub clicks_to_iou_090: Option<f64>,
    pub reached_090: usize,
    /// Mean IoU and clDice after 1, 3 and 5 clicks (0 clicks for the pre-annotation alone is
    /// `start`).
    pub after: Vec<After>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<After>,
}

#[derive(Debug, Serialize)]
pub struct After {
    pub clicks: usize,
    pub iou: f64,
    pub cl_dice: f64,
}

pub fn run(device: &ComputeDevice) -> Result<TracerBench> {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("nerves");
    demo::generate(
        &root,
        &DemoOptions {
            images: 160,
            seed: 2026,
            width: SIZE.0,
            height: SIZE.1,
        },
        &mut |_, _| {},
    )?;
    let run_id = segmenter(&root, device)?;
    crate::ml::predict::predict(&root, &run_id, Some(Split::Test), device, &mut |_, _| {})?;
    let project = Project::open_read_only(&root)?;
    let maps = crate::ml::predict::predictions_dir(&root, &run_id);
    let threshold = crate::ml::run::RunDir::open(&root, &run_id)?
        .info()?
        .threshold
        .unwrap_or(0.5);
    let mut cases: Vec<(Nerve, Mask)> = vec![];
    for e in project.images() {
        if e.split != Some(Split::Test) || !e.has_mask {
            continue;
        }
        let rgb = image::open(project.image_path(e))?.to_rgb8().into_raw();
        let truth = crate::mask::read_mask(&project.mask_path(&e.stem))?;
        let Some(nerve) = Nerve::new(rgb, truth) else {
            continue;
        };
        let map = image::open(maps.join(format!("{}.png", e.stem)))?.to_luma8();
        let called: Vec<u8> = map
            .iter()
            .map(|&v| u8::from(v as f32 / 255.0 >= threshold))
            .collect();
        cases.push((nerve, Mask::from_nonzero(SIZE.0, SIZE.1, &called)));
    }
    let tracer: Vec<Curve> = cases
        .iter()
        .map(|(n, _)| annotator::with_tracer(n))
        .collect();
    let brush: Vec<Curve> = cases
        .iter()
        .map(|(n, _)| annotator::with_brush(n, None))
        .collect();
    let corrected: Vec<Curve> = cases
        .iter()
        .map(|(n, m)| annotator::with_brush(n, Some(m)))
        .collect();
    let starts: Vec<(f64, f64)> = cases.iter().map(|(n, m)| annotator::scored(n, m)).collect();
    let mut pre = strategy("pre-annotation + brush corrections", &corrected);
    pre.start = Some(After {
        clicks: 0,
        iou: mean(starts.iter().map(|s| s.0)),
        cl_dice: mean(starts.iter().map(|s| s.1)),
    });
    Ok(TracerBench {
        images: cases.len(),
        image_size: format!("{}x{}", SIZE.0, SIZE.1),
        segmenter: format!(
            "{SEGMENTER} at {SEGMENTER_SIZE} px, {SEGMENTER_EPOCHS} epochs on the other frames \
             of a 160-frame demo"
        ),
        strategies: vec![
            strategy("nerve tracer", &tracer),
            strategy("brush alone", &brush),
            pre,
        ],
    })
}

/// Trains the small segmenter the pre-annotation comes from.
fn segmenter(root: &std::path::Path, device: &ComputeDevice) -> Result<String> {
    let mut named = crate::ml::recipe::load(SEGMENTER)?;
    named.recipe.image_size = SEGMENTER_SIZE;
    named.recipe.batch_size = 8;
    named.recipe = named.recipe.with_total_epochs(SEGMENTER_EPOCHS);
    let outcome = train(
        TrainRequest {
            project: root.to_path_buf(),
            recipe: named,
            device: device.clone(),
            weights: None,
            resume: None,
            cancel: Arc::new(AtomicBool::new(false)),
        },
        &mut |_| {},
    )?;
    Ok(outcome.run.id)
}

fn strategy(name: &'static str, curves: &[Curve]) -> Strategy {
    let reached = |goal: f64| -> (Option<f64>, usize) {
        let mut clicks: Vec<f64> = curves
            .iter()
            .map(|c| c.clicks_to(goal).map_or(f64::INFINITY, |n| n as f64))
            .collect();
        clicks.sort_by(f64::total_cmp);
        let hit = clicks.iter().filter(|c| c.is_finite()).count();
        let median = clicks
            .get(clicks.len() / 2)
            .copied()
            .filter(|c| c.is_finite());
        (median, hit)
    };
    let (c85, r85) = reached(0.85);
    let (c90, r90) = reached(0.90);
    Strategy {
        name,
        clicks_to_iou_085: c85,
        reached_085: r85,
        clicks_to_iou_090: c90,
        reached_090: r90,
        after: [1, 3, 5]
            .into_iter()
            .map(|k| After {
                clicks: k,
                iou: mean(curves.iter().map(|c| c.after(k).0)),
                cl_dice: mean(curves.iter().map(|c| c.after(k).1)),
            })
            .collect(),
        start: None,
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = values.collect();
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// The table `bench` prints.
pub fn print(t: &TracerBench) {
    println!(
        "\nAnnotating a nerve ({} frames {}, simulated clicks at the largest error; pre-annotation: {}):",
        t.images, t.image_size, t.segmenter
    );
    println!(
        "  {:<36} {:>10} {:>10} {:>16} {:>16} {:>16}",
        "", "to IoU .85", "to IoU .90", "1 click IoU/cl", "3 clicks", "5 clicks"
    );
    for s in &t.strategies {
        let clicks = |c: Option<f64>, n: usize| match c {
            Some(c) => format!("{c:.0} ({n}/{})", t.images),
            None => format!("— ({n}/{})", t.images),
        };
        let after = |k: usize| {
            s.after
                .iter()
                .find(|a| a.clicks == k)
                .map_or(String::new(), |a| format!("{:.2}/{:.2}", a.iou, a.cl_dice))
        };
        println!(
            "  {:<36} {:>10} {:>10} {:>16} {:>16} {:>16}",
            s.name,
            clicks(s.clicks_to_iou_085, s.reached_085),
            clicks(s.clicks_to_iou_090, s.reached_090),
            after(1),
            after(3),
            after(5)
        );
        if let Some(start) = &s.start {
            println!(
                "  {:<36} before any click: IoU {:.2}, clDice {:.2}",
                "", start.iou, start.cl_dice
            );
        }
    }
}
