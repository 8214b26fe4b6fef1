//! The inner loops of our kernels, written so the compiler turns them into vector code: sums in
//! eight independent lanes (a single running sum is a dependency chain no compiler may reorder),
//! and a way to compile a kernel twice, for the baseline x86-64 and for AVX2, picking one at run
//! time (a release build targets the baseline, whose vectors are 4 floats wide).

/// Compiles `$generic` (an `#[inline(always)]` function) a second time with AVX2 and FMA
/// enabled, and calls that copy where the processor has them.
macro_rules! multiversion {
    ($vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $generic:path) => {
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                fn wide($($arg: $ty),*) $(-> $ret)? {
                    $generic($($arg),*)
                }
                if $crate::ml::kernels::lanes::has_avx2() {
                    // SAFETY: the processor has just been checked for AVX2 and FMA.
                    return unsafe { wide($($arg),*) };
                }
            }
            $generic($($arg),*)
        }
    };
}
pub(crate) use multiversion;

/// Whether this processor has AVX2 and FMA (checked once, then cached by the standard library).
#[cfg(target_arch = "x86_64")]
pub fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

const LANES: usize = 8;

/// `Σ f(a[i], b[i])` in eight lanes.
#[inline(always)]
fn fold2(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0.0f32; LANES];
    let mut chunks_a = a.chunks_exact(LANES);
    let mut chunks_b = b.chunks_exact(LANES);
    for (ca, cb) in (&mut chunks_a).zip(&mut chunks_b) {
        for l in 0..LANES {
            lanes[l] += f(ca[l], cb[l]);
        }
    }
    let tail: f32 = chunks_a
        .remainder()
        .iter()
        .zip(chunks_b.remainder())
        .map(|(a, b)| f(*a, *b))
        .sum();
    lanes.iter().sum::<f32>() + tail
}

/// `Σ a·b`.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    fold2(a, b, |a, b| a * b)
}

/// `Σ a`.
#[inline(always)]
pub fn sum(a: &[f32]) -> f32 {
    fold2(a, a, |a, _| a)
}

/// `Σ (a − centre)²`.
#[inline(always)]
pub fn squares_about(a: &[f32], centre: f32) -> f32 {
    fold2(a, a, |a, _| (a - centre) * (a - centre))
}

/// `Σ g·(x − centre)`.
#[inline(always)]
pub fn dot_about(g: &[f32], x: &[f32], centre: f32) -> f32 {
    fold2(g, x, |g, x| g * (x - centre))
}

/// `y += w·x`.
#[inline(always)]
pub fn axpy(y: &mut [f32], w: f32, x: &[f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += w * x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_sums_equal_plain_sums_for_every_tail_length() {
        for n in 0..20 {
            let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 3.0).collect();
            let b: Vec<f32> = (0..n).map(|i| 2.0 - i as f32).collect();
            let plain_dot: f32 = a.iter().zip(&b).map(|(a, b)| a * b).sum();
            assert!((dot(&a, &b) - plain_dot).abs() < 1e-4);
            assert!((sum(&a) - a.iter().sum::<f32>()).abs() < 1e-4);
            let plain_sq: f32 = a.iter().map(|a| (a - 1.0) * (a - 1.0)).sum();
            assert!((squares_about(&a, 1.0) - plain_sq).abs() < 1e-3);
        }
    }
}
