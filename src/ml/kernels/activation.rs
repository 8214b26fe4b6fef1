//! The activations that follow a convolution or a batch norm, applied in place, and their
//! derivatives read from the activation's own output. Both are branch-free: a mask that is half
//! ones and half zeros at random is what a branch predictor handles worst.

use rayon::prelude::*;

use super::lanes::multiversion;

/// Which activation, if any, a kernel applies to its output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Activation {
    #[default]
    None,
    Relu,
    Relu6,
}

impl Activation {
    /// The activation's upper bound (`f32::INFINITY` for ReLU and none).
    fn ceiling(self) -> f32 {
        match self {
            Activation::Relu6 => 6.0,
            _ => f32::INFINITY,
        }
    }

    /// Applies the activation to `values` in place.
    #[inline(always)]
    pub fn apply(self, values: &mut [f32]) {
        if self == Activation::None {
            return;
        }
        let top = self.ceiling();
        for v in values {
            *v = v.max(0.0).min(top);
        }
    }

    /// Multiplies `gradient` by the activation's derivative, read from its output `y`:
    /// 1 where `y` lies strictly inside the activation's range, 0 where it was clipped.
    #[inline(always)]
    pub fn gate(self, gradient: &mut [f32], y: &[f32]) {
        if self == Activation::None {
            return;
        }
        let top = self.ceiling();
        for (g, y) in gradient.iter_mut().zip(y) {
            let open = (*y > 0.0) & (*y < top);
            *g = if open { *g } else { 0.0 };
        }
    }

    /// [`Activation::apply`] over a whole tensor, spread over the cores.
    pub fn apply_all(self, values: &mut [f32]) {
        values
            .par_chunks_mut(CHUNK)
            .for_each(|chunk| apply_chunk(self, chunk));
    }

    /// [`Activation::gate`] over a whole tensor, spread over the cores.
    pub fn gate_all(self, gradient: &mut [f32], y: &[f32]) {
        gradient
            .par_chunks_mut(CHUNK)
            .zip(y.par_chunks(CHUNK))
            .for_each(|(g, y)| gate_chunk(self, g, y));
    }
}

#[inline(always)]
fn apply_generic(act: Activation, values: &mut [f32]) {
    act.apply(values)
}

#[inline(always)]
fn gate_generic(act: Activation, gradient: &mut [f32], y: &[f32]) {
    act.gate(gradient, y)
}

multiversion!(fn apply_chunk(act: Activation, values: &mut [f32]) => apply_generic);
multiversion!(fn gate_chunk(act: Activation, gradient: &mut [f32], y: &[f32]) => gate_generic);

/// Elements per parallel task of the elementwise passes.
const CHUNK: usize = 1 << 14;

#[cfg(test)]
mod tests {
    use super::Activation;

    #[test]
    fn relu6_clips_both_ends_and_its_gate_closes_where_it_clipped() {
        let mut y = vec![-1.0, 0.5, 7.0, 6.0, 0.0];
        Activation::Relu6.apply(&mut y);
        assert_eq!(y, vec![0.0, 0.5, 6.0, 6.0, 0.0]);
        let mut g = vec![1.0; 5];
        Activation::Relu6.gate(&mut g, &y);
        assert_eq!(g, vec![0.0, 1.0, 0.0, 0.0, 0.0]);
        let mut y = vec![-1.0, 9.0];
        Activation::Relu.apply(&mut y);
        assert_eq!(y, vec![0.0, 9.0]);
    }
}
