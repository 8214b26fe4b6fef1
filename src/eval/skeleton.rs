//! Skeletons of binary masks and clDice (Shit et al., CVPR 2021), the overlap measure that
//! notices a broken thin nerve where IoU forgives it.
//!
//! The skeleton is Zhang and Suen's parallel thinning (CACM 27(3), 1984) as the paper states
//! it: two sub-iterations that remove a pixel P1 with 2 ≤ B(P1) ≤ 6 neighbours and exactly one
//! 0→1 transition A(P1) = 1 around it, the first when P2·P4·P6 = 0 and P4·P6·P8 = 0, the second
//! when P2·P4·P8 = 0 and P2·P6·P8 = 0 (P2 = north, clockwise), until nothing changes. Pixels
//! outside the mask's frame are background. (scikit-image's `skeletonize` uses an adjusted table
//! of the same method and can differ by a few pixels at corners; tests/fixtures/eval records how
//! far.)

/// The thinned mask (row-major, `width` x `height`).
pub fn skeletonize(mask: &[bool], width: usize, height: usize) -> Vec<bool> {
    assert_eq!(mask.len(), width * height, "mask size");
    let table = removal_table();
    // One pixel of background around the frame, so every pixel has eight neighbours.
    let (w, h) = (width + 2, height + 2);
    let mut grid = vec![false; w * h];
    for y in 0..height {
        for x in 0..width {
            grid[(y + 1) * w + x + 1] = mask[y * width + x];
        }
    }
    // Only pixels that are set can be removed; keep their indices and drop the removed ones.
    let mut live: Vec<usize> = (0..grid.len()).filter(|&i| grid[i]).collect();
    let mut remove = Vec::new();
    loop {
        let mut changed = false;
        for pass in [1u8, 2] {
            remove.clear();
            for &i in &live {
                let code = neighbourhood(&grid, i, w);
                if table[code as usize] & pass != 0 {
                    remove.push(i);
                }
            }
            for &i in &remove {
                grid[i] = false;
            }
            changed |= !remove.is_empty();
            live.retain(|&i| grid[i]);
        }
        if !changed {
            break;
        }
    }
    let mut out = vec![false; width * height];
    for y in 0..height {
        for x in 0..width {
            out[y * width + x] = grid[(y + 1) * w + x + 1];
        }
    }
    out
}

/// Bits of P2..P9 (north, then clockwise), bit 0 = P2.
fn neighbourhood(grid: &[bool], i: usize, w: usize) -> u8 {
    let at = [
        i - w,
        i - w + 1,
        i + 1,
        i + w + 1,
        i + w,
        i + w - 1,
        i - 1,
        i - w - 1,
    ];
    at.iter()
        .enumerate()
        .fold(0u8, |code, (k, &j)| code | ((grid[j] as u8) << k))
}

/// For every neighbourhood code: bit 1 = removed in the first sub-iteration, bit 2 = in the
/// second. Built from the paper's conditions.
fn removal_table() -> [u8; 256] {
    let mut table = [0u8; 256];
    for (code, entry) in table.iter_mut().enumerate() {
        let p = |k: usize| (code >> (k - 2)) & 1 == 1; // p(2)..p(9)
        let b = code.count_ones();
        let a = (2..=9)
            .filter(|&k| !p(k) && p(if k == 9 { 2 } else { k + 1 }))
            .count();
        if !(2..=6).contains(&b) || a != 1 {
            continue;
        }
        if !(p(2) && p(4) && p(6) || p(4) && p(6) && p(8)) {
            *entry |= 1;
        }
        if !(p(2) && p(4) && p(8) || p(2) && p(6) && p(8)) {
            *entry |= 2;
        }
    }
    table
}

/// clDice of a predicted mask against the truth:
/// Tprec = |S(pred) ∩ truth| / |S(pred)|, Tsens = |S(truth) ∩ pred| / |S(truth)|,
/// clDice = 2·Tprec·Tsens / (Tprec + Tsens).
///
/// Rules: both masks empty scores 1 (as IoU and Dice); exactly one empty scores 0. A non-empty
/// mask whose skeleton vanished (a 2x2 block) stands for its own skeleton.
pub fn cl_dice(truth: &[bool], predicted: &[bool], width: usize, height: usize) -> f64 {
    let (t_any, p_any) = (truth.iter().any(|&v| v), predicted.iter().any(|&v| v));
    match (t_any, p_any) {
        (false, false) => return 1.0,
        (true, false) | (false, true) => return 0.0,
        _ => {}
    }
    let skeleton_of = |m: &[bool]| {
        let s = skeletonize(m, width, height);
        if s.iter().any(|&v| v) { s } else { m.to_vec() }
    };
    let (st, sp) = (skeleton_of(truth), skeleton_of(predicted));
    cl_dice_of_skeletons(truth, predicted, &st, &sp)
}

/// clDice from masks and their given skeletons (both skeletons non-empty).
pub fn cl_dice_of_skeletons(
    truth: &[bool],
    predicted: &[bool],
    truth_skeleton: &[bool],
    predicted_skeleton: &[bool],
) -> f64 {
    let inside = |s: &[bool], v: &[bool]| {
        let (hit, all) = s.iter().zip(v).fold((0u64, 0u64), |(h, a), (&s, &v)| {
            (h + (s && v) as u64, a + s as u64)
        });
        super::classification::ratio(hit as f64, all as f64)
    };
    let tprec = inside(predicted_skeleton, truth);
    let tsens = inside(truth_skeleton, predicted);
    super::classification::ratio(2.0 * tprec * tsens, tprec + tsens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(w: usize, h: usize, x0: usize, y0: usize, x1: usize, y1: usize) -> Vec<bool> {
        (0..w * h)
            .map(|i| (x0..x1).contains(&(i % w)) && (y0..y1).contains(&(i / w)))
            .collect()
    }

    #[test]
    fn a_thick_bar_thins_to_a_one_pixel_line_inside_it() {
        let (w, h) = (30, 11);
        let bar = rect(w, h, 2, 3, 28, 8);
        let s = skeletonize(&bar, w, h);
        let count = s.iter().filter(|&&v| v).count();
        assert!((18..=26).contains(&count), "skeleton of {count} pixels");
        assert!(s.iter().zip(&bar).all(|(&s, &b)| !s || b));
        // One pixel thick: no column holds two skeleton pixels in the bar's middle.
        for x in 6..24 {
            assert_eq!((0..h).filter(|&y| s[y * w + x]).count(), 1, "column {x}");
        }
    }

    #[test]
    fn cl_dice_punishes_a_missed_thin_branch_that_dice_forgives() {
        // The truth is a thick blob with a long thin branch; the prediction has only the blob.
        let (w, h) = (90, 24);
        let blob = rect(w, h, 1, 2, 21, 22);
        let branch = rect(w, h, 21, 11, 81, 13);
        let truth: Vec<bool> = blob.iter().zip(&branch).map(|(&a, &b)| a || b).collect();
        let overlap =
            super::super::segmentation::Overlap::of(truth.iter().copied(), blob.iter().copied());
        let cl = cl_dice(&truth, &blob, w, h);
        assert!(overlap.dice() > 0.8, "Dice {}", overlap.dice());
        assert!(cl < 0.6, "clDice {cl}");
        assert_eq!(cl_dice(&truth, &truth, w, h), 1.0);
        assert_eq!(cl_dice(&[false; 4], &[false; 4], 2, 2), 1.0);
        assert_eq!(cl_dice(&[true; 4], &[false; 4], 2, 2), 0.0);
    }
}
