//! Which published ImageNet file each architecture starts from: torchvision's own files, named
//! with the first eight hex digits of their SHA-256 (the check torchvision itself makes).

use crate::ml::models::Arch;

/// Where torchvision publishes its weights.
pub const TORCHVISION: &str = "https://download.pytorch.org/models/";
/// A lab mirror to download from instead (a URL ending in `/`, serving the same file names).
pub const MIRROR_ENV: &str = "NERVE_STUDIO_WEIGHTS_URL";

/// One downloadable weights file.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// The file name, e.g. `mobilenet_v2-b0353104.pth`.
    pub file: String,
    pub url: String,
    /// The size torchvision's documentation gives, in bytes (progress counts against the
    /// server's own length once it answers).
    pub bytes: u64,
    /// The network the file holds, in words.
    pub network: String,
}

impl Source {
    /// A file at `base` (a URL ending in `/`).
    pub fn at(base: &str, file: &str, bytes: u64, network: &str) -> Source {
        Source {
            file: file.to_string(),
            url: format!("{base}{file}"),
            bytes,
            network: network.to_string(),
        }
    }

    /// The SHA-256 prefix the file's name promises (`b0353104`).
    pub fn hash_prefix(&self) -> &str {
        hash_prefix(&self.file)
    }

    /// Whether a file of SHA-256 `hash` (lowercase hex) is the one this name promises.
    pub fn promised_by(&self, hash: &str) -> bool {
        hash.starts_with(self.hash_prefix())
    }

    /// "14 MB", as a user reads a download's size.
    pub fn size_text(&self) -> String {
        megabytes(self.bytes)
    }
}

/// The hex digits between the last `-` and the extension of a torchvision file name.
pub fn hash_prefix(file: &str) -> &str {
    let stem = file.split('.').next().unwrap_or(file);
    stem.rsplit('-').next().unwrap_or("")
}

/// Bytes as a user reads them: "14 MB", "548 MB", "1.2 GB".
pub fn megabytes(bytes: u64) -> String {
    let mb = bytes as f64 / 1e6;
    if mb >= 1000.0 {
        format!("{:.1} GB", mb / 1000.0)
    } else if mb >= 1.0 {
        format!("{mb:.0} MB")
    } else {
        format!("{:.0} kB", bytes as f64 / 1e3)
    }
}

/// torchvision's files, with the sizes its documentation gives (13.6 MiB and so on).
const FILES: [(&str, u64, &str); 6] = [
    (
        "mobilenet_v2-b0353104.pth",
        14_212_972,
        "MobileNetV2 (width 1.0)",
    ),
    ("resnet50-0676ba61.pth", 102_530_333, "ResNet-50"),
    ("resnet101-63fe2227.pth", 178_814_045, "ResNet-101"),
    ("densenet169-b2777c0a.pth", 57_365_526, "DenseNet-169"),
    ("densenet201-c1103571.pth", 81_131_730, "DenseNet-201"),
    ("vgg19-dcbb9e9d.pth", 574_673_361, "VGG-19"),
];

/// Every file, from torchvision or the mirror named by `NERVE_STUDIO_WEIGHTS_URL`.
pub fn all() -> Vec<Source> {
    let base = std::env::var(MIRROR_ENV)
        .ok()
        .filter(|b| !b.is_empty())
        .map(|b| if b.ends_with('/') { b } else { format!("{b}/") })
        .unwrap_or_else(|| TORCHVISION.to_string());
    FILES
        .iter()
        .map(|(file, bytes, network)| Source::at(&base, file, *bytes, network))
        .collect()
}

/// The ImageNet file an architecture's backbone (or encoder) starts from, or why there is none.
pub fn for_arch(arch: Arch) -> Result<Source, &'static str> {
    let file = match arch {
        Arch::MobilenetV2 | Arch::UnetMobilenetV2 | Arch::Deeplabv3plusMobilenetV2 => {
            "mobilenet_v2"
        }
        Arch::Resnet50 | Arch::Deeplabv3plusResnet50 => "resnet50",
        Arch::Resnet101 => "resnet101",
        Arch::Densenet169 => "densenet169",
        Arch::Densenet201 => "densenet201",
        Arch::DoubleUnet => "vgg19",
        Arch::MuNet => return Err(NO_MU_NET),
    };
    Ok(all()
        .into_iter()
        .find(|s| s.file.starts_with(&format!("{file}-")))
        .expect("every named file is in the catalog"))
}

/// Like [`for_arch`], for a classifier of a given MobileNetV2 width.
pub fn for_recipe(arch: Arch, width: f64) -> Result<Source, &'static str> {
    if arch == Arch::MobilenetV2 && (width - 1.0).abs() > 1e-9 {
        return Err(NO_WIDTH);
    }
    for_arch(arch)
}

const NO_MU_NET: &str = "MU-Net's encoder is a width-0.35 MobileNetV2, and torchvision publishes \
    no ImageNet weights of that width: it trains from random weights (or from a file you choose)";
const NO_WIDTH: &str = "torchvision publishes ImageNet MobileNetV2 weights for width 1.0 only: \
    this recipe's width trains from random weights (or from a file you choose)";

/// The architectures a file serves.
pub fn users(source: &Source) -> Vec<Arch> {
    Arch::ALL
        .into_iter()
        .filter(|a| for_arch(*a).is_ok_and(|s| s.file == source.file))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_architecture_but_mu_net_has_a_file() {
        for arch in Arch::ALL {
            match for_arch(arch) {
                Ok(s) => {
                    assert!(s.url.ends_with(&s.file), "{arch}");
                    assert_eq!(s.hash_prefix().len(), 8, "{}", s.file);
                }
                Err(why) => {
                    assert_eq!(arch, Arch::MuNet);
                    assert!(why.contains("0.35"));
                }
            }
        }
        assert!(for_recipe(Arch::MobilenetV2, 0.35).is_err());
        assert_eq!(
            users(&for_arch(Arch::MobilenetV2).unwrap()),
            [
                Arch::MobilenetV2,
                Arch::UnetMobilenetV2,
                Arch::Deeplabv3plusMobilenetV2
            ]
        );
    }

    #[test]
    fn sizes_read_as_a_user_reads_them() {
        assert_eq!(hash_prefix("mobilenet_v2-b0353104.pth"), "b0353104");
        assert_eq!(megabytes(14_212_972), "14 MB");
        assert_eq!(megabytes(574_673_361), "575 MB");
        assert_eq!(megabytes(1_200_000_000), "1.2 GB");
        assert_eq!(megabytes(5_000), "5 kB");
    }
}
