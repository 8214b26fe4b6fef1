//! Ctrl+C during a long command: the first asks the work to stop cleanly (training keeps its last
//! checkpoint), a second one ends the process at once.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

extern "C" fn on_interrupt(_: libc::c_int) {
    if let Some(flag) = FLAG.get() {
        flag.store(true, Ordering::SeqCst);
    }
    // The next Ctrl+C takes the default action (end the process).
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
}

/// The flag set by the first Ctrl+C.
pub fn on_ctrl_c() -> Arc<AtomicBool> {
    let flag = FLAG
        .get_or_init(|| Arc::new(AtomicBool::new(false)))
        .clone();
    let handler: extern "C" fn(libc::c_int) = on_interrupt;
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
    flag
}
