// Shared helpers for the benchmark scripts: process placement (taskset), ports, waiting for a
// server, percentiles, and the machine description that heads the report.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = fileURLToPath(new URL("..", import.meta.url));
export const ROOT = path.resolve(BENCH_DIR, "..");
export const OUT_DIR = path.join(BENCH_DIR, "out");

/** The core the system under test runs on, and the one for load generator + upstream. */
export const SUT_CORE = process.env.BENCH_SUT_CORE ?? "1";
export const LOAD_CORE = process.env.BENCH_LOAD_CORE ?? "0";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * `focus(target)` lets only `target` of `targets` run: every other target's process group is
 * stopped (SIGSTOP) and the target's continued (SIGCONT), so an idle neighbour's timers and GC
 * do not land inside its measurement. A target just thawed gets `settleMs` to run what its
 * timers owe before it is measured. `focus(null)` thaws all. Used by gateway.mjs and trickle.mjs.
 */
export function focuser(targets, settleMs) {
  let focused = null;
  return async function focus(target) {
    if (focused === target && target !== null) return;
    for (const t of targets) {
      if (!t.child || t.child.exitCode !== null || t.child.signalCode !== null) continue;
      try {
        process.kill(-t.child.pid, target === null || t === target ? "SIGCONT" : "SIGSTOP");
      } catch {}
    }
    focused = target;
    if (target?.child) await sleep(settleMs);
  };
}

/** A free TCP port on 127.0.0.1 (bound and released; fine for a single-user benchmark). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port, or throws after `ms`. */
export async function waitForPort(port, ms = 30_000, child) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before listening on ${port}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect({ port, host: "127.0.0.1" }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${ms} ms`);
}

/**
 * Spawns `cmd args` pinned to `core` with taskset, in its own process group so that stop()
 * ends it and its children. stdout/stderr go to `log` (a file path) when given.
 */
export function spawnPinned(core, cmd, args, { log, env, cwd } = {}) {
  const fd = log ? fs.openSync(log, "a") : "ignore";
  const child = spawn("taskset", ["-c", String(core), cmd, ...args], {
    cwd: cwd ?? ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", fd, fd],
    detached: true,
  });
  if (typeof fd === "number") fs.closeSync(fd);
  child.stop = () => stopGroup(child);
  return child;
}

/** Ends a process group started by spawnPinned: SIGTERM, then SIGKILL after 3 s. */
export async function stopGroup(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid, "SIGTERM");
    // A group gateway.mjs froze (SIGSTOP) acts on the SIGTERM only once continued.
    process.kill(-child.pid, "SIGCONT");
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }, 3000);
  await exited;
  clearTimeout(t);
}

/** Every pid in the process tree under `pid` (inclusive), from /proc. */
export function processTree(pid) {
  const children = new Map();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch {}
  }
  const out = [];
  const walk = (p) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** CPU time (user + system) in ms used so far by every process in the tree under `pid`. */
export function treeCpuMs(pid) {
  const hz = 100; // USER_HZ: 100 on Linux x86-64
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    } catch {}
  }
  return (ticks * 1000) / hz;
}

/** Resident set size in KiB of one pid (VmRSS), or 0 if it is gone. */
export function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The command name of a pid (/proc/pid/comm). */
export function comm(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** p-th percentile (0..100) of a numeric array, nearest-rank on a sorted copy. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank];
}

export const median = (v) => percentile(v, 50);

/** Runs a command and returns its stdout, or "" if it fails. */
export function tryExec(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

/** The machine and toolchain this run measured on, for the report's header. */
export function machine() {
  const cpu = os.cpus();
  const pkgVersion = (dir) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;
    } catch {
      return "not installed";
    }
  };
  return {
    date: new Date().toISOString(),
    cpu: `${cpu[0]?.model ?? "?"} × ${cpu.length} (${cpu[0]?.speed ?? "?"} MHz)`,
    memory_gib: (os.totalmem() / 2 ** 30).toFixed(1),
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    os: tryExec("sh", ["-c", ". /etc/os-release && echo $PRETTY_NAME"]),
    node: process.version,
    python: tryExec("python3", ["--version"]),
    wrk: tryExec("sh", ["-c", "wrk -v 2>&1 | head -1"]),
    nginx: tryExec("sh", ["-c", "nginx -v 2>&1"]),
    workerd: tryExec(path.join(ROOT, "node_modules/.bin/workerd"), ["--version"]),
    wrangler: pkgVersion(path.join(ROOT, "node_modules/wrangler")),
    miniflare: pkgVersion(path.join(ROOT, "node_modules/miniflare")),
    portkey: pkgVersion(path.join(BENCH_DIR, "node_modules/@portkey-ai/gateway")),
    openai: pkgVersion(path.join(BENCH_DIR, "node_modules/openai")),
    ai: pkgVersion(path.join(BENCH_DIR, "node_modules/ai")),
    ai_sdk_openai: pkgVersion(path.join(BENCH_DIR, "node_modules/@ai-sdk/openai")),
    ai_sdk_anthropic: pkgVersion(path.join(BENCH_DIR, "node_modules/@ai-sdk/anthropic")),
    litellm: tryExec(path.join(BENCH_DIR, ".venv/bin/python"), [
      "-c",
      "import importlib.metadata as m; print(m.version('litellm'))",
    ]),
    edgellm: pkgVersion(path.join(ROOT, "pkg")),
    git: tryExec("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"]) +
      (tryExec("git", ["-C", ROOT, "status", "--porcelain", "--untracked-files=no"]) ? " (+ uncommitted changes)" : ""),
    cpu_governor: tryExec("sh", ["-c", "cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null"]),
    load_before: os.loadavg().map((x) => x.toFixed(2)).join(" "),
  };
}

/** Writes `data` as JSON to bench/out/<name>.json and returns the path. */
export function writeResult(name, data) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + "\n");
  return file;
}

/** Kills every child in `children` on exit and on SIGINT/SIGTERM, so no server outlives a run. */
export function cleanupOnExit(children) {
  const killAll = () => {
    for (const c of children) {
      try {
        process.kill(-c.pid, "SIGKILL");
      } catch {}
    }
  };
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}
