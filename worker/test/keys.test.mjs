// Virtual keys in workerd (Miniflare with KV and Durable Objects), driven by the official
// openai client: the life of a key, budgets, expiry, model allow-lists, rpm/tpm limits,
// exact spend under concurrency (and streamed), budgets that hold under concurrency, and a
// KV dump without any plaintext key.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startKeysGateway, pico, picoOf, usagePrompt, MASTER_KEY } from "./keys-helpers.mjs";

let gw;

before(async () => {
  gw = await startKeysGateway();
});

after(async () => {
  await gw?.close();
});

const ask = (client, p, c, extra = {}) =>
  client.chat.completions.create({ model: "gpt", messages: usagePrompt(p, c), max_tokens: 50, ...extra });

test("life of a key: generate, use, info, spend log, update, delete", async () => {
  const [status, g] = await gw.admin("POST", "/key/generate", {
    key_alias: "life",
    models: ["gpt"],
    max_budget: 5,
    budget_duration: "30d",
    rpm_limit: 100,
    tpm_limit: 100000,
    user_id: "u-life",
    metadata: { purpose: "test" },
  });
  assert.equal(status, 200, JSON.stringify(g));
  const key = g.key;
  assert.match(key, /^sk-[A-Za-z0-9_-]{43}$/);
  assert.equal(g.key_name, `sk-...${key.slice(-4)}`);
  assert.equal(g.token.length, 64);
  assert.equal(g.max_budget, 5);
  assert.equal(g.budget_duration, "30d");
  assert.ok(g.budget_reset_at, "budget_reset_at is set");
  assert.deepEqual(g.models, ["gpt"]);
  assert.equal(g.user_id, "u-life");

  const client = gw.client(key);
  const { data, response } = await ask(client, 11, 7).withResponse();
  assert.equal(data.choices[0].message.content, "ok");
  assert.deepEqual(data.usage, { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
  assert.equal(response.headers.get("x-litellm-model-group"), "gpt");
  const up = gw.mock.requests.at(-1);
  assert.equal(up.headers.authorization, "Bearer sk-upstream-test", "the upstream gets the deployment key");
  assert.ok(!JSON.stringify(up.headers).includes(key), "the virtual key is not forwarded");

  const info = await gw.info(key);
  assert.equal(picoOf(info.spend_exact), pico(11, 7));
  assert.equal(info.spend, 0.000025);
  assert.equal(info.key_alias, "life");
  assert.deepEqual(info.metadata, { purpose: "test" });
  assert.equal(info.requests, 1);

  const [, logs] = await gw.admin("GET", `/spend/logs?api_key=${encodeURIComponent(key)}`);
  assert.equal(logs.length, 1);
  const log = logs[0];
  assert.equal(log.api_key, g.token);
  assert.equal(log.model, "gpt");
  assert.equal(log.model_group, "gpt");
  assert.equal(log.deployment, "openai/gpt-4o");
  assert.equal(log.total_tokens, 18);
  assert.equal(picoOf(log.spend_exact), pico(11, 7));
  assert.equal(log.status, "success");
  assert.equal(log.user, "u-life");
  assert.ok(Date.parse(log.startTime) <= Date.parse(log.endTime));
  assert.equal(log.request_id, response.headers.get("x-request-id"));

  const [, u] = await gw.admin("POST", "/key/update", { key, models: ["gpt", "other"], max_budget: 6 });
  assert.deepEqual(u.models, ["gpt", "other"]);
  assert.equal(u.max_budget, 6);
  await client.chat.completions.create({ model: "other", messages: usagePrompt(1, 1), max_tokens: 5 });

  const [, list] = await gw.admin("GET", "/key/list?key_alias=life");
  assert.deepEqual(list.keys, [g.token]);
  assert.equal(list.total_count, 1);
  const [, userInfo] = await gw.admin("GET", "/user/info?user_id=u-life");
  assert.equal(userInfo.keys.length, 1);
  assert.equal(picoOf(userInfo.user_info.spend_exact), pico(11, 7) + pico(1, 1));

  const [ds, del] = await gw.admin("POST", "/key/delete", { keys: [key] });
  assert.equal(ds, 200);
  assert.deepEqual(del.deleted_keys, [key]);
  await assert.rejects(ask(client, 1, 1), (e) => {
    assert.ok(e instanceof OpenAI.AuthenticationError, String(e));
    assert.equal(e.status, 401);
    assert.equal(e.error.type, "auth_error");
    return true;
  });
  const [is] = await gw.admin("GET", `/key/info?key=${key}`);
  assert.equal(is, 404);
});

test("management routes need the master key", async () => {
  const key = await gw.generate();
  for (const k of ["sk-wrong", key]) {
    const [status, j] = await gw.admin("POST", "/key/generate", {}, k);
    assert.equal(status, 401, JSON.stringify(j));
  }
  const res = await fetch(`${gw.url}/key/list`);
  assert.equal(res.status, 401);
  await assert.rejects(ask(gw.client("sk-not-a-key"), 1, 1), OpenAI.AuthenticationError);
  // The master key keeps working on OpenAI endpoints.
  const out = await ask(gw.client(MASTER_KEY), 1, 1);
  assert.equal(out.choices[0].message.content, "ok");
});

test("budget exhaustion: refused with budget_exceeded until budget_duration resets it", async () => {
  // One call reserves ≤ ~$0.00017 (prompt bytes + 50 output tokens) and costs $0.00005.
  const key = await gw.generate({ max_budget: 0.0002, budget_duration: "3s" });
  const client = gw.client(key);
  let ok = 0;
  let refused;
  for (let i = 0; i < 10 && !refused; i++) {
    try {
      await ask(client, 10, 20);
      ok++;
    } catch (e) {
      refused = e;
    }
  }
  assert.ok(refused instanceof OpenAI.BadRequestError, String(refused));
  assert.equal(refused.status, 400);
  assert.equal(refused.error.type, "budget_exceeded");
  assert.match(refused.message, /Budget has been exceeded!/);
  const info = await gw.info(key);
  assert.equal(picoOf(info.spend_exact), BigInt(ok) * pico(10, 20));
  assert.ok(picoOf(info.spend_exact) <= 200_000_000n, "spend ≤ max_budget");
  await new Promise((r) => setTimeout(r, 3100));
  const again = await ask(client, 10, 20);
  assert.equal(again.choices[0].message.content, "ok", "the new budget period admits calls");
  assert.equal(picoOf((await gw.info(key)).spend_exact), pico(10, 20));
});

test("expiry: a key with duration is refused after it", async () => {
  const [, g] = await gw.admin("POST", "/key/generate", { duration: "2s" });
  const client = gw.client(g.key);
  assert.ok(Date.parse(g.expires) > Date.now());
  await ask(client, 1, 1);
  await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(g.expires) - Date.now()) + 100));
  await assert.rejects(ask(client, 1, 1), (e) => {
    assert.ok(e instanceof OpenAI.AuthenticationError, String(e));
    assert.equal(e.error.type, "expired_key");
    assert.match(e.message, /Expired Key/);
    return true;
  });
});

