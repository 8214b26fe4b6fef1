//! A small seeded generator and value noise, written here so that a demo project is the same,
//! byte for byte, on every platform and with every version of the dependencies.

/// SplitMix64: tiny, fast, and fixed forever.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x6a09_e667_f3bc_c908)
    }

    /// A generator for a sub-task, independent of how much the parent has drawn.
    pub fn fork(seed: u64, stream: u64) -> Self {
        let mut r = Rng::new(seed.wrapping_add(stream.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * n as u64) >> 32) as u32
    }

    pub fn chance(&mut self, p: f32) -> bool {
        self.unit() < p
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f32 {
        let u1 = self.unit().max(1e-7);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
    }
}

/// Smooth value noise on an integer lattice, in [0, 1).
#[derive(Debug, Clone, Copy)]
pub struct Noise {
    seed: u32,
}

impl Noise {
    pub fn new(seed: u64) -> Self {
        Noise {
            seed: (seed ^ (seed >> 32)) as u32,
        }
    }

    fn lattice(&self, x: i32, y: i32) -> f32 {
        let mut h =
            (x as u32).wrapping_mul(0x27d4_eb2d) ^ (y as u32).wrapping_mul(0x1656_67b1) ^ self.seed;
        h = (h ^ (h >> 15)).wrapping_mul(0x2c1b_3c6d);
        h = (h ^ (h >> 12)).wrapping_mul(0x297a_2d39);
        h ^= h >> 15;
        (h >> 8) as f32 / (1u32 << 24) as f32
    }

    pub fn at(&self, x: f32, y: f32) -> f32 {
        let (xf, yf) = (x.floor(), y.floor());
        let (xi, yi) = (xf as i32, yf as i32);
        let (tx, ty) = (x - xf, y - yf);
        let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
        let a = self.lattice(xi, yi);
        let b = self.lattice(xi + 1, yi);
        let c = self.lattice(xi, yi + 1);
        let d = self.lattice(xi + 1, yi + 1);
        let top = a + (b - a) * sx;
        let bottom = c + (d - c) * sx;
        top + (bottom - top) * sy
    }

    /// Fractal sum of `octaves` layers, the first of feature size `scale` pixels.
    pub fn fractal(&self, x: f32, y: f32, scale: f32, octaves: u32) -> f32 {
        let (mut sum, mut amp, mut norm, mut freq) = (0.0, 1.0, 0.0, 1.0 / scale);
        for o in 0..octaves {
            sum += amp * self.at(x * freq + o as f32 * 17.3, y * freq - o as f32 * 9.1);
            norm += amp;
            amp *= 0.5;
            freq *= 2.0;
        }
        sum / norm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_fixed_and_in_range() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<f32> = (0..1000).map(|_| a.unit()).collect();
        assert!(xs.iter().all(|v| (0.0..1.0).contains(v)));
        assert_eq!(xs[0], b.unit());
        assert!((xs.iter().sum::<f32>() / 1000.0 - 0.5).abs() < 0.05);
        assert!((0..1000).all(|_| a.below(3) < 3));
        let n = Noise::new(3);
        for i in 0..100 {
            let v = n.fractal(i as f32 * 3.7, i as f32 * 1.3, 20.0, 3);
            assert!((0.0..1.0).contains(&v));
        }
    }
}
