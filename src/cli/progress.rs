//! Progress for long commands: a bar on a terminal, plain lines otherwise (logs, CI, pipes).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

pub struct Progress {
    bar: Option<ProgressBar>,
    stage: String,
    last_line: std::time::Instant,
}

impl Progress {
    pub fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(0);
            b.set_style(
                ProgressStyle::with_template("{msg:>22} [{bar:40}] {pos}/{len} ({eta} left)")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            b
        });
        Progress {
            bar,
            stage: String::new(),
            last_line: std::time::Instant::now(),
        }
    }

    pub fn update(&mut self, stage: &str, done: usize, total: usize) {
        self.update_with(stage, "", done, total);
    }

    /// Like `update`, with a detail that changes without restarting the bar (loss, speed).
    pub fn update_with(&mut self, stage: &str, detail: &str, done: usize, total: usize) {
        let message = if detail.is_empty() {
            stage.to_string()
        } else {
            format!("{stage} {detail}")
        };
        match &self.bar {
            Some(bar) => {
                if self.stage != stage {
                    bar.set_length(total as u64);
                    bar.reset_eta();
                }
                bar.set_message(message);
                bar.set_position(done as u64);
            }
            None => {
                let now = std::time::Instant::now();
                if self.stage != stage
                    || done == total
                    || now.duration_since(self.last_line).as_secs_f32() > 2.0
                {
                    eprintln!("{message}: {done}/{total}");
                    self.last_line = now;
                }
            }
        }
        if self.stage != stage {
            self.stage = stage.to_string();
        }
    }

    /// A line printed above the bar (or on its own without one).
    pub fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}
