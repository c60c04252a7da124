// Local mocks of the logging services' ingestion endpoints, for the SDK (Node) and gateway
// (workerd) logging tests. One server on 127.0.0.1 (random port); the first path segment names
// the service, so each integration's base URL is `${server.url}/<service>`:
//
//   POST /langfuse/api/public/ingestion     Basic auth; {batch: [{id, timestamp, type, body}]} → 207
//   POST /lunary/v1/runs/ingest             Bearer; {events: [{type, event, runId, timestamp}]}
//   POST /mlflow/api/3.0/mlflow/traces      {trace: {trace_info}} → trace_info + artifact location tag
//   PUT  /mlflow/api/2.0/mlflow-artifacts/artifacts/<location>/traces.json   {spans: [...]}
//   POST /helicone/custom/v1/log            Bearer; {providerRequest, providerResponse, timing}
//   POST /promptlayer/log-request           X-API-KEY; {provider, model, input, output, …}
//   POST /otel/v1/traces                    OTLP/HTTP JSON: {resourceSpans: [...]}
//   POST /slack/<anything>                  {text}
//   POST /webhook/<anything>                any JSON
//   *    /dead/...                          never answers (a hung logger)
//   *    /broken/...                        500 every time
//
// Each service checks the request shape its public API documents (the fields these tests rely
// on) and answers 400 with the reasons when it does not match, so a wrong shape fails loudly.
// Records: { service, method, path, headers, body, json, problems }.
import http from "node:http";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const iso = (s) => typeof s === "string" && !Number.isNaN(Date.parse(s)) && /T.*Z$/.test(s);

/** Shape checks per service: each returns a list of problems (empty when valid). */
const CHECKS = {
  langfuse(r) {
    const p = [];
    if (!/^Basic [A-Za-z0-9+/=]+$/.test(r.headers.authorization ?? "")) p.push("basic auth required");
    if (!Array.isArray(r.json?.batch)) return [...p, "batch must be an array"];
    for (const e of r.json.batch) {
      if (typeof e.id !== "string" || !iso(e.timestamp) || !isObj(e.body)) p.push(`bad envelope ${JSON.stringify(e).slice(0, 80)}`);
      if (!["trace-create", "generation-create", "span-create", "event-create"].includes(e.type)) p.push(`unknown type ${e.type}`);
      if (e.type === "generation-create" && (typeof e.body.traceId !== "string" || !iso(e.body.startTime))) p.push("generation needs traceId, startTime");
    }
    return p;
  },
  lunary(r) {
    const p = [];
    if (!/^Bearer \S+$/.test(r.headers.authorization ?? "")) p.push("bearer public key required");
    const events = r.json?.events;
    if (!Array.isArray(events)) return [...p, "events must be an array"];
    for (const e of events) {
      if (e.type !== "llm" || !["start", "end", "error"].includes(e.event)) p.push(`bad event ${e.type}/${e.event}`);
      if (!/^[0-9a-f-]{36}$/.test(e.runId ?? "")) p.push("runId must be a UUID");
      if (!iso(e.timestamp)) p.push("timestamp must be ISO 8601");
    }
    return p;
  },
  mlflow(r) {
    if (r.method === "PUT") {
      return Array.isArray(r.json?.spans) && r.path.endsWith("/traces.json") ? [] : ["PUT traces.json with {spans}"];
    }
    const info = r.json?.trace?.trace_info;
    const p = [];
    if (!isObj(info)) return ["trace.trace_info required"];
    if (!/^tr-[0-9a-f]{32}$/.test(info.trace_id ?? "")) p.push("trace_id must be tr-<32 hex>");
    if (info.trace_location?.type !== "MLFLOW_EXPERIMENT") p.push("trace_location.type");
    if (!iso(info.request_time)) p.push("request_time");
    if (!["OK", "ERROR"].includes(info.state)) p.push("state");
    for (const [k, v] of Object.entries(info.trace_metadata ?? {})) if (typeof v !== "string") p.push(`trace_metadata.${k} must be a string`);
    return p;
  },
  helicone(r) {
    const p = [];
    if (!/^Bearer \S+$/.test(r.headers.authorization ?? "")) p.push("bearer key required");
    const b = r.json ?? {};
    if (!isObj(b.providerRequest) || typeof b.providerRequest.url !== "string" || !isObj(b.providerRequest.json)) p.push("providerRequest {url, json}");
    for (const v of Object.values(b.providerRequest?.meta ?? {})) if (typeof v !== "string") p.push("meta values must be strings");
    if (!isObj(b.providerResponse) || typeof b.providerResponse.status !== "number") p.push("providerResponse {json, status}");
    for (const t of ["startTime", "endTime"]) {
      if (typeof b.timing?.[t]?.seconds !== "number" || typeof b.timing?.[t]?.milliseconds !== "number") p.push(`timing.${t}`);
    }
    return p;
  },
  promptlayer(r) {
    const p = [];
    if (!r.headers["x-api-key"]) p.push("X-API-KEY required");
    const b = r.json ?? {};
    if (typeof b.provider !== "string" || typeof b.model !== "string") p.push("provider and model required");
    for (const side of ["input", "output"]) {
      if (b[side]?.type !== "chat" || !Array.isArray(b[side]?.messages)) p.push(`${side} must be a chat template`);
      for (const m of b[side]?.messages ?? []) if (!Array.isArray(m.content)) p.push(`${side} content must be blocks`);
    }
    if (!iso(b.request_start_time) || !iso(b.request_end_time)) p.push("request times");
    if (!["SUCCESS", "WARNING", "ERROR"].includes(b.status)) p.push("status");
    return p;
  },
  otel(r) {
    const p = [];
    if (!(r.headers["content-type"] ?? "").startsWith("application/json")) p.push("OTLP JSON content-type");
    const rs = r.json?.resourceSpans;
    if (!Array.isArray(rs)) return [...p, "resourceSpans required"];
    for (const s of rs.flatMap((x) => x.scopeSpans ?? []).flatMap((x) => x.spans ?? [])) {
      if (!/^[0-9a-f]{32}$/.test(s.traceId) || !/^[0-9a-f]{16}$/.test(s.spanId)) p.push("hex trace/span ids");
      if (!/^\d+$/.test(s.startTimeUnixNano) || !/^\d+$/.test(s.endTimeUnixNano)) p.push("unix nano strings");
      for (const a of s.attributes ?? []) if (typeof a.key !== "string" || !isObj(a.value)) p.push("KeyValue attributes");
    }
    return p;
  },
  slack(r) {
    return typeof r.json?.text === "string" && r.json.text.length > 0 ? [] : ["{text} required"];
  },
  webhook(r) {
    return r.json === undefined && !r.body.includes("\n") ? ["JSON body required"] : [];
  },
};

