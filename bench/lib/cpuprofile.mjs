// Summarizes a V8 .cpuprofile (Chrome DevTools format, from the inspector or node --cpu-prof):
// self time per function and per category (wasm, wasm-bindgen glue, other JS, GC, idle).

function category(frame) {
  const { functionName: fn, url } = frame;
  if (fn === "(garbage collector)") return "gc";
  if (fn === "(idle)") return "idle";
  if (fn === "(program)") return "runtime (native, unattributed)";
  if (fn === "(root)") return "root";
  if (url.startsWith("wasm://") || /^\$|^wasm-function/.test(fn)) return "wasm";
  if (/edgellm_worker\.js|edgellm\.js$/.test(url)) return "wasm-bindgen glue (JS)";
  if (/entry\.mjs|api\.js|async-iter\.js|errors\.js/.test(url)) return "edgellm JS";
  if (url === "") return "runtime builtins (JS/native)";
  if (url.startsWith("node:")) return /undici/.test(url) ? "Node fetch (undici)" : /webstreams/.test(url) ? "Node web streams" : "Node internals (JS)";
  if (/\/pkg(-prof)?\//.test(url)) return "edgellm JS";
  if (/\/bench\//.test(url)) return "benchmark harness";
  return `other JS (${url.split("/").slice(-2).join("/")})`;
}

/**
 * @param {object} profile a V8 CPU profile ({ nodes, samples, timeDeltas })
 * @param {number} n how many functions to list
 */
export function summarize(profile, n = 25) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  // timeDeltas[i] is the time before sample i; attribute it to the sample's node.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  }
  const fns = new Map();
  const cats = new Map();
  let total = 0;
  let busy = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id).callFrame;
    const cat = category(frame);
    total += us;
    if (cat !== "idle") busy += us;
    cats.set(cat, (cats.get(cat) ?? 0) + us);
    if (cat === "idle") continue;
    const name = `${frame.functionName || "(anonymous)"} [${cat}]`;
    fns.set(name, (fns.get(name) ?? 0) + us);
  }
  const pct = (us) => (busy > 0 ? (100 * us) / busy : 0);
  return {
    total_ms: total / 1000,
    busy_ms: busy / 1000,
    categories: Object.fromEntries(
      [...cats].filter(([c, us]) => c !== "idle" && pct(us) >= 0.1).sort((a, b) => b[1] - a[1]).map(([c, us]) => [c, Number(pct(us).toFixed(1))]),
    ),
    top: [...fns]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, self_ms: Number((us / 1000).toFixed(1)), self_pct: Number(pct(us).toFixed(2)) })),
  };
}
