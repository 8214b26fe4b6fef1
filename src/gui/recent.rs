//! The projects opened before, so that a plain `nerve-studio` reopens the last one.

use crate::atomic::write_atomic;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const MAX_RECENT: usize = 8;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Recent {
    #[serde(default)]
    pub projects: Vec<PathBuf>,
}

fn state_file() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("NERVE_STUDIO_CONFIG_DIR") {
        return Some(PathBuf::from(dir).join("recent.json"));
    }
    dirs::config_dir().map(|d| d.join("nerve-studio").join("recent.json"))
}

impl Recent {
    pub fn load() -> Recent {
        state_file()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// The last project that still exists.
    pub fn last(&self) -> Option<&Path> {
        self.projects
            .iter()
            .find(|p| p.join(crate::project::manifest::MANIFEST_FILE).is_file())
            .map(PathBuf::as_path)
    }

    /// Records `project` as the most recent; failures only cost the convenience.
    pub fn remember(project: &Path) {
        let mut recent = Recent::load();
        let project = std::path::absolute(project).unwrap_or_else(|_| project.to_path_buf());
        recent.projects.retain(|p| *p != project);
        recent.projects.insert(0, project);
        recent.projects.truncate(MAX_RECENT);
        if let (Some(path), Ok(text)) = (state_file(), serde_json::to_string_pretty(&recent)) {
            let _ = write_atomic(&path, text.as_bytes());
        }
    }
}
