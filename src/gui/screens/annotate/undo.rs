//! Undo and redo on the image shown (Ctrl+Z, Ctrl+Y): its history puts the pixels back, and
//! the traced nerves with them when the step was a tracer's or a carried mask's.

use super::Annotate;
use crate::mask::Rect;
use std::sync::Arc;

impl Annotate {
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