test("model allow-list: other models are refused and hidden from /v1/models", async () => {
  const key = await gw.generate({ models: ["gpt"] });
  const client = gw.client(key);
  await assert.rejects(
    client.chat.completions.create({ model: "other", messages: usagePrompt(1, 1), max_tokens: 5 }),
    (e) => {
      assert.ok(e instanceof OpenAI.AuthenticationError, String(e));
      assert.equal(e.error.type, "key_model_access_denied");
      assert.match(e.message, /Tried to access other/);
      return true;
    },
  );
  const models = [];
  for await (const m of client.models.list()) models.push(m.id);
  assert.deepEqual(models, ["gpt"]);
  assert.equal((await ask(client, 1, 1)).choices[0].message.content, "ok");
});

test("rpm_limit and tpm_limit answer 429 with Retry-After", async () => {
  const rpmKey = await gw.generate({ rpm_limit: 3 });
  const client = gw.client(rpmKey);
  for (let i = 0; i < 3; i++) await ask(client, 1, 1);
  await assert.rejects(ask(client, 1, 1), (e) => {
    assert.ok(e instanceof OpenAI.RateLimitError, String(e));
    assert.equal(e.status, 429);
    assert.equal(e.error.type, "throttling_error");
    const after = Number(e.headers.get("retry-after"));
    assert.ok(after >= 1 && after <= 60, `retry-after ${after}`);
    assert.match(e.message, /Limit type: requests\. Current limit: 3/);
    return true;
  });

  const tpmKey = await gw.generate({ tpm_limit: 100 });
  const t = gw.client(tpmKey);
  await ask(t, 60, 40);
  await assert.rejects(ask(t, 1, 1), (e) => {
    assert.ok(e instanceof OpenAI.RateLimitError, String(e));
    assert.ok(Number(e.headers.get("retry-after")) >= 1);
    assert.match(e.message, /Limit type: tokens/);
    return true;
  });
});

