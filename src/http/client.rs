//! The client of the request this thread serves: when its request had arrived, and
//! whether it still waits for the answer (the connection's thread looks, see tiny_http's
//! `Request::gone_flag`). Costly work nobody would read, a password hash queued behind a
//! login flood, asks here first. Outside a request (the command line) nobody has gone.
use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

pub struct Client {
    pub arrived: Instant,
    pub gone: Arc<AtomicBool>,
}

thread_local! {
    static SERVING: RefCell<Option<Client>> = const { RefCell::new(None) };
}

/// Runs `f` as the work of `client`'s request.
pub fn serving<T>(client: Client, f: impl FnOnce() -> T) -> T {
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            SERVING.with(|s| s.borrow_mut().take());
        }
    }
    SERVING.with(|s| *s.borrow_mut() = Some(client));
    let _done = Done;
    f()
}

/// When the request this thread serves had arrived.
pub fn arrived() -> Option<Instant> {
    SERVING.with(|s| s.borrow().as_ref().map(|c| c.arrived))
}

/// Whether the client of the request this thread serves has closed its connection.
pub fn gone() -> bool {
    SERVING.with(|s| s.borrow().as_ref().is_some_and(|c| c.gone.load(Ordering::SeqCst)))
}
