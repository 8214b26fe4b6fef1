//! Per-stroke undo and redo that cost bytes, not whole masks.
//!
//! An edit is stored as the pixels it flipped, tile by tile (64x64), each tile's flips as run
//! lengths. Since masks are binary, undo and redo are the same operation: flip those pixels
//! again. A brush stroke costs a few hundred bytes; a whole-image fill a few kilobytes.

use super::trace::NervePath;
use super::{Mask, Rect};
use std::collections::BTreeMap;

pub const TILE: u32 = 64;

/// The pixels one tile had flipped: alternating run lengths (unchanged, flipped, unchanged,
/// ...) over the tile's pixels in row order, clipped at the image edge.
#[derive(Debug, Clone, PartialEq)]
struct TileFlips {
    tile: (u32, u32),
    runs: Vec<u16>,
}

/// One undoable step (a stroke, a fill, a clear, a traced nerve).
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    tiles: Vec<TileFlips>,
    /// The traced nerve paths before and after the step, when it changed them.
    paths: Option<Box<[Vec<NervePath>; 2]>>,
}

/// What an undo or a redo changed: the tiles to show again, and the nerve paths to restore
/// when the step was a tracer's.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub tiles: Vec<(u32, u32)>,
    pub paths: Option<Vec<NervePath>>,
}

impl Edit {
    /// Flips the edit's pixels: undoes it when applied after it, redoes it after an undo.
    /// Returns the tiles that changed (for display).
    pub fn toggle(&self, mask: &mut Mask) -> Vec<(u32, u32)> {
        for t in &self.tiles {
            let r = tile_rect(mask, t.tile);
            let mut i = 0usize;
            let mut flip = false;
            for &run in &t.runs {
                if flip {
                    for k in i..i + run as usize {
                        let (x, y) = (r.x + k as u32 % r.width, r.y + k as u32 / r.width);
                        mask.set(x, y, !mask.get(x, y));
                    }
                }
                i += run as usize;
                flip = !flip;
            }
        }
        self.tiles.iter().map(|t| t.tile).collect()
    }

    /// Bytes this step keeps in memory.
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .tiles
                .iter()
                .map(|t| std::mem::size_of::<TileFlips>() + t.runs.len() * 2)
                .sum::<usize>()
    }

    pub fn tiles(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.tiles.iter().map(|t| t.tile)
    }

    /// Flips the pixels back or forth (as [`Edit::toggle`]) and says which paths now stand.
    fn step(&self, mask: &mut Mask, undo: bool) -> Step {
        Step {
            tiles: self.toggle(mask),
            paths: self.paths.as_ref().map(|p| p[usize::from(!undo)].clone()),
        }
    }
}

/// Collects the state of the tiles an edit touches, before they change.
#[derive(Debug, Default)]
pub struct Recorder {
    before: BTreeMap<(u32, u32), Vec<u8>>,
}

impl Recorder {
    /// Remembers the tiles under `rect` that this edit has not touched yet. Call before changing
    /// pixels in `rect`.
    pub fn touch(&mut self, mask: &Mask, rect: Rect) {
        for tile in tiles_in(rect) {
            self.before
                .entry(tile)
                .or_insert_with(|| tile_bytes(mask, tile));
        }
    }

    /// Remembers every tile (for edits whose reach is not known beforehand, like fills).
    pub fn touch_all(&mut self, mask: &Mask) {
        self.touch(
            mask,
            Rect {
                x: 0,
                y: 0,
                width: mask.width(),
                height: mask.height(),
            },
        );
    }

    /// The step of a tracer edit: its pixels and the paths before and after it (a step even
    /// when no pixel changed, a width edit within a pixel say).
    pub fn finish_paths(
        self,
        mask: &Mask,
        before: Vec<NervePath>,
        after: Vec<NervePath>,
    ) -> Option<Edit> {
        if before == after {
            return self.finish(mask);
        }
        let tiles = self.finish(mask).map(|e| e.tiles).unwrap_or_default();
        Some(Edit {
            tiles,
            paths: Some(Box::new([before, after])),
        })
    }

    /// The step, or `None` when nothing changed.
    pub fn finish(self, mask: &Mask) -> Option<Edit> {
        let tiles: Vec<TileFlips> = self
            .before
            .into_iter()
            .filter_map(|(tile, before)| {
                let after = tile_bytes(mask, tile);
                let mut runs = Vec::new();
                let (mut run, mut flipped) = (0u16, false);
                for (a, b) in before.iter().zip(&after) {
                    if (a != b) != flipped {
                        runs.push(run);
                        run = 0;
                        flipped = !flipped;
                    }
                    run += 1;
                }
                runs.push(run);
                (runs.len() > 1).then_some(TileFlips { tile, runs })
            })
            .collect();
        (!tiles.is_empty()).then_some(Edit { tiles, paths: None })
    }
}

/// Unlimited undo and redo for one image's mask.
#[derive(Debug, Default)]
pub struct History {
    undo: Vec<Edit>,
    redo: Vec<Edit>,
}

impl History {
    /// Records a finished step; a new step forgets what could be redone.
    pub fn push(&mut self, edit: Edit) {
        self.undo.push(edit);
        self.redo.clear();
    }

    pub fn undo(&mut self, mask: &mut Mask) -> Option<Step> {
        let edit = self.undo.pop()?;
        let step = edit.step(mask, true);
        self.redo.push(edit);
        Some(step)
    }

