//! The nerve tracer: the user clicks waypoints along a nerve; between two waypoints the path
//! follows the bright band (A* on a ridge measure of the picture, [`ridge`], [`route`]); the
//! width at each node comes from the band's profile ([`width`]), smoothed along the path and
//! editable; the mask is drawn from the paths ([`render`]), and the paths are kept with the
//! image's label so a nerve can be edited as a path later.

pub mod ridge;
pub mod route;
pub mod width;

use super::{Mask, Rect, raster};
use ridge::Ridge;
use serde::{Deserialize, Serialize};
use width::Profile;

/// A point on a traced nerve: where (full-size pixels) and how wide the nerve is there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub x: f32,
    pub y: f32,
    pub width: f32,
}

/// One traced nerve: the clicked waypoints and, between each two, the nodes of the traced
/// centreline (a segment starts at its waypoint and ends just before the next).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NervePath {
    pub waypoints: Vec<[f32; 2]>,
    /// `segments[i]` runs from waypoint `i` to waypoint `i + 1`; the last node of the path is
    /// `end`.
    pub segments: Vec<Vec<Node>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Node>,
    /// A branch starts on this path (index among the image's paths).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_of: Option<usize>,
}

impl NervePath {
    /// Every node in order, waypoint to waypoint.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.segments.iter().flatten().chain(self.end.iter())
    }

    pub fn node_count(&self) -> usize {
        self.segments.iter().map(Vec::len).sum::<usize>() + usize::from(self.end.is_some())
    }

    /// The node nearest to a point, as (segment, index in it), `None` for the end node, and
    /// its distance.
    pub fn nearest(&self, x: f32, y: f32) -> Option<((usize, Option<usize>), f32)> {
        let d = |n: &Node| ((n.x - x).powi(2) + (n.y - y).powi(2)).sqrt();
        let mut best: Option<((usize, Option<usize>), f32)> = None;
        for (s, seg) in self.segments.iter().enumerate() {
            for (i, n) in seg.iter().enumerate() {
                if best.is_none_or(|(_, b)| d(n) < b) {
                    best = Some(((s, Some(i)), d(n)));
                }
            }
        }
        if let Some(n) = &self.end
            && best.is_none_or(|(_, b)| d(n) < b)
        {
            best = Some(((self.segments.len(), None), d(n)));
        }
        best
    }

    /// Multiplies every width by `factor` (the whole path made wider or narrower).
    pub fn scale_widths(&mut self, factor: f32) {
        for n in self
            .segments
            .iter_mut()
            .flatten()
            .chain(self.end.iter_mut())
        {
            n.width = (n.width * factor).clamp(1.0, 200.0);
        }
    }

    /// Multiplies the width of the node nearest to (x, y) by `factor`, and its neighbours'
    /// by half as much, so the edge stays smooth.
    pub fn scale_width_at(&mut self, x: f32, y: f32, factor: f32) {
        let Some(((seg, index), _)) = self.nearest(x, y) else {
            return;
        };
        let flat: usize =
            self.segments[..seg].iter().map(Vec::len).sum::<usize>() + index.unwrap_or(0);
        let half = 1.0 + (factor - 1.0) / 2.0;
        let nodes = self
            .segments
            .iter_mut()
            .flatten()
            .chain(self.end.iter_mut());
        for (k, n) in nodes.enumerate() {
            let f = match k.abs_diff(flat) {
                0 => factor,
                1 => half,
                _ => 1.0,
            };
            n.width = (n.width * f).clamp(1.0, 200.0);
        }
    }

    /// The nodes where the width jumps by more than [`width::JUMP`] from the node before.
    pub fn jumps(&self) -> Vec<Node> {
        let nodes: Vec<&Node> = self.nodes().collect();
        nodes
            .windows(2)
            .filter(|p| width::jump(p[0].width, p[1].width))
            .map(|p| *p[1])
            .collect()
    }
}

/// Where a click on the picture goes in a path being traced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Placement {
    /// After the last waypoint (or the first waypoint of a new path).
    Append,
    /// Between waypoints `i` and `i + 1`: the click lies along that segment.
    Insert(usize),
}

/// What the tracer reads of one picture: its ridge measure and its brightness profile.
#[derive(Debug, Clone)]
pub struct Tracer {
    pub ridge: Ridge,
    pub profile: Profile,
}

