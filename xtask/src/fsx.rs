//! Writing files safely: atomic replacement, ordinary permissions, a lock
//! per directory, staging directories that never outlive their run, and
//! interrupts that leave nothing half-written.

use std::fs::{File, Permissions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};
use rustix::fs::RenameFlags;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::{Failure, Result};

/// Replaces `path` with `contents` atomically: a sibling temporary file,
/// synced, renamed over it. The file gets ordinary permissions (0666 less
/// the umask), as any editor would give it.
pub fn write_atomic(path: &Utf8Path, contents: &str) -> Result<()> {
    let dir = parent_of(path);
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        Failure::new(format!(
            "cannot {what} {path}: {e}. Fix: make {dir} writable, or write elsewhere"
        ))
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".domi-nix-write-")
        .permissions(Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(|e| fail("write", &e))?;
    tmp.write_all(contents.as_bytes())
        .map_err(|e| fail("write", &e))?;
    tmp.as_file().sync_all().map_err(|e| fail("write", &e))?;
    tmp.persist(path).map_err(|e| fail("replace", &e.error))?;
    Ok(())
}

/// The directory `path` is in (`.` for a bare name).
pub fn parent_of(path: &Utf8Path) -> &Utf8Path {
    path.parent()
        .filter(|p| !p.as_str().is_empty())
        .unwrap_or(Utf8Path::new("."))
}

/// SIGINT, SIGTERM and SIGHUP, caught from [`Interrupts::watch`] on: the
/// process keeps running until it reaches [`Interrupts::check`], which
/// fails, so that whatever it staged is removed on the way out.
pub struct Interrupts(Arc<AtomicBool>);

impl Interrupts {
    pub fn watch() -> Result<Interrupts> {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            signal_hook::flag::register(signal, Arc::clone(&flag)).map_err(|e| {
                Failure::new(format!(
                    "cannot watch for interrupts (signal {signal}): {e}"
                ))
            })?;
        }
        Ok(Interrupts(flag))
    }

    /// Whether an interrupt arrived.
    pub fn arrived(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Fails if an interrupt arrived: `what` stopped, `out` untouched.
    pub fn check(&self, what: &str, out: &Utf8Path) -> Result<()> {
        if self.0.load(Ordering::SeqCst) {
            return Err(Failure::new(format!(
                "{what} interrupted; {out} was left as it was. Fix: run the command again"
            )));
        }
        Ok(())
    }
}

/// An exclusive lock on a directory (`flock` on the directory itself, so
/// no lock file is left behind), released when dropped.
pub struct DirLock {
    /// Held open for its lock; closing it releases the lock.
    _file: File,
}

impl DirLock {
    /// Waits for the lock (saying so after a second), unless interrupted.
    pub fn acquire(dir: &Utf8Path, interrupts: &Interrupts) -> Result<DirLock> {
        let file = File::open(dir).map_err(|e| {
            Failure::new(format!(
                "cannot open {dir} to lock it: {e}. Fix: make {dir} readable, or write elsewhere"
            ))
        })?;
        let start = Instant::now();
        let mut said = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(DirLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Failure::new(format!(
                        "cannot lock {dir}: {e}. Fix: write to a local file system that supports locks"
                    )));
                }
            }
            interrupts.check("waiting for the lock", dir)?;
            if !said && start.elapsed() > Duration::from_secs(1) {
                eprintln!("waiting for another `cargo xtask` writing into {dir} …");
                said = true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Removes staging directories (`<prefix>…`) in `parent` left by a run that
/// was killed outright. Only call it holding the [`DirLock`] of `parent`:
/// then no live run owns one.
pub fn sweep_staging(parent: &Utf8Path, prefix: &str) {
    let Ok(entries) = parent.read_dir_utf8() else {
        return;
    };
    for entry in entries.flatten() {
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && entry.file_name().starts_with(prefix) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A directory being assembled next to its destination; removed when
/// dropped unless committed.
pub struct Staging {
    path: Utf8PathBuf,
    prefix: String,
    committed: bool,
}

impl Staging {
    /// A new, empty staging directory in `parent`, with ordinary permissions.
    pub fn create(parent: &Utf8Path, prefix: &str) -> Result<Staging> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let pid = std::process::id();
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = parent.join(format!("{prefix}{pid}-{n}"));
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    return Ok(Staging {
                        path,
                        prefix: prefix.to_owned(),
                        committed: false,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(Failure::new(format!(
                        "cannot create a directory in {parent}: {e}. Fix: make {parent} writable, or choose another --out"
                    )));
                }
            }
        }
    }

    /// Writes `name` in the staging directory (synced, ordinary permissions).
    pub fn write(&self, name: &str, contents: &str) -> Result<()> {
        let path = self.path.join(name);
        let fail = |e: std::io::Error| {
            Failure::new(format!(
                "cannot write {path}: {e}. Fix: make {} writable, or choose another --out",
                parent_of(&self.path)
            ))
        };
        let mut file = File::create(&path).map_err(fail)?;
        file.write_all(contents.as_bytes()).map_err(fail)?;
        file.sync_all().map_err(fail)
    }

    /// Puts the staging directory at `out`: a rename when `out` does not
    /// exist, else an atomic exchange with it (Linux `renameat2`, macOS
    /// `renamex_np`), after which the old directory is removed. Where the
    /// file system cannot exchange, the old directory is moved aside first
    /// (a moment in which `out` is absent, never half-written).
    pub fn commit(mut self, out: &Utf8Path, exists: bool) -> Result<()> {
        let fail = |e: &dyn std::fmt::Display| {
            Failure::new(format!(
                "cannot move the new directory into {out}: {e}. Fix: make {} writable, or choose another --out",
                parent_of(out)
            ))
        };
        let cwd = rustix::fs::CWD;
        let (from, to) = (self.path.as_std_path(), out.as_std_path());
        if exists && rustix::fs::renameat_with(cwd, from, cwd, to, RenameFlags::EXCHANGE).is_ok() {
            // The old trunk is now at the staging path: dropping removes it.
            return Ok(());
        }
        // Where it cannot exchange, the old directory goes aside under the
        // same prefix, so a kill here leaves nothing the next run's sweep
        // does not remove.
        let aside = exists
            .then(|| Staging::create(parent_of(out), &self.prefix))
            .transpose()?;
        if let Some(aside) = &aside {
            std::fs::remove_dir(&aside.path).map_err(|e| fail(&e))?;
            std::fs::rename(out, &aside.path).map_err(|e| fail(&e))?;
        }
        std::fs::rename(&self.path, out).map_err(|e| fail(&e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