function answer(rec) {
  const ok = (body, status = 200) => ({ status, body });
  switch (rec.service) {
    case "langfuse":
      return ok({ successes: rec.json.batch.map((e) => ({ id: e.id, status: 201 })), errors: [] }, 207);
    case "lunary":
      return ok({ results: rec.json.events.map((e) => ({ id: e.runId, success: true })) });
    case "mlflow":
      if (rec.method === "PUT") return ok({});
      {
        const info = rec.json.trace.trace_info;
        const exp = info.trace_location?.mlflow_experiment?.experiment_id ?? "0";
        const tags = { ...info.tags, "mlflow.artifactLocation": `mlflow-artifacts:/${exp}/traces/${info.trace_id}/artifacts` };
        return ok({ trace: { trace_info: { ...info, tags } } });
      }
    case "promptlayer":
      return ok({ id: 1, prompt_version: null, status: "SUCCESS", error_type: null, error_message: null });
    case "otel":
      return ok({ partialSuccess: {} });
    case "slack":
      return { status: 200, text: "ok" };
    default:
      return ok({});
  }
}

/** Starts the ingestion mock. */
export async function startIngestServer() {
  const records = [];
  const waiters = new Set();
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString("utf8");
    let json;
    try {
      json = body ? JSON.parse(body) : undefined;
    } catch {
      json = undefined;
    }
    const path = req.url.split("?")[0];
    const service = path.split("/")[1];
    const rec = { service, method: req.method, path, headers: { ...req.headers }, body, json, problems: [] };
    records.push(rec);
    for (const w of waiters) w();
    if (service === "dead") return; // never answers; closed when the client gives up
    if (service === "broken") {
      res.writeHead(500, { "content-type": "application/json" });
      res.end('{"error":"broken"}');
      return;
    }
    const check = CHECKS[service];
    rec.problems = check ? check(rec) : [`unknown service ${service}`];
    if (rec.problems.length > 0) {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: rec.problems }));
      return;
    }
    const a = answer(rec);
    if (a.text !== undefined) {
      res.writeHead(a.status, { "content-type": "text/plain" });
      res.end(a.text);
    } else {
      res.writeHead(a.status, { "content-type": "application/json" });
      res.end(JSON.stringify(a.body));
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    records,
    /** Records of one service. */
    of: (service) => records.filter((r) => r.service === service),
    /** Resolves once `pred(records)` holds (rejects after `timeoutMs`). */
    async waitFor(pred, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (!pred(records)) {
        if (Date.now() > until) throw new Error(`ingest mock: condition not met after ${timeoutMs} ms (${records.length} records)`);
        await new Promise((r) => {
          waiters.add(r);
          setTimeout(r, 50);
        }).finally(() => waiters.clear());
      }
      return records;
    },
    reset() {
      records.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
    sleep,
  };
}

