// Cold start in a fresh Node process (run by bench/sdk.mjs, many times): the time from this
// module starting to the first call's result, split into loading the library (for edgellm:
// reading + compiling + instantiating the wasm) and the first call.
//
//   node bench/sdk/coldstart.mjs <mode> [upstream-url]
// mode: edgellm-mock (first call answered by mock_response: no network), edgellm, openai,
//       ai-sdk (first call to the local upstream), empty (nothing: the harness floor)
// Prints one JSON line: { mode, load_ms, first_call_ms, total_ms, cpu_ms, load_cpu_ms }.
import { performance } from "node:perf_hooks";

const [mode, upstream] = process.argv.slice(2);
const t0 = performance.now();
const c0 = process.cpuUsage();
const messages = [{ role: "user", content: "Say something about foxes and dogs." }];
const KEY = "sk-bench-not-a-real-key";
let call;
switch (mode) {
  case "empty":
    call = async () => "";
    break;
  case "edgellm-mock":
  case "edgellm": {
    // BENCH_PKG: another build of the package (an A/B of a change, or a build with wasm names).
    const { completion } = await import(process.env.BENCH_PKG ?? "../../pkg/node.js");
    const params = mode === "edgellm-mock"
      ? { model: "openai/gpt-4o-mini", messages, mock_response: "Hello from the mock" }
      : { model: "openai/gpt-4o-mini", messages, api_base: `${upstream}/json/v1`, api_key: KEY };
    call = async () => (await completion(params)).choices[0].message.content;
    break;
  }
  case "openai": {
    const { default: OpenAI } = await import("openai");
    const client = new OpenAI({ baseURL: `${upstream}/json/v1`, apiKey: KEY, maxRetries: 0 });
    call = async () => (await client.chat.completions.create({ model: "gpt-4o-mini", messages })).choices[0].message.content;
    break;
  }
  case "ai-sdk": {
    const { generateText } = await import("ai");
    const { createOpenAI } = await import("@ai-sdk/openai");
    const model = createOpenAI({ baseURL: `${upstream}/json/v1`, apiKey: KEY }).chat("gpt-4o-mini");
    call = async () => (await generateText({ model, messages, maxRetries: 0 })).text;
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
const t1 = performance.now();
const c1 = process.cpuUsage(c0);
const text = await call();
const t2 = performance.now();
const c = process.cpuUsage(c0);
if (mode !== "empty" && !text) throw new Error("empty answer");
// cpu_ms: CPU time of the process (all threads) from t0 to the answer: what the wall time would be
// on an otherwise idle core.
// load_cpu_ms: the part of it spent loading.
console.log(JSON.stringify({ mode, load_ms: t1 - t0, first_call_ms: t2 - t1, total_ms: t2 - t0, cpu_ms: (c.user + c.system) / 1000, load_cpu_ms: (c1.user + c1.system) / 1000 }));
