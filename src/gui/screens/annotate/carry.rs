//! Carrying a mask from the frame before (C) or after (X) in the experiment: the neighbour's
//! mask and traced nerves are proposed on this frame (aligned, followed, snapped onto its
//! ridge, see `mask::propagate`), shown over it with the uncertain places ringed, and only
//! Enter takes it (one undo step); Esc discards it. Nothing is overwritten silently.

use super::{Annotate, Message};
use crate::gui::background::{Handover, spawn};
use crate::mask::propagate::{Frame, Proposal, propose};
use crate::mask::trace::{NervePath, Tracer};
use crate::mask::{Mask, NERVE};
use crate::project::{Project, ProjectError};
use iced::Task;
use iced::widget::image::Handle;
use std::sync::Arc;

/// A proposal shown over the image, for the visit it was made for.
pub struct Shown {
    pub key: super::ImageKey,
    /// The neighbour it came from.
    pub from: String,
    pub proposal: Proposal,
    /// The proposal's mask as a magenta overlay (CPU view).
    pub overlay: Handle,
}

impl Annotate {
    /// The proposal over the image on screen, if any.
    pub fn proposal(&self) -> Option<&Shown> {
        self.proposal
            .as_ref()
            .filter(|s| self.image_key.as_ref() == Some(&s.key))
    }

    /// C / X: asks for the proposal from the frame before (`-1`) or after (`+1`).
    pub(super) fn carry(&mut self, project: &Project, step: i64) -> super::Action {
        let (Some(key), Some(loaded)) = (self.image_key.clone(), self.loaded.as_ref()) else {
            return super::Action::none();
        };
        let Some(entry) = project.get(&self.current) else {
            return super::Action::none();
        };
        let experiment = entry.experiment().to_string();
        let Some(frame) = entry.label.frame else {
            self.carry_note = Some("This frame has no number in its experiment.".into());
            return super::Action::none();
        };
        let wanted = frame as i64 + step;
        let Some(neighbour) = project
            .images()
            .iter()
            .find(|e| e.experiment() == experiment && e.label.frame.map(i64::from) == Some(wanted))
        else {
            self.carry_note = Some(format!(
                "No frame {} in experiment {experiment}.",
                if step < 0 {
                    "before this one"
                } else {
                    "after this one"
                }
            ));
            return super::Action::none();
        };
        // The neighbour as the user left it: its unsaved edits first, else its files.
        let pending = self.pending.get(&neighbour.stem);
        let mask = pending.and_then(|p| p.mask.clone());
        let paths =
            pending.map_or_else(|| neighbour.label.paths.clone(), |p| p.label.paths.clone());
        let job = CarryJob {
            key,
            from: neighbour.stem.clone(),
            image: project.image_path(neighbour),
            mask_file: (mask.is_none() && neighbour.has_mask)
                .then(|| project.mask_path(&neighbour.stem)),
            mask,
            paths,
            here: (loaded.rgba.clone(), loaded.size),
            tracer: self.tracer().cloned(),
        };
        self.carry_note = Some(format!("Carrying {}…", neighbour.stem));
        super::Action::run(carry_task(job))
    }

    pub(super) fn proposed(
        &mut self,
        key: super::ImageKey,
        from: String,
        result: Result<Proposal, ProjectError>,
    ) {
        if self.image_key.as_ref() != Some(&key) {
            return;
        }
        match result {
            Ok(proposal) => {
                let overlay = overlay(&proposal.mask);
                self.carry_note = Some(format!(
                    "Proposed from {from}: Enter keeps it, Esc discards it{}.",
                    match proposal.uncertain.len() {
                        0 => String::new(),
                        n => format!(" ({n} uncertain places ringed)"),
                    }
                ));
                self.proposal = Some(Shown {
                    key,
                    from,
                    proposal,
                    overlay,
                });
            }
            Err(e) => self.carry_note = Some(format!("Nothing to carry: {e}")),
        }
    }

    /// Enter: the proposal becomes the mask and the nerve paths (one undo step).
    pub(super) fn accept_proposal(&mut self) -> bool {
        let Some(shown) = self.proposal.take() else {
            return false;
        };
        if !self.editable() || self.image_key.as_ref() != Some(&shown.key) {
            return true;
        }
        let carried = &shown.proposal.mask;
        self.paths_edit(shown.proposal.paths.clone(), |mask| {
            mask.bytes_mut().copy_from_slice(carried.as_bytes())
        });
        self.carry_note = Some(format!("Kept the mask carried from {}.", shown.from));
        true
    }

    /// Esc: the proposal goes, nothing changed.
    pub(super) fn discard_proposal(&mut self) -> bool {
        let had = self.proposal.take().is_some();
        if had {
            self.carry_note = None;
        }
        had
    }
}

/// What a carry needs, taken from the screen for its thread.
struct CarryJob {
    key: super::ImageKey,
    from: String,
    image: std::path::PathBuf,
    mask: Option<Mask>,
    mask_file: Option<std::path::PathBuf>,
    paths: Vec<NervePath>,
    here: (Arc<Vec<u8>>, (u32, u32)),
    tracer: Option<Arc<Tracer>>,
}

fn carry_task(job: CarryJob) -> Task<Message> {
    let stream = spawn("carry-mask", move |send| {
        let result = carry(&job);
        send(Message::Proposed(job.key, job.from, Handover::new(result)));
    });
    Task::run(stream, |m| m)
}

fn carry(job: &CarryJob) -> Result<Proposal, ProjectError> {
    let (rgba, (w, h)) = (&job.here.0, job.here.1);
    let there = crate::project::thumbnails::decode_image(&job.image)?.to_rgba8();
    if there.dimensions() != (w, h) {
        return Err(ProjectError::invalid(
            &job.image,
            format!(
                "it is {}x{}, this frame {w}x{h}",
                there.width(),
                there.height()
            ),
        ));
    }
    let mask = match (&job.mask, &job.mask_file) {
        (Some(m), _) => m.clone(),
        (None, Some(path)) => crate::mask::read_mask(path)?,
        (None, None) => Mask::empty(w, h),
    };
    if mask.is_empty() && job.paths.is_empty() {
        return Err(ProjectError::invalid(
            &job.image,
            "that frame has no mask yet",
        ));
    }
    let from = Frame::new(there.as_raw(), 4, w, h);
    let to = Frame::new(rgba, 4, w, h);
    Ok(propose(
        &from,
        &to,
        &mask,
        &job.paths,
        job.tracer.as_deref(),
    ))
}

/// The proposal's mask in magenta, half transparent.
fn overlay(mask: &Mask) -> Handle {
    let rgba: Vec<u8> = mask
        .as_bytes()
        .iter()
        .flat_map(|&v| {
            if v == NERVE {
                [0xE0, 0x40, 0xFF, 0x90]
            } else {
                [0, 0, 0, 0]
            }
        })
        .collect();
    Handle::from_rgba(mask.width(), mask.height(), rgba)
}
