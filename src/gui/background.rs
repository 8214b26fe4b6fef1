//! Work off the UI thread: a named thread whose events reach `update` through a channel
//! bridged with `Task::run`.

use iced::futures::Stream;
use iced::futures::channel::mpsc;
use std::sync::{Arc, Mutex};

/// Runs `job` on its own thread; what it sends arrives as a stream (ends when the job does).
pub fn spawn<E, F>(name: &str, job: F) -> impl Stream<Item = E> + Send + 'static
where
    E: Send + 'static,
    F: FnOnce(&dyn Fn(E)) + Send + 'static,
{
    let (tx, rx) = mpsc::unbounded();
    let spawned = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let send = |e: E| {
                let _ = tx.unbounded_send(e);
            };
            job(&send);
        });
    if let Err(e) = spawned {
        eprintln!("could not start the {name} thread: {e}");
    }
    rx
}

/// A value handed once from a background thread to `update` inside a `Clone` message
/// (a project holds its lock, so it cannot be cloned).
#[derive(Debug)]
pub struct Handover<T>(Arc<Mutex<Option<T>>>);

impl<T> Clone for Handover<T> {
    fn clone(&self) -> Self {
        Handover(self.0.clone())
    }
}

impl<T> Handover<T> {
    pub fn new(value: T) -> Self {
        Handover(Arc::new(Mutex::new(Some(value))))
    }

    pub fn take(&self) -> Option<T> {
        self.0.lock().ok()?.take()
    }
}

/// Runs `f` on a thread of its own; its result comes back as the message `to` makes of it.
pub fn job<T, M>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
    to: impl Fn(T) -> M + Send + 'static,
) -> iced::Task<M>
where
    T: Send + 'static,
    M: Send + 'static,
{
    iced::Task::run(spawn(name, move |send| send(f())), to)
}
