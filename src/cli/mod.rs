//! The command line of DESIGN.md: no arguments (or `open`) starts the window; subcommands run
//! the same library headless.

pub mod bench;
mod bench_active;
mod bench_eval;
mod bench_linked;
mod bench_models;
mod bench_reference;
mod bench_tracer;
mod cancel;
mod commands;
mod eval;
pub mod label;
mod model;
pub mod progress;
mod rank;
mod runs;
mod train;
mod weights;

use crate::project::exchange::{ExportFormat, ImportFormat};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "nerve-studio",
    version,
    about = "Annotate, train and review nerve segmentation of surgical images"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Screen {
    Browse,
    Annotate,
    Train,
    Models,
    Review,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the window on a project, at an image and screen
    Open {
        project: PathBuf,
        /// Select this image (its file name without extension)
        #[arg(long)]
        image: Option<String>,
        #[arg(long, value_enum, default_value = "browse")]
        screen: Screen,
    },
    /// Write the synthetic demo project to DIR
    Demo {
        dir: PathBuf,
        #[arg(long, default_value_t = 120)]
        images: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Frame size as WIDTHxHEIGHT
        #[arg(long, default_value = "960x540", value_parser = parse_size)]
        size: (u32, u32),
    },
    /// Counts by class, status and split; problems found
    Info {
        project: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Bring existing data into a project (made if missing)
    Import {
        #[arg(value_enum)]
        format: ImportFormat,
        src: PathBuf,
        project: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Set the class, status or split of many images at once (atomic label writes)
    Label(label::Request),
    /// Write a project out in another layout (DEST must be new or empty)
    Export {
        #[arg(value_enum)]
        format: ExportFormat,
        project: PathBuf,
        dest: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Train a classifier or segmenter on the project's labeled images (runs/<id>/)
    Train(train::TrainArgs),
    /// Probability maps and class scores of a trained run (cache/predictions/<run>/)
    Predict {
        project: PathBuf,
        #[arg(long)]
        run: String,
        /// train, val, test or all
        #[arg(long)]
        split: Option<String>,
        #[arg(long, value_enum, default_value = "auto")]
        device: Device,
        /// Draw masks on the unlabeled images without one, marked as predicted (segmenters)
        #[arg(long, conflicts_with = "split")]
        pre_annotate: bool,
        /// With --pre-annotate: only frames this classifier run calls nerve (default: the
        /// active classifier, if any)
        #[arg(long, requires = "pre_annotate")]
        classifier: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Rank the unlabeled images by how useful labeling them would be: the segmenter's
    /// uncertainty near predicted nerve and across mirrored views, with no two picks from
    /// neighbouring frames (written to cache/uncertainty/<run>/ranking.csv for Browse)
    Rank {
        project: PathBuf,
        /// The segmenter run (default: the active segmenter)
        #[arg(long)]
        run: Option<String>,
        #[arg(long, value_enum, default_value = "auto")]
        device: Device,
        #[arg(long)]
        json: bool,
    },
    /// Score a trained run on a split, two folders of masks, or a predictions table, and
    /// write a report (metrics.json, per_image.csv, report.md with PNG and SVG plots)
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Eval {
        #[command(subcommand)]
        command: Option<EvalCommand>,
        /// The project of the run
        #[arg(required = true)]
        project: Option<PathBuf>,
        /// The run: its folder name in runs/
        #[arg(long, required = true)]
        run: Option<String>,
        /// train, val, test or all
        #[arg(long, default_value = "test")]
        split: String,
        #[arg(long, value_enum, default_value = "auto")]
        device: Device,
        /// Report folder (default: runs/<run>/eval-<split>/)
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The model registry: list runs (with staleness and evaluations), compare, activate, delete
    Runs {
        #[command(subcommand)]
        command: RunsCommand,
    },
    /// Inspect architectures: parameter counts, raw outputs
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// ImageNet weights: list, download (resumable), import a file fetched elsewhere
    Weights {
        #[command(subcommand)]
        command: weights::WeightsCommand,
    },
    /// Measure speed and memory
    Bench(bench::BenchArgs),
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Any two folders of masks, matched by file stem (0/255 masks or probability PNGs)
    Masks(eval::MasksArgs),
    /// A predictions table: columns stem,truth,pred[,p_<class>...]
    Labels(eval::LabelsArgs),
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Every run, newest first: status, data, staleness, evaluations
    List {
        project: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// The metrics of two runs' evaluations on a common split, with intervals and deltas
    Compare {
        project: PathBuf,
        a: String,
        b: String,
        #[arg(long)]
        json: bool,
    },
    /// Make a finished run the active classifier or segmenter
    Activate { project: PathBuf, run: String },
    /// Delete a run and its cached predictions
    Delete {
        project: PathBuf,
        run: String,
        /// Also a run that is training now
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Total, trainable and non-trainable parameter counts of a recipe or architecture
    Summary {
        /// A recipe name or file, or an architecture id
        name: String,
        #[arg(long, default_value_t = 3)]
        classes: usize,
        #[arg(long)]
        json: bool,
    },
    /// Raw outputs of an architecture with given weights, for each image
    Run(model::RunArgs),
}

pub use crate::ml::device::DeviceChoice as Device;

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or("expected WIDTHxHEIGHT, e.g. 960x540")?;
    let p = |v: &str| v.trim().parse::<u32>().map_err(|e| format!("`{v}`: {e}"));
    Ok((p(w)?, p(h)?))
}

/// Runs a headless command; returns the process exit code.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Open { .. } => unreachable!("the window is started by main"),
        Command::Demo {
            dir,
            images,
            seed,
            size,
        } => commands::demo(&dir, images, seed, size),
        Command::Info { project, json } => commands::info(&project, json),
        Command::Label(request) => label::run(request),
        Command::Import {
            format,
            src,
            project,
            json,
        } => commands::import(format, &src, &project, json),
        Command::Export {
            format,
            project,
            dest,
            json,
        } => commands::export(format, &project, &dest, json),
        Command::Train(args) => train::train(args),
        Command::Predict {
            project,
            run,
            split,
            device,
            pre_annotate,
            classifier,
            json,
        } => {
            if pre_annotate {
                train::pre_annotate(&project, &run, classifier, device, json)
            } else {
                train::predict(&project, &run, split, device, json)
            }
        }
        Command::Eval {
            command,
            project,
            run,
            split,
            device,
            out,
            json,
        } => match command {
            Some(command) => eval_command(command),
            None => eval::run(eval::RunArgs {
                project: project.expect("clap requires PROJECT"),
                run: run.expect("clap requires --run"),
                split,
                device,
                out,
                json,
            }),
        },
        Command::Rank {
            project,
            run,
            device,
            json,
        } => rank::rank(&project, run, device, json),
        Command::Runs { command } => runs_command(command),
        Command::Model { command } => model_command(command),
        Command::Weights { command } => weights::run(command),
        Command::Bench(args) => bench::run(args),
    }
}

fn eval_command(command: EvalCommand) -> anyhow::Result<()> {
    match command {
        EvalCommand::Masks(args) => eval::masks(args),
        EvalCommand::Labels(args) => eval::labels(args),
    }
}

fn runs_command(command: RunsCommand) -> anyhow::Result<()> {
    match command {
        RunsCommand::List { project, json } => runs::list(&project, json),
        RunsCommand::Compare {
            project,
            a,
            b,
            json,
        } => runs::compare(&project, &a, &b, json),
        RunsCommand::Activate { project, run } => runs::activate(&project, &run),
        RunsCommand::Delete {
            project,
            run,
            force,
        } => runs::delete(&project, &run, force),
    }
}

fn model_command(command: ModelCommand) -> anyhow::Result<()> {
    match command {
        ModelCommand::Summary {
            name,
            classes,
            json,
        } => model::summary(&name, classes, json),
        ModelCommand::Run(args) => model::run(args),
    }
}
