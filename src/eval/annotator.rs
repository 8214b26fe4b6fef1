//! A simulated annotator, to measure how many clicks a nerve takes with each tool: on generated
//! nerve images with known truth, every click goes to the largest error along the true
//! centreline, and the mask is scored (IoU, clDice) after each click.
//!
//! - **tracer**: the first two clicks are the nerve's two ends; each further click is a
//!   waypoint on the centreline point farthest from the traced path.
//! - **brush**: each click is one straight brush drag (at the nerve's true mean width) along
//!   the longest stretch of centreline still uncovered, up to [`BRUSH_REACH`] pixels long: a
//!   generous brush user.
//! - **pre-annotation + corrections**: the segmenter's mask first (no click), then brush
//!   drags as above.

use super::segmentation::Overlap;
use super::skeleton::{cl_dice, skeletonize};
use crate::mask::trace::{self, NervePath, Placement, Tracer};
use crate::mask::{Mask, is_nerve, raster};
use serde::Serialize;

/// The longest straight brush drag the simulated brush user makes in one click.
pub const BRUSH_REACH: f32 = 60.0;

/// Clicks simulated per image and tool at most.
pub const MAX_CLICKS: usize = 25;

/// One nerve to annotate: its picture and its true mask, with the true centreline in order
/// from one end to the other.
pub struct Nerve {
    pub rgb: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub truth: Mask,
    pub centreline: Vec<(f32, f32)>,
    /// The nerve's mean width (true area over centreline length).
    pub mean_width: f32,
}

impl Nerve {
    /// The nerve of a picture and its truth, when the truth is one simple curve (one piece,
    /// a skeleton without branches); `None` otherwise.
    pub fn new(rgb: Vec<u8>, truth: Mask) -> Option<Nerve> {
        let (w, h) = (truth.width(), truth.height());
        let bools: Vec<bool> = truth.as_bytes().iter().map(|&v| is_nerve(v)).collect();
        let skeleton = skeletonize(&bools, w as usize, h as usize);
        let centreline = ordered_curve(&skeleton, w as usize, h as usize)?;
        if centreline.len() < 20 {
            return None;
        }
        let mean_width = truth.count() as f32 / centreline.len() as f32;
        Some(Nerve {
            rgb,
            width: w,
            height: h,
            truth,
            centreline,
            mean_width,
        })
    }
}

/// The scores after each click.
#[derive(Debug, Clone, Serialize)]
pub struct Curve {
    pub iou: Vec<f64>,
    pub cl_dice: Vec<f64>,
}

impl Curve {
    /// The first click count reaching IoU `goal`, if any did.
    pub fn clicks_to(&self, goal: f64) -> Option<usize> {
        self.iou.iter().position(|&v| v >= goal).map(|i| i + 1)
    }

    /// IoU and clDice after `clicks` clicks (the last score where there were fewer).
    pub fn after(&self, clicks: usize) -> (f64, f64) {
        let i = clicks.min(self.iou.len()).saturating_sub(1);
        (self.iou[i], self.cl_dice[i])
    }
}

fn score(truth: &Mask, mask: &Mask) -> (f64, f64) {
    let nerve = |m: &Mask| -> Vec<bool> { m.as_bytes().iter().map(|&v| is_nerve(v)).collect() };
    let (t, p) = (nerve(truth), nerve(mask));
    (
        Overlap::of(t.iter().copied(), p.iter().copied()).iou(),
        cl_dice(&t, &p, truth.width() as usize, truth.height() as usize),
    )
}

/// Clicks with the nerve tracer.
pub fn with_tracer(nerve: &Nerve) -> Curve {
    let tracer = Tracer::of(&nerve.rgb, 3, nerve.width, nerve.height);
    let mut path = NervePath::default();
    let mut curve = Curve {
        iou: vec![],
        cl_dice: vec![],
    };
    for click in 0..MAX_CLICKS {
        tracer_click(nerve, &tracer, &mut path, click);
        let mut mask = Mask::empty(nerve.width, nerve.height);
        trace::render(&mut mask, std::slice::from_ref(&path));
        let (iou, cl) = score(&nerve.truth, &mask);
        curve.iou.push(iou);
        curve.cl_dice.push(cl);
    }
    curve
}

