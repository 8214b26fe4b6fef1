//! Names that come from data (a class, an experiment, a stem, a dataset) and become a path
//! component: one rule for all of them, checked where they enter (import, `project.toml`,
//! labels) and again where they are joined onto a folder, so that nothing is ever written
//! outside the folder meant.

use std::path::{Path, PathBuf};

use super::error::{ProjectError, Result};

/// Why `name` cannot be one path component, or None: it must be non-empty, at most 200 bytes,
/// without `/`, `\`, NUL or control characters, not `.` or `..` or another hidden name, and
/// not a Windows drive (`C:`).
pub fn problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("an empty name".into());
    }
    if name.len() > 200 {
        let start: String = name.chars().take(40).collect();
        return Some(format!("`{start}…` is longer than 200 bytes"));
    }
    if name.contains(['/', '\\']) || name == "." || name == ".." {
        return Some(format!("`{}` would leave its folder", name.escape_debug()));
    }
    if name.starts_with('.') {
        return Some(format!("`{}` would be a hidden file", name.escape_debug()));
    }
    if name.chars().any(|c| c.is_control()) {
        return Some(format!(
            "`{}` contains control characters",
            name.escape_debug()
        ));
    }
    if name.len() == 2 && name.ends_with(':') {
        return Some(format!("`{name}` is a drive name"));
    }
    None
}

/// `dir/name` where `name` is safe as one component; otherwise an error naming what the name
/// is (`what`: "the class", "the experiment of 2021_0003", ...) and the problem.
pub fn join(dir: &Path, name: &str, what: &str) -> Result<PathBuf> {
    match problem(name) {
        None => Ok(dir.join(name)),
        Some(why) => Err(ProjectError::invalid(
            dir,
            format!("{what} cannot be a folder or file name here: {why}"),
        )),
    }
}

/// A name made safe to use as a component: characters that cannot be are replaced by `_`,
/// and a name that would be hidden or a parent gets a `_` in front (for labels of a folder
/// structure, like Supervisely datasets, where refusing would lose the data).
pub fn sanitised(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\') {
                '_'
            } else {
                c
            }
        })
        .collect();
    if out.is_empty() || out.starts_with('.') || (out.len() == 2 && out.ends_with(':')) {
        out.insert(0, '_');
    }
    while out.len() > 200 {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_would_leave_their_folder_are_refused() {
        for ok in ["nerve", "opening wound", "2021-03-11", "#12", " x", "a..b"] {
            assert_eq!(problem(ok), None, "{ok:?}");
        }
        for bad in [
            "", ".", "..", "../x", "/etc", "a/b", "a\\b", ".hidden", "x\u{0}y", "C:",
        ] {
            assert!(problem(bad).is_some(), "{bad:?} accepted");
            assert!(
                problem(&sanitised(bad)).is_none(),
                "{bad:?} -> {:?}",
                sanitised(bad)
            );
        }
        let dir = Path::new("/dest");
        assert_eq!(join(dir, "nerve", "the class").unwrap(), dir.join("nerve"));
        let err = join(dir, "..", "the experiment of a")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the experiment of a") && err.contains("`..`"),
            "{err}"
        );
    }
}
