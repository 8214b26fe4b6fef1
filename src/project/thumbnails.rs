//! Thumbnails for the Browse grid, cached in `cache/thumbnails/` (safe to delete).

use super::ProjectError;
use crate::atomic::write_atomic;
use image::imageops::FilterType;
use image::{ImageFormat, RgbaImage};
use std::path::{Path, PathBuf};

/// Longest side of a cached thumbnail, in pixels.
pub const THUMBNAIL_SIZE: u32 = 224;

pub fn thumbnail_path(cache_dir: &Path, stem: &str) -> PathBuf {
    cache_dir.join("thumbnails").join(format!("{stem}.jpg"))
}

/// Returns the thumbnail of `image_path` as RGBA, from the cache when it is newer than the
/// image, else decoding the image and caching the result. A failed cache write only costs speed.
pub fn load_or_make(image_path: &Path, cache_path: &Path) -> Result<RgbaImage, ProjectError> {
    if let Some(thumb) = read_fresh(image_path, cache_path) {
        return Ok(thumb);
    }
    let img = decode_image(image_path)?;
    let thumb = img.resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, FilterType::Triangle);
    let mut bytes = std::io::Cursor::new(Vec::new());
    if thumb
        .to_rgb8()
        .write_to(&mut bytes, ImageFormat::Jpeg)
        .is_ok()
    {
        let _ = write_atomic(cache_path, bytes.get_ref());
    }
    Ok(thumb.to_rgba8())
}

fn read_fresh(image_path: &Path, cache_path: &Path) -> Option<RgbaImage> {
    let cached = std::fs::metadata(cache_path).ok()?.modified().ok()?;
    let source = std::fs::metadata(image_path).ok()?.modified().ok()?;
    if cached < source {
        return None;
    }
    let bytes = std::fs::read(cache_path).ok()?;
    image::load_from_memory_with_format(&bytes, ImageFormat::Jpeg)
        .ok()
        .map(|i| i.to_rgba8())
}

/// Decodes an image with limits, naming the file on failure.
pub fn decode_image(path: &Path) -> Result<image::DynamicImage, ProjectError> {
    let mut reader = image::ImageReader::open(path)
        .map_err(ProjectError::io(path))?
        .with_guessed_format()
        .map_err(ProjectError::io(path))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(1 << 30);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|e| ProjectError::invalid(path, format!("not a readable image: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnail_is_cached_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.png");
        image::RgbImage::from_pixel(640, 360, image::Rgb([200, 40, 30]))
            .save(&src)
            .unwrap();
        let cache = thumbnail_path(dir.path(), "a");
        let t = load_or_make(&src, &cache).unwrap();
        assert_eq!((t.width(), t.height()), (224, 126));
        assert!(cache.exists());
        let again = load_or_make(&src, &cache).unwrap();
        assert_eq!(again.dimensions(), t.dimensions());
        std::fs::write(&src, b"garbage").unwrap();
        let broken = dir.path().join("b.jpg");
        std::fs::write(&broken, b"not a jpeg").unwrap();
        let err = load_or_make(&broken, &thumbnail_path(dir.path(), "b"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("b.jpg"), "{err}");
    }
}