impl Tracer {
    /// The tracer of a picture (RGBA or RGB `pixels`, `channels` bytes a pixel). Costs a few
    /// hundred milliseconds on a Full-HD frame: computed off the UI thread when an image opens.
    pub fn of(pixels: &[u8], channels: usize, width: u32, height: u32) -> Tracer {
        let grey = ridge::luminance(pixels, channels);
        Tracer {
            ridge: Ridge::of(&grey, width, height),
            profile: Profile::new(&grey, width, height),
        }
    }

    /// A clicked point moved onto the strongest ridge within a few pixels of it.
    pub fn snap(&self, x: f32, y: f32) -> (f32, f32) {
        let (cx, cy) = self.ridge.cell(x, y);
        let reach = 3i64;
        let mut best = ((cx, cy), self.ridge.at((cx, cy)));
        for dy in -reach..=reach {
            for dx in -reach..=reach {
                let (nx, ny) = (cx as i64 + dx, cy as i64 + dy);
                if nx < 0
                    || ny < 0
                    || nx >= self.ridge.width as i64
                    || ny >= self.ridge.height as i64
                {
                    continue;
                }
                let c = (nx as u32, ny as u32);
                // Prefer nearer cells on a tie-ish ridge: a weak pull toward the click.
                let v = self.ridge.at(c) - 0.02 * ((dx * dx + dy * dy) as f32).sqrt();
                if v > best.1 {
                    best = (c, v);
                }
            }
        }
        if best.0 == (cx, cy) {
            return (x, y);
        }
        self.ridge.centre(best.0)
    }

    /// Adds a waypoint at (x, y) where `placement` says, tracing the segments it changes;
    /// their measured widths are multiplied by `factor` (the user's width setting).
    pub fn add(&self, path: &mut NervePath, (x, y): (f32, f32), placement: Placement, factor: f32) {
        let p = self.snap(x, y);
        match placement {
            Placement::Append => path.waypoints.push([p.0, p.1]),
            Placement::Insert(i) => path.waypoints.insert(i + 1, [p.0, p.1]),
        }
        let changed = self.retrace(path, placement);
        if factor != 1.0 {
            for s in changed {
                for n in path.segments.get_mut(s).into_iter().flatten() {
                    n.width = (n.width * factor).clamp(1.0, 200.0);
                }
            }
            if let Some(end) = path.end.as_mut() {
                end.width = (end.width * factor).clamp(1.0, 200.0);
            }
        }
    }

    /// Where a click at (x, y) goes in `path`: inserted into the segment it lies beside (within
    /// `near` pixels of its nodes), else appended.
    pub fn placement(path: &NervePath, x: f32, y: f32, near: f32) -> Placement {
        match path.nearest(x, y) {
            Some(((seg, Some(_)), d)) if d <= near && seg < path.segments.len() => {
                Placement::Insert(seg)
            }
            _ => Placement::Append,
        }
    }

    /// Traces the segments a new waypoint changed (all when the path had none traced yet);
    /// returns their indices.
    fn retrace(&self, path: &mut NervePath, placement: Placement) -> Vec<usize> {
        let n = path.waypoints.len();
        if n < 2 {
            path.segments.clear();
            path.end = path
                .waypoints
                .first()
                .map(|w| self.node_at(w[0], w[1], (1.0, 0.0)));
            return vec![];
        }
        let trace = |i: usize| self.segment(path.waypoints[i], path.waypoints[i + 1]);
        let changed = match placement {
            Placement::Append if path.segments.len() + 1 != n - 1 => {
                path.segments = (0..n - 1).map(trace).collect();
                (0..n - 1).collect()
            }
            Placement::Append => {
                path.segments.push(trace(n - 2));
                vec![n - 2]
            }
            Placement::Insert(i) => {
                let (a, b) = (trace(i), trace(i + 1));
                path.segments.splice(i..=i, [a, b]);
                vec![i, i + 1]
            }
        };
        let last = path.waypoints[n - 1];
        let before = path.segments.last().and_then(|s| s.last()).copied();
        let normal = before.map_or((1.0, 0.0), |b| normal((b.x, b.y), (last[0], last[1])));
        path.end = Some(self.node_at(last[0], last[1], normal));
        changed
    }

