//! Carries a mask to the next (or previous) frame of an experiment: the frames are aligned as a
//! whole first (the camera drifts), then each traced nerve's nodes, and the mask's remaining
//! pixels cell by cell, are followed by block matching; nodes are snapped back onto the next
//! frame's ridge and keep their widths. Where matching forward and back again disagrees, the
//! proposal says it is uncertain there. Nothing is written: the user accepts or discards.

use super::trace::{self, NervePath, Tracer, ridge};
use super::{Mask, raster};

/// The side of the reduced pictures the frames are aligned on.
const ALIGN_SIDE: u32 = 240;
/// Half the side of a matched patch, and how far a patch is searched around the aligned place
/// (full-size pixels).
const PATCH: i32 = 10;
const SEARCH: i32 = 8;
/// Cells of mask pixels moved together.
const CELL: u32 = 24;
/// Forward-then-back disagreement (pixels) beyond which a place is uncertain. Along a nerve a
/// patch slides a little either way (its texture repeats), so a few pixels are normal.
const UNCERTAIN: f32 = 4.0;

/// A frame as propagation reads it: its luminance.
pub struct Frame {
    pub width: u32,
    pub height: u32,
    grey: Vec<f32>,
}

impl Frame {
    pub fn new(pixels: &[u8], channels: usize, width: u32, height: u32) -> Frame {
        Frame {
            width,
            height,
            grey: ridge::luminance(pixels, channels),
        }
    }

    fn at(&self, x: i32, y: i32) -> f32 {
        let x = x.clamp(0, self.width as i32 - 1) as usize;
        let y = y.clamp(0, self.height as i32 - 1) as usize;
        self.grey[y * self.width as usize + x]
    }
}

/// The proposed mask and paths for the other frame, and where they are uncertain.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub mask: Mask,
    pub paths: Vec<NervePath>,
    /// Circles (x, y, radius) where forward and backward matching disagree.
    pub uncertain: Vec<(f32, f32, f32)>,
    /// The whole-frame shift found (full-size pixels).
    pub shift: (f32, f32),
}

/// The shift (dx, dy) that best lays `from` onto `to`: the mean absolute difference of the
/// reduced frames over their overlap, searched over shifts up to a sixth of the frame.
pub fn global_shift(from: &Frame, to: &Frame) -> (f32, f32) {
    let step = (from.width.max(from.height) as f32 / ALIGN_SIDE as f32).max(1.0);
    let (w, h) = (
        ((from.width as f32 / step) as u32).max(8),
        ((from.height as f32 / step) as u32).max(8),
    );
    let a = ridge::shrink(&from.grey, (from.width, from.height), (w, h));
    let b = ridge::shrink(&to.grey, (to.width, to.height), (w, h));
    let (rx, ry) = ((w / 6) as i32, (h / 6) as i32);
    let mut best = ((0i32, 0i32), f32::INFINITY);
    for dy in -ry..=ry {
        for dx in -rx..=rx {
            let (mut sum, mut n) = (0f32, 0u32);
            for y in (dy.max(0)..(h as i32 + dy.min(0))).step_by(2) {
                for x in (dx.max(0)..(w as i32 + dx.min(0))).step_by(2) {
                    let (sx, sy) = ((x - dx) as usize, (y - dy) as usize);
                    sum +=
                        (b[y as usize * w as usize + x as usize] - a[sy * w as usize + sx]).abs();
                    n += 1;
                }
            }
            let cost = sum / n.max(1) as f32 + 0.0005 * ((dx * dx + dy * dy) as f32).sqrt();
            if cost < best.1 {
                best = ((dx, dy), cost);
            }
        }
    }
    refine(
        from,
        to,
        (best.0.0 as f32 * step, best.0.1 as f32 * step),
        step.ceil() as i32,
    )
}

