//! A small work pool: runs a fallible job per item on all cores, reporting progress in order of
//! completion and stopping at the first error.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Runs `job` on every item; returns the results in item order, or the first error.
pub fn try_map<T: Sync, R: Send, E: Send>(
    items: &[T],
    job: impl Fn(&T) -> Result<R, E> + Sync,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<R>, E> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Result<R, E>)>();
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    let mut out: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(items.len().max(1)) {
            let (tx, next, job) = (tx.clone(), &next, &job);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    if tx.send((i, job(item))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut done = 0;
        for (i, result) in rx {
            match result {
                Ok(r) => out[i] = Some(r),
                Err(e) => {
                    next.store(usize::MAX / 2, Ordering::Relaxed);
                    return Err(e);
                }
            }
            done += 1;
            progress(done, items.len());
        }
        Ok(())
    })?;
    Ok(out
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_stops_on_error() {
        let items: Vec<u32> = (0..100).collect();
        let mut calls = 0;
        let r: Result<Vec<u32>, String> = try_map(&items, |&x| Ok(x * 2), &mut |_, _| calls += 1);
        assert_eq!(r.unwrap()[99], 198);
        assert_eq!(calls, 100);
        let e = try_map(
            &items,
            |&x| {
                if x == 50 {
                    Err(format!("item {x}"))
                } else {
                    Ok(x)
                }
            },
            &mut |_, _| {},
        );
        assert_eq!(e.unwrap_err(), "item 50");
    }
}