    /// The nodes from waypoint `a` up to (not including) waypoint `b`, every
    /// [`width::SPACING`] pixels along the traced route, with smoothed widths.
    pub fn segment(&self, a: [f32; 2], b: [f32; 2]) -> Vec<Node> {
        let cells = route::route(
            &self.ridge,
            self.ridge.cell(a[0], a[1]),
            self.ridge.cell(b[0], b[1]),
        );
        let mut line: Vec<(f32, f32)> = vec![(a[0], a[1])];
        line.extend(
            cells
                .iter()
                .skip(1)
                .take(cells.len().saturating_sub(2))
                .map(|&c| self.ridge.centre(c)),
        );
        line.push((b[0], b[1]));
        let points = resample(&line, width::SPACING);
        let mut nodes: Vec<Node> = (0..points.len().saturating_sub(1))
            .map(|i| {
                let prev = points[i.saturating_sub(1)];
                let next = points[(i + 1).min(points.len() - 1)];
                self.node_at(points[i].0, points[i].1, normal(prev, next))
            })
            .collect();
        let widths: Vec<f32> = nodes.iter().map(|n| n.width).collect();
        let (smoothed, _) = width::smooth(&widths);
        for (n, w) in nodes.iter_mut().zip(smoothed) {
            n.width = w;
        }
        nodes
    }

    fn node_at(&self, x: f32, y: f32, normal: (f32, f32)) -> Node {
        let scale = self.ridge.scale_at(self.ridge.cell(x, y));
        Node {
            x,
            y,
            width: self.profile.width((x, y), normal, scale),
        }
    }
}

/// The unit normal of the direction from `a` to `b`.
fn normal(a: (f32, f32), b: (f32, f32)) -> (f32, f32) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len = (dx * dx + dy * dy).sqrt();
    if len < 1e-6 {
        (1.0, 0.0)
    } else {
        (-dy / len, dx / len)
    }
}

/// Points every `spacing` along a polyline, its first and last point included.
fn resample(line: &[(f32, f32)], spacing: f32) -> Vec<(f32, f32)> {
    let mut out = vec![line[0]];
    let mut carried = 0f32;
    for pair in line.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let mut t = spacing - carried;
        while t <= len {
            out.push((a.0 + (b.0 - a.0) * t / len, a.1 + (b.1 - a.1) * t / len));
            t += spacing;
        }
        carried = len - (t - spacing);
    }
    let last = *line.last().expect("a line has points");
    if out
        .last()
        .is_none_or(|p| (p.0 - last.0).abs() + (p.1 - last.1).abs() > 0.5)
    {
        out.push(last);
    }
    out
}

