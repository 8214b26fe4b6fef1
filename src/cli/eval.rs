//! `nerve-studio eval`: a trained run on a split, two folders of masks, or a predictions table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};

use super::progress::Progress;
use crate::eval::evaluate::{self, Output, photo_in};
use crate::eval::report::Evaluation;
use crate::ml::device::{self, DeviceChoice};
use crate::ml::evaluate as run_eval;
use crate::project::splits::Split;

pub struct RunArgs {
    pub project: PathBuf,
    pub run: String,
    pub split: Option<String>,
    pub device: DeviceChoice,
    pub out: Option<PathBuf>,
    pub json: bool,
}

pub fn run(args: RunArgs) -> Result<()> {
    let split =
        run_eval::parse_split(args.split.as_deref(), Some(Split::Test)).map_err(|e| anyhow!(e))?;
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

pub struct MasksArgs {
    pub truth: PathBuf,
    pub pred: PathBuf,
    pub threshold: f64,
    pub resize: bool,
    pub images: Option<PathBuf>,
    pub out: Option<PathBuf>,
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

fn photos(images: &Option<PathBuf>) -> Option<impl Fn(&str) -> Option<PathBuf> + '_> {
    images
        .as_ref()
        .map(|dir| move |stem: &str| photo_in(dir, stem))
}

pub fn masks(args: MasksArgs) -> Result<()> {
    let mut source = BTreeMap::new();
    source.insert("command".into(), "eval masks".into());
    source.insert("truth".into(), args.truth.display().to_string());
    source.insert("pred".into(), args.pred.display().to_string());
    if let Some(dir) = &args.images {
        source.insert("images".into(), dir.display().to_string());
    }
    let lookup = photos(&args.images);
    let output = Output {
        dir: args.out.clone().unwrap_or_else(|| beside(&args.pred)),
        source,
        photos: lookup
            .as_ref()
            .map(|f| f as &dyn Fn(&str) -> Option<PathBuf>),
        training: None,
    };
    let mut bar = Progress::new();
    let eval = evaluate::masks(
        &args.truth,
        &args.pred,
        args.threshold,
        args.resize,
        output,
        &mut |d, t| bar.update("scoring masks", d, t),
    )
    .map_err(|e| anyhow!(e))?;
    bar.finish();
    print(&eval, args.json)
}

pub struct LabelsArgs {
    pub csv: PathBuf,
    pub images: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub json: bool,
}

pub fn labels(args: LabelsArgs) -> Result<()> {
    let mut source = BTreeMap::new();
    source.insert("command".into(), "eval labels".into());
    source.insert("csv".into(), args.csv.display().to_string());
    if let Some(dir) = &args.images {
        source.insert("images".into(), dir.display().to_string());
    }
    let lookup = photos(&args.images);
    let output = Output {
        dir: args.out.clone().unwrap_or_else(|| beside(&args.csv)),
        source,
        photos: lookup
            .as_ref()
            .map(|f| f as &dyn Fn(&str) -> Option<PathBuf>),
        training: None,
    };
    let eval = evaluate::labels(&args.csv, output).map_err(|e| anyhow!(e))?;
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
                format!(" (95% CI {:.4}-{:.4})", c[0], c[1])
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
        if let (Some(a), Some(b)) = (m.micro_auc, m.macro_auc) {
            println!("AUC micro {a:.4}, macro {b:.4}");
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
