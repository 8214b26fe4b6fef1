//! `nerve-studio train` and `nerve-studio predict`.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};

use super::progress::Progress;
use crate::ml::device::{self, DeviceChoice};
use crate::ml::imagenet;
use crate::ml::job::{train_guarded, write_reports};
use crate::ml::predict;
use crate::ml::progress::{BatchProgress, StopReason, TrainEvent, duration};
use crate::ml::recipe;
use crate::ml::train::{TrainOutcome, TrainRequest};
use crate::project::splits::Split;

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    pub project: PathBuf,
    /// A recipe name in models/ (e.g. unet_mobilenet_v2) or a recipe file
    #[arg(long)]
    pub recipe: Option<String>,
    /// Total epochs (a classifier keeps its two stages' proportions)
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Square input side, a multiple of 32
    #[arg(long)]
    pub image_size: Option<usize>,
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceChoice,
    /// torchvision weights (.pth or .safetensors) to start from (default: the recipe's
    /// ImageNet file when `weights fetch` has downloaded it)
    #[arg(long, conflicts_with = "from_scratch")]
    pub weights: Option<PathBuf>,
    /// Start from random weights even where ImageNet weights are downloaded
    #[arg(long)]
    pub from_scratch: bool,
    /// Continue this run from its last checkpoint
    #[arg(long)]
    pub resume: Option<String>,
    #[arg(long)]
    pub json: bool,
}

/// The recipe's ImageNet file where it is downloaded, said either way.
fn imagenet_default(recipe: &recipe::Recipe) -> Option<PathBuf> {
    let arch = recipe.architecture;
    match imagenet::catalog::for_recipe(arch, recipe.width) {
        Err(why) => {
            eprintln!("weights: {why}");
            None
        }
        Ok(source) => match imagenet::ready_for(arch, recipe.width) {
            Some(path) => {
                eprintln!(
                    "weights: ImageNet {} (downloaded; --from-scratch starts from random weights)",
                    source.file
                );
                Some(path)
            }
            None => {
                eprintln!(
                    "weights: no ImageNet weights downloaded for {arch}: training from random \
                     weights (`nerve-studio weights fetch {arch}` downloads {}, {})",
                    source.file,
                    source.size_text()
                );
                None
            }
        },
    }
}

pub fn train(args: TrainArgs) -> Result<()> {
    let device = device::select(args.device).map_err(|e| anyhow!(e))?;
    let named = recipe_for(&args)?;
    eprintln!("device: {}", device.name);
    let weights = match (&args.weights, args.from_scratch || args.resume.is_some()) {
        (Some(w), _) => Some(w.clone()),
        (None, true) => None,
        (None, false) => imagenet_default(&named.recipe),
    };
    let mut bar = Progress::new();
    let request = TrainRequest {
        project: args.project.clone(),
        recipe: named,
        device: device.clone(),
        weights,
        resume: args.resume.clone(),
        cancel: super::cancel::on_ctrl_c(),
    };
    let outcome = train_with_progress(request, &mut bar)?;
    // A finished run gets its report on the validation split (runs/<id>/eval-val/). A report
    // that cannot be written is a warning: the run itself is saved.
    let report = write_reports(
        &args.project,
        &outcome,
        &[Split::Val],
        &device,
        &mut |stage, d, t| bar.update(stage, d, t),
    )
    .into_iter()
    .find_map(|(_, report)| {
        report
            .map_err(|e| eprintln!("warning: the validation report was not written: {e}"))
            .ok()
    });
    bar.finish();
    print_outcome(&args, &outcome, report)
}

/// The recipe to train: named (or a file), or the resumed run's own; with the command line's
/// epochs, image size and batch size, checked.
fn recipe_for(args: &TrainArgs) -> Result<recipe::NamedRecipe> {
    let mut named = match (&args.recipe, &args.resume) {
        (Some(r), _) => recipe::load(r).map_err(|e| anyhow!(e))?,
        // Resuming uses the run's own recipe.
        (None, Some(run)) => crate::ml::run::RunDir::open(&args.project, run)
            .and_then(|r| r.named_recipe())
            .map_err(|e| anyhow!(e))?,
        (None, None) => {
            return Err(anyhow!(
                "--recipe NAME|FILE is required (known: {})",
                recipe::list().join(", ")
            ));
        }
    };
    if args.resume.is_some()
        && (args.epochs.is_some() || args.image_size.is_some() || args.batch_size.is_some())
    {
        return Err(anyhow!(
            "--resume continues the run's own recipe; --epochs, --image-size and --batch-size cannot change it"
        ));
    }
    if let Some(n) = args.epochs {
        named.recipe = named.recipe.with_total_epochs(n);
    }
    if let Some(s) = args.image_size {
        named.recipe.image_size = s;
    }
    if let Some(b) = args.batch_size {
        named.recipe.batch_size = b;
    }
    named
        .recipe
        .validate()
        .map_err(|e| anyhow!("{}: {e}", named.path.display()))?;
    Ok(named)
}

