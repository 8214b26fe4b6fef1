//! Loads thumbnails on worker threads, newest request first, so the grid stays smooth while
//! they arrive and scrolling past a page never waits for the page before it.

use crate::project::thumbnails::{load_or_make, thumbnail_path};
use iced::futures::channel::mpsc;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};

pub struct Request {
    pub stem: String,
    pub image: PathBuf,
}

/// A loaded thumbnail: RGBA pixels, or why the image could not be read.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub stem: String,
    pub pixels: Result<(u32, u32, Arc<Vec<u8>>), crate::project::ProjectError>,
}

struct Queue {
    wanted: Vec<Request>,
    closed: bool,
}

/// Dropping the loader stops its workers once their current image is done.
pub struct ThumbnailLoader {
    shared: Arc<(Mutex<Queue>, Condvar)>,
}

impl ThumbnailLoader {
    pub fn new(cache_dir: PathBuf) -> (ThumbnailLoader, mpsc::UnboundedReceiver<Loaded>) {
        let shared = Arc::new((
            Mutex::new(Queue {
                wanted: Vec::new(),
                closed: false,
            }),
            Condvar::new(),
        ));
        let (tx, rx) = mpsc::unbounded();
        let workers = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, 4);
        for i in 0..workers {
            let (shared, tx, cache_dir) = (shared.clone(), tx.clone(), cache_dir.clone());
            let _ = std::thread::Builder::new()
                .name(format!("thumbnails-{i}"))
                .spawn(move || {
                    while let Some(req) = next_request(&shared) {
                        let pixels =
                            load_or_make(&req.image, &thumbnail_path(&cache_dir, &req.stem))
                                .map(|img| (img.width(), img.height(), Arc::new(img.into_raw())));
                        if tx
                            .unbounded_send(Loaded {
                                stem: req.stem,
                                pixels,
                            })
                            .is_err()
                        {
                            break;
                        }
                    }
                });
        }
        (ThumbnailLoader { shared }, rx)
    }

    /// Replaces what is waiting with `requests` (first shown first); images already being
    /// decoded finish.
    pub fn want(&self, mut requests: Vec<Request>) {
        let (lock, cv) = &*self.shared;
        if let Ok(mut q) = lock.lock() {
            requests.reverse();
            q.wanted = requests;
            cv.notify_all();
        }
    }
}

fn next_request(shared: &(Mutex<Queue>, Condvar)) -> Option<Request> {
    let (lock, cv) = shared;
    let mut q = lock.lock().ok()?;
    loop {
        if q.closed {
            return None;
        }
        if let Some(r) = q.wanted.pop() {
            return Some(r);
        }
        q = cv.wait(q).ok()?;
    }
}

impl Drop for ThumbnailLoader {
    fn drop(&mut self) {
        let (lock, cv) = &*self.shared;
        if let Ok(mut q) = lock.lock() {
            q.closed = true;
            q.wanted.clear();
        }
        cv.notify_all();
    }
}

/// The thumbnails the window has uploaded, shared by the screens that show them (Browse's grid,
/// Annotate's strip): at most `MAX_KEPT`, the ones furthest from view going first.
#[derive(Default)]
pub struct Thumbnails {
    loaded: HashMap<String, Thumb>,
}

enum Thumb {
    Ready(iced::widget::image::Handle),
    Failed(crate::project::ProjectError),
}

/// Thumbnails kept uploaded at most.
const MAX_KEPT: usize = 800;

impl Thumbnails {
    /// The loaded thumbnail of an image.
    pub fn get(&self, stem: &str) -> Option<&iced::widget::image::Handle> {
        match self.loaded.get(stem) {
            Some(Thumb::Ready(h)) => Some(h),
            _ => None,
        }
    }

    /// Why `stem`'s thumbnail could not be made, if it could not (the grid says so instead of
    /// waiting).
    pub fn failure(&self, stem: &str) -> Option<&crate::project::ProjectError> {
        match self.loaded.get(stem) {
            Some(Thumb::Failed(why)) => Some(why),
            _ => None,
        }
    }

    /// A thumbnail arrived from the loader: upload it once and keep the handle.
    pub fn arrived(&mut self, loaded: Loaded) {
        let thumb = match loaded.pixels {
            Ok((w, h, bytes)) => Thumb::Ready(iced::widget::image::Handle::from_rgba(
                w,
                h,
                Arc::unwrap_or_clone(bytes),
            )),
            Err(why) => Thumb::Failed(why),
        };
        self.loaded.insert(loaded.stem, thumb);
    }

    /// Of `shown` (on screen first), the ones not loaded yet; when too many are kept, those
    /// not in `shown` are let go first.
    pub fn missing(&mut self, shown: &[String]) -> Vec<String> {
        if self.loaded.len() > MAX_KEPT {
            let keep: std::collections::HashSet<&str> = shown.iter().map(String::as_str).collect();
            self.loaded.retain(|stem, _| keep.contains(stem.as_str()));
        }
        shown
            .iter()
            .filter(|s| !self.loaded.contains_key(*s))
            .cloned()
            .collect()
    }
}
