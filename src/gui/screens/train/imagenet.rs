//! The Train screen's ImageNet weights: which files are downloaded (looked up off the UI thread
//! with the data), the download in progress, and what each recipe starts from.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::ml::imagenet::{FetchError, Transfer, catalog, store};
use crate::ml::models::Arch;

/// What a recipe's weights start from, as the user chose.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum StartFrom {
    /// The recipe's ImageNet file, once it is downloaded (random until then).
    #[default]
    Imagenet,
    /// A torchvision file the user chose.
    File(PathBuf),
    Random,
}

/// The weights folder as last looked at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    pub folder: Option<PathBuf>,
    /// Per file: its path if downloaded, else the bytes of a partial download.
    pub files: BTreeMap<String, Result<PathBuf, u64>>,
}

impl Scan {
    /// Looks at the weights folder (a few file lookups: run with the data plan, off the UI thread).
    pub fn make() -> Scan {
        let Ok(folder) = store::folder() else {
            return Scan::default();
        };
        let (entries, _) = store::list(&folder);
        Scan {
            files: entries
                .into_iter()
                .map(|e| (e.file, e.path.ok_or(e.partial_bytes)))
                .collect(),
            folder: Some(folder),
        }
    }
}

/// A download's news.
#[derive(Debug, Clone)]
pub enum Download {
    Progress(Transfer),
    /// The file, or why not, and how many bytes of a partial download are on disk now.
    Done(Result<PathBuf, FetchError>, u64),
}

/// The download in progress, or how the last one ended.
#[derive(Debug, Clone)]
pub struct Downloading {
    pub file: String,
    pub transfer: Option<Transfer>,
    pub cancel: Arc<AtomicBool>,
}

#[derive(Debug, Default)]
pub struct Weights {
    pub scan: Scan,
    pub downloading: Option<Downloading>,
    /// Why the last download of a file stopped (cancelled, offline, corrupt).
    pub stopped: BTreeMap<String, String>,
}

/// What the weights row says for a recipe that starts from ImageNet.
#[derive(Debug, Clone, PartialEq)]
pub enum Offer {
    /// Downloaded: the run starts from it.
    Ready(String, PathBuf),
    /// Not here yet: "ImageNet weights (14 MB) — Download", with bytes of a partial download.
    Download(catalog::Source, u64),
    /// Downloading now.
    Downloading(catalog::Source, Option<Transfer>),
    /// No ImageNet file for this architecture, and why.
    None(&'static str),
}

impl Weights {
    pub fn offer(&self, arch: Arch, width: f64) -> Offer {
        let source = match catalog::for_recipe(arch, width) {
            Ok(s) => s,
            Err(why) => return Offer::None(why),
        };
        if let Some(d) = self.downloading.as_ref().filter(|d| d.file == source.file) {
            return Offer::Downloading(source, d.transfer);
        }
        match self.scan.files.get(&source.file) {
            Some(Ok(path)) => Offer::Ready(source.file, path.clone()),
            Some(Err(partial)) => Offer::Download(source, *partial),
            None => Offer::Download(source, 0),
        }
    }

    /// The file a run of this recipe starts from, as chosen.
    pub fn path_for(&self, start: &StartFrom, arch: Arch, width: f64) -> Option<PathBuf> {
        match start {
            StartFrom::File(path) => Some(path.clone()),
            StartFrom::Random => None,
            StartFrom::Imagenet => match self.offer(arch, width) {
                Offer::Ready(_, path) => Some(path),
                _ => None,
            },
        }
    }

    /// Starts a download unless one is running; the flag stops it.
    pub fn begin(&mut self, source: &catalog::Source) -> Option<Arc<AtomicBool>> {
        if self.downloading.is_some() {
            return None;
        }
        let cancel = Arc::new(AtomicBool::new(false));
        self.stopped.remove(&source.file);
        self.downloading = Some(Downloading {
            file: source.file.clone(),
            transfer: None,
            cancel: cancel.clone(),
        });
        Some(cancel)
    }

    pub fn cancel(&self) {
        if let Some(d) = &self.downloading {
            d.cancel.store(true, Ordering::SeqCst);
        }
    }

    pub fn update(&mut self, file: &str, news: Download) {
        let Some(d) = self.downloading.as_mut().filter(|d| d.file == file) else {
            return;
        };
        match news {
            Download::Progress(t) => d.transfer = Some(t),
            Download::Done(result, kept) => {
                self.downloading = None;
                match result {
                    Ok(path) => {
                        self.scan.files.insert(file.to_string(), Ok(path));
                    }
                    Err(e) => {
                        self.scan.files.insert(file.to_string(), Err(kept));
                        self.stopped.insert(file.to_string(), e.to_string());
                    }
                }
            }
        }
    }

    /// A new look at the folder keeps what the running download knows.
    pub fn scanned(&mut self, scan: Scan) {
        self.scan = scan;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imagenet_is_offered_then_downloaded_then_used() {
        let mut w = Weights::default();
        let Offer::Download(source, 0) = w.offer(Arch::UnetMobilenetV2, 1.0) else {
            panic!("{:?}", w.offer(Arch::UnetMobilenetV2, 1.0));
        };
        assert_eq!(source.size_text(), "14 MB");
        assert_eq!(
            w.path_for(&StartFrom::Imagenet, Arch::UnetMobilenetV2, 1.0),
            None
        );
        let cancel = w.begin(&source).unwrap();
        assert!(w.begin(&source).is_none(), "one download at a time");
        assert!(matches!(
            w.offer(Arch::MobilenetV2, 1.0),
            Offer::Downloading(..)
        ));
        w.cancel();
        assert!(cancel.load(Ordering::SeqCst));
        w.update(
            &source.file,
            Download::Done(Err(FetchError::Cancelled { kept: 5_000_000 }), 5_000_000),
        );
        assert!(matches!(
            w.offer(Arch::UnetMobilenetV2, 1.0),
            Offer::Download(_, 5_000_000)
        ));
        assert!(w.stopped[&source.file].contains("cancelled"));
        w.begin(&source).unwrap();
        w.update(&source.file, Download::Done(Ok("/w/m.pth".into()), 0));
        assert_eq!(
            w.path_for(&StartFrom::Imagenet, Arch::Deeplabv3plusMobilenetV2, 1.0),
            Some("/w/m.pth".into())
        );
        assert_eq!(
            w.path_for(&StartFrom::Random, Arch::UnetMobilenetV2, 1.0),
            None
        );
        assert!(matches!(w.offer(Arch::MuNet, 0.35), Offer::None(_)));
    }
}
