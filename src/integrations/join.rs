//! Waiting for a few futures at once, without `futures_util::future::join_all`.
//!
//! `join_all` switches to `FuturesOrdered` (a `FuturesUnordered` and a binary heap) above 30
//! futures, and that path is compiled for every output type whether it runs or not: about
//! 2.5 KB of wasm per use. A flush waits for one future per logger, a handful; polling each
//! pending one in turn is all it needs.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// Runs `futs` concurrently; their outputs, in order, once all are ready.
///
/// On each wake-up every future that is not yet ready is polled (fine for a few futures; a
/// ready one is never polled again).
pub async fn join_all<F: Future>(futs: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut slots: Vec<Slot<F>> = Vec::new();
    for f in futs {
        slots.push(Slot::Pending(Box::pin(f)));
    }
    std::future::poll_fn(move |cx| {
        let mut all_ready = true;
        for slot in slots.iter_mut() {
            if let Slot::Pending(f) = slot {
                match f.as_mut().poll(cx) {
                    Poll::Ready(out) => *slot = Slot::Ready(out),
                    Poll::Pending => all_ready = false,
                }
            }
        }
        if !all_ready {
            return Poll::Pending;
        }
        let mut outs = Vec::with_capacity(slots.len());
        for slot in slots.drain(..) {
            if let Slot::Ready(out) = slot {
                outs.push(out);
            }
        }
        Poll::Ready(outs)
    })
    .await
}

enum Slot<F: Future> {
    Pending(Pin<Box<F>>),
    Ready(F::Output),
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::future::{pending, ready, select, Either};
    use futures_util::FutureExt;

    /// Ready after `n` polls (each waking itself again).
    async fn after_polls(n: u32, out: u32) -> u32 {
        let mut left = n;
        std::future::poll_fn(|cx| {
            if left == 0 {
                Poll::Ready(out)
            } else {
                left -= 1;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await
    }

    #[test]
    fn outputs_come_in_input_order_whatever_finishes_first() {
        let outs = futures_executor::block_on(join_all([
            after_polls(3, 1),
            after_polls(0, 2),
            after_polls(1, 3),
        ]));
        assert_eq!(outs, [1, 2, 3]);
        let none: Vec<std::future::Ready<u8>> = Vec::new();
        assert!(futures_executor::block_on(join_all(none)).is_empty());
    }

    #[test]
    fn waits_for_every_future() {
        let all = Box::pin(join_all([ready(1).boxed_local(), pending().boxed_local()]));
        let never = Box::pin(after_polls(50, 0));
        match futures_executor::block_on(select(all, never)) {
            Either::Left(_) => panic!("join_all finished with a future still pending"),
            Either::Right((out, _)) => assert_eq!(out, 0),
        }
    }
}
