//! Supervisely bitmap geometry: base64 of zlib of a PNG, cropped to its tight bounding box.
//! See shared/reference/supervisely-format.md, section 2.4.

use crate::mask::Mask;
use crate::project::ProjectError;
use crate::project::limits;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use std::io::Write;

/// A decoded bitmap object: the mask crop and its top-left corner `[x, y]` in the image.
#[derive(Debug, Clone, PartialEq)]
pub struct Bitmap {
    pub origin: (i64, i64),
    pub data: Mask,
}

/// Encodes the whole mask's nerve pixels as one bitmap (tight box); `None` for an empty mask,
/// since the format has no empty bitmap.
pub fn encode(mask: &Mask) -> Option<(String, [u32; 2])> {
    let (x, y, w, h) = mask.bounding_box()?;
    let crop = mask.crop(x, y, w, h);
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, w, h);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::One);
        enc.set_palette(vec![0, 0, 0, 255, 255, 255]);
        enc.set_trns(vec![0]);
        let mut writer = enc.write_header().expect("in-memory PNG header");
        let row_bytes = (w as usize).div_ceil(8);
        let mut packed = vec![0u8; row_bytes * h as usize];
        for r in 0..h {
            for c in 0..w {
                if crop.get(c, r) {
                    packed[r as usize * row_bytes + c as usize / 8] |= 0x80 >> (c % 8);
                }
            }
        }
        writer
            .write_image_data(&packed)
            .expect("in-memory PNG data");
    }
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(&png_bytes).expect("in-memory zlib");
    let compressed = z.finish().expect("in-memory zlib");
    Some((STANDARD.encode(compressed), [x, y]))
}

/// Decodes `bitmap.data` as the Supervisely SDK does: PNG alpha where it has alpha, else
/// non-zero grey; RGB without alpha is refused; data that is not zlib is read as a bare PNG.
/// `within` is the size of the image it belongs to: the bitmap can be no larger, and neither
/// its zlib stream nor its PNG may take more memory than such a bitmap can.
pub fn decode(data: &str, origin: [i64; 2], within: (u32, u32)) -> Result<Bitmap, ProjectError> {
    let raw = STANDARD
        .decode(data.trim())
        .map_err(|e| ProjectError::unacceptable(format!("bitmap data is not base64: {e}")))?;
    let limit = limits::png_bytes(within.0, within.1);
    let inflated = limits::read_at_most(ZlibDecoder::new(&raw[..]), limit);
    let (bytes, bare) = match &inflated {
        Ok(Some(png)) => (&png[..], false),
        Ok(None) => {
            return Err(ProjectError::unacceptable(format!(
                "bitmap data: it inflates to more than {limit} bytes"
            )));
        }
        Err(_) => (&raw[..], true),
    };
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Png);
    reader.limits(limits::decoder(within.0, within.1));
    let img = reader.decode().map_err(|e| {
        ProjectError::unacceptable(format!(
            "bitmap data is not a PNG of at most {}x{}: {e}",
            within.0, within.1
        ))
    })?;
    let (w, h) = (img.width(), img.height());
    let channels = img.color().channel_count();
    let values: Vec<u8> = if img.color().has_alpha() {
        img.to_rgba8().pixels().map(|p| p.0[3]).collect()
    } else if channels == 1 {
        img.to_luma8().into_raw()
    } else if bare {
        img.to_rgb8()
            .pixels()
            .map(|p| p.0[0] | p.0[1] | p.0[2])
            .collect()
    } else {
        return Err(ProjectError::unacceptable(
            "wrong internal mask format: an RGB bitmap without alpha",
        ));
    };
    Ok(Bitmap {
        origin: (origin[0], origin[1]),
        data: Mask::from_nonzero(w, h, &values),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(m: &Mask) -> Vec<String> {
        (0..m.height())
            .map(|y| {
                (0..m.width())
                    .map(|x| if m.get(x, y) { '1' } else { '0' })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn documented_three_by_three_vector_decodes() {
        let s = "eJzrDPBz5+WS4mJgYOD19HAJAtLMIMwIInOeqf8BUmwBPiGuQPr///9Lb86/C2QxlgT5BTM4PLuRBuTwebo4hlTMSa44cOHAB6DqY0yORgq8YkAZBk9XP5d1TglNANAFGzA=";
        let b = decode(s, [0, 0], (100, 100)).unwrap();
        assert_eq!(rows(&b.data), ["111", "100", "111"]);
    }

    #[test]
    fn documented_oblique_band_decodes_at_its_origin() {
        let s = "eJzrDPBz5+WS4mJgYOD19HAJAtI8QMzGyAwkzyq8PQTiBPiEuALp////L705/y6QxVgS5BfM4PDsRhqQI+Xp4hhSMSe54sABk+ZGx77GiXsnNX5kZHZmZFDQZ84WM/0xCaiKwdPVz2WdU0ITAHmNIN8=";
        let b = decode(s, [847, 512], (2000, 2000)).unwrap();
        assert_eq!(b.origin, (847, 512));
        assert_eq!(
            rows(&b.data),
            [
                "111000000000",
                "011110000000",
                "000111100000",
                "000001111000",
                "000000011110",
                "000000000111"
            ]
        );
    }

    #[test]
    fn encode_then_decode_restores_the_mask_at_its_place() {
        let mut m = Mask::empty(40, 30);
        for (x, y) in [(5, 7), (6, 7), (20, 25), (33, 9)] {
            m.set(x, y, true);
        }
        let (data, origin) = encode(&m).unwrap();
        assert_eq!(origin, [5, 7]);
        let b = decode(&data, [origin[0] as i64, origin[1] as i64], (100, 100)).unwrap();
        let mut back = Mask::empty(40, 30);
        back.paste_union(&b.data, b.origin.0, b.origin.1);
        assert_eq!(back, m);
        assert!(encode(&Mask::empty(4, 4)).is_none());
    }

    #[test]
    fn bare_png_without_zlib_is_accepted() {
        let gray = image::GrayImage::from_raw(2, 2, vec![0, 9, 0, 0]).unwrap();
        let mut png = std::io::Cursor::new(Vec::new());
        gray.write_to(&mut png, image::ImageFormat::Png).unwrap();
        let b = decode(&STANDARD.encode(png.get_ref()), [1, 2], (100, 100)).unwrap();
        assert_eq!(b.data.count(), 1);
        assert!(b.data.get(1, 0));
        assert!(
            decode("@@@", [0, 0], (10, 10))
                .unwrap_err()
                .to_string()
                .contains("base64")
        );
    }
}
