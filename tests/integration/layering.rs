//! The layers stay apart: the core (project, mask, eval, ml, review, the atomic writes) names no
//! window code, and the command line names none either (the binary hands `bench` the window's
//! latency measurement). A `use` of iced or of `gui` in those folders fails here.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The lines of the Rust files under `src/<module>` (or `src/<module>.rs`) that name a
/// window-side path: `iced`, `crate::gui` or `super::gui`.
fn window_lines(module: &str) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let dir = src.join(module);
    if dir.is_dir() {
        files.extend(sources(&dir));
    }
    let file = src.join(format!("{module}.rs"));
    if file.is_file() {
        files.push(file);
    }
    assert!(!files.is_empty(), "no module {module}");
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let names = |word: &str| {
                code.match_indices(word).any(|(i, _)| {
                    let before = code[..i].chars().last();
                    let after = code[i + word.len()..].chars().next();
                    !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                        && matches!(after, Some(':') | Some(';') | Some(' ') | Some(',') | None)
                })
            };
            if names("iced") || code.contains("crate::gui") || code.contains("super::gui") {
                found.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn the_core_and_the_command_line_name_no_window_code() {
    for module in ["project", "mask", "eval", "ml", "review", "atomic", "cli"] {
        let lines = window_lines(module);
        assert!(
            lines.is_empty(),
            "{module} names window code:\n{}",
            lines.join("\n")
        );
    }
}

#[test]
fn the_check_sees_a_use_of_iced() {
    // The window's own code names iced everywhere: the check is not blind.
    assert!(!window_lines("gui").is_empty());
}