/// Trains, showing the progress and each epoch on `bar`.
fn train_with_progress(request: TrainRequest, bar: &mut Progress) -> Result<TrainOutcome> {
    let mut epochs_note = String::new();
    train_guarded(
        request,
        &mut |event| match event {
            TrainEvent::Loading { done, total } => bar.update("preparing images", *done, *total),
            TrainEvent::Started { run, train_images, val_images, epochs, weights, first_epoch, architecture, .. } => {
                bar.note(&format!(
                    "run {run}: {architecture}, {train_images} train / {val_images} val images, epochs {first_epoch}..{epochs}\nweights: {weights}"
                ));
            }
            TrainEvent::Batch(b) => {
                let BatchProgress { epoch, epochs, stage, batch, batches, loss, images_per_s, eta_s } = b;
                epochs_note = format!("epoch {epoch}/{epochs} stage {stage}");
                let detail = format!("loss {loss:.4}, {images_per_s:.1} images/s, run done in {}", duration(*eta_s));
                bar.update_with(&epochs_note, &detail, *batch, *batches);
            }
            TrainEvent::Stage { stage, training, total } => {
                bar.note(&crate::ml::progress::stage_text(*stage, *training, *total))
            }
            TrainEvent::Validating { .. } | TrainEvent::Samples { .. } => {}
            TrainEvent::Epoch { record, metric, best } => bar.note(&format!(
                "epoch {:>3}  stage {}  lr {:.0e}  loss {:.4} / val {:.4}  {metric} {:.3} / val {:.3}  {:.1} s{}",
                record.epoch,
                record.stage,
                record.learning_rate,
                record.train_loss,
                record.val_loss,
                record.train_metric,
                record.val_metric,
                record.seconds,
                if *best { "  (best, saved)" } else { "" }
            )),
            TrainEvent::Finished { .. } => {}
        },
    )
    .map_err(|e| anyhow!(e))
}

/// What the run came to: JSON, or a line for a person.
fn print_outcome(
    args: &TrainArgs,
    outcome: &TrainOutcome,
    report: Option<std::path::PathBuf>,
) -> Result<()> {
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "run": outcome.run.id,
                "path": outcome.run.path,
                "reason": outcome.reason,
                "info": outcome.info,
                "metrics": outcome.metrics,
                "history": outcome.history,
                "report": report,
            }))?
        );
    } else {
        match outcome.reason {
            StopReason::Cancelled => eprintln!(
                "cancelled after epoch {}; continue with: nerve-studio train {} --resume {}",
                outcome.info.epochs_done,
                args.project.display(),
                outcome.run.id
            ),
            reason => {
                eprintln!(
                    "{} after {} epochs; best epoch {}",
                    reason.name(),
                    outcome.info.epochs_done,
                    outcome.info.best_epoch
                );
                if let Some(m) = &outcome.metrics {
                    eprintln!("validation: {}", metrics_line(m));
                }
                eprintln!("run saved in {}", outcome.run.path.display());
                if let Some(r) = &report {
                    eprintln!("validation report: {}", r.display());
                }
            }
        }
    }
    Ok(())
}

pub fn pre_annotate(
    project: &Path,
    run: &str,
    classifier: Option<String>,
    device: DeviceChoice,
    json: bool,
) -> Result<()> {
    let device = device::select(device).map_err(|e| anyhow!(e))?;
    // The classifier named, else the active one.
    let classifier = classifier.or_else(|| crate::ml::registry::read_active(project).classifier);
    let mut bar = Progress::new();
    let report = crate::ml::preannotate::pre_annotate(
        project,
        run,
        classifier.as_deref(),
        &device,
        &mut |d, t| bar.update("pre-annotating", d, t),
    )
    .map_err(|e| anyhow!(e))?;
    bar.finish();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        if let Some(c) = &report.classifier {
            println!(
                "classifier {c} called {} unlabeled frames something other than nerve; they get no mask",
                report.not_called_nerve
            );
        }
        println!(
            "run {} drew masks on {} of {} unlabeled images ({} showed no nerve; {} unlabeled images already had a mask and were kept)",
            report.run,
            report.filled,
            report.predicted,
            report.no_nerve_found,
            report.kept_existing_masks
        );
    }
    Ok(())
}

fn metrics_line(m: &crate::ml::infer::SplitMetrics) -> String {
    match (m.accuracy, m.mean_iou) {
        (Some(a), _) => format!("accuracy {a:.3} over {} images", m.images),
        (_, Some(iou)) => format!(
            "mean IoU {iou:.3}, Dice {:.3} at threshold {:.3}{} over {} images",
            m.mean_dice.unwrap_or(0.0),
            m.threshold.unwrap_or(0.5),
            m.best_pixel_f1
                .map(|f| format!(" (the F1-optimal one: pixel F1 {f:.3})"))
                .unwrap_or_default(),
            m.images
        ),
        _ => String::new(),
    }
}

pub fn predict(
    project: &Path,
    run: &str,
    split: Option<String>,
    device: DeviceChoice,
    json: bool,
) -> Result<()> {
    let split = crate::ml::evaluate::parse_split(split.as_deref(), None).map_err(|e| anyhow!(e))?;
    let device = device::select(device).map_err(|e| anyhow!(e))?;
    let mut bar = Progress::new();
    let report = predict::predict(project, run, split, &device, &mut |d, t| {
        bar.update("predicting", d, t)
    })
    .map_err(|e| anyhow!(e))?;
    bar.finish();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} images of split {} predicted by run {} on {}",
            report.images, report.split, report.run, device.name
        );
        println!("written to {}", report.output.display());
        if let Some(m) = &report.metrics {
            println!(
                "against the truth of {} labeled images: {}",
                report.labeled,
                metrics_line(m)
            );
        }
    }
    Ok(())
}
