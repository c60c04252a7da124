// Starts bench/lib/drip-server.mjs (an OpenAI SSE stream written one event per write, spaced
// `intervalMs` apart) on the load-generator core, for benches whose upstream must trickle.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LOAD_CORE } from "./common.mjs";

/** Returns { url, child, stop }; `child` is in its own process group (for cleanupOnExit). */
export async function startDrip({ intervalMs = 2, chunks = 100, lifetimeS = 900 } = {}) {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "drip-server.mjs");
  const child = spawn("taskset", ["-c", LOAD_CORE, process.execPath, script], {
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
    env: { ...process.env, DRIP_PORT: "0", DRIP_LIFETIME_S: String(lifetimeS), DRIP_INTERVAL_MS: String(intervalMs), DRIP_CHUNKS: String(chunks) },
  });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once("data", (d) => resolve(JSON.parse(d.toString()).port));
    child.once("exit", (c) => reject(new Error(`drip server exited ${c}`)));
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      return;
    }
    await exited;
  };
  return { url: `http://127.0.0.1:${port}`, child, stop };
}
