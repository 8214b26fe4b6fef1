//! How long the window takes to handle a brush stroke's pointer events, idle and while a training
//! runs on another thread (as it does from the Train screen): the Annotate screen's `update` for
//! each event plus building its view, on this (the "UI") thread. `nerve-studio bench` runs it
//! through the hook the binary registers (the command line itself names no window code).

use crate::cli::bench::UiLatency;
use crate::gui::screens::annotate::{Annotate, Message};
use crate::gui::screens::browse::Browse;
use crate::gui::screens::{Context, Settings};
use crate::gui::thumbnails::Thumbnails;
use crate::ml::device::ComputeDevice;
use crate::ml::job::train_guarded;
use crate::ml::progress::TrainEvent;
use crate::ml::recipe;
use crate::ml::train::TrainRequest;
use crate::project::Project;
use anyhow::Context as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub fn ui_latency(device: &ComputeDevice) -> anyhow::Result<UiLatency> {
    let (_dir, root) = crate::project::demo::full_hd(60)?;
    let project = Project::open(&root)?;
    let (thumbnails, settings) = (Thumbnails::default(), Settings::default());
    let ctx = Context {
        project: &project,
        thumbnails: &thumbnails,
        settings: &settings,
        training: None,
    };
    let (browse, _) = Browse::new(&ctx, None);
    let stem = project
        .images()
        .iter()
        .find(|e| e.label.class.as_deref() == Some("tendon"))
        .context("the demo has no tendon frame")?
        .stem
        .clone();
    let (mut screen, _) = Annotate::new(&ctx, browse.order(&project), stem.clone(), Vec::new());
    // The load the screen asked for, done here, on this thread.
    let key = screen.loading().context("nothing to load")?.clone();
    let e = project.get(&key.stem).context("image vanished")?;
    let mask = e.has_mask.then(|| project.mask_path(&key.stem));
    let loaded = crate::gui::load_image(&key, &project.image_path(e), mask.as_deref());
    drop(screen.update(loaded, &ctx));
    drop(screen.update(Message::CanvasSize(iced::Size::new(1100.0, 700.0)), &ctx));
    let (w, h) = screen
        .mask()
        .map(|m| (m.width(), m.height()))
        .context("not loaded")?;
    let image = format!("{w}x{h}");

    let idle = strokes(&mut screen, &ctx, (w, h), Duration::from_secs(3));

    // A segmenter trains on another thread, as from the Train screen.
    let mut named = recipe::load("unet_mobilenet_v2")?;
    named.recipe.image_size = 96;
    named.recipe = named.recipe.with_total_epochs(50);
    let cancel = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let request = TrainRequest {
        project: root.clone(),
        recipe: named,
        device: device.clone(),
        weights: None,
        resume: None,
        cancel: cancel.clone(),
    };
    let trainer = std::thread::spawn(move || {
        train_guarded(request, &mut |e| {
            if let TrainEvent::Batch(b) = e {
                let _ = tx.send(b.images_per_s);
            }
        })
    });
    // Measure once batches are flowing (data loaded, network built).
    let first = rx
        .recv_timeout(Duration::from_secs(600))
        .map_err(|_| anyhow::anyhow!("the training did not start"))?;
    let busy = strokes(&mut screen, &ctx, (w, h), Duration::from_secs(6));
    let speed = rx.try_iter().last().unwrap_or(first);
    cancel.store(true, Ordering::Relaxed);
    let _ = trainer.join();

    let stat = |v: &[f64], q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    Ok(UiLatency {
        events: busy.len(),
        image,
        idle_ms_median: stat(&idle, 0.5),
        idle_ms_p95: stat(&idle, 0.95),
        idle_ms_max: stat(&idle, 1.0),
        training_ms_median: stat(&busy, 0.5),
        training_ms_p95: stat(&busy, 0.95),
        training_ms_max: stat(&busy, 1.0),
        training: format!("unet_mobilenet_v2, 96 px, on {}", device.name),
        training_images_per_s: speed,
    })
}

/// Brush strokes of 60 pointer events, for `lasting` (at least 5 strokes); each event's handling
/// time in ms, sorted.
fn strokes(
    screen: &mut Annotate,
    ctx: &Context,
    (w, h): (u32, u32),
    lasting: Duration,
) -> Vec<f64> {
    let mut times = Vec::new();
    let start = Instant::now();
    for k in 0.. {
        if k >= 5 && start.elapsed() >= lasting {
            break;
        }
        let y = h as f32 * (0.2 + 0.15 * (k % 5) as f32);
        let point = |i: usize| {
            let t = i as f32 / 59.0;
            iced::Point::new(w as f32 * (0.1 + 0.8 * t), y + 40.0 * (t * 6.0).sin())
        };
        let mut handle = |m: Message, screen: &mut Annotate| {
            let t = Instant::now();
            drop(screen.update(m, ctx));
            drop(std::hint::black_box(screen.view(ctx)));
            times.push(t.elapsed().as_secs_f64() * 1e3);
        };
        handle(Message::StrokeStart(point(0)), screen);
        for i in 1..60 {
            handle(Message::StrokeTo(point(i)), screen);
        }
        handle(Message::StrokeEnd, screen);
    }
    times.sort_by(f64::total_cmp);
    times
}
