//! A tokio runtime on a thread of its own, for servers that tests start.
//!
//! Tests are sync (`#[test]`) or async (`#[tokio::test]`, usually a current-thread runtime).
//! A server that lived on the test's own runtime would stall whenever a sync test blocks, and
//! could not be started from a sync test at all. So each server gets a private runtime driven
//! by a dedicated thread, and dropping the handle stops it: the accept loop ends, every
//! connection task is cancelled and the thread is joined before `drop` returns, so the port is
//! closed once the owner is gone.

use std::future::Future;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::oneshot;

/// How long a stopping runtime waits for blocking work (file reads in `spawn_blocking`).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A runtime running one main future on its own thread until dropped.
pub(crate) struct BackgroundRuntime {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl BackgroundRuntime {
    /// Builds a multi-thread runtime with `workers` worker threads and runs the future made
    /// by `make_main` on it. `make_main` runs inside the runtime's context, so it may
    /// register sockets (`TcpListener::from_std`) before returning the future.
    pub(crate) fn start<F, Fut>(name: &str, workers: usize, make_main: F) -> anyhow::Result<Self>
    where
        F: FnOnce() -> anyhow::Result<Fut>,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name(format!("{name}-rt"))
            .enable_all()
            .build()
            .with_context(|| format!("build the tokio runtime for {name}"))?;
        let main = {
            let _entered = runtime.enter();
            make_main()?
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::select! {
                        () = main => {}
                        _ = stopped => {}
                    }
                });
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
            })
            .with_context(|| format!("spawn the {name} thread"))?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for BackgroundRuntime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The receiver is gone only if the main future already ended: nothing to stop.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on that thread was already reported by the panic hook.
            let _ = thread.join();
        }
    }
}
