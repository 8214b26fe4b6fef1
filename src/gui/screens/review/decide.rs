//! The reviewer's decisions as the screen sees them: what an acceptance, an undo, a flag or an
//! edit changes in the table and the queue, and the decision log they add to.

use super::{Job, Review, Written};
use crate::gui::style::Notice;
use crate::project::ImageLabel;
use crate::review::decisions::{Accepted, Decision, Take, Verdict, record};
use crate::review::{Error, Row};
use std::sync::Arc;

impl Review {
    /// Adds a decision to the log and asks for the log to be written.
    pub(super) fn decide(&mut self, stem: &str, verdict: Verdict, comment: String) -> Job {
        let (Some(table), Some(run)) = (&self.table, self.models.primary()) else {
            return Job::None;
        };
        record(
            &mut self.decisions,
            Decision::new(table, stem, verdict, comment),
        );
        self.log_generation += 1;
        Job::WriteLog(run.to_string(), self.decisions.clone(), self.log_generation)
    }

    /// Sorts the queue again (a decision may have moved images) and shows the first of
    /// `wanted` still in it; otherwise the same place in the queue.
    fn requeue_showing(&mut self, wanted: &[&str]) -> Job {
        let Some(table) = &self.table else {
            return Job::None;
        };
        self.queue = table.queue(self.order, &self.filter);
        let found = wanted
            .iter()
            .find_map(|s| self.queue.iter().position(|&i| table.rows[i].stem == *s));
        self.position = found
            .unwrap_or(self.position)
            .min(self.queue.len().saturating_sub(1));
        self.summarise();
        self.show_current()
    }

    /// After a decision on `stem`: the image that followed it in the queue is shown.
    fn advance_after(&mut self, stem: &str) -> Job {
        let next = self.table.as_ref().and_then(|table| {
            self.queue
                .iter()
                .skip_while(|&&i| table.rows[i].stem != stem)
                .nth(1)
                .map(|&i| table.rows[i].stem.clone())
        });
        match next {
            Some(next) => self.requeue_showing(&[&next, stem]),
            None => self.requeue_showing(&[stem]),
        }
    }

    pub(super) fn accepted(&mut self, result: Result<(Accepted, Row), Error>) -> Job {
        self.busy = false;
        let (accepted, row) = match result {
            Ok(done) => done,
            Err(e) => {
                self.outcome = Some(Notice::Failed(format!("Nothing was accepted: {e}")));
                return Job::None;
            }
        };
        let stem = accepted.stem.clone();
        let log = self.decide(&stem, accepted.take.verdict(), String::new());
        if let Some(r) = self
            .table
            .as_mut()
            .map(Arc::make_mut)
            .and_then(|t| t.row_mut(&stem))
        {
            let before = std::mem::replace(r, row);
            self.undo.push((accepted.clone(), before));
        }
        self.outcome = Some(Notice::Done(match accepted.take {
            Take::Mask => format!(
                "{stem}: the predicted mask is now its truth (provenance: predicted){}. Ctrl+Z \
                 undoes it.",
                accepted
                    .kept
                    .as_ref()
                    .map(|k| format!("; the old mask is kept in {}", k.display()))
                    .unwrap_or_default()
            ),
            Take::Class => format!(
                "{stem}: its class is now {}. Ctrl+Z undoes it.",
                accepted.label.class.as_deref().unwrap_or("?")
            ),
        }));
        let next = self.advance_after(&stem);
        let written = Job::Written(Written {
            stem: stem.clone(),
            label: accepted.label.clone(),
            has_mask: accepted.has_mask,
            restored: false,
        });
        Job::Many(vec![written, log, next])
    }

    /// Ctrl+Z: asks for the last acceptance to be taken back.
    pub(super) fn ask_undo(&mut self) -> Job {
        if self.busy {
            return Job::None;
        }
        match self.undo.last() {
            Some((accepted, _)) => {
                self.busy = true;
                Job::Undo(Box::new(accepted.clone()))
            }
            None => {
                self.outcome = Some(Notice::Failed("Nothing to undo.".into()));
                Job::None
            }
        }
    }

    pub(super) fn undone(&mut self, result: Result<(Accepted, bool), Error>) -> Job {
        self.busy = false;
        let (accepted, has_mask) = match result {
            Ok(done) => done,
            Err(e) => {
                self.outcome = Some(Notice::Failed(format!("Nothing was undone: {e}")));
                return Job::None;
            }
        };
        let stem = accepted.stem.clone();
        let Some(at) = self.undo.iter().rposition(|(a, _)| a.stem == stem) else {
            return Job::None;
        };
        let (_, row) = self.undo.remove(at);
        if let Some(r) = self
            .table
            .as_mut()
            .map(Arc::make_mut)
            .and_then(|t| t.row_mut(&stem))
        {
            *r = row;
        }
        let what = accepted.take.verdict().name();
        self.outcome = Some(Notice::Done(format!(
            "{stem}: {what} undone; its earlier mask and label are back."
        )));
        let log = self.decide(&stem, Verdict::Undone, format!("undid: {what}"));
        self.panes = None;
        let show = self.requeue_showing(&[&stem]);
        let written = Job::Written(Written {
            stem: stem.clone(),
            label: accepted.before.label.clone(),
            has_mask,
            restored: true,
        });
        Job::Many(vec![written, log, show])
    }

    pub(super) fn flagged(&mut self, result: Result<(String, ImageLabel), Error>) -> Job {
        self.busy = false;
        let (stem, label) = match result {
            Ok(done) => done,
            Err(e) => {
                self.outcome = Some(Notice::Failed(format!("Nothing was flagged: {e}")));
                return Job::None;
            }
        };
        if let Some(r) = self
            .table
            .as_mut()
            .map(Arc::make_mut)
            .and_then(|t| t.row_mut(&stem))
        {
            r.status = label.status;
            if !crate::review::table::counts_as_truth(label.status) {
                r.truth = None;
            }
        }
        // Undoing an earlier acceptance would now also take the flag back.
        self.undo.retain(|(a, _)| a.stem != stem);
        self.outcome = Some(Notice::Done(format!(
            "{stem} is flagged: {}",
            label.comment
        )));
        let log = self.decide(&stem, Verdict::Flagged, label.comment.clone());
        let next = self.advance_after(&stem);
        let written = Job::Written(Written {
            stem: stem.clone(),
            label,
            has_mask: false,
            restored: false,
        });
        Job::Many(vec![written, log, next])
    }

    /// An image came back from Annotate with this row (scored against its edited mask).
    pub fn edited(&mut self, row: Row) -> Job {
        let stem = row.stem.clone();
        self.undo.retain(|(a, _)| a.stem != stem);
        if let Some(r) = self
            .table
            .as_mut()
            .map(Arc::make_mut)
            .and_then(|t| t.row_mut(&stem))
        {
            *r = row;
        }
        self.summarise();
        if self.current().is_some_and(|r| r.stem == stem) {
            self.panes = None;
        }
        self.show_current()
    }
}
