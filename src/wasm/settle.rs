//! A JS promise's settlement as a Rust future, without a Rust closure per promise.
//!
//! `JsFuture` makes two `Closure`s per promise which, with its state, keep each other alive until
//! the promise settles: a promise that never settles leaks them for good, even once the
//! `JsFuture` is dropped. workerd never settles the pending body read of a request whose client
//! went away, so every disconnect leaked a pair. Here the two callbacks exist once per thread;
//! each promise gets two JS arrows that call them with its id (JS objects that the JS GC frees
//! with the promise), and its result lands in a slot table. A dropped [`Settled`] removes
//! its slot, so a late settlement finds nothing and is ignored.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// A `Promise`, with an untyped `catch` (js-sys types it per callback signature).
    type Thenable;
    #[wasm_bindgen(method)]
    fn catch(this: &Thenable, on_err: &JsValue) -> JsValue;
}

// One JS call per promise, where `then` plus a `bind` of each callback to the id were three
// (each bound function or arrow is a JS object the JS GC frees with the promise).
#[wasm_bindgen(inline_js = r#"
export function edgellm_on_settle(promise, id, ok, err) {
  promise.then((v) => ok(id, v), (e) => err(id, e));
}
"#)]
extern "C" {
    fn edgellm_on_settle(promise: &Promise, id: u32, ok: &JsValue, err: &JsValue);
}

#[derive(Default)]
struct Slot {
    result: Option<Result<JsValue, JsValue>>,
    waker: Option<Waker>,
}

type Settle = Closure<dyn FnMut(u32, JsValue)>;

/// The slots of the promises being waited for, sorted by id. Ids are handed out in increasing
/// order, so a new slot goes at the end; a few lookups per awaited promise are a binary search
/// over the promises in flight. A sorted `Vec` rather than a `HashMap`: no hash-table code in
/// the package for one table of small integer keys. The second field is the next id to try:
/// kept here, not in a `Cell` of its own, as it is only used with the table borrowed (each
/// thread-local's accessors are code of their own in the wasm).
struct Slots(Vec<(u32, Slot)>, u32);

impl Slots {
    fn find(&self, id: u32) -> Result<usize, usize> {
        self.0.binary_search_by_key(&id, |(k, _)| *k)
    }
    fn get_mut(&mut self, id: u32) -> Option<&mut Slot> {
        let at = self.find(id).ok()?;
        Some(&mut self.0[at].1)
    }
    /// Adds an empty slot for `id`, which must not be in the table.
    fn insert(&mut self, id: u32) {
        match self.0.last() {
            Some((last, _)) if *last >= id => {
                let at = self.find(id).unwrap_or_else(|at| at);
                self.0.insert(at, (id, Slot::default()));
            }
            _ => self.0.push((id, Slot::default())),
        }
    }
    fn remove(&mut self, id: u32) -> Option<Slot> {
        let at = self.find(id).ok()?;
        Some(self.0.remove(at).1)
    }
}

thread_local! {
    /// Promises being waited for, by id. `const`: no lazy-initialization code for it.
    static SLOTS: RefCell<Slots> = const { RefCell::new(Slots(Vec::new(), 0)) };
    /// The fulfil and reject callbacks, made once for the life of the instance.
    /// Then one do-nothing rejection handler for every promise whose rejection is expected.
    static SETTLE: (Settle, Settle, Closure<dyn FnMut(JsValue)>) = (
        Closure::new(|id: u32, v: JsValue| settle(id, Ok(v))),
        Closure::new(|id: u32, e: JsValue| settle(id, Err(e))),
        Closure::new(|_: JsValue| {}),
    );
}

fn settle(id: u32, result: Result<JsValue, JsValue>) {
    let waker = SLOTS.with(|s| {
        let mut s = s.borrow_mut();
        let slot = s.get_mut(id)?;
        slot.result = Some(result);
        slot.waker.take()
    });
    // Woken outside the borrow: a waker may poll right away ([`in_settlement`]).
    if let Some(w) = waker {
        let outer = SETTLING.replace(true);
        w.wake();
        // `replace`, not `set`: the same accessor as above, where `set` was one more.
        SETTLING.replace(outer);
    }
}

thread_local! {
    static SETTLING: Cell<bool> = const { Cell::new(false) };
}

/// Whether the caller runs inside the wake of a promise settlement: called from the promise's
/// JS reaction with no borrow held, so an executor's waker may poll its task right there
/// instead of scheduling a microtask to do it (the gateway Worker's `drive`).
pub fn in_settlement() -> bool {
    SETTLING.get()
}

/// Marks `promise`'s rejection as handled (no unhandled-rejection report, which ends a Node
/// process by default), for a rejection that is expected and of no interest.
pub(crate) fn ignore_rejection(promise: &Promise) {
    SETTLE.with(|(_, _, f)| {
        promise.unchecked_ref::<Thenable>().catch(f.as_ref());
    });
}

/// The settlement of a promise: `Ok` with the value it fulfilled with, `Err` with the reason it
/// was rejected with. Dropping it stops waiting and frees everything Rust held for it.
pub(crate) struct Settled {
    id: u32,
}

impl Settled {
    pub(crate) fn new(promise: &Promise) -> Self {
        let id = open_slot();
        // `then` never calls its callbacks synchronously, so no borrow of SLOTS is re-entered.
        SETTLE.with(|(ok, err, _)| edgellm_on_settle(promise, id, ok.as_ref(), err.as_ref()));
        Self { id }
    }

    /// A settlement that `start` reports: it gets the id and the two callbacks, and has
    /// `ok(id, value)` or `err(id, reason)` called later (never from within `start`). An `Err`
    /// from `start` frees the slot.
    pub(crate) fn reported<E>(
        start: impl FnOnce(u32, &JsValue, &JsValue) -> Result<(), E>,
    ) -> Result<Self, E> {
        // Made before `start` runs, so its `Err` drops it and frees the slot.
        let settled = Self { id: open_slot() };
        // The callbacks are not called from within `start`, so no borrow of SLOTS is re-entered.
        SETTLE.with(|(ok, err, _)| start(settled.id, ok.as_ref(), err.as_ref()))?;
        Ok(settled)
    }
}

/// Adds the slot of a new settlement and returns its id.
fn open_slot() -> u32 {
    SLOTS.with(|s| {
        let mut s = s.borrow_mut();
        // Ids wrap after 2^32 promises; skip any still waited for.
        let mut id = s.1;
        while s.find(id).is_ok() {
            id = id.wrapping_add(1);
        }
        s.1 = id.wrapping_add(1);
        s.insert(id);
        id
    })
}

impl Future for Settled {
    type Output = Result<JsValue, JsValue>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // What leaves the table is dropped after the borrow ends: dropping a waker can drop its
        // task, whose future may hold another `Settled`.
        let (poll, _leftover) = SLOTS.with(|s| {
            let mut s = s.borrow_mut();
            // No slot: polled again after it completed, which a future need not support.
            let Some(slot) = s.get_mut(self.id) else {
                return (Poll::Pending, None);
            };
            match slot.result.take() {
                Some(r) => (Poll::Ready(r), s.remove(self.id).and_then(|s| s.waker)),
                None => (Poll::Pending, slot.waker.replace(cx.waker().clone())),
            }
        });
        poll
    }
}

impl Drop for Settled {
    fn drop(&mut self) {
        // Dropped after the borrow ends (see `poll`).
        let _slot = SLOTS.with(|s| s.borrow_mut().remove(self.id));
    }
}
