//! Summary statistics of per-image scores, as the seed lab reported them: the mean, the standard
//! error of the mean (sample standard deviation with n − 1, over √n, as `scipy.stats.sem`) and the
//! 95% confidence interval mean ± t(0.975, n − 1)·SEM (`scipy.stats.t.interval`).

use serde::Serialize;

/// Mean, spread and confidence interval of one score over images.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for fewer than two values.
    pub std: f64,
    /// Standard error of the mean; `null` (undefined) for fewer than two values.
    pub sem: Option<f64>,
    /// 95% Student-t confidence interval of the mean; `null` for fewer than two values.
    pub ci95: Option<[f64; 2]>,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// A 95% interval as the window and the command line show it: clipped to the metric's range
/// [0, 1] (the t interval of two or three images can reach past it) and written with "to", so
/// that a minus sign is never read as the dash between the ends.
pub fn shown_interval([lo, hi]: [f64; 2], decimals: usize) -> String {
    let (lo, hi) = (lo.clamp(0.0, 1.0), hi.clamp(0.0, 1.0));
    format!("{lo:.decimals$} to {hi:.decimals$}")
}

/// A 95% interval as computed (the lab's Student-t values, unclipped), for written records.
pub fn written_interval([lo, hi]: [f64; 2], decimals: usize) -> String {
    format!("{lo:.decimals$} to {hi:.decimals$}")
}

impl Summary {
    /// Summarises `values`; an empty list gives n = 0 and zeros.
    pub fn of(values: &[f64]) -> Summary {
        let n = values.len();
        if n == 0 {
            return Summary {
                n,
                mean: 0.0,
                std: 0.0,
                sem: None,
                ci95: None,
                median: 0.0,
                min: 0.0,
                max: 0.0,
            };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        let (std, sem, ci95) = if n >= 2 {
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let std = var.sqrt();
            let sem = std / (n as f64).sqrt();
            let half = student_t_quantile(0.975, (n - 1) as f64) * sem;
            (std, Some(sem), Some([mean - half, mean + half]))
        } else {
            (0.0, None, None)
        };
        Summary {
            n,
            mean,
            std,
            sem,
            ci95,
            median,
            min: sorted[0],
            max: sorted[n - 1],
        }
    }
}

/// The p-quantile of Student's t distribution with `df` degrees of freedom (0 < p < 1).
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    assert!(
        p > 0.0 && p < 1.0 && df > 0.0,
        "t quantile of p={p}, df={df}"
    );
    if p == 0.5 {
        return 0.0;
    }
    if p < 0.5 {
        return -student_t_quantile(1.0 - p, df);
    }
    // Bracket, then bisect the monotone CDF down to the last representable step.
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while student_t_cdf(hi, df) < p {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if student_t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// P(T <= t) for Student's t with `df` degrees of freedom.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    let tail = 0.5 * regularized_incomplete_beta(x, df / 2.0, 0.5);
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// I_x(a, b), by the continued fraction (modified Lentz), using the symmetry
/// I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
pub fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut f = d;
    for m in 1..10_000 {
        let m = m as f64;
        // Even step.
        let num = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 + num * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + num / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        f *= d * c;
        // Odd step.
        let num = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 + num * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + num / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let step = d * c;
        f *= step;
        if (step - 1.0).abs() < 1e-16 {
            break;
        }
    }
    f
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms; about 15 significant digits).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEF[0];
    for (i, c) in COEF.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_of_the_tables() {
        // Printed tables (and scipy.stats.t.ppf): df 1, 2, 10, 30.
        for (df, t) in [
            (1.0, 12.706_204_736),
            (2.0, 4.302_652_730),
            (10.0, 2.228_138_852),
            (30.0, 2.042_272_456),
        ] {
            assert!((student_t_quantile(0.975, df) - t).abs() < 1e-8, "df {df}");
        }
        assert!((student_t_cdf(0.0, 5.0) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn intervals_are_clipped_for_people_and_never_read_as_a_dash() {
        let s = Summary::of(&[0.05, 0.21]);
        let ci = s.ci95.unwrap();
        assert!(
            ci[0] < 0.0,
            "a two-image t interval reaches below zero: {ci:?}"
        );
        let shown = shown_interval(ci, 3);
        assert!(shown.starts_with("0.000 to "), "{shown}");
        assert!(!shown.contains('-'), "{shown}");
        assert!(written_interval(ci, 3).starts_with('-'));
        assert!(written_interval(ci, 3).contains(" to "));
        assert_eq!(shown_interval([0.2, 1.3], 2), "0.20 to 1.00");
    }

    #[test]
    fn the_seed_labs_interval_is_reproduced() {
        // seed-models.md §6.1: n = 862, mean 0.653241, SEM 0.006938 -> CI (0.639623, 0.666859).
        let half = student_t_quantile(0.975, 861.0) * 0.006938;
        assert!((0.653241 - half - 0.639623).abs() < 2e-6);
        assert!((0.653241 + half - 0.666859).abs() < 2e-6);
    }

    #[test]
    fn small_samples_have_defined_values() {
        let one = Summary::of(&[0.7]);
        assert_eq!(
            (one.mean, one.std, one.sem, one.ci95),
            (0.7, 0.0, None, None)
        );
        let none = Summary::of(&[]);
        assert_eq!(none.n, 0);
        let two = Summary::of(&[0.0, 1.0]);
        assert_eq!(two.median, 0.5);
        assert!((two.sem.unwrap() - 0.5).abs() < 1e-15);
        let ci = two.ci95.unwrap();
        assert!((ci[1] - (0.5 + 12.706_204_736 * 0.5)).abs() < 1e-7);
    }
}
