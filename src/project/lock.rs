//! The project lock: one writer per project.
//!
//! The lock is an OS advisory lock (`flock`) on `.nerve-studio.lock`, so the kernel drops it when
//! its process dies, kill -9 included: a crashed process can never leave a lock that blocks the
//! next one. The file also records who holds it, so a second copy can say by whom it is locked.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

pub const LOCK_FILE: &str = ".nerve-studio.lock";

/// Who holds a project, as written in its lock file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockOwner {
    pub pid: u32,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub since: String,
}

impl LockOwner {
    /// Not a process: the folder cannot be written at all (a read-only share or disk).
    pub fn not_writable() -> LockOwner {
        LockOwner {
            user: NOT_WRITABLE.into(),
            ..Default::default()
        }
    }

    /// Not another copy: a command that only reads (info, export) and takes no lock.
    pub fn read_only_command() -> LockOwner {
        LockOwner {
            pid: std::process::id(),
            user: READ_ONLY_COMMAND.into(),
            ..Default::default()
        }
    }

    /// Why a project held by this owner is read-only here, as a sentence's end: "process 812
    /// of alice on lab-pc-3 since ... is editing it; close that copy to edit here".
    pub fn read_only_reason(&self) -> String {
        if self.user == NOT_WRITABLE {
            "its folder cannot be written (a read-only share or disk, or no permission)".into()
        } else if self.user == READ_ONLY_COMMAND {
            "this command only reads it".into()
        } else {
            format!("{self} is editing it; close that copy to edit here")
        }
    }
}

const NOT_WRITABLE: &str = "nobody (the folder is not writable)";
const READ_ONLY_COMMAND: &str = "this read-only command";

impl std::fmt::Display for LockOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "process {} of {} on {}", self.pid, self.user, self.host)?;
        if !self.since.is_empty() {
            write!(f, " since {}", self.since)?;
        }
        Ok(())
    }
}

/// A held lock; dropping it releases the project.
#[derive(Debug)]
pub struct ProjectLock {
    file: File,
    /// The previous holder's record when it had died without releasing (a stale lock taken over).
    pub took_over_from: Option<LockOwner>,
}

/// Outcome of trying to lock a project.
#[derive(Debug)]
pub enum LockAttempt {
    Acquired(ProjectLock),
    /// Another live process holds the project: open it read-only.
    HeldBy(LockOwner),
}

impl ProjectLock {
    pub fn try_acquire(project_root: &Path) -> std::io::Result<LockAttempt> {
        let path = project_root.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Ok(LockAttempt::HeldBy(
                    read_owner(&mut file).unwrap_or_default(),
                ));
            }
            Err(TryLockError::Error(e)) => return Err(e),
        }
        // A record left behind means its writer died holding the project.
        let took_over_from = read_owner(&mut file).filter(|o| o.pid != std::process::id());
        let me = LockOwner {
            pid: std::process::id(),
            host: host_name(),
            user: super::label::current_user(),
            since: super::label::now_rfc3339(),
        };
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(serde_json::to_string(&me).unwrap_or_default().as_bytes())?;
        file.sync_all()?;
        Ok(LockAttempt::Acquired(ProjectLock {
            file,
            took_over_from,
        }))
    }
}

/// Who is editing the project right now, if anyone; takes and writes nothing.
pub fn current_holder(project_root: &Path) -> Option<LockOwner> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(project_root.join(LOCK_FILE))
        .ok()?;
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(TryLockError::WouldBlock) => Some(read_owner(&mut file).unwrap_or_default()),
        Err(TryLockError::Error(_)) => None,
    }
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        // Empty the record first, so the next holder does not report a take-over.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn read_owner(file: &mut File) -> Option<LockOwner> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .unwrap_or_else(|_| "this computer".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_in_same_process_is_refused_then_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = match ProjectLock::try_acquire(dir.path()).unwrap() {
            LockAttempt::Acquired(l) => l,
            LockAttempt::HeldBy(_) => panic!("fresh project must lock"),
        };
        assert!(first.took_over_from.is_none());
        match ProjectLock::try_acquire(dir.path()).unwrap() {
            LockAttempt::HeldBy(owner) => assert_eq!(owner.pid, std::process::id()),
            LockAttempt::Acquired(_) => panic!("second lock must be refused"),
        }
        assert_eq!(
            current_holder(dir.path()).map(|o| o.pid),
            Some(std::process::id())
        );
        drop(first);
        assert_eq!(current_holder(dir.path()), None);
        assert!(matches!(
            ProjectLock::try_acquire(dir.path()).unwrap(),
            LockAttempt::Acquired(_)
        ));
    }

    #[test]
    fn stale_record_of_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let dead = LockOwner {
            pid: 999_999,
            host: "bench".into(),
            user: "tech".into(),
            since: String::new(),
        };
        std::fs::write(
            dir.path().join(LOCK_FILE),
            serde_json::to_string(&dead).unwrap(),
        )
        .unwrap();
        match ProjectLock::try_acquire(dir.path()).unwrap() {
            LockAttempt::Acquired(l) => assert_eq!(l.took_over_from, Some(dead)),
            LockAttempt::HeldBy(_) => panic!("a dead holder must not block"),
        }
    }
}