/// Brush drags, from an empty mask or from a segmenter's mask (`start`).
pub fn with_brush(nerve: &Nerve, start: Option<&Mask>) -> Curve {
    let mut mask = start
        .cloned()
        .unwrap_or_else(|| Mask::empty(nerve.width, nerve.height));
    let mut curve = Curve {
        iou: vec![],
        cl_dice: vec![],
    };
    let radius = nerve.mean_width / 2.0;
    for _ in 0..MAX_CLICKS {
        if let Some((a, b)) = longest_uncovered(&nerve.centreline, &mask) {
            raster::stamp_segment(&mut mask, a, b, radius, true);
        }
        let (iou, cl) = score(&nerve.truth, &mask);
        curve.iou.push(iou);
        curve.cl_dice.push(cl);
    }
    curve
}

/// IoU and clDice of `mask` against `truth`.
pub fn scored(truth: &Mask, mask: &Mask) -> (f64, f64) {
    score(truth, mask)
}

/// The nerve as the simulated annotator traces it in `clicks` clicks.
pub fn traced(nerve: &Nerve, clicks: usize) -> NervePath {
    let tracer = Tracer::of(&nerve.rgb, 3, nerve.width, nerve.height);
    let mut path = NervePath::default();
    for click in 0..clicks {
        tracer_click(nerve, &tracer, &mut path, click);
    }
    path
}

/// One click of the simulated tracer user: the nerve's ends first, then the centreline point
/// farthest from the path.
fn tracer_click(nerve: &Nerve, tracer: &Tracer, path: &mut NervePath, click: usize) {
    let ends = [
        nerve.centreline[0],
        *nerve.centreline.last().expect("a centreline"),
    ];
    let at = if let Some(end) = ends.get(click) {
        *end
    } else {
        farthest_from_path(&nerve.centreline, path)
    };
    let placement = match path.nearest(at.0, at.1) {
        Some(((seg, _), _)) if click >= 2 => Placement::Insert(seg.min(path.segments.len() - 1)),
        _ => Placement::Append,
    };
    tracer.add(path, at, placement, 1.0);
}

/// The centreline point farthest from the traced path's nodes (segments between nodes are at
/// most a few pixels long, so node distance is path distance within that).
fn farthest_from_path(centreline: &[(f32, f32)], path: &NervePath) -> (f32, f32) {
    let nodes: Vec<(f32, f32)> = path.nodes().map(|n| (n.x, n.y)).collect();
    let distance = |p: &(f32, f32)| {
        nodes
            .iter()
            .map(|n| (n.0 - p.0).powi(2) + (n.1 - p.1).powi(2))
            .fold(f32::INFINITY, f32::min)
    };
    *centreline
        .iter()
        .max_by(|a, b| distance(a).total_cmp(&distance(b)))
        .expect("a centreline")
}

