//! A named thread of the server's own (the mail sender, the pruner) that runs until it is
//! asked to stop: its loop watches the flag it is given, and `stop` waits for it to end.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crate::error::Error;

pub struct Background {
    stopping: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

impl Background {
    /// Starts `run` on a thread called `name`; it should return soon after the flag is set.
    pub fn spawn(name: &str, run: impl FnOnce(&AtomicBool) + Send + 'static) -> Result<Self, Error> {
        let stopping = Arc::new(AtomicBool::new(false));
        let flag = stopping.clone();
        let handle =
            std::thread::Builder::new().name(name.into()).spawn(move || run(&flag)).map_err(Error::internal)?;
        Ok(Self { stopping, handle })
    }

    /// Asks the thread to stop and waits for it (at most the work in hand).
    pub fn stop(self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.handle.join();
    }
}
