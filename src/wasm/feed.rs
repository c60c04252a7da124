//! Handing a streamed response body's reads over to JS.
//!
//! A body read through [`Settled`](super::settle::Settled) costs, per read, a promise reaction
//! into wasm, a wake and a task poll through wasm-bindgen-futures (`queueMicrotask`), and then
//! the same again on the side that pulls the result. A gateway forwarding a stream can instead
//! read the upstream in JS and call a synchronous wasm function per chunk. [`detaching`] lets it
//! take over the reader: while its closure runs, the first fetch body that would start a read
//! gives its reader away instead and from then on yields what the returned [`BodyFeed`] is given.
//! The body keeps its abort guard, so its idle timeout still runs while it waits for a chunk,
//! and dropping it still cancels the reader and aborts the request.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use wasm_bindgen::JsValue;

/// What a fed body yields next.
pub(crate) enum Fed {
    /// A chunk.
    Bytes(Vec<u8>),
    /// A chunk that is not a `Uint8Array`.
    NotBytes,
    /// The end of the body.
    End,
    /// The read rejected with this reason.
    Failed(JsValue),
}

/// The queue between a [`BodyFeed`] and the fetch body it feeds.
#[derive(Default)]
pub(crate) struct FeedQueue(RefCell<VecDeque<Fed>>);

impl FeedQueue {
    /// The next item, if one was fed.
    pub(crate) fn take(&self) -> Option<Fed> {
        self.0.borrow_mut().pop_front()
    }
}

/// Feeds a fetch body whose reader was taken over with [`detaching`]: what a JS read of that
/// reader gave goes in here, and the body yields it on its next poll (no wake: the one who feeds
/// polls the body's consumer itself).
#[allow(missing_debug_implementations)] // a queue of JS values
pub struct BodyFeed(Rc<FeedQueue>);

impl BodyFeed {
    /// A read's bytes.
    pub fn bytes(&self, bytes: Vec<u8>) {
        self.0 .0.borrow_mut().push_back(Fed::Bytes(bytes));
    }

    /// A read's value that is not a `Uint8Array` (ends the body with a decode error).
    pub fn not_bytes(&self) {
        self.0 .0.borrow_mut().push_back(Fed::NotBytes);
    }

    /// The read said `done`.
    pub fn end(&self) {
        self.0 .0.borrow_mut().push_back(Fed::End);
    }

    /// The read rejected with `reason` (classified like a rejected read: timeout, abort,
    /// connection).
    pub fn fail(&self, reason: JsValue) {
        self.0 .0.borrow_mut().push_back(Fed::Failed(reason));
    }
}

/// A reader taken over by [`detaching`]: the upstream body's reader, and the feed for what its
/// reads give.
#[allow(missing_debug_implementations)]
pub struct Detached {
    /// The reader (no read is pending on it).
    pub reader: JsValue,
    /// For a BYOB reader, the `ArrayBuffer` to read into next (each read gives back its buffer,
    /// to be read into again); `undefined` for a `ReadableStreamDefaultReader`.
    pub buffer: JsValue,
    /// Where its reads go.
    pub feed: BodyFeed,
}

thread_local! {
    /// Set by [`detaching`]: this instance pumps bodies from JS.
    static BYOB: Cell<bool> = const { Cell::new(false) };
    /// `Some` while a [`detaching`] closure runs: `Some(None)` until a body gave its reader.
    static OFFER: RefCell<Option<Option<Detached>>> = const { RefCell::new(None) };
}

/// Runs `f` (which polls a stream synchronously); the first fetch body with no read pending
/// that is polled during it gives its reader away (returned here) and is fed from then on.
///
/// From the first call on, fetch bodies read with a BYOB reader where they can (see
/// [`byob_reads`]): a JS loop feeding from it makes one read, one call and one write for all the
/// bytes the body has buffered, where a default reader gives them in 4 KiB pieces.
pub fn detaching<R>(f: impl FnOnce() -> R) -> (R, Option<Detached>) {
    // `replace`/`get`: accessors `Cell<bool>` thread-locals share (`super::settle`'s).
    BYOB.replace(true);
    OFFER.with(|o| *o.borrow_mut() = Some(None));
    let r = f();
    let taken = OFFER.with(|o| o.borrow_mut().take()).flatten();
    (r, taken)
}

/// Called by a fetch body about to start a read: inside [`detaching`] (and if no body gave its
/// reader yet) it gives `reader` away and gets the queue it is fed from.
pub(crate) fn offer(reader: &JsValue, buffer: &JsValue) -> Option<Rc<FeedQueue>> {
    OFFER.with(|o| {
        let mut o = o.borrow_mut();
        match o.as_mut() {
            Some(slot @ None) => {
                let queue = Rc::new(FeedQueue::default());
                *slot = Some(Detached {
                    reader: reader.clone(),
                    buffer: buffer.clone(),
                    feed: BodyFeed(queue.clone()),
                });
                Some(queue)
            }
            _ => None,
        }
    })
}

/// Whether a fetch body should read with a BYOB reader: only once [`detaching`] ran (a Worker
/// pumping streams from JS), so SDK reads elsewhere keep their default reader.
pub(crate) fn byob_reads() -> bool {
    BYOB.get()
}