    pub fn redo(&mut self, mask: &mut Mask) -> Option<Step> {
        let edit = self.redo.pop()?;
        let step = edit.step(mask, false);
        self.undo.push(edit);
        Some(step)
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn memory_bytes(&self) -> usize {
        self.undo
            .iter()
            .chain(&self.redo)
            .map(Edit::memory_bytes)
            .sum()
    }
}

/// The pixel rectangle of a tile, clipped to the mask.
pub fn tile_rect(mask: &Mask, (tx, ty): (u32, u32)) -> Rect {
    let (x, y) = (tx * TILE, ty * TILE);
    Rect {
        x,
        y,
        width: TILE.min(mask.width() - x),
        height: TILE.min(mask.height() - y),
    }
}

/// The tiles a rectangle overlaps.
pub fn tiles_in(rect: Rect) -> impl Iterator<Item = (u32, u32)> {
    let (tx0, ty0) = (rect.x / TILE, rect.y / TILE);
    let (tx1, ty1) = (
        (rect.x + rect.width.max(1) - 1) / TILE,
        (rect.y + rect.height.max(1) - 1) / TILE,
    );
    (ty0..=ty1).flat_map(move |ty| (tx0..=tx1).map(move |tx| (tx, ty)))
}

fn tile_bytes(mask: &Mask, tile: (u32, u32)) -> Vec<u8> {
    let r = tile_rect(mask, tile);
    let mut out = Vec::with_capacity((r.width * r.height) as usize);
    for y in r.y..r.y + r.height {
        let start = (y * mask.width() + r.x) as usize;
        out.extend_from_slice(&mask.as_bytes()[start..start + r.width as usize]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::fill::{clear, fill_holes, flood_fill};
    use crate::mask::raster::stamp_segment;

    fn stroke(mask: &mut Mask, points: &[(f32, f32)], radius: f32, on: bool) -> Option<Edit> {
        let mut rec = Recorder::default();
        for w in points.windows(2) {
            let (a, b) = (w[0], w[1]);
            let reach = Rect::around(a, b, radius, mask);
            rec.touch(mask, reach);
            stamp_segment(mask, a, b, radius, on);
        }
        rec.finish(mask)
    }

    #[test]
    fn undo_and_redo_restore_the_exact_bytes() {
        let mut m = Mask::empty(300, 200);
        let mut h = History::default();
        let states = {
            let mut s = vec![m.clone()];
            h.push(
                stroke(
                    &mut m,
                    &[(10.0, 10.0), (250.0, 150.0), (290.0, 20.0)],
                    12.0,
                    true,
                )
                .unwrap(),
            );
            s.push(m.clone());
            h.push(stroke(&mut m, &[(0.0, 100.0), (300.0, 100.0)], 6.0, false).unwrap());
            s.push(m.clone());
            let mut rec = Recorder::default();
            rec.touch_all(&m);
            flood_fill(&mut m, (150, 190), true);
            h.push(rec.finish(&m).unwrap());
            s.push(m.clone());
            s
        };
        for expected in states.iter().rev().skip(1) {
            h.undo(&mut m).unwrap();
            assert_eq!(&m, expected);
        }
        assert!(h.undo(&mut m).is_none());
        for expected in states.iter().skip(1) {
            h.redo(&mut m).unwrap();
            assert_eq!(&m, expected);
        }
        assert!(!h.can_redo());
    }

    #[test]
    fn a_new_edit_forgets_the_redo_and_no_op_edits_are_dropped() {
        let mut m = Mask::empty(100, 100);
        let mut h = History::default();
        h.push(stroke(&mut m, &[(10.0, 10.0), (50.0, 50.0)], 5.0, true).unwrap());
        h.undo(&mut m);
        assert!(h.can_redo());
        h.push(stroke(&mut m, &[(80.0, 80.0), (90.0, 90.0)], 5.0, true).unwrap());
        assert!(!h.can_redo());
        assert!(
            stroke(&mut m, &[(80.0, 80.0), (90.0, 90.0)], 5.0, true).is_none(),
            "painting nerve on nerve is no step"
        );
    }

    #[test]
    fn whole_image_fill_and_clear_are_cheap_steps() {
        let mut m = Mask::empty(1920, 1080);
        let mut rec = Recorder::default();
        rec.touch_all(&m);
        flood_fill(&mut m, (0, 0), true);
        let fill = rec.finish(&m).unwrap();
        assert!(
            fill.memory_bytes() < 40_000,
            "{} bytes",
            fill.memory_bytes()
        );
        fill.toggle(&mut m);
        assert!(m.is_empty());
        fill.toggle(&mut m);
        assert_eq!(m.count(), 1920 * 1080);
        let mut rec = Recorder::default();
        rec.touch_all(&m);
        clear(&mut m);
        assert!(rec.finish(&m).is_some());
        assert!(fill_holes(&mut Mask::empty(8, 8)).is_none());
    }

    #[test]
    fn tiles_in_covers_the_rect() {
        let t: Vec<_> = tiles_in(Rect {
            x: 60,
            y: 0,
            width: 10,
            height: 65,
        })
        .collect();
        assert_eq!(t, [(0, 0), (1, 0), (0, 1), (1, 1)]);
    }
}
