//! Mask files: 8-bit single-channel PNG, 0 background / 255 nerve, at image resolution.

use super::Mask;
use crate::atomic::write_atomic;
use image::{GrayImage, ImageFormat};
use std::io::Cursor;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, thiserror::Error)]
pub enum MaskError {
    #[error("{path}: cannot read mask: {source}")]
    Read {
        path: PathBuf,
        source: std::sync::Arc<std::io::Error>,
    },
    #[error("{path}: not a readable PNG mask: {reason}")]
    Decode { path: PathBuf, reason: String },
    #[error("{path}: cannot write mask: {source}")]
    Write {
        path: PathBuf,
        source: std::sync::Arc<std::io::Error>,
    },
}

/// Decodes any PNG into a binary mask: alpha where the PNG has alpha, else non-zero pixels.
/// Returns the mask and whether the file held values other than 0 and 255.
pub fn decode_mask_png(bytes: &[u8]) -> Result<(Mask, bool), image::ImageError> {
    let img = image::load_from_memory_with_format(bytes, ImageFormat::Png)?;
    let (w, h) = (img.width(), img.height());
    let values: Vec<u8> = if img.color().has_alpha() {
        img.to_rgba8().pixels().map(|p| p.0[3]).collect()
    } else if img.color().channel_count() == 1 {
        img.to_luma8().into_raw()
    } else {
        img.to_rgb8()
            .pixels()
            .map(|p| p.0.iter().copied().max().unwrap_or(0))
            .collect()
    };
    let non_binary = values.iter().any(|&v| v != 0 && v != 255);
    Ok((Mask::from_nonzero(w, h, &values), non_binary))
}

pub fn encode_mask_png(mask: &Mask) -> Vec<u8> {
    let img = GrayImage::from_raw(mask.width(), mask.height(), mask.as_bytes().to_vec())
        .expect("mask buffer matches its size");
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .expect("PNG encoding into memory cannot fail");
    out.into_inner()
}

pub fn read_mask(path: &Path) -> Result<Mask, MaskError> {
    let bytes = std::fs::read(path).map_err(|source| MaskError::Read {
        path: path.to_path_buf(),
        source: source.into(),
    })?;
    decode_mask_png(&bytes)
        .map(|(m, _)| m)
        .map_err(|e| MaskError::Decode {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

pub fn write_mask(path: &Path, mask: &Mask) -> Result<(), MaskError> {
    write_atomic(path, &encode_mask_png(mask)).map_err(|source| MaskError::Write {
        path: path.to_path_buf(),
        source: source.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trip_is_byte_exact() {
        let mut m = Mask::empty(37, 11);
        m.set(3, 4, true);
        m.set(36, 10, true);
        let (back, non_binary) = decode_mask_png(&encode_mask_png(&m)).unwrap();
        assert_eq!(back, m);
        assert!(!non_binary);
    }
}
