//! `nerve-studio bench`: how fast a big project opens and shows its first screen, and what
//! it costs in memory; and how fast each architecture infers and trains on the chosen device.

use super::Device;
use super::bench_models;
use super::progress::Progress;
use crate::ml::device::ComputeDevice;
use crate::ml::models::Arch;
use crate::project::demo::{self, DemoOptions};
use crate::project::thumbnails::{load_or_make, thumbnail_path};
use crate::project::{Manifest, Project, parallel};
use anyhow::{Context, Result};
use std::path::Path;
use std::time::Instant;

/// Thumbnails on the first screen of a 1400x900 window (7 columns by 5 rows).
const FIRST_SCREEN: usize = 35;
/// Distinct frames rendered; the big project reuses them through hard links.
const DISTINCT_FRAMES: usize = 60;

/// Measures the window's latency (`gui::bench::ui_latency`). The binary registers it: the
/// command line links no window code of its own.
pub type UiBench = fn(&ComputeDevice) -> anyhow::Result<UiLatency>;

static UI_LATENCY: std::sync::OnceLock<UiBench> = std::sync::OnceLock::new();

/// Lets `bench` measure the window's latency with `measure`.
pub fn register_ui_bench(measure: UiBench) {
    let _ = UI_LATENCY.set(measure);
}

#[derive(serde::Serialize)]
pub struct UiLatency {
    /// Pointer events per measurement (strokes of this many points).
    pub events: usize,
    pub image: String,
    pub idle_ms_median: f64,
    pub idle_ms_p95: f64,
    pub idle_ms_max: f64,
    pub training_ms_median: f64,
    pub training_ms_p95: f64,
    pub training_ms_max: f64,
    /// What trained meanwhile, and how fast.
    pub training: String,
    pub training_images_per_s: f64,
}

#[derive(serde::Serialize)]
struct ProjectOpen {
    images: usize,
    open_ms: f64,
    counts_ms: f64,
    first_screen_thumbnails: usize,
    thumbnails_cold_ms: f64,
    thumbnails_cached_ms: f64,
    open_to_first_screen_ms: f64,
    rss_before_mb: f64,
    rss_after_open_mb: f64,
    project_memory_mb: f64,
}

#[derive(serde::Serialize)]
struct Report {
    device: String,
    results: Vec<bench_models::ModelResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_open: Option<ProjectOpen>,
    #[serde(skip_serializing_if = "Option::is_none")]
    brush: Option<BrushBench>,
    #[serde(skip_serializing_if = "Option::is_none")]
    eval: Option<super::bench_eval::EvalBench>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ui_latency: Option<UiLatency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    linked: Option<super::bench_linked::LinkedBench>,
    /// Clicks to annotate a nerve with the tracer, the brush, and pre-annotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    tracer: Option<super::bench_tracer::TracerBench>,
    /// A mask carried to the next frame, against copying it and the segmenter.
    #[serde(skip_serializing_if = "Option::is_none")]
    propagation: Option<super::bench_tracer::PropagationBench>,
    /// With `--active-learning`: the labeling-round simulation.
    #[serde(skip_serializing_if = "Option::is_none")]
    active_learning: Option<super::bench_active::ActiveLearningBench>,
    /// With `--reference DIR`: our medians beside the reference scripts', as ratios.
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<Vec<super::bench_reference::Ratio>>,
}