test("200 concurrent requests on one key: the spend is exactly the sum of their costs", async () => {
  const key = await gw.generate({ key_alias: "concurrency" });
  const client = gw.client(key);
  const usages = Array.from({ length: 200 }, (_, i) => [7 + (i % 13), 3 + ((i * 7) % 29)]);
  const t0 = performance.now();
  const results = await Promise.allSettled(usages.map(([p, c]) => ask(client, p, c)));
  const ms = performance.now() - t0;
  const failed = results.filter((r) => r.status === "rejected");
  assert.equal(failed.length, 0, String(failed[0]?.reason));
  const expected = usages.reduce((sum, [p, c]) => sum + pico(p, c), 0n);
  const info = await gw.info(key);
  assert.equal(picoOf(info.spend_exact), expected, `spend ${info.spend_exact}`);
  assert.equal(info.requests, 200);
  assert.equal(info.reserved_exact, "0.000000000000");
  assert.equal(info.prompt_tokens, usages.reduce((s, [p]) => s + p, 0));
  const [, logs] = await gw.admin("GET", `/spend/logs?api_key=${encodeURIComponent(key)}&limit=1000`);
  assert.equal(logs.length, 200);
  assert.equal(logs.reduce((s, l) => s + picoOf(l.spend_exact), 0n), expected);
  console.log(
    `# concurrency: 200 requests in ${ms.toFixed(0)} ms; spend ${info.spend_exact} = Σ ${expected} pico-dollars`,
  );
});

test("with max_tokens on every request, concurrent requests never push spend past max_budget", async () => {
  // Each call reserves its worst case (prompt bytes + 50 output tokens at list price) and
  // costs $0.00011 (the upstream reports 10 prompt and 50 completion tokens).
  const budget = 1_000_000_000n; // $0.001
  const key = await gw.generate({ max_budget: "0.001" });
  const client = gw.client(key);
  const t0 = performance.now();
  const results = await Promise.allSettled(Array.from({ length: 60 }, () => ask(client, 10, 50)));
  const ms = performance.now() - t0;
  const ok = results.filter((r) => r.status === "fulfilled").length;
  const refused = results.filter((r) => r.status === "rejected");
  for (const r of refused) {
    assert.ok(r.reason instanceof OpenAI.BadRequestError, String(r.reason));
    assert.equal(r.reason.error.type, "budget_exceeded");
  }
  assert.ok(ok >= 1 && refused.length >= 1, `${ok} admitted`);
  const info = await gw.info(key);
  const spend = picoOf(info.spend_exact);
  assert.equal(spend, BigInt(ok) * pico(10, 50));
  assert.ok(spend <= budget, `spend ${info.spend_exact} ≤ max_budget 0.001`);
  // Sequential calls go on until what is left cannot hold one more worst case.
  let more = 0;
  for (;;) {
    try {
      await ask(client, 10, 50);
      more++;
    } catch (e) {
      assert.equal(e.error?.type, "budget_exceeded", String(e));
      break;
    }
  }
  const final = picoOf((await gw.info(key)).spend_exact);
  assert.ok(final <= budget, `final spend ${final} ≤ ${budget}`);
  console.log(
    `# budget: 60 concurrent → ${ok} admitted in ${ms.toFixed(0)} ms, ${more} more sequentially; final spend ${final} ≤ ${budget} pico-dollars`,
  );
});