/** The environment that points every integration at the mock (LiteLLM's variable names). */
export function ingestEnv(url) {
  return {
    LANGFUSE_PUBLIC_KEY: "pk-lf-test",
    LANGFUSE_SECRET_KEY: "sk-lf-test",
    LANGFUSE_HOST: `${url}/langfuse`,
    LUNARY_PUBLIC_KEY: "lunary-pk-test",
    LUNARY_API_URL: `${url}/lunary`,
    MLFLOW_TRACKING_URI: `${url}/mlflow`,
    MLFLOW_EXPERIMENT_ID: "3",
    HELICONE_API_KEY: "sk-helicone-test",
    HELICONE_API_BASE: `${url}/helicone`,
    PROMPTLAYER_API_KEY: "pl-test",
    PROMPTLAYER_API_BASE: `${url}/promptlayer`,
    TRACELOOP_BASE_URL: `${url}/otel`,
    TRACELOOP_API_KEY: "tl-test",
    SLACK_WEBHOOK_URL: `${url}/slack/T000/B000/hook`,
    GENERIC_LOGGER_ENDPOINT: `${url}/webhook/logs`,
    GENERIC_LOGGER_HEADERS: "Authorization=Bearer wh-test",
  };
}

/**
 * What each integration must have received for one call, checked against the request shapes
 * of the services' public APIs. `kind` is "success", "failure" or "stream"; `want` holds the
 * call's expected facts: { model, userText, output, promptTokens, completionTokens, error }.
 * Throws (node:assert) on a mismatch.
 */
