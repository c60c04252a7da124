// Turn-taking between SDK clients, each in its own long-lived Node process pinned to the SUT core
// (own heap and JIT, like a fresh process per cell), used by bench/sdk.mjs and bench/ab-call.mjs.
//
// The coordinator hands the turn around in short batches (e.g. 100 calls, or one 20,000-chunk
// stream): one batch per client per round, in a fresh random order every round. A
// change in the machine's load (other engineers' builds and benchmarks share the 2 cores) then
// lands on every client within a fraction of a second instead of on whichever cell happened to
// run at the time, and comparisons are made per round (client − fetch, edgellm ÷ openai in the
// same round) and summarised by median and quartiles over many rounds. Best-of-N over fresh
// processes, which this replaces, let single cells swing by ±50 % between runs.
import { spawn } from "node:child_process";
import path from "node:path";
import { BENCH_DIR, SUT_CORE } from "../lib/common.mjs";

/**
 * Starts `bench/sdk/client.mjs <lib> <scenario> <upstream> --serve` pinned to the SUT core.
 * Returns { key, lib, scenario, child, ready: Promise<msg>, run(n): Promise<msg>, stop() };
 * a message with `error` means the client failed (it is not asked again).
 */
export function startClient({ key, lib, scenario, upstream, env = {}, every = 1, batchTimeoutMs = 120_000 }) {
  const child = spawn(
    "taskset",
    ["-c", SUT_CORE, process.execPath, path.join(BENCH_DIR, "sdk/client.mjs"), lib, scenario, upstream, "--serve"],
    // taskset execs node, so the IPC channel is node's. Own process group: cleanupOnExit kills -pid.
    { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe", "ipc"], detached: true },
  );
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const waiting = [];
  let gone = null;
  const fail = (why) => ({ error: `${why}\n${stderr.slice(-1500)}` });
  child.on("message", (m) => waiting.shift()?.(m));
  child.on("error", (e) => (gone ??= `spawn failed: ${e.message}`));
  child.on("exit", (code, sig) => {
    gone ??= `client exited (${code ?? sig})`;
    while (waiting.length) waiting.shift()(fail(gone));
  });
  const next = (ms) =>
    gone
      ? Promise.resolve(fail(gone))
      : new Promise((resolve) => {
          const t = setTimeout(() => {
            gone = `no answer within ${ms} ms`;
            child.kill("SIGKILL");
          }, ms);
          waiting.push((m) => {
            clearTimeout(t);
            resolve(m);
          });
        });
  const client = {
    key,
    lib,
    scenario,
    child,
    every,
    ready: next(batchTimeoutMs),
    run(n) {
      if (gone) return Promise.resolve(fail(gone));
      const p = next(batchTimeoutMs);
      child.send({ n });
      return p;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      gone ??= "stopped";
      try {
        child.send({ stop: true });
      } catch {}
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    },
  };
  return client;
}

/**
 * Rounds of turn-taking: in each round every live client runs one batch of `n`, in a fresh
 * random order. (With a rotating order each client always followed the same one, and an A/A run
 * of two identical builds came out at 0.86 instead of 1.00: what the previous process leaves
 * running or evicts from the caches must not line up with one client; shuffled, the same A/A
 * gave 1.00.) A client with `every: k` takes part in every k-th round only (clients that no
 * verdict compares, so that the others get more rounds in the same time).
 * Rounds are discarded until `warmSeconds` have passed (and at least one). Stops once `seconds`
 * more have passed and at least `minRounds` rounds are kept, or after `maxSeconds` in any case.
 * Returns { rounds, seconds, results: Map(key → array indexed by round: batch msg or undefined) }
 * and sets client.error on clients that failed.
 */
export async function takeTurns(clients, { n, seconds, minRounds = 8, maxSeconds = seconds * 2, warmSeconds = 0, onRound }) {
  const results = new Map(clients.map((c) => [c.key, []]));
  for (const c of clients) {
    const m = await c.ready;
    if (m.error) c.error = m.error;
  }
  const rand = xorshift(0x9e3779b9);
  const tw = performance.now();
  let t0 = null;
  let kept = 0;
  for (let r = 0; ; r++) {
    // The first round that starts after the warm-up is kept round 0.
    const warm = t0 === null && (r === 0 || performance.now() - tw < warmSeconds * 1000);
    if (!warm) t0 ??= performance.now();
    const elapsed = warm ? 0 : (performance.now() - t0) / 1000;
    if ((elapsed >= seconds && kept >= minRounds) || elapsed >= maxSeconds) break;
    if (clients.every((c) => c.error)) break;
    const live = clients.filter((c) => !c.error && (warm || kept % c.every === 0));
    for (const c of shuffle(live, rand)) {
      const m = await c.run(n);
      if (m.error) c.error = m.error;
      else if (!warm) results.get(c.key)[kept] = m;
    }
    if (warm) continue;
    kept++;
    onRound?.(kept, results);
  }
  return { rounds: kept, seconds: t0 === null ? 0 : (performance.now() - t0) / 1000, results };
}

/** Fisher–Yates shuffle of a copy of `items`, drawing from `rand` (uniform in [0, 1)). */
function shuffle(items, rand) {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** A small seeded PRNG (xorshift32), so a run's turn order is reproducible. */
function xorshift(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/** Quartiles of the finite numbers in `values`: { median, q1, q3, min, max, n } (nulls if none). */
export function quartiles(values) {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return { median: null, q1: null, q3: null, min: null, max: null, n: 0 };
  // Linear interpolation between order statistics (the usual "type 7" quantile).
  const q = (f) => {
    const x = (s.length - 1) * f;
    const lo = Math.floor(x);
    return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (x - lo);
  };
  return { median: q(0.5), q1: q(0.25), q3: q(0.75), min: s[0], max: s[s.length - 1], n: s.length };
}

/**
 * Per-round values of f(batch of a, batch of b) for the rounds where both ran (`b` may be null
 * for a per-round value of `a` alone).
 */
export function perRound(results, a, b, f) {
  const ra = results.get(a) ?? [];
  const rb = b ? results.get(b) ?? [] : [];
  const out = [];
  for (let r = 0; r < ra.length; r++) if (ra[r] && (!b || rb[r])) out.push(f(ra[r], rb[r]));
  return out;
}

/** CPU µs per call of one batch. */
export const cpuPerCall = (m) => m.cpu_us / m.n;
/** CPU ms per stream of one batch. */
export const cpuMsPerStream = (m) => m.cpu_us / 1000 / m.n;