/// The start and end of one straight drag along the longest run of centreline points the
/// mask does not cover (cut at [`BRUSH_REACH`] from its start).
fn longest_uncovered(centreline: &[(f32, f32)], mask: &Mask) -> Option<((f32, f32), (f32, f32))> {
    let covered = |p: &(f32, f32)| mask.get(p.0 as u32, p.1 as u32);
    let mut best: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < centreline.len() {
        if covered(&centreline[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < centreline.len() && !covered(&centreline[i]) {
            i += 1;
        }
        if best.is_none_or(|(s, e)| i - start > e - s) {
            best = Some((start, i));
        }
    }
    let (s, e) = best?;
    let a = centreline[s];
    let end = (s..e)
        .take_while(|&k| {
            let p = centreline[k];
            ((p.0 - a.0).powi(2) + (p.1 - a.1).powi(2)).sqrt() <= BRUSH_REACH
        })
        .last()
        .unwrap_or(s);
    Some((a, centreline[end]))
}

/// The skeleton's longest path, in order from one end to the other (pixel centres), when the
/// skeleton is one piece and that path holds nearly all of it (short spurs are let go).
fn ordered_curve(skeleton: &[bool], w: usize, h: usize) -> Option<Vec<(f32, f32)>> {
    let pixels: Vec<usize> = (0..w * h).filter(|&i| skeleton[i]).collect();
    let first = *pixels.first()?;
    // Breadth-first from `from`: each pixel's step count and predecessor.
    let sweep = |from: usize| {
        let mut came = std::collections::HashMap::from([(from, (0usize, usize::MAX))]);
        let mut queue = std::collections::VecDeque::from([from]);
        let mut last = from;
        while let Some(i) = queue.pop_front() {
            last = i;
            let (x, y) = ((i % w) as i64, (i / w) as i64);
            for dy in -1..=1i64 {
                for dx in -1..=1i64 {
                    let (nx, ny) = (x + dx, y + dy);
                    if (dx, dy) == (0, 0) || nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                        continue;
                    }
                    let n = ny as usize * w + nx as usize;
                    if skeleton[n] && !came.contains_key(&n) {
                        came.insert(n, (came[&i].0 + 1, i));
                        queue.push_back(n);
                    }
                }
            }
        }
        (last, came)
    };
    let (a, reached) = sweep(first);
    if reached.len() < pixels.len() {
        return None;
    }
    let (b, came) = sweep(a);
    let mut out = vec![];
    let mut at = b;
    while at != usize::MAX {
        out.push(((at % w) as f32 + 0.5, (at / w) as f32 + 0.5));
        at = came[&at].1;
    }
    // Diagonal steps make the path shorter than the pixels it passes; spurs are what is left.
    (out.len() as f32 >= 0.8 * pixels.len() as f32).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::demo::render::{Tissue, render};

    /// The first few demo nerve frames whose truth is one simple curve.
    fn nerves(count: usize) -> Vec<Nerve> {
        (0..200u64)
            .filter_map(|seed| {
                let (img, truth) = render(480, 270, Tissue::Nerve, seed, 0);
                Nerve::new(img.into_raw(), truth)
            })
            .take(count)
            .collect()
    }

    #[test]
    fn the_tracer_needs_fewer_clicks_than_the_brush_on_a_demo_nerve() {
        for nerve in nerves(2) {
            let tracer = with_tracer(&nerve);
            let brush = with_brush(&nerve, None);
            // Two clicks trace the whole nerve; the brush has covered a few drags' worth.
            assert!(
                tracer.after(2).0 > brush.after(2).0,
                "{:?} {:?}",
                tracer.iou,
                brush.iou
            );
            assert!(tracer.after(5).1 > 0.8, "clDice {:?}", tracer.cl_dice);
            // More clicks never make the brush worse (it only adds where the truth is).
            assert!(brush.iou.windows(2).all(|p| p[1] >= p[0] - 1e-9));
        }
    }

    #[test]
    fn an_ordered_centreline_runs_end_to_end() {
        let mut skeleton = vec![false; 20 * 10];
        for x in 2..18 {
            skeleton[5 * 20 + x] = true;
        }
        let line = ordered_curve(&skeleton, 20, 10).unwrap();
        assert_eq!(line.len(), 16);
        assert!(line.windows(2).all(|p| (p[1].0 - p[0].0).abs() == 1.0));
        // A short spur is let go; the line stays the longest path.
        skeleton[4 * 20 + 10] = true;
        assert_eq!(ordered_curve(&skeleton, 20, 10).unwrap().len(), 16);
        // Two pieces are not one nerve.
        skeleton[5 * 20 + 9] = false;
        assert!(ordered_curve(&skeleton, 20, 10).is_none());
    }
}
