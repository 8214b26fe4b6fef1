//! The command line of DESIGN.md: no arguments (or `open`) starts the window; subcommands run
//! the same library headless.

mod bench;
mod commands;
pub mod progress;

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
    /// Write a project out in another layout (DEST must be new or empty)
    Export {
        #[arg(value_enum)]
        format: ExportFormat,
        project: PathBuf,
        dest: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Measure speed and memory
    Bench {
        #[arg(long, value_enum, default_value = "auto")]
        device: Device,
        #[arg(long)]
        json: bool,
        /// Images in the generated project whose opening is timed
        #[arg(long, default_value_t = 10_000)]
        images: usize,
        /// Keep the generated project in this folder (to open it in the window)
        #[arg(long)]
        keep: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Device {
    Auto,
    Cpu,
    Gpu,
}

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
        Command::Bench {
            device,
            json,
            images,
            keep,
        } => bench::run(device, json, images, keep.as_deref()),
    }
}
