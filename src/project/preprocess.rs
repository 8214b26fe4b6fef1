//! Preprocessing as the seed lab did it: crop the region of interest (the over-exposed left
//! strip removed), then resize. Originals are never modified; this runs on decoded copies.

use super::manifest::Roi;
use crate::mask::Mask;
use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage, RgbImage};

/// Crops the region of interest and resizes to `size` x `size` (bilinear), as training sees it.
pub fn prepare_image(img: &DynamicImage, roi: &Roi, size: u32) -> RgbImage {
    let r = roi.to_pixels(img.width(), img.height());
    let rgb = img.to_rgb8();
    let cropped = imageops::crop_imm(&rgb, r.x, r.y, r.width, r.height).to_image();
    imageops::resize(&cropped, size, size, FilterType::Triangle)
}

/// Crops and resizes a mask the same way; nearest-neighbour keeps it strictly binary.
pub fn prepare_mask(mask: &Mask, roi: &Roi, size: u32) -> Mask {
    let r = roi.to_pixels(mask.width(), mask.height());
    let cropped = mask.crop(r.x, r.y, r.width, r.height);
    let gray = GrayImage::from_raw(
        cropped.width(),
        cropped.height(),
        cropped.as_bytes().to_vec(),
    )
    .expect("mask buffer matches its size");
    let resized = imageops::resize(&gray, size, size, FilterType::Nearest);
    Mask::from_nonzero(size, size, resized.as_raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roi_crop_drops_the_left_strip_and_mask_stays_binary() {
        let mut img = RgbImage::new(64, 32);
        for y in 0..32 {
            for x in 0..28 {
                img.put_pixel(x, y, image::Rgb([255, 255, 255]));
            }
        }
        let out = prepare_image(&DynamicImage::ImageRgb8(img), &Roi::default(), 16);
        assert!(
            out.pixels().all(|p| p.0 == [0, 0, 0]),
            "over-exposed strip kept"
        );
        let mut m = Mask::empty(64, 32);
        for y in 10..20 {
            for x in 40..50 {
                m.set(x, y, true);
            }
        }
        let pm = prepare_mask(&m, &Roi::default(), 16);
        assert!(pm.as_bytes().iter().all(|&v| v == 0 || v == 255));
        assert!(pm.count() > 0);
    }
}
