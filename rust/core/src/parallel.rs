//! Helpers for deterministic parallel work.
//!
//! The thread count follows `RAYON_NUM_THREADS` (rayon's global pool) and the
//! Python `pyspec.set_num_threads(n)`, which installs a dedicated pool used by
//! every call through [`install`].

use std::sync::{Arc, RwLock};

static POOL: RwLock<Option<Arc<rayon::ThreadPool>>> = RwLock::new(None);

/// Use `n` threads for subsequent calls made through [`install`]; `n == 0`
/// restores rayon's global pool (which honours `RAYON_NUM_THREADS`).
pub fn set_num_threads(n: usize) -> crate::Result<()> {
    let mut guard = POOL
        .write()
        .map_err(|_| crate::Error::value("thread-pool lock poisoned"))?;
    if n == 0 {
        *guard = None;
        return Ok(());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| crate::Error::value(format!("cannot build a thread pool: {e}")))?;
    *guard = Some(Arc::new(pool));
    Ok(())
}

/// Number of threads calls made through [`install`] use.
pub fn get_num_threads() -> usize {
    match POOL.read().ok().and_then(|g| g.clone()) {
        Some(pool) => pool.current_num_threads(),
        None => rayon::current_num_threads(),
    }
}

/// Run `f` inside the pool selected by [`set_num_threads`] (or rayon's global
/// pool when none was set).
pub fn install<R: Send, F: FnOnce() -> R + Send>(f: F) -> R {
    let pool = POOL.read().ok().and_then(|g| g.clone());
    match pool {
        Some(pool) => pool.install(f),
        None => f(),
    }
}
