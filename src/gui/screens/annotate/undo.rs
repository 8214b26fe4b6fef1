//! Undo and redo on the image shown (Ctrl+Z, Ctrl+Y): its history puts the pixels back, and
//! the traced nerves with them when the step was a tracer's or a carried mask's.

use super::Annotate;
use crate::mask::history::Recorder;
use crate::mask::trace::NervePath;
use crate::mask::{Mask, Rect};
use std::sync::Arc;

impl Annotate {
    /// Changes the traced nerves to `after` and the mask with `draw`, as one undo step of both
    /// (the tracer's clicks and width edits, a carried mask kept).
    pub(super) fn paths_edit(&mut self, after: Vec<NervePath>, draw: impl FnOnce(&mut Mask)) {
        let before = self.label.paths.clone();
        let Some(loaded) = self.loaded.as_mut() else {
            return;
        };
        let mut recorder = Recorder::default();
        recorder.touch_all(&loaded.mask);
        draw(Arc::make_mut(&mut loaded.mask));
        let edit = recorder.finish_paths(&loaded.mask, before, after.clone());
        self.rebuild_tiles(None);
        if let Some(edit) = edit {
            self.histories
                .entry(self.current.clone())
                .or_default()
                .push(edit);
        }
        self.change_label(|l| l.paths = after);
        self.mask_changed();
    }

    /// Ctrl+Z / Ctrl+Y on the image shown: its history puts the tiles back.
    pub(super) fn undo_redo(&mut self, undo: bool) {
        let (Some(loaded), Some(history)) =
            (self.loaded.as_mut(), self.histories.get_mut(&self.current))
        else {
            return;
        };
        let step = if undo {
            history.undo(Arc::make_mut(&mut loaded.mask))
        } else {
            history.redo(Arc::make_mut(&mut loaded.mask))
        };
        if let Some(step) = step {
            let rects: Vec<Rect> = step
                .tiles
                .iter()
                .map(|&t| crate::mask::history::tile_rect(&loaded.mask, t))
                .collect();
            for r in rects {
                self.rebuild_tiles(Some(r));
            }
            // A tracer step puts its paths back with its pixels.
            if let Some(paths) = step.paths {
                self.tracing = None;
                self.change_label(|l| l.paths = paths);
            }
            self.mask_changed();
        }
    }
}
