// Serves the gateway Worker through Miniflare on BENCH_PORT until killed (the way worker/test
// runs it), for the Miniflare row of the gateway benchmark.
import { Miniflare } from "miniflare";

const mf = new Miniflare({
  modules: true,
  scriptPath: process.env.BENCH_ENTRY,
  modulesRules: [
    { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
    { type: "CompiledWasm", include: ["**/*.wasm"] },
  ],
  compatibilityDate: "2025-09-01",
  compatibilityFlags: ["enable_request_signal"], // as worker/wrangler.toml
  kvNamespaces: ["EDGELLM_KV"],
  bindings: { EDGELLM_CONFIG: process.env.BENCH_CONFIG },
  cf: false,
  host: "127.0.0.1",
  port: Number(process.env.BENCH_PORT),
});
const url = await mf.ready;
console.log(`miniflare ready at ${url.href}`);
const stop = async () => {
  await mf.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// Bounded: a benchmark never needs the server for more than an hour.
setTimeout(stop, 3600_000).unref();
setInterval(() => {}, 1 << 30);
