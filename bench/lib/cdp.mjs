// A minimal Chrome DevTools Protocol client for workerd's inspector (`workerd serve
// --inspector-addr`), and the memory readings the memory test takes through it: V8 heap after a
// full GC, the size of every WebAssembly.Memory in the isolate, and heap snapshots summarized by
// constructor. Needs a global WebSocket (Node ≥ 22, or Node 20 with --experimental-websocket).

/** One DevTools session over a WebSocket. */
export class Cdp {
  constructor(url) {
    this.ws = new WebSocket(url);
    this.id = 0;
    this.pending = new Map();
    this.listeners = new Map();
    this.ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.id === undefined) {
        for (const fn of this.listeners.get(msg.method) ?? []) fn(msg.params);
        return;
      }
      const p = this.pending.get(msg.id);
      if (p) {
        this.pending.delete(msg.id);
        msg.error ? p.reject(new Error(`${p.method}: ${JSON.stringify(msg.error)}`)) : p.resolve(msg.result);
      }
    };
    this.open = new Promise((resolve, reject) => {
      this.ws.onopen = resolve;
      this.ws.onerror = () => reject(new Error(`inspector WebSocket ${url} failed`));
    });
  }

  /** Connects to the first target workerd lists on `inspectorPort` (the one worker). */
  static async connect(inspectorPort) {
    const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
    if (!targets.length) throw new Error("workerd's inspector lists no targets");
    const cdp = new Cdp(targets[0].webSocketDebuggerUrl);
    await cdp.open;
    // Runtime.evaluate needs an execution context, which workerd announces on Runtime.enable.
    const created = new Promise((resolve) => cdp.on("Runtime.executionContextCreated", (p) => resolve(p.context.id)));
    await cdp.send("Runtime.enable");
    cdp.contextId = await Promise.race([created, new Promise((r) => setTimeout(() => r(undefined), 2000))]);
    return cdp;
  }

  send(method, params = {}) {
    const id = ++this.id;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
  }

  on(method, fn) {
    if (!this.listeners.has(method)) this.listeners.set(method, []);
    this.listeners.get(method).push(fn);
    return () => this.listeners.set(method, this.listeners.get(method).filter((f) => f !== fn));
  }

  close() {
    this.ws.close();
  }
}

/**
 * Byte length of every WebAssembly.Memory alive in the isolate (wasm linear memory never
 * shrinks, so its size is the high-water mark of the Rust heap). Found with
 * Runtime.queryObjects on WebAssembly.Memory.prototype: no hook in the Worker needed.
 */
export async function wasmMemories(cdp) {
  const group = "edgellm-bench-mem";
  try {
    const proto = await cdp.send("Runtime.evaluate", {
      expression: "WebAssembly.Memory.prototype",
      objectGroup: group,
      ...(cdp.contextId === undefined ? {} : { contextId: cdp.contextId }),
    });
    const found = await cdp.send("Runtime.queryObjects", { prototypeObjectId: proto.result.objectId, objectGroup: group });
    const sizes = await cdp.send("Runtime.callFunctionOn", {
      objectId: found.objects.objectId,
      functionDeclaration: "function () { return this.map((m) => m.buffer.byteLength); }",
      returnByValue: true,
      objectGroup: group,
    });
    return sizes.result.value;
  } finally {
    await cdp.send("Runtime.releaseObjectGroup", { objectGroup: group }).catch(() => {});
  }
}

/**
 * Sends `method` and, while it is pending, calls `nudge()` (a cheap request to the Worker) every
 * 100 ms: workerd runs V8's posted tasks, which HeapProfiler.collectGarbage and heap snapshots
 * wait for, only when the isolate is entered, i.e. when a request arrives.
 */
export async function sendNudged(cdp, method, params, nudge) {
  let done = false;
  const reply = cdp.send(method, params).finally(() => (done = true));
  while (!done) {
    await Promise.race([reply.catch(() => {}), new Promise((r) => setTimeout(r, 100))]);
    if (!done) await nudge();
  }
  return reply;
}

/**
 * A full GC (HeapProfiler.collectGarbage, twice: weak callbacks free more on the second pass),
 * then the V8 heap's used and total bytes (Runtime.getHeapUsage: usedSize, totalSize,
 * embedderHeapUsedSize, backingStorageSize = ArrayBuffer backing stores outside the heap).
 */
export async function heapAfterGc(cdp, nudge) {
  await sendNudged(cdp, "HeapProfiler.collectGarbage", {}, nudge);
  await sendNudged(cdp, "HeapProfiler.collectGarbage", {}, nudge);
  return cdp.send("Runtime.getHeapUsage");
}

/**
 * Takes a heap snapshot and summarizes it by node type and constructor name:
 * Map "type name" → { count, self_size }, plus the total.
 */
export async function heapSnapshotSummary(cdp, nudge) {
  const parts = [];
  const off = cdp.on("HeapProfiler.addHeapSnapshotChunk", (p) => parts.push(p.chunk));
  try {
    await sendNudged(cdp, "HeapProfiler.takeHeapSnapshot", { reportProgress: false, captureNumericValue: false }, nudge);
  } finally {
    off();
  }
  const snap = JSON.parse(parts.join(""));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[fields.indexOf("type")];
  const iType = fields.indexOf("type");
  const iName = fields.indexOf("name");
  const iSize = fields.indexOf("self_size");
  const n = fields.length;
  const groups = new Map();
  let total = 0;
  let count = 0;
  for (let i = 0; i < snap.nodes.length; i += n) {
    const type = types[snap.nodes[i + iType]];
    // Strings and code are grouped by type only (their names are their contents).
    const name = type === "object" || type === "native" || type === "closure" ? snap.strings[snap.nodes[i + iName]] : "";
    const key = `${type} ${name}`.trim();
    const size = snap.nodes[i + iSize];
    const g = groups.get(key) ?? { count: 0, self_size: 0 };
    g.count++;
    g.self_size += size;
    groups.set(key, g);
    total += size;
    count++;
  }
  return { total_self_size: total, nodes: count, groups };
}

/** The `top` groups whose self size changed most from snapshot `a` to `b`. */
export function diffSnapshots(a, b, top = 12) {
  const keys = new Set([...a.groups.keys(), ...b.groups.keys()]);
  const rows = [...keys].map((k) => {
    const x = a.groups.get(k) ?? { count: 0, self_size: 0 };
    const y = b.groups.get(k) ?? { count: 0, self_size: 0 };
    return { group: k, count_delta: y.count - x.count, bytes_delta: y.self_size - x.self_size, count: y.count, bytes: y.self_size };
  });
  rows.sort((p, q) => Math.abs(q.bytes_delta) - Math.abs(p.bytes_delta));
  return {
    total_delta: b.total_self_size - a.total_self_size,
    nodes_delta: b.nodes - a.nodes,
    top: rows.slice(0, top),
  };
}
