//! The pictures of the side-by-side view: the photo with the truth, with the prediction, and the
//! difference (true positive, false positive, false negative) in colours that stay distinct for
//! the common colour-vision deficiencies (Okabe & Ito's palette: yellow, vermillion, blue differ
//! in lightness as well as hue).

use image::{GrayImage, RgbImage, RgbaImage};

/// Nerve in both truth and prediction.
pub const TRUE_POSITIVE: [u8; 3] = [240, 228, 66];
/// Predicted, not in the truth.
pub const FALSE_POSITIVE: [u8; 3] = [213, 94, 0];
/// In the truth, missed.
pub const FALSE_NEGATIVE: [u8; 3] = [86, 180, 233];
/// A mask (truth or prediction) on its own.
pub const MASK: [u8; 3] = crate::mask::overlay::NERVE_GREEN;

/// How strongly a mask colour covers the photo.
pub const COVER: f32 = 0.55;

pub fn blend(under: [u8; 3], colour: [u8; 3], amount: f32) -> [u8; 3] {
    let mix = |a: u8, b: u8| (a as f32 * (1.0 - amount) + b as f32 * amount).round() as u8;
    [
        mix(under[0], colour[0]),
        mix(under[1], colour[1]),
        mix(under[2], colour[2]),
    ]
}

/// The photo with `mask` (nerve where true) tinted `colour`.
pub fn tinted(photo: &RgbImage, mask: Option<&[bool]>, colour: [u8; 3]) -> RgbaImage {
    RgbaImage::from_fn(photo.width(), photo.height(), |x, y| {
        let i = (y * photo.width() + x) as usize;
        let p = photo.get_pixel(x, y).0;
        let c = match mask {
            Some(m) if m[i] => blend(p, colour, COVER),
            _ => p,
        };
        image::Rgba([c[0], c[1], c[2], 255])
    })
}

/// The difference picture: the photo dimmed, true positives, false positives and false
/// negatives in their colours.
pub fn difference(photo: &RgbImage, truth: &[bool], predicted: &[bool]) -> RgbaImage {
    RgbaImage::from_fn(photo.width(), photo.height(), |x, y| {
        let i = (y * photo.width() + x) as usize;
        let p = photo.get_pixel(x, y).0;
        let dim = [p[0] / 2, p[1] / 2, p[2] / 2];
        let c = match (truth[i], predicted[i]) {
            (true, true) => blend(dim, TRUE_POSITIVE, 0.8),
            (false, true) => blend(dim, FALSE_POSITIVE, 0.8),
            (true, false) => blend(dim, FALSE_NEGATIVE, 0.8),
            (false, false) => dim,
        };
        image::Rgba([c[0], c[1], c[2], 255])
    })
}

/// Nerve where a 0/255 mask is set.
pub fn mask_pixels(mask: &GrayImage) -> Vec<bool> {
    mask.iter().map(|&v| crate::mask::is_nerve(v)).collect()
}

/// Nerve where a probability map reaches `threshold`.
pub fn called_pixels(map: &GrayImage, threshold: f64) -> Vec<bool> {
    map.iter()
        .map(|&v| crate::eval::segmentation::called(v, threshold))
        .collect()
}

/// The three panes of one image: truth, prediction, difference. A missing truth mask shows the
/// plain photo (and a difference of false positives only); a missing prediction likewise.
pub fn panes(
    photo: &RgbImage,
    truth: Option<&GrayImage>,
    map: Option<&GrayImage>,
    threshold: f64,
) -> [RgbaImage; 3] {
    let n = (photo.width() * photo.height()) as usize;
    let fits = |m: &&GrayImage| m.dimensions() == photo.dimensions();
    let truth = truth.filter(fits).map(mask_pixels);
    let predicted = map.filter(fits).map(|m| called_pixels(m, threshold));
    let none = vec![false; n];
    [
        tinted(photo, truth.as_deref(), MASK),
        tinted(photo, predicted.as_deref(), MASK),
        difference(
            photo,
            truth.as_deref().unwrap_or(&none),
            predicted.as_deref().unwrap_or(&none),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative luminance (sRGB, linearised), as WCAG defines it.
    fn luminance(c: [u8; 3]) -> f64 {
        let lin = |v: u8| {
            let s = v as f64 / 255.0;
            if s <= 0.04045 {
                s / 12.92
            } else {
                ((s + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
    }

    /// Brettel/Viénot-style dichromat simulation matrices (in linear RGB) for protanopia,
    /// deuteranopia and tritanopia.
    fn simulate(c: [u8; 3], m: [[f64; 3]; 3]) -> [f64; 3] {
        let lin = |v: u8| (v as f64 / 255.0).powf(2.2);
        let v = [lin(c[0]), lin(c[1]), lin(c[2])];
        [0, 1, 2].map(|r| m[r][0] * v[0] + m[r][1] * v[1] + m[r][2] * v[2])
    }

    #[test]
    fn the_three_difference_colours_stay_apart_for_colour_blind_eyes() {
        let protan = [
            [0.152, 1.053, -0.205],
            [0.115, 0.786, 0.099],
            [-0.004, -0.048, 1.052],
        ];
        let deutan = [
            [0.367, 0.861, -0.228],
            [0.280, 0.673, 0.047],
            [-0.012, 0.043, 0.969],
        ];
        let tritan = [
            [1.256, -0.077, -0.179],
            [-0.078, 0.931, 0.148],
            [0.005, 0.691, 0.304],
        ];
        let colours = [TRUE_POSITIVE, FALSE_POSITIVE, FALSE_NEGATIVE];
        for m in [protan, deutan, tritan] {
            for a in 0..3 {
                for b in a + 1..3 {
                    let (x, y) = (simulate(colours[a], m), simulate(colours[b], m));
                    let d = ((x[0] - y[0]).powi(2) + (x[1] - y[1]).powi(2) + (x[2] - y[2]).powi(2))
                        .sqrt();
                    assert!(d > 0.15, "colours {a} and {b} too close ({d:.3})");
                }
            }
        }
        // And they differ in lightness, which every eye sees.
        let l: Vec<f64> = colours.iter().map(|&c| luminance(c)).collect();
        assert!((l[0] - l[1]).abs() > 0.2 && (l[1] - l[2]).abs() > 0.1);
    }

    #[test]
    fn panes_colour_each_pixel_by_what_it_is() {
        let photo = RgbImage::from_pixel(2, 2, image::Rgb([100, 100, 100]));
        let truth = GrayImage::from_raw(2, 2, vec![255, 255, 0, 0]).unwrap();
        let map = GrayImage::from_raw(2, 2, vec![255, 0, 200, 10]).unwrap();
        let [t, p, d] = panes(&photo, Some(&truth), Some(&map), 0.5);
        assert_ne!(t.get_pixel(0, 0).0, [100, 100, 100, 255]);
        assert_eq!(t.get_pixel(0, 1).0, [100, 100, 100, 255]);
        assert_ne!(p.get_pixel(0, 1).0, [100, 100, 100, 255]);
        let expect = |c: [u8; 3]| {
            let b = blend([50, 50, 50], c, 0.8);
            [b[0], b[1], b[2], 255]
        };
        assert_eq!(d.get_pixel(0, 0).0, expect(TRUE_POSITIVE));
        assert_eq!(d.get_pixel(1, 0).0, expect(FALSE_NEGATIVE));
        assert_eq!(d.get_pixel(0, 1).0, expect(FALSE_POSITIVE));
        assert_eq!(d.get_pixel(1, 1).0, [50, 50, 50, 255]);
    }
}
