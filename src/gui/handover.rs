//! "Keep training after closing": the window's training stops at its next batch (its last
//! epoch's checkpoint is kept) and a headless `nerve-studio train --resume` process, detached
//! from the window, continues it; a recipe queued after it follows in the same process chain.

use crate::gui::error::{Error, Result};
use crate::ml::device::DeviceChoice;
use crate::ml::job::Step;
use crate::project::ProjectError;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The command lines that carry out `steps` headless (recipes with the user's settings are
/// written under `cache/handover/` so that the command can name them).
pub fn commands(project: &Path, steps: &[Step], device: DeviceChoice) -> Result<Vec<Vec<String>>> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::window(format!("cannot find the nerve-studio program: {e}")))?;
    let device = match device {
        DeviceChoice::Auto => "auto",
        DeviceChoice::Cpu => "cpu",
        DeviceChoice::Gpu => "gpu",
    };
    let mut out = Vec::new();
    for step in steps {
        let mut cmd = vec![
            exe.display().to_string(),
            "train".into(),
            project.display().to_string(),
            "--device".into(),
            device.into(),
        ];
        match step {
            Step::Resume(run) => cmd.extend(["--resume".into(), run.clone()]),
            Step::New(named, weights) => {
                // The window decided what the run starts from: random weights stay random even
                // where ImageNet weights have been downloaded.
                match weights {
                    Some(w) => cmd.extend(["--weights".into(), w.display().to_string()]),
                    None => cmd.push("--from-scratch".into()),
                }
                let dir = project.join("cache").join("handover");
                std::fs::create_dir_all(&dir).map_err(ProjectError::io(&dir))?;
                let path = dir.join(format!("{}.toml", named.name));
                crate::atomic::write_atomic(&path, named.recipe.to_toml().as_bytes())
                    .map_err(ProjectError::io(&path))?;
                cmd.extend(["--recipe".into(), path.display().to_string()]);
            }
        }
        out.push(cmd);
    }
    Ok(out)
}

/// Starts the commands one after the other in a process of their own, which outlives the
/// window; its output goes to `cache/handover/train.log`. Returns the log's path.
pub fn start(project: &Path, steps: &[Step], device: DeviceChoice) -> Result<PathBuf> {
    let commands = commands(project, steps, device)?;
    let dir = project.join("cache").join("handover");
    std::fs::create_dir_all(&dir).map_err(ProjectError::io(&dir))?;
    let log_path = dir.join("train.log");
    let log = std::fs::File::create(&log_path).map_err(ProjectError::io(&log_path))?;
    let err = log.try_clone().map_err(ProjectError::io(&log_path))?;
    // One shell runs the trainings in turn (`&&`: a failed one stops the chain).
    let script = commands
        .iter()
        .map(|c| c.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(" && ");
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err);
    #[cfg(unix)]
    {
        // Its own process group: closing the terminal that started the window does not stop it.
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    command
        .spawn()
        .map_err(|e| Error::window(format!("cannot start the background training: {e}")))?;
    Ok(log_path)
}

/// Single-quotes an argument for `sh`.
fn quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_then_a_queued_recipe_become_two_commands() {
        let dir = tempfile::tempdir().unwrap();
        let recipe = crate::ml::recipe::load("unet_mobilenet_v2").unwrap();
        let steps = [
            Step::Resume("r1".into()),
            Step::New(recipe, Some("/w/mnv2.pth".into())),
        ];
        let c = commands(dir.path(), &steps, DeviceChoice::Cpu).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            &c[0][1..],
            [
                "train",
                &dir.path().display().to_string(),
                "--device",
                "cpu",
                "--resume",
                "r1"
            ]
        );
        assert_eq!(&c[1][5..7], ["--weights", "/w/mnv2.pth"]);
        assert!(c[1][8].ends_with("cache/handover/unet_mobilenet_v2.toml"));
        assert!(std::path::Path::new(&c[1][8]).is_file());
        assert_eq!(quote("it's"), "'it'\\''s'");
    }
}
