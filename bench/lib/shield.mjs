// Keeps the rest of the machine off the system-under-test core for a run (what `cset shield`
// does, without cpusets): every task that may run on that core and can be moved is given the
// other cores instead, and given its own CPU list back when the run ends. The gateways are
// started pinned to the SUT core afterwards; the load generator and upstream are pinned to the
// load core already. Per-CPU kernel threads (ksoftirqd/N, kworker/N:*, migration/N) cannot move
// and stay.
//
// A process started during the run by a moved task inherits the narrower list and keeps it
// (only the tasks moved are given theirs back); short-lived commands are unaffected.
//
// Why: a paced p99 is the tenth-worst of ~1,000 requests, so a few milliseconds of some other
// task on the SUT core decide it. Traced on the 2-vCPU VM (bench/prototypes/phase-trace.mjs,
// 2026-11-26): the sandbox's own agent (PID 1, threads `tokio-rt-worker`) ran 40 ms on the SUT
// core in a 10 s paced run, and DAMON's `kdamond` 1–6 ms, inside the measured requests of
// whichever target was up. Moving them is the same for every target.
import { execFileSync } from "node:child_process";
import fs from "node:fs";

/** The CPU list a task may run on ("0-1", "1"), or null if it is gone. */
function cpusOf(tid) {
  try {
    const status = fs.readFileSync(`/proc/${tid}/status`, "utf8");
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** "0-2,5" → [0, 1, 2, 5] */
function expand(list) {
  return list.split(",").flatMap((part) => {
    const [a, b = a] = part.split("-").map(Number);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

function setCpus(tid, list) {
  try {
    execFileSync("taskset", ["-pc", list, String(tid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Moves every movable task (all threads of all processes, this one included) off `core`, and
 * returns a function that moves each back to the CPU list it had. Best effort: a task that
 * cannot be moved (per-CPU kernel threads, no permission) is left where it is.
 * `BENCH_SHIELD=0` turns it off.
 * @returns {{ moved: number, restore: () => void }}
 */
export function shieldCore(core) {
  if (process.env.BENCH_SHIELD === "0" || !fs.existsSync("/proc/self/status")) return { moved: 0, restore: () => {} };
  const sut = Number(core);
  const moved = [];
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let tids;
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const list = cpusOf(tid);
      if (list === null) continue;
      const cpus = expand(list);
      if (!cpus.includes(sut)) continue;
      const rest = cpus.filter((c) => c !== sut);
      if (rest.length === 0) continue;
      if (setCpus(tid, rest.join(","))) moved.push([tid, list]);
    }
  }
  let restored = false;
  return {
    moved: moved.length,
    restore() {
      if (restored) return;
      restored = true;
      for (const [tid, list] of moved) setCpus(tid, list);
    },
  };
}