/// The annotation editor's hot path on a 1920x1080 mask.
#[derive(serde::Serialize)]
struct BrushBench {
    /// A 100-point stroke of radius 40: per segment, undo bookkeeping + rasterising + rebuilding
    /// the overlay tiles it touched (what is then uploaded).
    stroke_points: usize,
    radius: f32,
    segment_ms_median: f64,
    segment_ms_max: f64,
    overlay_tiles_per_segment: f64,
    /// Undo of a fill that covered the whole image, and rebuilding every overlay tile.
    undo_whole_image_fill_ms: f64,
    /// Memory of 1,000 undo steps (strokes of 10 points, radius 20).
    undo_1000_steps_kb: f64,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[arg(long, value_enum, default_value = "auto")]
    pub device: Device,
    #[arg(long)]
    pub json: bool,
    /// Images in the generated project whose opening is timed
    #[arg(long, default_value_t = 10_000)]
    pub images: usize,
    /// Keep the generated project in this folder (to open it in the window)
    #[arg(long)]
    pub keep: Option<std::path::PathBuf>,
    /// Only these architectures (comma-separated ids; default all)
    #[arg(long)]
    pub arch: Option<String>,
    /// Input side of the model measurements
    #[arg(long, default_value_t = 224)]
    pub size: usize,
    /// Batch of the training-step measurement
    #[arg(long, default_value_t = 4)]
    pub train_batch: usize,
    /// Skip the model measurements
    #[arg(long)]
    pub no_models: bool,
    /// Skip the project measurements
    #[arg(long)]
    pub no_project: bool,
    /// Only the annotation measurements (tracer, propagation): no models, no project timing
    #[arg(long)]
    pub annotation_only: bool,
    /// Also simulate labeling rounds (random, whole-image entropy, ours; 3 seeds, 2 generated
    /// sets; about 60 small trainings)
    #[arg(long)]
    pub active_learning: bool,
    /// A folder with the JSON lines of ../shared/bench's tf_reference.py and
    /// torch_reference.py: adds their times and our ratios (`reference` in --json)
    #[arg(long)]
    pub reference: Option<std::path::PathBuf>,
}

