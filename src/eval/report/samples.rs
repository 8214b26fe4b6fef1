//! Sample images of right and wrong calls, titled with truth and prediction, on one sheet (as
//! the lab's notebooks showed them).

use crate::eval::error::{Error, Result};
use std::path::Path;

use image::{GrayImage, RgbImage, imageops};
use plotters::prelude::*;

/// One tile of the sheet.
#[derive(Clone, Debug)]
pub struct Sample {
    pub title: String,
    pub detail: String,
    pub image: RgbImage,
    pub correct: bool,
}

const TILE: u32 = 300;
/// Tiles are landscape, as the lab's frames are.
const TILE_H: u32 = 200;
const BAND: u32 = 46;
const COLUMNS: u32 = 4;

/// Fits an image into a TILE x TILE_H box (small masks are enlarged with square pixels).
pub fn thumbnail(image: &RgbImage) -> RgbImage {
    let (w, h) = image.dimensions();
    let scale = (TILE as f64 / w.max(1) as f64).min(TILE_H as f64 / h.max(1) as f64);
    let filter = if scale > 1.0 {
        imageops::FilterType::Nearest
    } else {
        imageops::FilterType::Triangle
    };
    let (tw, th) = (
        ((w as f64 * scale).round() as u32).max(1),
        ((h as f64 * scale).round() as u32).max(1),
    );
    imageops::resize(image, tw, th, filter)
}

/// The truth (green), the prediction (magenta) and both (white) over `photo` (or black).
pub fn mask_overlay(photo: Option<&RgbImage>, truth: &GrayImage, predicted: &[bool]) -> RgbImage {
    let (w, h) = truth.dimensions();
    let mut out = match photo {
        Some(p) if p.dimensions() == (w, h) => p.clone(),
        _ => RgbImage::new(w, h),
    };
    for (i, px) in out.pixels_mut().enumerate() {
        let t = crate::mask::is_nerve(truth.as_raw()[i]);
        let p = predicted[i];
        let tint = match (t, p) {
            (true, true) => [255, 255, 255],
            (true, false) => [40, 220, 90],
            (false, true) => [230, 60, 200],
            (false, false) => continue,
        };
        for (channel, tint) in px.0.iter_mut().zip(tint) {
            *channel = ((*channel as u16 + tint as u16 * 2) / 3) as u8;
        }
    }
    out
}

/// Draws the sheet to `<dir>/<name>.png`; returns the file name.
pub fn write_sheet(dir: &Path, name: &str, samples: &[Sample]) -> Result<String> {
    if samples.is_empty() {
        return Err(Error::Drawing("no samples".into()));
    }
    super::plots::register_font_once();
    let rows = (samples.len() as u32).div_ceil(COLUMNS);
    let (w, h) = (COLUMNS * (TILE + 12) + 12, rows * (TILE_H + BAND + 12) + 12);
    let mut rgb = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        for (k, s) in samples.iter().enumerate() {
            let (col, row) = (k as u32 % COLUMNS, k as u32 / COLUMNS);
            let (x, y) = (
                (12 + col * (TILE + 12)) as i32,
                (12 + row * (TILE_H + BAND + 12)) as i32,
            );
            let frame = if s.correct {
                RGBColor(0, 158, 115)
            } else {
                RGBColor(213, 94, 0)
            };
            root.draw(&Rectangle::new(
                [
                    (x - 3, y - 3),
                    (x + TILE as i32 + 3, y + (TILE_H + BAND) as i32 + 3),
                ],
                frame.filled(),
            ))
            .map_err(Error::drawing)?;
            root.draw(&Rectangle::new(
                [(x, y), (x + TILE as i32, y + (TILE_H + BAND) as i32)],
                WHITE.filled(),
            ))
            .map_err(Error::drawing)?;
            let thumb = thumbnail(&s.image);
            let (tw, th) = thumb.dimensions();
            let origin = (
                x + (TILE - tw) as i32 / 2,
                y + BAND as i32 + (TILE_H - th) as i32 / 2,
            );
            let element = plotters::element::BitMapElement::<(i32, i32)>::with_owned_buffer(
                origin,
                (tw, th),
                thumb.into_raw(),
            )
            .ok_or_else(|| Error::Drawing("sample buffer".into()))?;
            root.draw(&element).map_err(Error::drawing)?;
            root.draw(&Text::new(
                s.title.clone(),
                (x + 6, y + 5),
                ("sans-serif", 16).into_font().color(&frame),
            ))
            .map_err(Error::drawing)?;
            root.draw(&Text::new(
                s.detail.clone(),
                (x + 6, y + 25),
                ("sans-serif", 15).into_font().color(&RGBColor(60, 60, 60)),
            ))
            .map_err(Error::drawing)?;
        }
        root.present().map_err(Error::drawing)?;
    }
    let png = super::encode_png(&RgbImage::from_raw(w, h, rgb).expect("sheet buffer"))?;
    let file = format!("{name}.png");
    crate::atomic::write_atomic(&dir.join(&file), &png).map_err(Error::file(&dir.join(&file)))?;
    Ok(file)
}
