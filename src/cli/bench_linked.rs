//! The linked real-time view's speed: the seed's setup (MobileNetV2 classifier and U-Net with a
//! MobileNetV2 encoder, both at 224x224, the default recipes) over an experiment of Full-HD demo
//! frames, each read from disk, classified, segmented (every frame, the worst case), scored and
//! drawn with its caption. The seed lab's tool took 252 ms per frame.

use crate::ml::device::ComputeDevice;
use crate::ml::recipe;
use crate::project::Project;
use crate::review::linked::{self, Linked};
use anyhow::Context as _;
use std::sync::atomic::AtomicBool;

#[derive(serde::Serialize)]
pub struct LinkedBench {
    pub classifier: String,
    pub segmenter: String,
    pub frame: String,
    pub frames: usize,
    /// The first frame (it also warms the models up).
    pub first_ms: f64,
    pub ms_median: f64,
    pub ms_mean: f64,
    pub ms_max: f64,
    pub frames_per_s: f64,
    /// Frames over the wall-clock time of the whole sequence (the next frame is read while
    /// the models work on this one).
    pub sequence_frames_per_s: f64,
    /// Medians of where the time goes.
    pub stages_ms_median: linked::Stages,
    /// The seed lab's linked tool, for comparison.
    pub seed_ms: f64,
}

pub fn run(device: &ComputeDevice) -> anyhow::Result<LinkedBench> {
    let (_dir, root) = crate::project::demo::full_hd(40)?;
    let project = Project::open_read_only(&root)?;
    let (experiment, _) = linked::experiments(&project)
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .context("the demo has no experiment")?;
    let classifier = recipe::load("mobilenet_v2")?.recipe;
    let segmenter = recipe::load("unet_mobilenet_v2")?.recipe;
    let models = Linked::untrained(&project, Some(&classifier), &segmenter, device.clone());
    let (mut ms, mut stages) = (Vec::new(), Vec::new());
    let started = std::time::Instant::now();
    linked::play(
        &root,
        &models,
        &experiment,
        &AtomicBool::new(false),
        &mut |f, _| {
            ms.push(f.ms);
            stages.push(f.stages);
        },
    )?;
    let wall = started.elapsed().as_secs_f64();
    let median = |f: fn(&linked::Stages) -> f64| {
        crate::eval::stats::Summary::of(&stages.iter().skip(1).map(f).collect::<Vec<_>>()).median
    };
    let stages_ms_median = linked::Stages {
        read_ms: median(|s| s.read_ms),
        classify_ms: median(|s| s.classify_ms),
        segment_ms: median(|s| s.segment_ms),
        draw_ms: median(|s| s.draw_ms),
    };
    let first_ms = *ms.first().context("no frame was processed")?;
    let steady = if ms.len() > 1 { &ms[1..] } else { &ms[..] };
    let s = crate::eval::stats::Summary::of(steady);
    Ok(LinkedBench {
        classifier: format!("mobilenet_v2 at {0}x{0}", classifier.image_size),
        segmenter: format!("unet_mobilenet_v2 at {0}x{0}", segmenter.image_size),
        frame: "1920x1080 JPEG".into(),
        frames: ms.len(),
        first_ms,
        ms_median: s.median,
        ms_mean: s.mean,
        ms_max: s.max,
        frames_per_s: 1000.0 / s.median.max(1e-9),
        sequence_frames_per_s: ms.len() as f64 / wall.max(1e-9),
        stages_ms_median,
        seed_ms: 252.0,
    })
}
