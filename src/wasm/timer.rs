//! Timers over the global `setTimeout` / `clearTimeout`, which exist in browsers, Web Workers,
//! Node and workerd (unlike `window.setTimeout`: there is no `window` in Node or Workers).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    // Node returns a `Timeout` object and browsers a number, so the handle stays a `JsValue`.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: f64) -> JsValue;
    // `catch`: workerd throws "Disallowed operation called within global scope" on a call made
    // outside a request, which is where wasm-bindgen's FinalizationRegistry frees a response body
    // whose client went away. A throw would cut the Drop that calls this short, leaking all that
    // it had not dropped yet.
    #[wasm_bindgen(catch, js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue) -> Result<(), JsValue>;
}

/// One JS callback that can be scheduled, cancelled and scheduled again. The callback is
/// created once, so re-arming per body chunk costs one `setTimeout` call and no allocation.
pub(crate) struct Timer {
    callback: Closure<dyn FnMut()>,
    handle: Option<JsValue>,
}

impl Timer {
    pub(crate) fn new(callback: impl FnMut() + 'static) -> Self {
        Self {
            callback: Closure::new(callback),
            handle: None,
        }
    }

    /// Schedules the callback in `ms` unless it is already scheduled.
    pub(crate) fn arm(&mut self, ms: f64) {
        if self.handle.is_none() {
            self.handle = Some(set_timeout(self.callback.as_ref().unchecked_ref(), ms));
        }
    }

    /// Cancels a scheduled callback (a no-op once it ran).
    pub(crate) fn disarm(&mut self) {
        if let Some(h) = self.handle.take() {
            // It fails only outside a request (see `clear_timeout`), and workerd's timers
            // belong to a request and end with it.
            let _ = clear_timeout(&h);
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        // The closure is freed with `self`; the timer must not fire into freed memory.
        self.disarm();
    }
}

#[derive(Default)]
struct SleepState {
    done: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

/// A future that completes after a delay. Dropping it clears the timer, so an abandoned sleep
/// does not keep a Node process alive.
pub(crate) struct Sleep {
    state: Rc<SleepState>,
    _timer: Timer,
}

impl Sleep {
    pub(crate) fn new(ms: u64) -> Self {
        let state = Rc::new(SleepState::default());
        let fired = state.clone();
        let mut timer = Timer::new(move || {
            fired.done.set(true);
            if let Some(w) = fired.waker.borrow_mut().take() {
                w.wake();
            }
        });
        // setTimeout clamps huge delays to 1 ms (they overflow an i32): cap at the maximum.
        timer.arm(ms.min(i32::MAX as u64) as f64);
        Self {
            state,
            _timer: timer,
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.state.done.get() {
            return Poll::Ready(());
        }
        *self.state.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}
