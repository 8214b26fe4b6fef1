//! Atomic file writes: a temporary file in the same folder, fsync, rename, fsync the folder.
//!
//! A reader therefore sees either the old bytes or the new ones, never a torn file, whatever
//! happens to the process or the disk in between.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` atomically, creating the parent folder if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_of(path);
    fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .suffix(".part")
        .permissions(new_file_permissions())
        .tempfile_in(dir)?;
    // A file replaced keeps its own mode (a colleague's group access on a shared lab drive).
    if let Ok(existing) = fs::metadata(path) {
        tmp.as_file().set_permissions(existing.permissions())?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// What a newly written file gets: read and write for all, less the process's umask (the
/// system applies it when the file is created), as any program's new file would; not the
/// owner-only mode of a temporary file.
fn new_file_permissions() -> fs::Permissions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::Permissions::from_mode(0o666)
    }
    #[cfg(not(unix))]
    {
        tempfile::tempfile()
            .and_then(|f| f.metadata())
            .map(|m| m.permissions())
            .expect("a temporary file")
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Makes a rename durable. Best effort: some file systems refuse to open folders.
pub fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_file_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b.txt");
        write_atomic(&p, b"first version, long").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(dir.path().join("a")).unwrap().collect();
        assert_eq!(names.len(), 1, "temporary files left behind");
    }

    #[cfg(unix)]
    #[test]
    fn written_files_are_shared_as_the_folder_allows_and_keep_their_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // A new file: 0666 less the umask (never the temporary file's 0600).
        let umask = unsafe {
            let m = libc::umask(0o022);
            libc::umask(m);
            m
        } as u32;
        let p = dir.path().join("project.toml");
        write_atomic(&p, b"a").unwrap();
        assert_eq!(mode(&p), 0o666 & !umask);
        // A file a colleague made group-writable stays so after a save.
        fs::set_permissions(&p, fs::Permissions::from_mode(0o664)).unwrap();
        write_atomic(&p, b"b").unwrap();
        assert_eq!(mode(&p), 0o664);
    }
}
