//! `nerve-studio eval`: a trained run on a split, two folders of masks, or a predictions table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};

use super::progress::Progress;
use crate::eval::evaluate::{self, Output, photo_in};
use crate::eval::report::Evaluation;
use crate::ml::device::{self, DeviceChoice};
use crate::ml::evaluate as run_eval;

pub struct RunArgs {
    pub project: PathBuf,
    pub run: String,
    pub split: String,
    pub device: DeviceChoice,
    pub out: Option<PathBuf>,
    pub json: bool,
}

pub fn run(args: RunArgs) -> Result<()> {
    let split = run_eval::parse_split(Some(&args.split), None).map_err(|e| anyhow!(e))?;
    let device = device::select(args.device).map_err(|e| anyhow!(e))?;
    if !args.json {
        eprintln!("device: {}", device.name);
    }
    let mut bar = Progress::new();
    let eval = run_eval::evaluate_run(
        &args.project,
        &args.run,
        split,
        &device,
        args.out,
        &mut |stage, d, t| bar.update(stage, d, t),
    )
    .map_err(|e| anyhow!(e))?;
    bar.finish();
    print(&eval, args.json)
}

#[derive(Debug, clap::Args)]
pub struct MasksArgs {
    #[arg(long)]
    pub truth: PathBuf,
    #[arg(long)]
    pub pred: PathBuf,
    /// Nerve where the prediction's probability (value / 255) is at least this
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Resize predictions of another size to their truth (otherwise reported and left out)
    #[arg(long)]
    pub resize: bool,
    /// The photos, by stem, to draw the sample sheet on
    #[arg(long)]
    pub images: Option<PathBuf>,
    /// Report folder (default: <pred>-eval beside the predictions)
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// `<folder>-eval` beside a folder or file.
fn beside(path: &Path) -> PathBuf {
    let name = path
        .file_stem()
        .map_or("evaluation".into(), |n| n.to_string_lossy().into_owned());
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    parent.join(format!("{name}-eval"))
}

/// Runs `evaluate` with the report options of a folder or table evaluation: its source (the
/// command and its inputs), the sample photos of `--images`, and `--out` or `default_out`.
fn with_output(
    command: &str,
    inputs: &[(&str, &Path)],
    images: &Option<PathBuf>,
    out: Option<PathBuf>,
    default_out: PathBuf,
    evaluate: impl FnOnce(Output) -> crate::eval::Result<Evaluation>,
) -> Result<Evaluation> {
    let mut source = BTreeMap::new();
    source.insert("command".into(), command.into());
    for (name, path) in inputs
        .iter()
        .chain(images.as_deref().map(|d| ("images", d)).as_ref())
    {
        source.insert(name.to_string(), path.display().to_string());
    }
    let lookup = images
        .as_ref()
        .map(|dir| move |stem: &str| photo_in(dir, stem));
    let output = Output {
        dir: out.unwrap_or(default_out),
        source,
        photos: lookup
            .as_ref()
            .map(|f| f as &dyn Fn(&str) -> Option<PathBuf>),
        training: None,
    };
    evaluate(output).map_err(|e| anyhow!(e))
}

pub fn masks(args: MasksArgs) -> Result<()> {
    let mut bar = Progress::new();
    let eval = with_output(
        "eval masks",
        &[("truth", &args.truth), ("pred", &args.pred)],
        &args.images,
        args.out.clone(),
        beside(&args.pred),
        |output| {
            evaluate::masks(
                &args.truth,
                &args.pred,
                args.threshold,
                args.resize,
                output,
                &mut |d, t| bar.update("scoring masks", d, t),
            )
        },
    )?;
    bar.finish();
    print(&eval, args.json)
}

#[derive(Debug, clap::Args)]
pub struct LabelsArgs {
    #[arg(long)]
    pub csv: PathBuf,
    /// Pass the p_ columns through a softmax before the ROC curves, as the lab's notebook
    /// did to its probabilities (to reproduce its AUCs)
    #[arg(long)]
    pub softmax: bool,
    /// The photos, by stem, for the sample sheet
    #[arg(long)]
    pub images: Option<PathBuf>,
    /// Report folder (default: <csv name>-eval beside the table)
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

pub fn labels(args: LabelsArgs) -> Result<()> {
    let command = if args.softmax {
        "eval labels --softmax"
    } else {
        "eval labels"
    };
    let eval = with_output(
        command,
        &[("csv", &args.csv)],
        &args.images,
        args.out.clone(),
        beside(&args.csv),
        |output| evaluate::labels(&args.csv, args.softmax, output),
    )?;
    print(&eval, args.json)
}

fn print(eval: &Evaluation, json: bool) -> Result<()> {
    for line in evaluate::problem_lines(&eval.problems) {
        eprintln!("problem: {line}");
    }
    if json {
        println!("{}", serde_json::to_string_pretty(eval)?);
        return Ok(());
    }
    if let Some(m) = &eval.segmentation {
        let ci = |s: &crate::eval::stats::Summary| {
            s.ci95.map_or(String::new(), |c| {
                format!(" (95% CI {})", crate::eval::stats::shown_interval(c, 4))
            })
        };
        println!(
            "{} images, nerve where probability >= {:.3}",
            m.images, m.threshold
        );
        println!("IoU    {:.4}{}", m.iou.mean, ci(&m.iou));
        println!("Dice   {:.4}{}", m.dice.mean, ci(&m.dice));
        println!("clDice {:.4}{}", m.cl_dice.mean, ci(&m.cl_dice));
        println!(
            "pixels: precision {:.4}, recall {:.4}, F1 {:.4}; best F1 {:.4} at threshold {:.3}",
            m.pooled.precision,
            m.pooled.recall,
            m.pooled.f1,
            m.pr_curve.best.f1,
            m.pr_curve.best.threshold
        );
    }
    if let Some(m) = &eval.classification {
        println!(
            "{} images: accuracy {:.4}, MCC {:.4}",
            m.images, m.accuracy, m.mcc
        );
        if let (Some(a), Some(b), Some(c)) = (m.micro_auc, m.macro_auc, m.macro_curve_auc) {
            println!(
                "AUC micro {a:.4}, macro {b:.4} (mean of the classes'), \
                 under the macro-average curve {c:.4}"
            );
        }
        for s in &m.per_class {
            println!(
                "  {:<14} sensitivity {:.4}  specificity {:.4}  PPV {:.4}  NPV {:.4}",
                s.class, s.rates.sensitivity, s.rates.specificity, s.rates.ppv, s.rates.npv
            );
        }
    }
    if !eval.problems.is_empty() {
        println!(
            "{} problems (listed above and in the report)",
            eval.problems.len()
        );
    }
    if let Some(dir) = &eval.report_dir {
        println!("report: {}", dir.join("report.md").display());
    }
    Ok(())
}
