//! `nerve-studio weights`: the ImageNet files each architecture starts from; list, download
//! (resumable, Ctrl+C to stop) and import a file fetched elsewhere.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Subcommand;

use super::progress::Progress;
use crate::ml::imagenet::{self, FetchError, catalog, store};
use crate::ml::models::Arch;

#[derive(Debug, Subcommand)]
pub enum WeightsCommand {
    /// Per architecture: the ImageNet file, its size and source, and whether it is downloaded
    List {
        #[arg(long)]
        json: bool,
    },
    /// Download an architecture's ImageNet weights (or `all`); an interrupted download resumes
    Fetch {
        /// An architecture id (e.g. unet_mobilenet_v2) or `all`
        arch: String,
        #[arg(long)]
        json: bool,
    },
    /// Bring in a weights file downloaded elsewhere (recognised by its SHA-256)
    Import {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: WeightsCommand) -> Result<()> {
    let folder = store::folder().map_err(|e| anyhow!(e))?;
    match command {
        WeightsCommand::List { json } => list(&folder, json),
        WeightsCommand::Fetch { arch, json } => fetch(&folder, &arch, json),
        WeightsCommand::Import { file, json } => {
            let (source, path) =
                store::import(&file, &folder, &catalog::all()).map_err(|e| anyhow!(e))?;
            let users: Vec<&str> = catalog::users(&source).iter().map(|a| a.id()).collect();
            if json {
                let doc =
                    serde_json::json!({"file": source.file, "path": path, "architectures": users});
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                println!(
                    "imported {} as {} ({}, for {})",
                    file.display(),
                    path.display(),
                    source.network,
                    users.join(", ")
                );
            }
            Ok(())
        }
    }
}

fn list(folder: &std::path::Path, json: bool) -> Result<()> {
    let (entries, without) = store::list(folder);
    if json {
        let none: Vec<serde_json::Value> = without
            .iter()
            .map(|(arch, why)| serde_json::json!({"architecture": arch, "available": false, "why": why}))
            .collect();
        let doc = serde_json::json!({"folder": folder, "files": entries, "unavailable": none});
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    println!("ImageNet weights in {}", folder.display());
    for e in &entries {
        let state = if e.downloaded {
            "downloaded".to_string()
        } else if e.partial_bytes > 0 {
            format!(
                "{} downloaded, resumes",
                catalog::megabytes(e.partial_bytes)
            )
        } else {
            "not downloaded".to_string()
        };
        println!(
            "  {:<28} {:>7}  {:<16}  for {}\n      {}",
            e.file,
            catalog::megabytes(e.size_bytes),
            state,
            e.architectures.join(", "),
            e.url
        );
    }
    for (arch, why) in &without {
        println!("  {arch}: none ({why})");
    }
    Ok(())
}

fn fetch(folder: &std::path::Path, which: &str, json: bool) -> Result<()> {
    let sources: Vec<imagenet::Source> = if which == "all" {
        catalog::all()
    } else {
        let arch = Arch::parse(which).ok_or_else(|| {
            let ids: Vec<&str> = Arch::ALL.iter().map(|a| a.id()).collect();
            anyhow!(
                "{which}: not an architecture (known: {}, or all)",
                ids.join(", ")
            )
        })?;
        vec![catalog::for_arch(arch).map_err(|why| anyhow!("{which}: {why}"))?]
    };
    let cancel = super::cancel::on_ctrl_c();
    let mut fetched = Vec::new();
    for source in &sources {
        let mut bar = Progress::new();
        let stage = format!("{} ({})", source.file, source.size_text());
        let result = imagenet::fetch(source, folder, &cancel, &mut |t| {
            bar.update_with(&stage, &t.text(), (t.fraction() * 1000.0) as usize, 1000)
        });
        bar.finish();
        match result {
            Ok(path) => {
                if !json {
                    println!("{} ready: {}", source.file, path.display());
                }
                fetched.push(serde_json::json!({"file": source.file, "path": path}));
            }
            Err(e @ FetchError::Cancelled { .. }) => return Err(anyhow!("{}: {e}", source.file)),
            Err(FetchError::Failed(why)) => return Err(anyhow!(why)),
        }
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "fetched": fetched }))?
        );
    }
    Ok(())
}
