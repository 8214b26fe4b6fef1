//! `bench`'s evaluation measurement: scoring one 1920x1080 prediction against its truth.

use std::time::Instant;

use crate::eval::segmentation::{MaskPair, ScoreHistogram, score_image};
use crate::eval::skeleton::skeletonize;

#[derive(serde::Serialize)]
pub struct EvalBench {
    pub width: usize,
    pub height: usize,
    /// A nerve 80 px thick across the frame.
    pub nerve_pixels: usize,
    /// IoU, Dice, precision, recall, F1, clDice and the PR histogram of one image.
    pub score_image_ms_median: f64,
    /// Of which: thinning one mask to its skeleton.
    pub skeleton_ms_median: f64,
}

pub fn run() -> EvalBench {
    let (w, h) = (1920usize, 1080usize);
    let centre = |x: usize| 540.0 + 300.0 * (x as f64 / 300.0).sin();
    let mut truth = vec![0u8; w * h];
    let mut predicted = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let d = (y as f64 - centre(x)).abs();
            truth[y * w + x] = if d < 40.0 { 255 } else { 0 };
            // A soft, slightly shifted prediction.
            predicted[y * w + x] = (255.0 / (1.0 + ((d - 44.0) / 6.0).exp())) as u8;
        }
    }
    let pair = MaskPair {
        stem: "bench",
        width: w,
        height: h,
        truth: &truth,
        predicted: &predicted,
    };
    let score_ms = super::bench::median(5, || {
        let t = Instant::now();
        std::hint::black_box(score_image(&pair, 0.5, &mut ScoreHistogram::new(255)));
        t.elapsed().as_secs_f64() * 1e3
    });
    let mask: Vec<bool> = truth.iter().map(|&v| crate::mask::is_nerve(v)).collect();
    let skeleton_ms = super::bench::median(5, || {
        let t = Instant::now();
        std::hint::black_box(skeletonize(&mask, w, h));
        t.elapsed().as_secs_f64() * 1e3
    });
    EvalBench {
        width: w,
        height: h,
        nerve_pixels: mask.iter().filter(|&&v| v).count(),
        score_image_ms_median: score_ms,
        skeleton_ms_median: skeleton_ms,
    }
}
