//! Filled polygons with holes (even-odd), sampled at pixel centres.

use super::Mask;

/// Sets to nerve every pixel whose centre lies inside `exterior` and outside all `holes`.
pub fn fill_union(mask: &mut Mask, exterior: &[(f64, f64)], holes: &[Vec<(f64, f64)>]) {
    let inside = rasterise(mask.width(), mask.height(), exterior, holes);
    for (i, on) in inside.into_iter().enumerate() {
        if on {
            mask.set(i as u32 % mask.width(), i as u32 / mask.width(), true);
        }
    }
}

/// The coverage of a polygon with holes as one flag per pixel, row-major.
pub fn rasterise(
    width: u32,
    height: u32,
    exterior: &[(f64, f64)],
    holes: &[Vec<(f64, f64)>],
) -> Vec<bool> {
    let mut out = vec![false; width as usize * height as usize];
    let rings: Vec<&[(f64, f64)]> = std::iter::once(exterior)
        .chain(holes.iter().map(|h| h.as_slice()))
        .collect();
    let mut xs: Vec<f64> = Vec::new();
    for y in 0..height {
        let cy = y as f64 + 0.5;
        xs.clear();
        for ring in &rings {
            let n = ring.len();
            if n < 3 {
                continue;
            }
            for i in 0..n {
                let (a, b) = (ring[i], ring[(i + 1) % n]);
                if (a.1 <= cy) != (b.1 <= cy) {
                    xs.push(a.0 + (cy - a.1) / (b.1 - a.1) * (b.0 - a.0));
                }
            }
        }
        xs.sort_by(f64::total_cmp);
        for pair in xs.chunks_exact(2) {
            let x0 = (pair[0] - 0.5).ceil().max(0.0) as i64;
            let x1 = ((pair[1] - 0.5).ceil() as i64).min(width as i64);
            for x in x0..x1 {
                out[(y * width) as usize + x as usize] = true;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_with_hole_covers_exactly_the_ring() {
        let mut m = Mask::empty(10, 10);
        let outer = [(1.0, 1.0), (9.0, 1.0), (9.0, 9.0), (1.0, 9.0)];
        let hole = vec![(3.0, 3.0), (7.0, 3.0), (7.0, 7.0), (3.0, 7.0)];
        fill_union(&mut m, &outer, &[hole]);
        assert_eq!(m.count(), 64 - 16);
        assert!(m.get(1, 1) && m.get(8, 8) && !m.get(0, 0) && !m.get(9, 9));
        assert!(!m.get(5, 5) && m.get(2, 5));
    }
}
