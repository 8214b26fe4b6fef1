//! Brightness and contrast for viewing only: the image on screen changes, the file never does.
//! Computed on a background thread from the decoded pixels.

/// Neutral settings.
pub const NEUTRAL: Adjust = Adjust {
    brightness: 0.0,
    contrast: 1.0,
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adjust {
    /// Added to every channel, in [-0.5, 0.5] of full scale.
    pub brightness: f32,
    /// Spread around mid-grey, in [0.5, 3].
    pub contrast: f32,
}

impl Adjust {
    pub fn is_neutral(&self) -> bool {
        *self == NEUTRAL
    }

    /// The adjusted copy of RGBA pixels (alpha untouched).
    pub fn apply(&self, rgba: &[u8]) -> Vec<u8> {
        let lut: Vec<u8> = (0..256)
            .map(|v| {
                let x = (v as f32 / 255.0 - 0.5) * self.contrast + 0.5 + self.brightness;
                (x.clamp(0.0, 1.0) * 255.0).round() as u8
            })
            .collect();
        let mut out = rgba.to_vec();
        for px in out.chunks_exact_mut(4) {
            for c in &mut px[..3] {
                *c = lut[*c as usize];
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutral_is_identity_and_settings_move_values_the_right_way() {
        let px = [0u8, 64, 128, 255, 200, 10, 255, 7];
        assert_eq!(NEUTRAL.apply(&px), px);
        let brighter = Adjust {
            brightness: 0.2,
            contrast: 1.0,
        }
        .apply(&px);
        assert!(
            brighter[1] > 64 && brighter[3] == 255 && brighter[7] == 7,
            "{brighter:?}"
        );
        let flat = Adjust {
            brightness: 0.0,
            contrast: 0.5,
        }
        .apply(&px);
        assert!(flat[0] > 0 && flat[4] < 200);
    }
}