pub fn run(args: BenchArgs) -> Result<()> {
    let device = crate::ml::device::select(args.device)?;
    let archs = architectures(&args)?;
    let project = if args.no_project || args.annotation_only {
        None
    } else {
        Some(project_measurements(&args, &device)?)
    };
    let results = if args.no_models || args.annotation_only {
        Vec::new()
    } else {
        model_measurements(&archs, &args, &device)
    };
    let reference = match &args.reference {
        Some(dir) => Some(super::bench_reference::ratios(
            &results,
            &super::bench_reference::read(dir)?,
            device.gpu,
        )),
        None => None,
    };
    let (tracer, propagation) = if args.no_project {
        (None, None)
    } else {
        let (t, p) = super::bench_tracer::run(&device)?;
        (Some(t), Some(p))
    };
    let active_learning = if args.active_learning {
        let bar = super::progress::Progress::new();
        let a = super::bench_active::run(&device, &mut |m| bar.note(m))?;
        bar.finish();
        Some(a)
    } else {
        None
    };
    let (project_open, brush, eval, ui_latency, linked) = match project {
        Some((p, b, e, u, l)) => (Some(p), Some(b), Some(e), u, Some(l)),
        None => (None, None, None, None, None),
    };
    let report = Report {
        device: device.name.clone(),
        reference,
        results,
        project_open,
        brush,
        eval,
        ui_latency,
        linked,
        tracer,
        propagation,
        active_learning,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    print_report(&report, args.size);
    Ok(())
}

/// The architectures `--arch` names (all by default), and a check of `--size`.
fn architectures(args: &BenchArgs) -> Result<Vec<Arch>> {
    let archs: Vec<Arch> = match &args.arch {
        None => Arch::ALL.to_vec(),
        Some(list) => list
            .split(',')
            .map(|id| {
                Arch::parse(id.trim())
                    .ok_or_else(|| anyhow::anyhow!("--arch {id}: unknown architecture"))
            })
            .collect::<Result<_>>()?,
    };
    if !args.size.is_multiple_of(32) || args.size == 0 {
        anyhow::bail!("--size {}: must be a positive multiple of 32", args.size);
    }
    Ok(archs)
}

type ProjectMeasurements = (
    ProjectOpen,
    BrushBench,
    super::bench_eval::EvalBench,
    Option<UiLatency>,
    super::bench_linked::LinkedBench,
);

/// Opening a generated project, the brush, scoring, the window's latency and the linked view.
fn project_measurements(args: &BenchArgs, device: &ComputeDevice) -> Result<ProjectMeasurements> {
    let (p, b) = project_bench(args.images, args.keep.as_deref())?;
    let ui = match UI_LATENCY.get() {
        Some(measure) => Some(measure(device)?),
        None => None,
    };
    let linked = super::bench_linked::run(device)?;
    Ok((p, b, super::bench_eval::run(), ui, linked))
}

/// Medians of 20 inferences and 8 training steps of each architecture (issue 17's protocol).
fn model_measurements(
    archs: &[Arch],
    args: &BenchArgs,
    device: &ComputeDevice,
) -> Vec<bench_models::ModelResult> {
    let mut results = Vec::new();
    let mut bar = Progress::new();
    for (i, &arch) in archs.iter().enumerate() {
        bar.update("timing models", i, archs.len());
        // Medians of 20 inferences and 8 training steps (issue 17's protocol).
        results.push(bench_models::infer(arch, args.size, 20, &device.device));
        results.push(bench_models::train(
            arch,
            args.size,
            args.train_batch,
            8,
            &device.device,
        ));
    }
    bar.finish();
    results
}

/// The report in words.
fn print_report(report: &Report, size: usize) {
    println!("Device: {}", report.device);
    if !report.results.is_empty() {
        println!("Models ({0}x{0} input):", size);
        for r in &report.results {
            println!(
                "  {:<28} {:<5} batch {:>2}  {:9.1} ms/batch  {:8.2} images/s",
                r.arch, r.task, r.batch, r.ms_per_batch, r.images_per_s
            );
        }
    }
    if let Some(ratios) = &report.reference {
        println!("Against the reference scripts (ours / best of TensorFlow and PyTorch):");
        for r in ratios {
            let refs: Vec<String> = r
                .references_ms
                .iter()
                .map(|(f, ms)| format!("{f} {ms:.1}"))
                .collect();
            println!(
                "  {:<34} ours {:8.1} ms  {}  ratio {}",
                r.work,
                r.ours_ms,
                refs.join(", "),
                r.ratio_to_best_of_tf_torch
                    .map_or("-".into(), |x| format!("{x:.2}"))
            );
        }
    }
    if let (Some(p), Some(b)) = (&report.project_open, &report.brush) {
        print_project(p, b);
    }
    if let Some(e) = &report.eval {
        println!("Evaluating a {}x{} prediction:", e.width, e.height);
        println!(
            "  score one image (with clDice)          {:8.1} ms (skeleton {:.1} ms)",
            e.score_image_ms_median, e.skeleton_ms_median
        );
    }
    if let Some(u) = &report.ui_latency {
        print_ui(u);
    }
    if let Some(t) = &report.tracer {
        super::bench_tracer::print(t);
    }
    if let Some(p) = &report.propagation {
        super::bench_tracer::print_propagation(p);
    }
    if let Some(a) = &report.active_learning {
        super::bench_active::print(a);
    }
    if let Some(l) = &report.linked {
        println!(
            "Linked real-time view ({} then {}, {} frames of {}):",
            l.classifier, l.segmenter, l.frames, l.frame
        );
        println!(
            "  per frame median / mean / max          {:.1} / {:.1} / {:.1} ms ({:.1} frames/s; \
             first frame {:.0} ms; the seed's tool: {:.0} ms)",
            l.ms_median, l.ms_mean, l.ms_max, l.frames_per_s, l.first_ms, l.seed_ms
        );
        println!(
            "  whole sequence                         {:.1} frames/s (reading ahead)",
            l.sequence_frames_per_s
        );
        let st = &l.stages_ms_median;
        println!(
            "  read {:.1} · classify {:.1} · segment {:.1} · score and draw {:.1} ms",
            st.read_ms, st.classify_ms, st.segment_ms, st.draw_ms
        );
    }
}

fn print_ui(u: &UiLatency) {
    println!(
        "Handling a brush stroke's pointer event ({} image, {} events), median / p95 / max:",
        u.image, u.events
    );
    println!(
        "  idle                                   {:.2} / {:.2} / {:.2} ms",
        u.idle_ms_median, u.idle_ms_p95, u.idle_ms_max
    );
    println!(
        "  while training ({:.1} images/s)         {:.2} / {:.2} / {:.2} ms",
        u.training_images_per_s, u.training_ms_median, u.training_ms_p95, u.training_ms_max
    );
    println!("  training: {}", u.training);
}

fn project_bench(images: usize, keep: Option<&Path>) -> Result<(ProjectOpen, BrushBench)> {
    let dir = tempfile::tempdir().context("creating a temporary folder")?;
    let project_dir = build_project(keep.unwrap_or(dir.path()), images)?;
    let rss_before = rss_mb();
    let project = Project::open(&project_dir)?;
    let rss_after = rss_mb();
    drop(project);
    let open_ms = median(3, || {
        let t = Instant::now();
        drop(Project::open(&project_dir).expect("bench project opens"));
        t.elapsed().as_secs_f64() * 1e3
    });
    let project = Project::open(&project_dir)?;
    let counts_ms = median(3, || {
        let t = Instant::now();
        std::hint::black_box(project.counts());
        t.elapsed().as_secs_f64() * 1e3
    });
    let first: Vec<_> = project.images().iter().take(FIRST_SCREEN).collect();
    let cache = project.cache_dir();
    let load_first = || {
        let t = Instant::now();
        parallel::try_map(
            &first,
            |e| load_or_make(&project.image_path(e), &thumbnail_path(&cache, &e.stem)),
            &mut |_, _| {},
        )
        .expect("thumbnails load");
        t.elapsed().as_secs_f64() * 1e3
    };
    let _ = std::fs::remove_dir_all(cache.join("thumbnails"));
    let thumbnails_cold_ms = load_first();
    let thumbnails_cached_ms = median(3, load_first);
    let brush = brush_bench();
    let project_open = ProjectOpen {
        images,
        open_ms,
        counts_ms,
        first_screen_thumbnails: first.len(),
        thumbnails_cold_ms,
        thumbnails_cached_ms,
        open_to_first_screen_ms: open_ms + thumbnails_cold_ms,
        rss_before_mb: rss_before,
        rss_after_open_mb: rss_after,
        project_memory_mb: rss_after - rss_before,
    };
    Ok((project_open, brush))
}

fn print_project(p: &ProjectOpen, b: &BrushBench) {
    {
        println!("Opening a project of {} images:", p.images);
        println!(
            "  open (scan, read every label, splits)  {:8.1} ms",
            p.open_ms
        );
        println!(
            "  counts by class / status / split       {:8.2} ms",
            p.counts_ms
        );
        println!(
            "  first screen: {} thumbnails, uncached {:8.1} ms",
            p.first_screen_thumbnails, p.thumbnails_cold_ms
        );
        println!(
            "  first screen: {} thumbnails, cached   {:8.1} ms",
            p.first_screen_thumbnails, p.thumbnails_cached_ms
        );
        println!(
            "  open to first screen (uncached)        {:8.1} ms",
            p.open_to_first_screen_ms
        );
        println!(
            "  memory of the open project             {:8.1} MB (resident {:.1} MB)",
            p.project_memory_mb, p.rss_after_open_mb
        );
        println!("Annotating a 1920x1080 mask:");
        println!(
            "  brush stroke segment (r = {}), median   {:8.3} ms (max {:.3} ms, {:.1} tiles)",
            b.radius, b.segment_ms_median, b.segment_ms_max, b.overlay_tiles_per_segment
        );
        println!(
            "  undo of a whole-image fill             {:8.1} ms",
            b.undo_whole_image_fill_ms
        );
        println!(
            "  1,000 undo steps                       {:8.1} KB",
            b.undo_1000_steps_kb
        );
    }
}

/// A project of `images` images: a few distinct demo frames, each hard-linked many times with
/// its own label, mask and split, as a lab's years of experiments would be.
fn build_project(root: &Path, images: usize) -> Result<std::path::PathBuf> {
    let mut bar = Progress::new();
    let base = root.join("frames");
    let opts = DemoOptions {
        images: DISTINCT_FRAMES.min(images.max(1)),
        ..Default::default()
    };
    demo::generate(&base, &opts, &mut |d, t| {
        bar.update("rendering frames", d, t)
    })?;
    let base_project = Project::open_read_only(&base)?;
    let frames: Vec<_> = base_project.images().to_vec();
    let big = root.join(format!("bench-{images}"));
    drop(Project::create(&big, Manifest::new("bench"))?);
    let indices: Vec<usize> = (0..images).collect();
    parallel::try_map(
        &indices,
        |&i| -> Result<()> {
            let f = &frames[i % frames.len()];
            let stem = format!("exp{:03}_{:05}", i / 200, i);
            let link = |from: &Path, to: &Path| {
                std::fs::hard_link(from, to).or_else(|_| std::fs::copy(from, to).map(|_| ()))
            };
            link(
                &base_project.image_path(f),
                &big.join("images").join(format!("{stem}.jpg")),
            )?;
            if f.has_mask {
                link(
                    &base_project.mask_path(&f.stem),
                    &big.join("masks").join(format!("{stem}.png")),
                )?;
            }
            let mut label = f.label.clone();
            label.experiment = Some(format!("exp{:03}", i / 200));
            std::fs::write(
                big.join("labels").join(format!("{stem}.json")),
                serde_json::to_vec_pretty(&label)?,
            )?;
            Ok(())
        },
        &mut |d, t| bar.update("linking images", d, t),
    )?;
    bar.finish();
    Project::open(&big)?.assign_splits()?;
    eprintln!("benchmark project: {}", big.display());
    Ok(big)
}

fn brush_bench() -> BrushBench {
    use crate::mask::history::{History, Recorder};
    use crate::mask::{Mask, Rect, fill, overlay, raster};
    const GREEN: [u8; 3] = overlay::NERVE_GREEN;
    let mut mask = Mask::empty(1920, 1080);
    let radius = 40.0;
    // A nerve-like sweep across the frame, pointer events about 17 px apart.
    let points: Vec<(f32, f32)> = (0..100)
        .map(|i| {
            let t = i as f32 / 99.0;
            (100.0 + 1700.0 * t, 540.0 + 300.0 * (t * 6.0).sin())
        })
        .collect();
    let mut times = Vec::new();
    let mut tiles = 0usize;
    let mut recorder = Recorder::default();
    for w in points.windows(2) {
        let t = Instant::now();
        recorder.touch(&mask, Rect::around(w[0], w[1], radius, &mask));
        if let Some(dirty) = raster::stamp_segment(&mut mask, w[0], w[1], radius, true) {
            for tile in overlay::tiles_touching(dirty) {
                std::hint::black_box(overlay::tile_rgba(&mask, tile, GREEN));
                tiles += 1;
            }
        }
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut history = History::default();
    history.push(recorder.finish(&mask).expect("the stroke changed pixels"));
    times.sort_by(f64::total_cmp);
    let mut rec = Recorder::default();
    rec.touch_all(&mask);
    fill::flood_fill(&mut mask, (0, 0), true);
    history.push(rec.finish(&mask).expect("the fill changed pixels"));
    let t = Instant::now();
    history.undo(&mut mask);
    for tile in overlay::all_tiles(&mask).collect::<Vec<_>>() {
        std::hint::black_box(overlay::tile_rgba(&mask, tile, GREEN));
    }
    let undo_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut steps = History::default();
    let mut small = Mask::empty(1920, 1080);
    let mut rng = crate::project::demo::random::Rng::new(7);
    for _ in 0..1000 {
        let mut rec = Recorder::default();
        let mut p = (rng.range(0.0, 1920.0), rng.range(0.0, 1080.0));
        for _ in 0..9 {
            let q = (p.0 + rng.range(-30.0, 30.0), p.1 + rng.range(-30.0, 30.0));
            rec.touch(&small, Rect::around(p, q, 20.0, &small));
            raster::stamp_segment(&mut small, p, q, 20.0, rng.chance(0.8));
            p = q;
        }
        if let Some(e) = rec.finish(&small) {
            steps.push(e);
        }
    }
    BrushBench {
        stroke_points: points.len(),
        radius,
        segment_ms_median: times[times.len() / 2],
        segment_ms_max: *times.last().expect("segments"),
        overlay_tiles_per_segment: tiles as f64 / (points.len() - 1) as f64,
        undo_whole_image_fill_ms: undo_ms,
        undo_1000_steps_kb: steps.memory_bytes() as f64 / 1024.0,
    }
}

pub(super) fn median(runs: usize, mut f: impl FnMut() -> f64) -> f64 {
    let mut v: Vec<f64> = (0..runs).map(|_| f()).collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Resident memory of this process in MB (Linux; 0 elsewhere).
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.to_string())
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
