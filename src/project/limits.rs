//! Limits for everything decoded from outside data, derived from the image it belongs to: a
//! tiny file must never claim gigabytes (an annotation's `size`, a PNG header, a zlib stream).

use std::io::Read;
use std::path::Path;

use super::ProjectError;

/// The largest side of an image (or mask) the program takes.
pub const MAX_SIDE: u32 = 65_535;
/// The most pixels of one image: 16,384 x 16,384.
pub const MAX_PIXELS: u64 = 1 << 28;

/// Why `width` x `height` is no size for an image, or None.
pub fn size_problem(width: u32, height: u32) -> Option<String> {
    if width == 0 || height == 0 {
        Some(format!("a size of {width}x{height}"))
    } else if width > MAX_SIDE || height > MAX_SIDE || width as u64 * height as u64 > MAX_PIXELS {
        Some(format!(
            "a size of {width}x{height}, larger than any image this program takes ({} pixels)",
            MAX_PIXELS
        ))
    } else {
        None
    }
}

/// The width and height in an image file's header (nothing else is read), or why not.
pub fn image_size(path: &Path) -> Result<(u32, u32), ProjectError> {
    let (w, h) = image::image_dimensions(path)
        .map_err(|e| ProjectError::invalid(path, format!("not a readable image: {e}")))?;
    match size_problem(w, h) {
        Some(p) => Err(ProjectError::invalid(path, format!("the image has {p}"))),
        None => Ok((w, h)),
    }
}

/// The most bytes a PNG of a `width` x `height` image can hold: every pixel stored raw at
/// 16-bit RGBA, plus room for chunks.
pub fn png_bytes(width: u32, height: u32) -> u64 {
    width as u64 * height as u64 * 8 + (height as u64 + 1) * 8 + (1 << 16)
}

/// Reads `reader` to its end, refusing more than `limit` bytes (a zlib bomb stops there):
/// `None` when there were more.
pub fn read_at_most(reader: impl Read, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    reader.take(limit + 1).read_to_end(&mut out)?;
    Ok((out.len() as u64 <= limit).then_some(out))
}

/// `image` decoder limits for a picture that must be no larger than `width` x `height`.
pub fn decoder(width: u32, height: u32) -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(png_bytes(width, height));
    limits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_beyond_any_image_are_refused() {
        assert_eq!(size_problem(1920, 1080), None);
        assert!(size_problem(200_000, 200_000).is_some());
        assert!(size_problem(u32::MAX, 1).is_some());
        assert!(size_problem(0, 10).is_some());
        assert!(size_problem(16_384, 16_385).is_some());
    }

    #[test]
    fn a_stream_that_inflates_too_far_stops_at_its_limit() {
        use flate2::{Compression, write::ZlibEncoder};
        use std::io::Write;
        let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
        z.write_all(&vec![0u8; 10_000_000]).unwrap();
        let bomb = z.finish().unwrap();
        assert!(bomb.len() < 20_000);
        let read = read_at_most(flate2::read::ZlibDecoder::new(&bomb[..]), 1_000_000).unwrap();
        assert!(read.is_none());
        let fine = read_at_most(flate2::read::ZlibDecoder::new(&bomb[..]), 10_000_000).unwrap();
        assert_eq!(fine.unwrap().len(), 10_000_000);
    }
}
