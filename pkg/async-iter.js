// ReadableStream is async-iterable in Node, Deno, workerd, Chrome and Firefox, but not in
// Safari. This adds the same behaviour where it is missing: leaving a `for await` loop early
// (break, return, throw) cancels the stream, which aborts the HTTP request.

/**
 * Makes `stream` async-iterable if its runtime does not; returns it.
 * @template T
 * @param {ReadableStream<T>} stream
 * @returns {ReadableStream<T> & AsyncIterable<T>}
 */
export function ensureAsyncIterable(stream) {
  if (typeof stream[Symbol.asyncIterator] === "function") return stream;
  Object.defineProperty(stream, Symbol.asyncIterator, {
    configurable: true,
    writable: true,
    value() {
      const reader = stream.getReader();
      return {
        next: () => reader.read(),
        async return(value) {
          await reader.cancel();
          reader.releaseLock();
          return { done: true, value };
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
  });
  return stream;
}
