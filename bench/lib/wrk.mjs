// Runs wrk (one thread, on the load-generator core) with bench/lib/post.lua and parses the
// BENCH_JSON line it prints.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BENCH_DIR, LOAD_CORE, OUT_DIR } from "./common.mjs";

const LUA = path.join(BENCH_DIR, "lib", "post.lua");

/**
 * @param {object} o
 * @param {string} o.url          full URL to POST to
 * @param {string} o.body         request body (JSON text)
 * @param {Record<string,string>} [o.headers]
 * @param {number} o.connections  concurrency (keep-alive connections)
 * @param {number} o.seconds      duration
 * @param {number} [o.timeout]    per-request timeout, seconds
 * @param {number} [o.delayMs]    think time per connection before each request (paced load)
 * @param {boolean} [o.hist]     also return every latency as `hist`: [[µs, count], ...] (to pool runs)
 * @returns {Promise<{requests, rps, errors, latency_ms: {p50, p90, p99, p999, mean, max}, bytes, hist?}>}
 */
export async function runWrk({ url, body, headers = {}, connections, seconds, timeout = 30, delayMs = 0, hist = false }) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const bodyFile = path.join(OUT_DIR, `wrk-body-${process.pid}.json`);
  fs.writeFileSync(bodyFile, body);
  const args = [
    "-c", String(LOAD_CORE), "wrk", "-t1", `-c${connections}`, `-d${seconds}s`,
    `--timeout`, `${timeout}s`, "-s", LUA, url,
  ];
  const env = {
    ...process.env,
    BENCH_BODY_FILE: bodyFile,
    BENCH_HEADERS: Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join("\n"),
    BENCH_DELAY_MS: String(delayMs),
    BENCH_HIST: hist ? "1" : "0",
  };
  const stdout = await new Promise((resolve, reject) => {
    execFile("taskset", args, { env, timeout: (seconds + timeout + 30) * 1000, maxBuffer: 1 << 20 }, (err, out, errOut) => {
      if (err) reject(new Error(`wrk failed: ${err.message}\n${errOut}`));
      else resolve(out);
    });
  }).finally(() => fs.rmSync(bodyFile, { force: true }));
  const line = stdout.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const r = JSON.parse(line.slice("BENCH_JSON ".length));
  const errs = r.errors;
  const ms = (us) => us / 1000;
  return {
    connections,
    seconds,
    requests: r.requests,
    rps: r.requests / (r.duration_us / 1e6),
    bytes: r.bytes,
    errors: errs.connect + errs.read + errs.write + errs.status + errs.timeout,
    error_detail: errs,
    latency_ms: {
      p50: ms(r.latency_us.p50),
      p90: ms(r.latency_us.p90),
      p99: ms(r.latency_us.p99),
      p999: ms(r.latency_us.p999),
      mean: ms(r.latency_us.mean),
      max: ms(r.latency_us.max),
      min: ms(r.latency_us.min),
    },
    ...(r.hist ? { hist: r.hist } : {}),
  };
}
