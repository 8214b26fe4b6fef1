//! The nerve tracer on the Annotate screen (T): clicks add waypoints to the nerve being
//! traced, or into a traced nerve beside the click; Ctrl+click starts a branch on a traced
//! nerve; Enter (or a right click) finishes the nerve; the wheel over a node makes the nerve
//! wider or narrower there, Shift+wheel or [ ] the whole nerve (and the next ones: the width
//! setting stays from image to image). Every change is one undo step of the mask and the paths.

use super::{Annotate, Message};
use crate::mask::trace::{self, NervePath, Placement, Tracer};
use crate::mask::{Mask, NERVE};
use iced::Point;
use std::sync::Arc;

/// How near (screen pixels) a click or the wheel must be to a traced nerve to act on it.
const NEAR: f32 = 10.0;

impl Annotate {
    /// The tracer of the image on screen, once its ridges are measured.
    pub fn tracer(&self) -> Option<&Arc<Tracer>> {
        self.tracer
            .as_ref()
            .filter(|(key, _)| self.image_key.as_ref() == Some(key))
            .map(|(_, t)| t)
    }

    /// The traced nerves of the image on screen.
    pub fn paths(&self) -> &[NervePath] {
        &self.label.paths
    }

    /// The nerve being traced (clicks extend it), if any.
    pub fn tracing(&self) -> Option<usize> {
        self.tracing.filter(|&i| i < self.label.paths.len())
    }

    /// Image pixels that are `NEAR` screen pixels at the current zoom.
    fn near(&self) -> f32 {
        NEAR / self.viewport.scale.max(1e-3)
    }

    pub(super) fn trace_message(&mut self, message: Message) {
        match message {
            Message::TracePoint(p, branch) => self.trace_point(p, branch),
            Message::TraceWidth {
                screen,
                at,
                steps,
                whole,
            } => {
                let factor = 1.1f32.powf(steps);
                if whole {
                    self.scale_nerve(factor);
                } else if !self.scale_node(at, factor) {
                    self.viewport.zoom_at(screen, 1.2f32.powf(steps));
                }
            }
            _ => {}
        }
    }

    /// A click with the tracer: a waypoint in the nerve beside it, the nerve being traced, or
    /// a new nerve; with `branch`, a new nerve starting on the nearest traced one.
    fn trace_point(&mut self, p: Point, branch: bool) {
        let near = self.near();
        let factor = self.trace_width;
        let tracing = self.tracing();
        let mut now = tracing;
        self.trace_edit(|tracer, paths| {
            let at = (p.x, p.y);
            if branch && let Some(of) = nearest_path(paths, p, 3.0 * near) {
                let ((seg, index), _) = paths[of].nearest(p.x, p.y).expect("near a node");
                let node = match index {
                    Some(i) => paths[of].segments[seg][i],
                    None => paths[of].end.expect("the end node"),
                };
                let mut fork = NervePath {
                    branch_of: Some(of),
                    ..NervePath::default()
                };
                tracer.add(&mut fork, (node.x, node.y), Placement::Append, factor);
                paths.push(fork);
                now = Some(paths.len() - 1);
                return;
            }
            let beside = paths.iter().enumerate().find_map(|(i, path)| {
                match Tracer::placement(path, p.x, p.y, near) {
                    Placement::Insert(s) => Some((i, s)),
                    Placement::Append => None,
                }
            });
            match (beside, now) {
                (Some((i, s)), _) => {
                    tracer.add(&mut paths[i], at, Placement::Insert(s), factor);
                    now = Some(i);
                }
                (None, Some(i)) => tracer.add(&mut paths[i], at, Placement::Append, factor),
                (None, None) => {
                    let mut path = NervePath::default();
                    tracer.add(&mut path, at, Placement::Append, factor);
                    paths.push(path);
                    now = Some(paths.len() - 1);
                }
            }
        });
        self.tracing = now;
    }

    /// The wheel over a node: that node (and, a little, its neighbours) wider or narrower.
    /// `false` when no node is near the pointer.
    fn scale_node(&mut self, at: Point, factor: f32) -> bool {
        let near = 1.5 * self.near();
        let Some(i) = nearest_path(&self.label.paths, at, near) else {
            return false;
        };
        self.trace_edit(|_, paths| paths[i].scale_width_at(at.x, at.y, factor));
        true
    }

    /// The whole nerve being traced (else the last one) wider or narrower; the next nerves
    /// are traced that much wider or narrower too.
    pub(super) fn scale_nerve(&mut self, factor: f32) {
        self.trace_width = (self.trace_width * factor).clamp(0.25, 4.0);
        let Some(i) = self
            .tracing()
            .or_else(|| self.label.paths.len().checked_sub(1))
        else {
            return;
        };
        self.trace_edit(|_, paths| paths[i].scale_widths(factor));
    }

    /// Enter, a right click or Esc: the nerve is finished; the next click starts another.
    pub(super) fn finish_nerve(&mut self) -> bool {
        self.tracing.take().is_some()
    }

    /// Changes the traced nerves and redraws what they cover: the pixels the old paths drew
    /// and the new ones do not are cleared, the new paths' pixels set. One undo step.
    fn trace_edit(&mut self, change: impl FnOnce(&Tracer, &mut Vec<NervePath>)) {
        if !self.editable() {
            return;
        }
        let Some(tracer) = self.tracer().cloned() else {
            return;
        };
        let before = self.label.paths.clone();
        let mut after = before.clone();
        change(&tracer, &mut after);
        if after == before {
            return;
        }
        let Some((w, h)) = self.loaded.as_ref().map(|l| l.size) else {
            return;
        };
        let (mut old, mut new) = (Mask::empty(w, h), Mask::empty(w, h));
        trace::render(&mut old, &before);
        trace::render(&mut new, &after);
        self.paths_edit(after, |mask| {
            let bytes = mask.bytes_mut();
            for ((m, o), n) in bytes.iter_mut().zip(old.as_bytes()).zip(new.as_bytes()) {
                if *n == NERVE {
                    *m = NERVE;
                } else if *o == NERVE {
                    *m = 0;
                }
            }
        });
    }
}

/// The traced nerve with a node nearest to `at`, within `within` image pixels.
fn nearest_path(paths: &[NervePath], at: Point, within: f32) -> Option<usize> {
    paths
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.nearest(at.x, at.y).map(|(_, d)| (i, d)))
        .filter(|(_, d)| *d <= within)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}
