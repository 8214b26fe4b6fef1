//! Downloading one weights file: resumable (`Range`), cancellable between chunks, with progress;
//! the file only gets its final name once its SHA-256 matches its name.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::catalog::Source;
use super::store;

/// How far a download is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transfer {
    pub done: u64,
    pub total: u64,
    /// Bytes per second over this session of the download.
    pub rate: f64,
    pub seconds_left: Option<f64>,
}

impl Transfer {
    /// "3.1 of 14 MB, 2.4 MB/s, 5 s left".
    pub fn text(&self) -> String {
        let mut text = format!(
            "{} of {}",
            super::catalog::megabytes(self.done),
            super::catalog::megabytes(self.total)
        );
        if self.rate > 0.0 {
            text.push_str(&format!(
                ", {}/s",
                super::catalog::megabytes(self.rate as u64)
            ));
        }
        if let Some(s) = self.seconds_left {
            text.push_str(&format!(", {} left", crate::ml::progress::duration(s)));
        }
        text
    }

    pub fn fraction(&self) -> f32 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f64 / self.total as f64).min(1.0) as f32
        }
    }
}

#[derive(Clone, Debug)]
pub enum FetchError {
    /// Stopped by the user; the bytes so far are kept and the next fetch resumes from them.
    Cancelled {
        kept: u64,
    },
    Failed(crate::ml::Error),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Cancelled { kept } => write!(
                f,
                "download cancelled; {} kept, the next download resumes from there",
                super::catalog::megabytes(*kept)
            ),
            FetchError::Failed(why) => why.fmt(f),
        }
    }
}

impl From<crate::ml::Error> for FetchError {
    fn from(e: crate::ml::Error) -> Self {
        FetchError::Failed(e)
    }
}

/// A failure of the download of `source`, and why.
fn failed(source: &Source, why: String) -> FetchError {
    FetchError::Failed(crate::ml::Error::fetch(&source.file, why))
}

fn io_failed(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |e| FetchError::Failed(crate::ml::Error::file(path)(e))
}

/// Asks for the file, from byte `have` on where part of it is here already.
fn request(source: &Source, have: u64) -> Result<ureq::http::Response<ureq::Body>, FetchError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent.get(&source.url);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    request.call().map_err(|e| unreachable_text(source, &e))
}

/// Appends the body to `out` until it ends, reporting progress; the bytes now in the part
/// file. A cancel or a broken connection keeps what arrived, for a resume.
fn receive(
    body: &mut impl Read,
    out: &mut std::fs::File,
    (start, total): (u64, u64),
    source: &Source,
    part: &Path,
    cancel: &AtomicBool,
    on_progress: &mut dyn FnMut(Transfer),
) -> Result<u64, FetchError> {
    let mut buffer = vec![0u8; 1 << 16];
    let mut done = start;
    let began = Instant::now();
    let mut last_report = Instant::now() - Duration::from_secs(1);
    loop {
        if cancel.load(Ordering::Relaxed) {
            out.sync_all().ok();
            return Err(FetchError::Cancelled { kept: done });
        }
        let n = match body.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                out.sync_all().ok();
                return Err(failed(
                    source,
                    format!(
                        "the download broke off at {} of {} ({e}); run it again to resume",
                        super::catalog::megabytes(done),
                        super::catalog::megabytes(total)
                    ),
                ));
            }
        };
        out.write_all(&buffer[..n]).map_err(io_failed(part))?;
        done += n as u64;
        if last_report.elapsed() >= Duration::from_millis(100) {
            last_report = Instant::now();
            on_progress(transfer(done, start, total, began));
        }
    }
    on_progress(transfer(done, start, total, began));
    Ok(done)
}

/// Downloads `source` into `folder` (resuming a `.part` left by an earlier try) and returns the
/// checked file. A file already there is returned at once.
pub fn fetch(
    source: &Source,
    folder: &Path,
    cancel: &AtomicBool,
    on_progress: &mut dyn FnMut(Transfer),
) -> Result<PathBuf, FetchError> {
    if let Some(path) = store::downloaded(folder, source) {
        return Ok(path);
    }
    std::fs::create_dir_all(folder).map_err(io_failed(folder))?;
    let (part, have) = store::partial(folder, source);
    let response = request(source, have)?;
    let status = response.status().as_u16();
    let length = response.body().content_length();
    let (start, total) = match status {
        200 => (0, length.unwrap_or(source.bytes)),
        206 => (
            have,
            have + length.unwrap_or(source.bytes.saturating_sub(have)),
        ),
        // The part already holds every byte: check it.
        416 if have > 0 => return store::accept(&part, folder, source).map_err(FetchError::from),
        _ => {
            return Err(failed(
                source,
                format!(
                    "the server answered HTTP {status}; download it by hand from {} and \
                 run `nerve-studio weights import FILE`",
                    source.url
                ),
            ));
        }
    };
    let mut out = OpenOptions::new()
        .create(true)
        .write(true)
        .append(start > 0)
        .truncate(start == 0)
        .open(&part)
        .map_err(io_failed(&part))?;
    let mut body = response.into_body().into_reader();
    let done = receive(
        &mut body,
        &mut out,
        (start, total),
        source,
        &part,
        cancel,
        on_progress,
    )?;
    out.sync_all().map_err(io_failed(&part))?;
    if done < total {
        return Err(failed(
            source,
            format!(
                "the server sent {} of {}; run it again to resume",
                super::catalog::megabytes(done),
                super::catalog::megabytes(total)
            ),
        ));
    }
    store::accept(&part, folder, source).map_err(FetchError::from)
}

fn transfer(done: u64, start: u64, total: u64, began: Instant) -> Transfer {
    let seconds = began.elapsed().as_secs_f64();
    let rate = if seconds > 0.0 {
        (done - start) as f64 / seconds
    } else {
        0.0
    };
    let seconds_left = (rate > 0.0).then(|| total.saturating_sub(done) as f64 / rate);
    Transfer {
        done,
        total: total.max(done),
        rate,
        seconds_left,
    }
}

/// What a machine without internet (or behind a closed proxy) is told.
fn unreachable_text(source: &Source, error: &ureq::Error) -> FetchError {
    failed(
        source,
        format!(
            "cannot download from {} ({error}). On a machine without internet, download that \
         URL elsewhere and bring the file in with `nerve-studio weights import FILE` (or \
         \"Import a weights file…\" on the Train screen)",
            source.url
        ),
    )
}