test("streamed requests are booked from the stream's usage", async () => {
  const key = await gw.generate({ max_budget: 1 });
  const client = gw.client(key);
  const stream = await client.chat.completions.create({
    model: "gpt",
    messages: usagePrompt(23, 9),
    max_tokens: 20,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let usage;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, "streamed");
  assert.deepEqual(usage, { prompt_tokens: 23, completion_tokens: 9, total_tokens: 32 });
  const info = await gw.info(key);
  assert.equal(picoOf(info.spend_exact), pico(23, 9));
  assert.equal(info.reserved_exact, "0.000000000000");
  const [, logs] = await gw.admin("GET", `/spend/logs?api_key=${encodeURIComponent(key)}`);
  assert.equal(logs[0].stream, true);
  assert.equal(logs[0].completion_tokens, 9);

  // 20 concurrent streams: still exact.
  const usages = Array.from({ length: 20 }, (_, i) => [5 + i, 2 + (i % 5)]);
  await Promise.all(
    usages.map(async ([p, c]) => {
      const s = await client.chat.completions.create({ model: "gpt", messages: usagePrompt(p, c), max_tokens: 20, stream: true });
      for await (const _ of s);
    }),
  );
  // The client did not ask for usage; the gateway asked the upstream for it anyway.
  const up = gw.mock.requests.at(-1).json;
  assert.equal(up.stream_options?.include_usage, true, JSON.stringify(up));
  const expected = usages.reduce((sum, [p, c]) => sum + pico(p, c), pico(23, 9));
  assert.equal(picoOf((await gw.info(key)).spend_exact), expected);
});

test("users and teams: budgets of their own, shared by their keys", async () => {
  const [us, user] = await gw.admin("POST", "/user/new", { user_id: "u-budget", max_budget: 0.0003 });
  assert.equal(us, 200, JSON.stringify(user));
  const [ts, team] = await gw.admin("POST", "/team/new", { team_alias: "t", tpm_limit: 1000000 });
  assert.equal(ts, 200, JSON.stringify(team));
  const teamKey = await gw.generate({ user_id: "u-budget", team_id: team.team_id });
  await ask(gw.client(user.key), 10, 50); // $0.00011
  await ask(gw.client(teamKey), 10, 50); // $0.00011
  await assert.rejects(ask(gw.client(teamKey), 10, 50), (e) => {
    assert.equal(e.error?.type, "budget_exceeded");
    assert.match(e.message, /User=u-budget/);
    return true;
  });
  const [, ui] = await gw.admin("GET", "/user/info?user_id=u-budget");
  assert.equal(picoOf(ui.user_info.spend_exact), 2n * pico(10, 50));
  const [, ti] = await gw.admin("GET", `/team/info?team_id=${team.team_id}`);
  assert.equal(picoOf(ti.team_info.spend_exact), pico(10, 50));
  assert.equal(ti.keys.length, 1);
});

test("global spend equals the sum of every key's spend", async () => {
  const [, list] = await gw.admin("GET", "/key/list?return_full_object=true&size=1000");
  const [, global] = await gw.admin("GET", "/global/spend");
  // Deleted keys are gone from the list; their spend stays in the global total.
  const listed = list.keys.reduce((s, k) => s + picoOf(k.spend_total_exact), 0n);
  assert.ok(picoOf(global.spend_exact) >= listed);
  const [, days] = await gw.admin("GET", "/global/spend/logs");
  assert.equal(days.reduce((s, d) => s + picoOf(d.spend_exact), 0n), picoOf(global.spend_exact));
  assert.ok(global.requests > 200);
});

test("a KV dump holds no plaintext key", async () => {
  const key = await gw.generate({ key_alias: "dump" });
  await ask(gw.client(key), 2, 2);
  const kv = await gw.mf.getKVNamespace("EDGELLM_KV");
  let cursor;
  let names = 0;
  do {
    const page = await kv.list({ cursor });
    for (const k of page.keys) {
      names++;
      const value = await kv.get(k.name);
      for (const text of [k.name, value ?? "", JSON.stringify(k.metadata ?? null)]) {
        assert.ok(!text.includes(key), `plaintext key in ${k.name}`);
        assert.ok(!/sk-[A-Za-z0-9_-]{43}/.test(text), `a plaintext-looking key in ${k.name}`);
      }
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  assert.ok(names > 10, `${names} KV entries checked`);
});
