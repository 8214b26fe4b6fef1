//! The cheapest way along the bright band between two waypoints: A* over the ridge grid,
//! eight neighbours, where a step costs little on a strong ridge and much off it.

use super::ridge::Ridge;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Cost of a cell: near `FLOOR` on the strongest ridge, 1 / (`FLOOR` + 0) = 50 off any ridge.
const FLOOR: f32 = 0.02;

fn cost(strength: f32) -> f32 {
    1.0 / (FLOOR + strength.powf(1.5))
}

#[derive(Clone, Copy, PartialEq)]
struct Open {
    estimate: f32,
    cell: u32,
}

impl Eq for Open {}

impl Ord for Open {
    fn cmp(&self, other: &Self) -> Ordering {
        other.estimate.total_cmp(&self.estimate)
    }
}

impl PartialOrd for Open {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The cells from `from` to `to` (both included) along the cheapest path, searched within a
/// box around them (the band may bow out of the straight line by half their distance).
pub fn route(ridge: &Ridge, from: (u32, u32), to: (u32, u32)) -> Vec<(u32, u32)> {
    if from == to {
        return vec![from];
    }
    let span = (from.0.abs_diff(to.0)).max(from.1.abs_diff(to.1));
    let margin = (span / 2).max(24);
    let x0 = from.0.min(to.0).saturating_sub(margin);
    let y0 = from.1.min(to.1).saturating_sub(margin);
    let x1 = (from.0.max(to.0) + margin).min(ridge.width - 1);
    let y1 = (from.1.max(to.1) + margin).min(ridge.height - 1);
    let (bw, bh) = ((x1 - x0 + 1) as usize, (y1 - y0 + 1) as usize);
    let index = |(x, y): (u32, u32)| ((y - y0) as usize * bw + (x - x0) as usize) as u32;
    let cell_of = |i: u32| (x0 + i % bw as u32, y0 + i / bw as u32);
    let cheapest = cost(1.0);
    let guess = |(x, y): (u32, u32)| {
        let (dx, dy) = (x.abs_diff(to.0) as f32, y.abs_diff(to.1) as f32);
        (dx * dx + dy * dy).sqrt() * cheapest
    };
    let mut spent = vec![f32::INFINITY; bw * bh];
    let mut came = vec![u32::MAX; bw * bh];
    let mut open = BinaryHeap::new();
    let (start, goal) = (index(from), index(to));
    spent[start as usize] = 0.0;
    open.push(Open {
        estimate: guess(from),
        cell: start,
    });
    while let Some(Open { estimate, cell }) = open.pop() {
        if cell == goal {
            break;
        }
        let here = cell_of(cell);
        if estimate - guess(here) > spent[cell as usize] + 1e-3 {
            continue;
        }
        let c_here = cost(ridge.at(here));
        for (dx, dy) in NEIGHBOURS {
            let (nx, ny) = (here.0 as i64 + dx, here.1 as i64 + dy);
            if nx < x0 as i64 || ny < y0 as i64 || nx > x1 as i64 || ny > y1 as i64 {
                continue;
            }
            let next = (nx as u32, ny as u32);
            let length = if dx != 0 && dy != 0 {
                std::f32::consts::SQRT_2
            } else {
                1.0
            };
            let step = length * (c_here + cost(ridge.at(next))) / 2.0;
            let i = index(next);
            let total = spent[cell as usize] + step;
            if total < spent[i as usize] {
                spent[i as usize] = total;
                came[i as usize] = cell;
                open.push(Open {
                    estimate: total + guess(next),
                    cell: i,
                });
            }
        }
    }
    let mut path = vec![to];
    let mut at = goal;
    while at != start {
        at = came[at as usize];
        if at == u32::MAX {
            // Unreachable within the box (cannot happen on a connected grid): a straight line.
            return vec![from, to];
        }
        path.push(cell_of(at));
    }
    path.reverse();
    path
}

const NEIGHBOURS: [(i64, i64); 8] = [
    (-1, -1),
    (0, -1),
    (1, -1),
    (-1, 0),
    (1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
];

#[cfg(test)]
mod tests {
    use super::super::ridge::{Ridge, tests::band};
    use super::*;

    #[test]
    fn the_route_follows_a_curved_band_not_the_straight_line() {
        // A band that bows down by 20 pixels between its ends.
        let (w, h) = (160u32, 100u32);
        let centre = |x: f32| 30.0 + 20.0 * (std::f32::consts::PI * x / w as f32).sin();
        let grey: Vec<f32> = (0..h)
            .flat_map(|y| {
                (0..w).map(move |x| {
                    let d = (y as f32 + 0.5 - centre(x as f32 + 0.5)).abs();
                    if d <= 3.0 { 0.85 } else { 0.3 }
                })
            })
            .collect();
        let r = Ridge::of(&grey, w, h);
        let path = route(&r, (5, centre(5.5) as u32), (154, centre(154.5) as u32));
        let off = path
            .iter()
            .map(|&(x, y)| (y as f32 + 0.5 - centre(x as f32 + 0.5)).abs())
            .fold(0f32, f32::max);
        assert!(off <= 2.5, "the route strays {off} px from the band");
        // It is connected: every step moves to a neighbour.
        for pair in path.windows(2) {
            assert!(pair[0].0.abs_diff(pair[1].0) <= 1 && pair[0].1.abs_diff(pair[1].1) <= 1);
        }
    }

    #[test]
    fn a_route_between_two_points_of_a_straight_band_stays_on_it() {
        let r = Ridge::of(&band(100, 60, 30.0, 6.0), 100, 60);
        let path = route(&r, (10, 30), (90, 30));
        assert!(path.iter().all(|&(_, y)| y.abs_diff(30) <= 1));
        assert_eq!(path.first(), Some(&(10, 30)));
        assert_eq!(path.last(), Some(&(90, 30)));
    }
}