/// Draws `paths` into `mask` as nerve (strictly 255): each pair of neighbouring nodes as a
/// capsule whose radius is half their mean width. Returns the rectangle that changed.
pub fn render(mask: &mut Mask, paths: &[NervePath]) -> Option<Rect> {
    let mut changed: Option<Rect> = None;
    for path in paths {
        let nodes: Vec<&Node> = path.nodes().collect();
        let pairs: Vec<(&Node, &Node)> = match nodes.len() {
            0 => vec![],
            1 => vec![(nodes[0], nodes[0])],
            _ => nodes.windows(2).map(|p| (p[0], p[1])).collect(),
        };
        for (a, b) in pairs {
            // Short steps so the radius follows the widths smoothly.
            let steps = (((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt() / 2.0).ceil() as usize;
            let steps = steps.max(1);
            for k in 0..steps {
                let (t0, t1) = (k as f32 / steps as f32, (k + 1) as f32 / steps as f32);
                let at = |t: f32| (a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t);
                let radius = (a.width + (b.width - a.width) * (t0 + t1) / 2.0) / 2.0;
                if let Some(r) = raster::stamp_segment(mask, at(t0), at(t1), radius, true) {
                    changed = Some(changed.map_or(r, |c| union(c, r)));
                }
            }
        }
    }
    changed
}

fn union(a: Rect, b: Rect) -> Rect {
    let (x0, y0) = (a.x.min(b.x), a.y.min(b.y));
    let x1 = (a.x + a.width).max(b.x + b.width);
    let y1 = (a.y + a.height).max(b.y + b.height);
    Rect {
        x: x0,
        y: y0,
        width: x1 - x0,
        height: y1 - y0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A picture with a bright diagonal-ish curved band of `width` pixels.
    fn picture(w: u32, h: u32, width: f32) -> (Vec<u8>, impl Fn(f32) -> f32) {
        let centre = move |x: f32| 0.4 * h as f32 + 0.15 * h as f32 * (x / w as f32 * 3.0).sin();
        let mut rgb = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let d = (y as f32 + 0.5 - centre(x as f32 + 0.5)).abs();
                let v = if d <= width / 2.0 { 200u8 } else { 90 };
                rgb.extend([v, v, v]);
            }
        }
        (rgb, centre)
    }

    #[test]
    fn two_clicks_trace_a_curved_band_at_its_width_and_the_mask_is_binary() {
        let (w, h, width) = (300u32, 160u32, 9.0f32);
        let (rgb, centre) = picture(w, h, width);
        let tracer = Tracer::of(&rgb, 3, w, h);
        let mut path = NervePath::default();
        tracer.add(
            &mut path,
            (12.0, centre(12.0) + 2.0),
            Placement::Append,
            1.0,
        );
        tracer.add(
            &mut path,
            (288.0, centre(288.0) - 2.0),
            Placement::Append,
            1.0,
        );
        assert_eq!(path.segments.len(), 1);
        assert!(path.node_count() > 40);
        for n in path.nodes() {
            assert!((n.y - centre(n.x)).abs() <= 2.5, "node off the band: {n:?}");
            assert!(
                (n.width - width).abs() <= 2.0,
                "width {} for {width}",
                n.width
            );
        }
        let mut mask = Mask::empty(w, h);
        render(&mut mask, std::slice::from_ref(&path));
        assert!(mask.as_bytes().iter().all(|&v| v == 0 || v == 255));
        // The mask covers the band between the clicks and little else.
        let (mut inside, mut outside) = (0, 0);
        for y in 0..h {
            for x in 14..286 {
                let on = (y as f32 + 0.5 - centre(x as f32 + 0.5)).abs() <= width / 2.0;
                match (on, mask.get(x, y)) {
                    (true, true) => inside += 1,
                    (false, true) => outside += 1,
                    _ => {}
                }
            }
        }
        let band = (272.0 * width) as i32;
        assert!(inside as f32 > 0.85 * band as f32, "{inside} of {band}");
        assert!((outside as f32) < 0.2 * band as f32, "{outside} outside");
    }

    #[test]
    fn a_click_beside_a_segment_is_inserted_and_only_that_segment_is_traced_again() {
        let (w, h) = (300u32, 160u32);
        let (rgb, centre) = picture(w, h, 8.0);
        let tracer = Tracer::of(&rgb, 3, w, h);
        let mut path = NervePath::default();
        for x in [10.0, 150.0, 290.0] {
            tracer.add(&mut path, (x, centre(x)), Placement::Append, 1.0);
        }
        let untouched = path.segments[1].clone();
        let at = path.segments[0][10];
        let placement = Tracer::placement(&path, at.x, at.y + 1.0, 8.0);
        assert_eq!(placement, Placement::Insert(0));
        tracer.add(&mut path, (at.x, at.y + 1.0), placement, 1.0);
        assert_eq!(path.waypoints.len(), 4);
        assert_eq!(path.segments.len(), 3);
        assert_eq!(path.segments[2], untouched);
        // Far from the path: appended.
        assert_eq!(Tracer::placement(&path, 150.0, 5.0, 8.0), Placement::Append);
    }

    #[test]
    fn widths_are_edited_per_node_and_for_the_whole_path_and_jumps_are_flagged() {
        let mut path = NervePath {
            waypoints: vec![[0.0, 0.0], [50.0, 0.0]],
            segments: vec![
                (0..10)
                    .map(|i| Node {
                        x: i as f32 * 5.0,
                        y: 0.0,
                        width: 10.0,
                    })
                    .collect(),
            ],
            end: Some(Node {
                x: 50.0,
                y: 0.0,
                width: 10.0,
            }),
            branch_of: None,
        };
        assert!(path.jumps().is_empty());
        path.scale_widths(1.2);
        assert!(path.nodes().all(|n| (n.width - 12.0).abs() < 1e-4));
        path.scale_width_at(25.0, 1.0, 1.5);
        let widths: Vec<f32> = path.nodes().map(|n| n.width).collect();
        assert!((widths[5] - 18.0).abs() < 1e-4);
        assert!((widths[4] - 15.0).abs() < 1e-4 && (widths[6] - 15.0).abs() < 1e-4);
        assert_eq!(widths[3], 12.0);
        // A per-node edit is spread over its neighbours: no sudden jump.
        assert!(path.jumps().is_empty());
        // The nerve widening by two thirds from one node to the next is flagged there.
        for n in path.segments[0].iter_mut().skip(8) {
            n.width = 20.0;
        }
        path.end.as_mut().unwrap().width = 20.0;
        assert_eq!(path.jumps().len(), 1);
        assert_eq!(path.jumps()[0].x, 40.0);
    }
}
