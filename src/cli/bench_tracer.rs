//! `bench`'s `tracer` figures: a simulated annotator (see `eval::annotator`) on generated nerve
//! frames with known truth, clicking with the nerve tracer, with the brush alone, and with the
//! brush correcting a small segmenter's pre-annotation (trained here on the same kind of
//! frames, its test split being the frames annotated).

use crate::eval::annotator::{self, Curve, Nerve};
use crate::eval::segmentation;
use crate::mask::Mask;
use crate::mask::trace::Tracer;
use crate::ml::device::ComputeDevice;
use crate::ml::train::train_small;
use crate::project::demo::{self, DemoOptions};
use crate::project::{Project, Split};
use anyhow::Result;
use serde::Serialize;

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

pub fn run(device: &ComputeDevice) -> Result<(TracerBench, PropagationBench)> {
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
    crate::ml::predict::predict(&root, &run_id, None, device, &mut |_, _| {})?;
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
        cases.push((nerve, called(&maps, &e.stem, threshold)?));
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
    let starts: Vec<(f64, f64)> = cases
        .iter()
        .map(|(n, m)| annotator::scored(&n.truth, m))
        .collect();
    let mut pre = strategy("pre-annotation + brush corrections", &corrected);
    pre.start = Some(After {
        clicks: 0,
        iou: mean(starts.iter().map(|s| s.0)),
        cl_dice: mean(starts.iter().map(|s| s.1)),
    });
    let propagation = propagation(&project, &maps, threshold)?;
    let tracer = TracerBench {
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
    };
    Ok((tracer, propagation))
}

/// `bench`'s `propagation` figures: each nerve frame's truth carried to the experiment's next
/// frame, against that frame's truth.
#[derive(Debug, Serialize)]
pub struct PropagationBench {
    /// Pairs of consecutive nerve frames (both with a truth mask).
    pub pairs: usize,
    pub methods: Vec<After>,
    /// The same order as `methods`.
    pub names: Vec<&'static str>,
}

fn propagation(
    project: &Project,
    maps: &std::path::Path,
    threshold: f32,
) -> Result<PropagationBench> {
    use crate::mask::propagate::{Frame, propose};
    let names = vec![
        "copy of the previous frame's mask",
        "proposal from the previous mask (aligned, block-matched)",
        "proposal from the previous frame's traced nerve (5 tracer clicks)",
        "the segmenter's pre-annotation of the frame",
    ];
    let mut scores: Vec<Vec<(f64, f64)>> = vec![vec![]; names.len()];
    let frames: Vec<&crate::project::ImageEntry> = project
        .images()
        .iter()
        .filter(|e| e.has_mask && e.label.class.as_deref() == Some("nerve"))
        .collect();
    for pair in frames.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let same = a.label.experiment.is_some()
            && a.label.experiment == b.label.experiment
            && a.label
                .frame
                .zip(b.label.frame)
                .is_some_and(|(x, y)| y == x + 1);
        if !same {
            continue;
        }
        let (ia, ib) = (
            image::open(project.image_path(a))?.to_rgb8(),
            image::open(project.image_path(b))?.to_rgb8(),
        );
        let (ma, mb) = (
            crate::mask::read_mask(&project.mask_path(&a.stem))?,
            crate::mask::read_mask(&project.mask_path(&b.stem))?,
        );
        let (fa, fb) = (
            Frame::new(ia.as_raw(), 3, ia.width(), ia.height()),
            Frame::new(ib.as_raw(), 3, ib.width(), ib.height()),
        );
        let next_tracer = Tracer::of(ib.as_raw(), 3, ib.width(), ib.height());
        let truth = |m: &Mask| annotator::scored(&mb, m);
        scores[0].push(truth(&ma));
        scores[1].push(truth(&propose(&fa, &fb, &ma, &[], None).mask));
        if let Some(nerve) = Nerve::new(ia.as_raw().clone(), ma.clone()) {
            let path = annotator::traced(&nerve, 5);
            let mut drawn = Mask::empty(ma.width(), ma.height());
            crate::mask::trace::render(&mut drawn, std::slice::from_ref(&path));
            let p = propose(&fa, &fb, &drawn, &[path], Some(&next_tracer));
            scores[2].push(truth(&p.mask));
        }
        scores[3].push(truth(&called(maps, &b.stem, threshold)?));
    }
    Ok(PropagationBench {
        pairs: scores[0].len(),
        methods: scores
            .iter()
            .map(|s| After {
                clicks: s.len(),
                iou: mean(s.iter().map(|v| v.0)),
                cl_dice: mean(s.iter().map(|v| v.1)),
            })
            .collect(),
        names,
    })
}

/// The segmenter's mask of `stem` (its cached map at the run's threshold).
fn called(maps: &std::path::Path, stem: &str, threshold: f32) -> Result<Mask> {
    let map = image::open(maps.join(format!("{stem}.png")))?.to_luma8();
    let called: Vec<u8> = map
        .iter()
        .map(|&v| u8::from(segmentation::called(v, f64::from(threshold))))
        .collect();
    Ok(Mask::from_nonzero(map.width(), map.height(), &called))
}

/// Trains the small segmenter the pre-annotation comes from.
fn segmenter(root: &std::path::Path, device: &ComputeDevice) -> Result<String> {
    let outcome = train_small(root, SEGMENTER, SEGMENTER_SIZE, SEGMENTER_EPOCHS, device)?;
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

/// The propagation table `bench` prints.
pub fn print_propagation(p: &PropagationBench) {
    println!(
        "\nCarrying a mask to the next frame ({} pairs of consecutive nerve frames):",
        p.pairs
    );
    for (name, m) in p.names.iter().zip(&p.methods) {
        println!(
            "  {name:<66} IoU {:.3}  clDice {:.3}  ({} pairs)",
            m.iou, m.cl_dice, m.clicks
        );
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