/// The best whole-pixel shift within `reach` of `coarse`, on the full-size frames (every
/// fourth pixel each way).
fn refine(from: &Frame, to: &Frame, coarse: (f32, f32), reach: i32) -> (f32, f32) {
    let (cx, cy) = (coarse.0.round() as i32, coarse.1.round() as i32);
    let (w, h) = (from.width as i32, from.height as i32);
    let mut best = ((cx, cy), f32::INFINITY);
    for dy in cy - reach..=cy + reach {
        for dx in cx - reach..=cx + reach {
            let (mut sum, mut n) = (0f32, 0u32);
            for y in (dy.max(0)..h + dy.min(0)).step_by(4) {
                for x in (dx.max(0)..w + dx.min(0)).step_by(4) {
                    sum += (to.at(x, y) - from.at(x - dx, y - dy)).abs();
                    n += 1;
                }
            }
            let cost = sum / n.max(1) as f32;
            if cost < best.1 {
                best = ((dx, dy), cost);
            }
        }
    }
    (best.0.0 as f32, best.0.1 as f32)
}

/// Where the patch around `p` in `from` lies in `to`, searched around `p + guess`: the new place
/// and the match's cost.
fn follow(from: &Frame, to: &Frame, p: (f32, f32), guess: (f32, f32)) -> (f32, f32) {
    let (px, py) = (p.0.round() as i32, p.1.round() as i32);
    let (gx, gy) = (
        (p.0 + guess.0).round() as i32,
        (p.1 + guess.1).round() as i32,
    );
    let mut best = ((gx, gy), f32::INFINITY);
    for sy in -SEARCH..=SEARCH {
        for sx in -SEARCH..=SEARCH {
            let mut cost = 0f32;
            for dy in (-PATCH..=PATCH).step_by(2) {
                for dx in (-PATCH..=PATCH).step_by(2) {
                    cost += (from.at(px + dx, py + dy) - to.at(gx + sx + dx, gy + sy + dy)).abs();
                }
            }
            // Away from the whole frame's motion only where the picture says so clearly.
            cost += 0.08 * ((sx * sx + sy * sy) as f32).sqrt();
            if cost < best.1 {
                best = ((gx + sx, gy + sy), cost);
            }
        }
    }
    (
        best.0.0 as f32 + p.0 - px as f32,
        best.0.1 as f32 + p.1 - py as f32,
    )
}

/// Follows `p` from `from` to `to` and back: its new place, and how far the way back lands
/// from where it started.
fn follow_checked(from: &Frame, to: &Frame, p: (f32, f32), shift: (f32, f32)) -> ((f32, f32), f32) {
    let there = follow(from, to, p, shift);
    let back = follow(to, from, there, (-shift.0, -shift.1));
    (
        there,
        ((back.0 - p.0).powi(2) + (back.1 - p.1).powi(2)).sqrt(),
    )
}

/// Proposes `mask` and `paths` of frame `from` on frame `to`; `tracer` (of `to`) snaps nodes
/// back onto its ridge where given.
pub fn propose(
    from: &Frame,
    to: &Frame,
    mask: &Mask,
    paths: &[NervePath],
    tracer: Option<&Tracer>,
) -> Proposal {
    let shift = global_shift(from, to);
    let mut uncertain = vec![];
    let moved: Vec<NervePath> = paths
        .iter()
        .map(|path| move_path(from, to, path, shift, tracer, &mut uncertain))
        .collect();
    // Pixels the paths do not explain: each cell's centre is followed, and the mask is drawn
    // from the nearby cells' motions (no seams between cells).
    let mut drawn = Mask::empty(mask.width(), mask.height());
    trace::render(&mut drawn, paths);
    let loose = Mask::from_nonzero(
        mask.width(),
        mask.height(),
        &mask
            .as_bytes()
            .iter()
            .zip(drawn.as_bytes())
            .map(|(m, d)| u8::from(*m > 0 && *d == 0))
            .collect::<Vec<u8>>(),
    );
    let cells = follow_cells(from, to, &loose, shift, &mut uncertain);
    let mut out = draw_back(&loose, &cells, to);
    // Rounding to whole pixels can leave pinholes: closed.
    close_pinholes(&mut out);
    trace::render(&mut out, &moved);
    Proposal {
        mask: out,
        paths: moved,
        uncertain: apart(uncertain),
        shift,
    }
}

