//! Saving the Annotate screen's edits: every change is written within a second (after a quiet
//! moment, or at the latest shortly after the first change), a failed write is retried, and
//! edits of other images stay in memory until their save is known to be on disk.

use super::{AT_MOST, Action, Annotate, QUIET, RETRY, Request, SaveJob, Unsaved};
use crate::mask::Mask;
use std::time::Instant;

impl Annotate {
    /// Everything unsaved, for a last save when the window closes.
    pub fn flush(&mut self) -> Vec<SaveJob> {
        let mut jobs: Vec<SaveJob> = self
            .pending
            .iter()
            .map(|(stem, p)| SaveJob {
                stem: stem.clone(),
                revision: p.revision,
                label: p.label.clone(),
                mask: p.mask.clone(),
            })
            .collect();
        if self.unsaved.is_some() {
            jobs.push(self.save_job());
        }
        jobs
    }

    pub(super) fn save_job(&self) -> SaveJob {
        SaveJob {
            stem: self.current.clone(),
            revision: self.revision,
            label: self.label.clone(),
            mask: self
                .mask_exists
                .then(|| self.loaded.as_ref().map(|l| Mask::clone(&l.mask)))
                .flatten(),
        }
    }

    pub(super) fn autosave(&mut self, now: Instant) -> Action {
        if self.saving.is_some() || self.stroke.is_some() {
            return Action::none();
        }
        if let Some((_, failed_at)) = &self.save_error
            && now.duration_since(*failed_at) < RETRY
        {
            return Action::none();
        }
        let due = self.unsaved.as_ref().is_some_and(|u| {
            now.duration_since(u.last) >= QUIET || now.duration_since(u.first) >= AT_MOST
        });
        let retry_pending = self.save_error.is_some() && !self.pending.is_empty();
        let mut action = if due {
            self.start_save()
        } else {
            Action::none()
        };
        if retry_pending {
            action.requests.extend(self.pending.iter().map(|(stem, p)| {
                Request::Save(SaveJob {
                    stem: stem.clone(),
                    revision: p.revision,
                    label: p.label.clone(),
                    mask: p.mask.clone(),
                })
            }));
        }
        action
    }

    pub(super) fn start_save(&mut self) -> Action {
        if self.read_only.is_some() || self.loaded.is_none() {
            return Action::none();
        }
        self.saving = Some(self.revision);
        Action::request(Request::Save(self.save_job()))
    }

    pub(super) fn saved(
        &mut self,
        stem: &str,
        revision: u64,
        result: Result<(), crate::project::ProjectError>,
    ) {
        let current = stem == self.current;
        match result {
            Ok(()) => {
                if self
                    .pending
                    .get(stem)
                    .is_some_and(|p| p.revision == revision)
                {
                    self.pending.remove(stem);
                }
                if current && self.saving == Some(revision) {
                    self.saving = None;
                    if revision == self.revision {
                        self.unsaved = None;
                    }
                }
                if self.pending.is_empty() && (!current || self.unsaved.is_none()) {
                    self.save_error = None;
                }
            }
            Err(e) => {
                if current {
                    self.saving = None;
                    // Keep the edits marked unsaved; the next tick tries again.
                    if self.unsaved.is_none() {
                        let now = Instant::now();
                        self.unsaved = Some(Unsaved {
                            first: now,
                            last: now,
                        });
                    }
                }
                self.save_error = Some((e, Instant::now()));
            }
        }
    }

    /// The save state in words, for the status line.
    pub fn save_state(&self) -> String {
        match (
            &self.read_only,
            &self.save_error,
            self.saving,
            &self.unsaved,
        ) {
            (Some(why), ..) => format!("Read-only: {why}"),
            (_, Some((e, _)), ..) => {
                format!("Not saved: {e}. Your changes are kept and saving is retried.")
            }
            (_, _, Some(_), _) => "Saving…".into(),
            (_, _, _, Some(_)) => "Unsaved changes".into(),
            _ if !self.pending.is_empty() => "Saving earlier images…".into(),
            _ => "All changes saved".into(),
        }
    }
}
