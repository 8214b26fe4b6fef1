//! The per-user weights folder (the platform's data folder, shared by every project): what is
//! there, whether a file is what its name promises, and bringing in a file fetched elsewhere.

use crate::ml::{Error, Result};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::catalog::{self, Source};
use crate::atomic::sync_dir;

/// Set to use another folder (tests, or a lab that keeps weights on a shared drive).
pub const FOLDER_ENV: &str = "NERVE_STUDIO_WEIGHTS_DIR";

/// Where downloaded weights live: `NERVE_STUDIO_WEIGHTS_DIR`, else e.g.
/// `~/.local/share/nerve-studio/weights` on Linux.
pub fn folder() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(FOLDER_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::data_dir()
        .map(|d| d.join("nerve-studio").join("weights"))
        .ok_or_else(|| Error::request(format!("no data folder for this user: set {FOLDER_ENV}")))
}

/// The file of `source` in `folder`, if it is there. Only verified files ever get this name:
/// a download or an import writes `<file>.part` and renames it once its hash is checked.
pub fn downloaded(folder: &Path, source: &Source) -> Option<PathBuf> {
    let path = folder.join(&source.file);
    path.is_file().then_some(path)
}

/// The partial download of `source`, and how many bytes it holds.
pub fn partial(folder: &Path, source: &Source) -> (PathBuf, u64) {
    let path = folder.join(format!("{}.part", source.file));
    let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    (path, len)
}

/// The SHA-256 of a file, in lowercase hex.
pub fn sha256(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Checks a finished `.part` file against its name's hash and gives it its final name; a file
/// that does not match is deleted, never used.
pub fn accept(part: &Path, folder: &Path, source: &Source) -> Result<PathBuf> {
    let hash = sha256(part).map_err(Error::file(part))?;
    if !source.promised_by(&hash) {
        let _ = std::fs::remove_file(part);
        return Err(Error::fetch(
            &source.file,
            format!(
                "the downloaded file is corrupt (its SHA-256 begins {}, the name promises {}); \
             it was deleted: download it again",
                &hash[..8],
                source.hash_prefix()
            ),
        ));
    }
    let path = folder.join(&source.file);
    std::fs::rename(part, &path).map_err(Error::file(&path))?;
    sync_dir(folder);
    Ok(path)
}

/// Brings a weights file fetched elsewhere (a USB stick, another machine's download) into
/// `folder` under its torchvision name, recognised by its SHA-256 whatever it is called now.
pub fn import(file: &Path, folder: &Path, sources: &[Source]) -> Result<(Source, PathBuf)> {
    if !file.is_file() {
        return Err(Error::invalid(file, "no such file"));
    }
    let hash = sha256(file).map_err(Error::file(file))?;
    let Some(source) = sources.iter().find(|s| s.promised_by(&hash)) else {
        let known: Vec<&str> = sources.iter().map(|s| s.file.as_str()).collect();
        return Err(Error::invalid(
            file,
            format!(
                "not one of the ImageNet files Nerve Studio knows (its SHA-256 begins {}; \
             expected one of {}): a truncated download or another file?",
                &hash[..8],
                known.join(", ")
            ),
        ));
    };
    std::fs::create_dir_all(folder).map_err(Error::file(folder))?;
    let (part, _) = partial(folder, source);
    std::fs::copy(file, &part)
        .and_then(|_| File::open(&part)?.sync_all())
        .map_err(|e| {
            Error::invalid(
                file,
                format!("cannot copy it into {}: {e}", folder.display()),
            )
        })?;
    let path = accept(&part, folder, source)?;
    Ok((source.clone(), path))
}

/// One line of `weights list`: a file, what it serves, whether it is here.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Entry {
    pub architectures: Vec<String>,
    pub network: String,
    pub file: String,
    pub url: String,
    pub size_bytes: u64,
    pub downloaded: bool,
    /// Bytes of an interrupted download that `fetch` resumes from.
    pub partial_bytes: u64,
    pub path: Option<PathBuf>,
}

/// Every architecture's weights and where they stand; MU-Net is named with why it has none.
pub fn list(folder: &Path) -> (Vec<Entry>, Vec<(String, &'static str)>) {
    let entries = catalog::all()
        .into_iter()
        .map(|source| {
            let path = downloaded(folder, &source);
            Entry {
                architectures: catalog::users(&source)
                    .iter()
                    .map(|a| a.id().to_string())
                    .collect(),
                network: source.network.clone(),
                file: source.file.clone(),
                url: source.url.clone(),
                size_bytes: source.bytes,
                downloaded: path.is_some(),
                partial_bytes: partial(folder, &source).1,
                path,
            }
        })
        .collect();
    let without = crate::ml::models::Arch::ALL
        .into_iter()
        .filter_map(|a| {
            catalog::for_arch(a)
                .err()
                .map(|why| (a.id().to_string(), why))
        })
        .collect();
    (entries, without)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source_for(bytes: &[u8], dir: &Path) -> Source {
        let hash = {
            let p = dir.join("probe");
            std::fs::write(&p, bytes).unwrap();
            sha256(&p).unwrap()
        };
        Source::at(
            "http://127.0.0.1/",
            &format!("tiny-{}.pth", &hash[..8]),
            3,
            "Tiny",
        )
    }

    #[test]
    fn a_file_is_imported_by_its_hash_and_a_stranger_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let source = source_for(b"abc", dir.path());
        let elsewhere = dir.path().join("renamed-on-a-usb-stick.bin");
        std::fs::write(&elsewhere, b"abc").unwrap();
        let (found, path) = import(&elsewhere, &store, std::slice::from_ref(&source)).unwrap();
        assert_eq!(found, source);
        assert_eq!(path, store.join(&source.file));
        assert_eq!(downloaded(&store, &source), Some(path));

        let stranger = dir.path().join("other.pth");
        std::fs::write(&stranger, b"abd").unwrap();
        let err = import(&stranger, &store, &[source])
            .unwrap_err()
            .to_string();
        assert!(err.contains("other.pth") && err.contains("tiny-"), "{err}");
    }

    #[test]
    fn a_part_that_does_not_match_its_name_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let source = source_for(b"abc", dir.path());
        let (part, _) = partial(dir.path(), &source);
        std::fs::write(&part, b"abX").unwrap();
        let err = accept(&part, dir.path(), &source).unwrap_err().to_string();
        assert!(err.contains("corrupt"), "{err}");
        assert!(!part.exists());
        assert_eq!(downloaded(dir.path(), &source), None);
    }
}