/// Follows the centre of the nerve pixels of every `CELL`-sized cell of `mask`: where each is
/// and how it moved. Cells whose way back disagrees are added to `uncertain`.
fn follow_cells(
    from: &Frame,
    to: &Frame,
    mask: &Mask,
    shift: (f32, f32),
    uncertain: &mut Vec<(f32, f32, f32)>,
) -> Vec<Motion> {
    let mut cells = Vec::new();
    for cy in (0..mask.height()).step_by(CELL as usize) {
        for cx in (0..mask.width()).step_by(CELL as usize) {
            let pixels: Vec<(u32, u32)> = (cy..(cy + CELL).min(mask.height()))
                .flat_map(|y| (cx..(cx + CELL).min(mask.width())).map(move |x| (x, y)))
                .filter(|&(x, y)| mask.get(x, y))
                .collect();
            if pixels.is_empty() {
                continue;
            }
            let n = pixels.len() as f32;
            let centre = (
                pixels.iter().map(|p| p.0 as f32 + 0.5).sum::<f32>() / n,
                pixels.iter().map(|p| p.1 as f32 + 0.5).sum::<f32>() / n,
            );
            let (there, error) = follow_checked(from, to, centre, shift);
            if error > UNCERTAIN {
                uncertain.push((there.0, there.1, CELL as f32 / 2.0));
            }
            cells.push((centre, (there.0 - centre.0, there.1 - centre.1)));
        }
    }
    cells
}

/// `mask` on frame `to`: each pixel there takes the pixel of `mask` that the nearby cells'
/// motion (weighted by distance) brings onto it. Drawn backwards, so a thin nerve keeps no
/// holes.
fn draw_back(mask: &Mask, cells: &[Motion], to: &Frame) -> Mask {
    let mut out = Mask::empty(to.width, to.height);
    let reach = (2 * CELL) as f32;
    let moved: Vec<Motion> = cells
        .iter()
        .map(|&((cx, cy), (dx, dy))| ((cx + dx, cy + dy), (dx, dy)))
        .collect();
    let Some((x0, y0, x1, y1)) = moved_box(&moved, reach, to) else {
        return out;
    };
    for y in y0..y1 {
        for x in x0..x1 {
            let (qx, qy) = (x as f32 + 0.5, y as f32 + 0.5);
            let (mut sx, mut sy, mut sw) = (0f32, 0f32, 0f32);
            for &((cx, cy), (dx, dy)) in &moved {
                let d2 = (cx - qx).powi(2) + (cy - qy).powi(2);
                if d2 <= reach * reach {
                    let w = 1.0 / (d2 + 16.0);
                    (sx, sy, sw) = (sx + w * dx, sy + w * dy, sw + w);
                }
            }
            if sw == 0.0 {
                continue;
            }
            let (fx, fy) = ((qx - sx / sw).floor(), (qy - sy / sw).floor());
            if fx >= 0.0
                && fy >= 0.0
                && (fx as u32) < mask.width()
                && (fy as u32) < mask.height()
                && mask.get(fx as u32, fy as u32)
            {
                out.set(x, y, true);
            }
        }
    }
    out
}

/// A place and how it moved (dx, dy).
type Motion = ((f32, f32), (f32, f32));

/// The pixels of `to` that moved cells can reach (their centres, `reach` around).
fn moved_box(cells: &[Motion], reach: f32, to: &Frame) -> Option<(u32, u32, u32, u32)> {
    let clamp = |v: f32, max: u32| v.clamp(0.0, max as f32) as u32;
    let xs = cells.iter().map(|c| c.0.0);
    let ys = cells.iter().map(|c| c.0.1);
    let (x0, x1) = (
        xs.clone().fold(f32::INFINITY, f32::min),
        xs.fold(f32::NEG_INFINITY, f32::max),
    );
    let (y0, y1) = (
        ys.clone().fold(f32::INFINITY, f32::min),
        ys.fold(f32::NEG_INFINITY, f32::max),
    );
    (!cells.is_empty()).then(|| {
        (
            clamp(x0 - reach, to.width),
            clamp(y0 - reach, to.height),
            clamp(x1 + reach, to.width),
            clamp(y1 + reach, to.height),
        )
    })
}