export async function assertDelivered(assert, ingest, service, kind, want) {
  const recs = ingest.of(service);
  for (const r of recs) assert.deepEqual(r.problems, [], `${service}: request shape problems`);
  const failed = kind === "failure";
  const attr = (span, key) => span.attributes.find((a) => a.key === key)?.value;
  switch (service) {
    case "langfuse": {
      assert.equal(recs.length, 1, "one ingestion batch");
      const [trace, gen] = recs[0].json.batch;
      assert.equal(trace.type, "trace-create");
      assert.equal(gen.type, "generation-create");
      assert.equal(gen.body.traceId, trace.body.id);
      assert.equal(gen.body.model, want.model);
      assert.equal(gen.body.input.at(-1).content, want.userText);
      if (failed) {
        assert.equal(gen.body.level, "ERROR");
        assert.ok(gen.body.statusMessage.includes(want.error), gen.body.statusMessage);
      } else {
        assert.equal(gen.body.level, "DEFAULT");
        assert.equal(gen.body.output.content, want.output);
        assert.equal(gen.body.usageDetails.output, want.completionTokens);
        assert.equal(typeof gen.body.costDetails.total, "number");
      }
      if (kind === "stream") assert.ok(gen.body.completionStartTime <= gen.body.endTime);
      break;
    }
    case "lunary": {
      assert.equal(recs.length, 1);
      const [start, end] = recs[0].json.events;
      assert.equal(start.event, "start");
      assert.equal(start.name, want.model);
      assert.equal(end.runId, start.runId);
      if (failed) {
        assert.equal(end.event, "error");
        assert.ok(end.error.message.includes(want.error));
      } else {
        assert.equal(end.event, "end");
        assert.equal(end.output.content, want.output);
        assert.deepEqual(end.tokensUsage, { prompt: want.promptTokens, completion: want.completionTokens });
      }
      break;
    }
    case "mlflow": {
      assert.equal(recs.length, 2, "StartTraceV3 then the span upload");
      const [start, put] = recs;
      assert.equal(start.method, "POST");
      assert.equal(put.method, "PUT");
      const info = start.json.trace.trace_info;
      assert.equal(info.state, failed ? "ERROR" : "OK");
      assert.equal(info.trace_location.mlflow_experiment.experiment_id, "3");
      assert.ok(put.path.includes(`/traces/${info.trace_id}/artifacts/traces.json`));
      const span = put.json.spans[0];
      assert.equal(span.status.code, failed ? "STATUS_CODE_ERROR" : "STATUS_CODE_OK");
      const inputs = JSON.parse(span.attributes["mlflow.spanInputs"]);
      assert.equal(inputs.messages.at(-1).content, want.userText);
      if (!failed) {
        const out = JSON.parse(span.attributes["mlflow.spanOutputs"]);
        assert.equal(out.choices[0].message.content, want.output);
      }
      break;
    }
    case "helicone": {
      assert.equal(recs.length, 1);
      const b = recs[0].json;
      assert.equal(b.providerRequest.json.model, want.model);
      assert.equal(b.providerRequest.json.messages.at(-1).content, want.userText);
      if (failed) assert.equal(b.providerResponse.status, 429);
      else assert.equal(b.providerResponse.json.choices[0].message.content, want.output);
      break;
    }
    case "promptlayer": {
      assert.equal(recs.length, 1);
      const b = recs[0].json;
      assert.equal(b.model, want.model);
      assert.deepEqual(b.input.messages.at(-1).content, [{ type: "text", text: want.userText }]);
      if (failed) {
        assert.equal(b.status, "ERROR");
        assert.equal(b.error_type, "PROVIDER_RATE_LIMIT");
      } else {
        assert.equal(b.status, "SUCCESS");
        assert.deepEqual(b.output.messages[0].content, [{ type: "text", text: want.output }]);
        assert.equal(b.output_tokens, want.completionTokens);
      }
      break;
    }
    case "otel": {
      assert.equal(recs.length, 1);
      assert.equal(recs[0].headers.authorization, "Bearer tl-test");
      const span = recs[0].json.resourceSpans[0].scopeSpans[0].spans[0];
      assert.equal(attr(span, "gen_ai.request.model").stringValue, want.model);
      assert.equal(attr(span, `gen_ai.prompt.${0}.role`).stringValue, "user");
      assert.equal(span.status.code, failed ? 2 : 1);
      if (!failed) {
        assert.equal(attr(span, "gen_ai.completion.0.content").stringValue, want.output);
        assert.equal(attr(span, "gen_ai.usage.output_tokens").intValue, String(want.completionTokens));
      }
      assert.equal(attr(span, "llm.is_streaming").stringValue, String(kind === "stream"));
      break;
    }
    case "slack": {
      if (!failed) {
        assert.equal(recs.length, 0, "Slack only hears about failures");
        break;
      }
      assert.equal(recs.length, 1);
      assert.ok(recs[0].json.text.startsWith("Alert type: `llm_exceptions`"), recs[0].json.text);
      assert.ok(recs[0].json.text.includes(want.error));
      break;
    }
    case "webhook": {
      assert.equal(recs.length, 1);
      assert.equal(recs[0].headers.authorization, "Bearer wh-test");
      const [p] = recs[0].json;
      assert.equal(p.status, failed ? "failure" : "success");
      assert.equal(p.stream, kind === "stream");
      assert.equal(p.messages.at(-1).content, want.userText);
      if (failed) assert.equal(p.error_information.error_class, "RateLimitError");
      else {
        assert.equal(p.response.choices[0].message.content, want.output);
        assert.equal(p.completion_tokens, want.completionTokens);
      }
      break;
    }
    default:
      assert.fail(`no expectations for ${service}`);
  }
}

export const SERVICES = ["langfuse", "lunary", "mlflow", "helicone", "promptlayer", "otel", "slack", "webhook"];
/** The callback name that reaches each service of the mock. */
export const CALLBACK = { otel: "traceloop" };
