//! A request's task driven without `wasm_bindgen_futures`' queue: the first poll runs inside
//! the JS entry's call, and a task woken by a promise settlement ([`Settled`]'s wake, see
//! [`edgellm::wasm::in_settlement`]) is polled right there, in that promise's reaction. The
//! answer goes to the JS entry's own `resolve` instead of through a promise of its own.
//!
//! Per non-stream request that spares a `Promise` with its two closures (`future_to_promise`),
//! two `queueMicrotask` hops (the first poll, and the poll after the upstream answered) and one
//! promise reaction in the entry: 0.48 → 0.43 ms of workerd CPU per request in a same-run A/B
//! on a loaded machine (0.357 → 0.313 in its quietest round; bench/gateway.mjs, c=16), with
//! no microtask hop left on that path (worker/test/drive.test.mjs). The futures polled are the
//! same as on the `wasm_bindgen_futures` path, so what a request does is unchanged; only who
//! polls it, and when, differs. Any other wake (a timer, a `JsFuture` of the virtual-key
//! layer, a wake from inside a poll) is queued as a microtask, as `wasm_bindgen_futures` does,
//! so no waker ever polls a task from inside another poll or from code that holds a borrow.
//!
//! [`Settled`]: edgellm::wasm

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Wake, Waker};

use worker::js_sys;
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen::JsValue;

type Answer = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// One request's future and where its answer goes.
struct Task {
    /// `None` while it is being polled.
    future: Option<Answer>,
    resolve: js_sys::Function,
    reject: js_sys::Function,
    /// A microtask poll is queued and has not run yet.
    queued: bool,
    /// The task's wakers share one handle; when the last of them is dropped nothing can wake
    /// the task any more, and it is dropped (as an `Rc` task of `wasm_bindgen_futures` is).
    handle: Weak<Handle>,
}

/// What a task's `Waker` holds: the task's id (tasks live in [`TASKS`], JS values not being
/// `Send`).
struct Handle {
    id: u64,
}

thread_local! {
    static TASKS: RefCell<HashMap<u64, Task>> = RefCell::new(HashMap::new());
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
    /// A task is being polled: a wake now must not poll (re-entry), only queue.
    static POLLING: Cell<bool> = const { Cell::new(false) };
}

#[wasm_bindgen(wasm_bindgen = worker::wasm_bindgen, inline_js = r#"
export function edgellm_later(f) {
  queueMicrotask(f);
}
"#)]
extern "C" {
    fn edgellm_later(f: JsValue);
}

/// Runs `future` to its end: polled once now, then on each wake. `resolve` gets its `Ok`,
/// `reject` its `Err` (each called once, when the future finishes).
pub(crate) fn spawn(
    future: impl Future<Output = Result<JsValue, JsValue>> + 'static,
    resolve: js_sys::Function,
    reject: js_sys::Function,
) {
    let id = NEXT_ID.get();
    NEXT_ID.set(id + 1);
    let handle = Arc::new(Handle { id });
    let task = Task {
        future: Some(Box::pin(future)),
        resolve,
        reject,
        queued: false,
        handle: Arc::downgrade(&handle),
    };
    TASKS.with(|t| t.borrow_mut().insert(id, task));
    if POLLING.get() {
        queue(handle);
    } else {
        run(id);
    }
}

fn run(id: u64) {
    // The future is taken out while polled, and everything leaves the table before it is
    // dropped: a future's drop may drop another task's waker, which removes that task.
    let taken = TASKS.with(|t| {
        let mut t = t.borrow_mut();
        let task = t.get_mut(&id)?;
        task.queued = false;
        let future = task.future.take()?;
        let handle = task.handle.upgrade().unwrap_or_else(|| {
            let h = Arc::new(Handle { id });
            task.handle = Arc::downgrade(&h);
            h
        });
        Some((future, handle))
    });
    let Some((mut future, handle)) = taken else {
        return;
    };
    let waker = Waker::from(handle);
    let outer = POLLING.replace(true);
    let polled = future.as_mut().poll(&mut Context::from_waker(&waker));
    POLLING.set(outer);
    match polled {
        Poll::Pending => {
            TASKS.with(|t| {
                if let Some(task) = t.borrow_mut().get_mut(&id) {
                    task.future = Some(future);
                }
            });
            // The last waker gone (none was kept by the future): the task is dropped here.
            drop(waker);
        }
        Poll::Ready(answer) => {
            let task = TASKS.with(|t| t.borrow_mut().remove(&id));
            // Everything the request held is released before JS sees the answer.
            drop(future);
            drop(waker);
            if let Some(task) = task {
                let _ = match answer {
                    Ok(v) => task.resolve.call1(&JsValue::UNDEFINED, &v),
                    Err(e) => task.reject.call1(&JsValue::UNDEFINED, &e),
                };
            }
        }
    }
}

/// Polls the task from a microtask. The queued callback holds a handle: the task stays alive
/// until that poll even when the waker that queued it was the last one.
fn queue(handle: Arc<Handle>) {
    let id = handle.id;
    let first = TASKS.with(|t| {
        t.borrow_mut()
            .get_mut(&id)
            .is_some_and(|task| !std::mem::replace(&mut task.queued, true))
    });
    if first {
        edgellm_later(Closure::once_into_js(move || {
            run(id);
            drop(handle);
        }));
    }
}

fn wake(handle: Arc<Handle>) {
    if edgellm::wasm::in_settlement() && !POLLING.get() {
        // `handle` lives until the poll is over, so the task does too.
        run(handle.id);
    } else {
        queue(handle);
    }
}

// wasm32 without threads runs everything on one thread: the `Arc` is only what `Wake` asks for.
impl Wake for Handle {
    fn wake(self: Arc<Self>) {
        wake(self);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        wake(self.clone());
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // Removed first, dropped after the borrow ends (see `run`). A busy table (a drop from
        // inside a borrow, which `run` never makes) leaves the task rather than panic.
        let gone = TASKS
            .try_with(|t| t.try_borrow_mut().ok().and_then(|mut t| t.remove(&self.id)))
            .ok()
            .flatten();
        drop(gone);
    }
}