/// The uncertain places without the ones inside another's ring (neighbouring nodes and cells
/// would stack dozens of rings on one stretch).
fn apart(rings: Vec<(f32, f32, f32)>) -> Vec<(f32, f32, f32)> {
    let mut kept: Vec<(f32, f32, f32)> = Vec::new();
    for r in rings {
        if !kept
            .iter()
            .any(|k| (k.0 - r.0).powi(2) + (k.1 - r.1).powi(2) < (k.2 + r.2).powi(2))
        {
            kept.push(r);
        }
    }
    kept
}

/// One traced nerve on the other frame: every node followed, snapped onto the ridge there,
/// its width kept; waypoints go with their nodes.
fn move_path(
    from: &Frame,
    to: &Frame,
    path: &NervePath,
    shift: (f32, f32),
    tracer: Option<&Tracer>,
    uncertain: &mut Vec<(f32, f32, f32)>,
) -> NervePath {
    let mut moved = path.clone();
    let mut place = |n: &mut trace::Node| {
        let (there, error) = follow_checked(from, to, (n.x, n.y), shift);
        let snapped = tracer.map_or(there, |t| t.snap(there.0, there.1));
        if error > UNCERTAIN {
            uncertain.push((snapped.0, snapped.1, n.width.max(6.0)));
        }
        (n.x, n.y) = snapped;
    };
    for n in moved.segments.iter_mut().flatten() {
        place(n);
    }
    if let Some(end) = moved.end.as_mut() {
        place(end);
    }
    // A waypoint is the first node of its segment (the last one's is the end node).
    for (i, w) in moved.waypoints.iter_mut().enumerate() {
        let node = moved
            .segments
            .get(i)
            .and_then(|s| s.first())
            .or(moved.end.as_ref());
        if let Some(n) = node {
            *w = [n.x, n.y];
        }
    }
    moved
}

/// Sets background pixels whose four neighbours are all nerve.
fn close_pinholes(mask: &mut Mask) {
    let (w, h) = (mask.width(), mask.height());
    let holes: Vec<(u32, u32)> = (1..h.saturating_sub(1))
        .flat_map(|y| (1..w.saturating_sub(1)).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            !mask.get(x, y)
                && mask.get(x - 1, y)
                && mask.get(x + 1, y)
                && mask.get(x, y - 1)
                && mask.get(x, y + 1)
        })
        .collect();
    for (x, y) in holes {
        raster::stamp_segment(
            mask,
            (x as f32 + 0.5, y as f32 + 0.5),
            (x as f32 + 0.5, y as f32 + 0.5),
            0.5,
            true,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::demo::render::{Tissue, render};

    fn frame_of(img: &image::RgbImage) -> Frame {
        Frame::new(img.as_raw(), 3, img.width(), img.height())
    }

    fn iou(a: &Mask, b: &Mask) -> f64 {
        crate::eval::annotator::scored(b, a).0
    }

    #[test]
    fn a_drifting_camera_is_aligned_and_the_mask_follows_better_than_a_copy() {
        let mut better = 0;
        for seed in [3u64, 8, 21] {
            let (a, ma) = render(480, 270, Tissue::Nerve, seed, 1);
            let (b, mb) = render(480, 270, Tissue::Nerve, seed, 5);
            let p = propose(&frame_of(&a), &frame_of(&b), &ma, &[], None);
            let (ours, copy) = (iou(&p.mask, &mb), iou(&ma, &mb));
            assert!(p.mask.as_bytes().iter().all(|&v| v == 0 || v == 255));
            if ours > copy {
                better += 1;
            }
            assert!(ours > 0.5, "seed {seed}: proposal IoU {ours:.2}");
            assert!(
                ours > copy - 0.01,
                "seed {seed}: {ours:.2} against a copy's {copy:.2}"
            );
        }
        assert!(better >= 2, "the proposal beat the copy on {better} of 3");
    }

    #[test]
    fn a_shifted_picture_is_found_shifted() {
        let (a, _) = render(480, 270, Tissue::Tendon, 5, 0);
        let shifted = image::RgbImage::from_fn(480, 270, |x, y| {
            *a.get_pixel(x.saturating_sub(12).min(479), y.saturating_sub(6).min(269))
        });
        let (dx, dy) = global_shift(&frame_of(&a), &frame_of(&shifted));
        assert!(
            (dx - 12.0).abs() <= 2.0 && (dy - 6.0).abs() <= 2.0,
            "{dx} {dy}"
        );
    }
}
