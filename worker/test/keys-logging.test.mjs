// Virtual keys and the gateway's logging, in workerd (Miniflare with KV and Durable Objects),
// driven by the official openai client, delivering to the local ingestion mocks
// (tests/mock/ingest.mjs): a virtual-key call (complete and streamed) reaches Langfuse and the
// webhook with the key's alias, user, team and metadata and the key's hash — never the key;
// a refused call is logged as a failure; a budget used up sends exactly one Slack alert however
// many calls it refuses; a soft budget alerts once when crossed.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import OpenAI from "openai";
import { startKeysGateway, usagePrompt, MASTER_KEY } from "./keys-helpers.mjs";
import { startIngestServer, ingestEnv } from "../../tests/mock/ingest.mjs";

let gw, ingest;

before(async () => {
  ingest = await startIngestServer();
  gw = await startKeysGateway({
    generalSettings: "alerting: [slack]",
    extraConfig: "litellm_settings: {success_callback: [langfuse, webhook], failure_callback: [langfuse, webhook]}\n",
    vars: ingestEnv(ingest.url),
  });
});

after(async () => {
  await gw?.close();
  await ingest?.close();
});

beforeEach(() => ingest.reset());

const sha256 = (s) => crypto.createHash("sha256").update(s).digest("hex");

// One call costs $0.00005 (10 prompt + 20 completion tokens) and reserves at most about
// $0.00009 (every prompt byte as a token, plus max_tokens).
const ask = (client, extra = {}) =>
  client.chat.completions.create({ model: "gpt", messages: usagePrompt(10, 20), max_tokens: 20, ...extra });

/** Call payloads the webhook received (arrays), and its budget alerts (objects). */
function webhook() {
  const recs = ingest.of("webhook");
  for (const r of recs) assert.deepEqual(r.problems, []);
  return {
    payloads: recs.filter((r) => Array.isArray(r.json)).flatMap((r) => r.json),
    alerts: recs.filter((r) => !Array.isArray(r.json)).map((r) => r.json),
  };
}

/** Langfuse generation bodies received. */
function generations() {
  const recs = ingest.of("langfuse");
  for (const r of recs) assert.deepEqual(r.problems, []);
  return recs.flatMap((r) => r.json.batch).filter((e) => e.type === "generation-create").map((e) => e.body);
}

function assertNoPlaintext(key) {
  for (const r of ingest.records) assert.ok(!r.body.includes(key), `${r.service} received the plaintext key`);
}

test("a virtual-key call is logged with the key's alias, user, team and metadata, and its hash only", async () => {
  const [ts] = await gw.admin("POST", "/team/new", {
    team_id: "t-log",
    team_alias: "core-platform",
    metadata: { cost_center: "cc-42" },
  });
  assert.equal(ts, 200);
  const key = await gw.generate({
    key_alias: "ci-bot",
    user_id: "u-log",
    team_id: "t-log",
    metadata: { env: "prod" },
    max_budget: 1,
  });
  const client = gw.client(key);
  const r = await ask(client);
  assert.equal(r.choices[0].message.content, "ok");
  const s = await ask(client, { stream: true, stream_options: { include_usage: true } });
  let text = "";
  for await (const c of s) text += c.choices[0]?.delta?.content ?? "";
  assert.equal(text, "streamed");

  await ingest.waitFor(() => webhook().payloads.length >= 2 && generations().length >= 2, 10_000);
  await ingest.sleep(200);
  const hash = sha256(key);
  const { payloads, alerts } = webhook();
  assert.equal(payloads.length, 2);
  assert.deepEqual(alerts, []);
  assert.deepEqual(payloads.map((p) => [p.status, p.stream]), [["success", false], ["success", true]]);
  for (const p of payloads) {
    assert.equal(p.metadata.user_api_key_hash, hash);
    assert.equal(p.metadata.user_api_key_alias, "ci-bot");
    assert.equal(p.metadata.user_api_key_user_id, "u-log");
    assert.equal(p.metadata.user_api_key_team_id, "t-log");
    assert.equal(p.metadata.user_api_key_team_alias, "core-platform");
    assert.deepEqual(p.metadata.user_api_key_metadata, { env: "prod" });
    assert.deepEqual(p.metadata.user_api_key_team_metadata, { cost_center: "cc-42" });
  }
  assert.equal(payloads[1].completion_tokens, 20);
  const gens = generations();
  assert.equal(gens.length, 2);
  for (const g of gens) {
    assert.equal(g.level, "DEFAULT");
    assert.equal(g.metadata.user_api_key_hash, hash);
    assert.equal(g.metadata.user_api_key_alias, "ci-bot");
    assert.equal(g.metadata.user_api_key_team_alias, "core-platform");
    assert.deepEqual(g.metadata.user_api_key_metadata, { env: "prod" });
  }
  // Slack hears of failures and budgets only.
  assert.equal(ingest.of("slack").length, 0);
  assertNoPlaintext(key);
  assertNoPlaintext(MASTER_KEY);
});

test("a used-up budget sends exactly one Slack alert; each refused call is logged as a failure", async () => {
  const key = await gw.generate({ key_alias: "spender", user_id: "u-spend", max_budget: 0.0002 });
  const client = gw.client(key);
  let ok = 0;
  let refused = 0;
  for (let i = 0; i < 7; i++) {
    try {
      await ask(client);
      ok++;
    } catch (e) {
      assert.ok(e instanceof OpenAI.BadRequestError, String(e));
      assert.equal(e.error.type, "budget_exceeded");
      refused++;
    }
  }
  assert.ok(ok >= 2 && refused >= 3, `${ok} admitted, ${refused} refused`);

  await ingest.waitFor(() => webhook().payloads.length >= ok + refused && ingest.of("slack").length >= 1, 10_000);
  // Nothing more arrives: one alert however many calls were refused.
  await ingest.sleep(300);
  const slack = ingest.of("slack");
  assert.equal(slack.length, 1, slack.map((r) => r.json.text).join("\n---\n"));
  const t = slack[0].json.text;
  assert.ok(t.startsWith("Alert type: `budget_alerts`"), t);
  assert.ok(t.includes("Key Budget: Budget Crossed"), t);
  assert.ok(t.includes("Max Budget: `$0.0002`"), t);
  assert.ok(t.includes("Key Alias: `spender`"), t);
  assert.ok(t.includes(`Token: \`${sha256(key)}\``), t);

  const { payloads, alerts } = webhook();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0].event, "budget_crossed");
  assert.equal(alerts[0].event_group, "key");
  assert.equal(alerts[0].token, sha256(key));
  assert.equal(alerts[0].user_id, "u-spend");
  assert.equal(alerts[0].max_budget, 0.0002);
  const failures = payloads.filter((p) => p.status === "failure");
  assert.equal(failures.length, refused);
  for (const p of failures) {
    assert.equal(p.error_information.error_class, "BudgetExceededError");
    assert.equal(p.error_information.status_code, 400);
    assert.equal(p.metadata.user_api_key_alias, "spender");
    assert.equal(p.metadata.user_api_key_hash, sha256(key));
  }
  const errors = generations().filter((g) => g.level === "ERROR");
  assert.equal(errors.length, refused);
  assert.ok(errors[0].statusMessage.includes("Budget has been exceeded!"), errors[0].statusMessage);
  assertNoPlaintext(key);
});

test("a soft budget alerts once when spend crosses it, and refuses nothing", async () => {
  const key = await gw.generate({ key_alias: "soft", soft_budget: 0.00007, max_budget: 1 });
  const client = gw.client(key);
  for (let i = 0; i < 4; i++) assert.equal((await ask(client)).choices[0].message.content, "ok");
  await ingest.waitFor(() => webhook().payloads.length >= 4 && webhook().alerts.length >= 1, 10_000);
  await ingest.sleep(300);
  const { alerts } = webhook();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0].event, "soft_budget_crossed");
  assert.equal(alerts[0].soft_budget, 0.00007);
  // The second call took spend to $0.0001, past $0.00007.
  assert.equal(alerts[0].spend, 0.0001);
  const slack = ingest.of("slack");
  assert.equal(slack.length, 1);
  assert.ok(slack[0].json.text.includes("Soft Budget Crossed"), slack[0].json.text);
  const [, info] = await gw.admin("GET", `/key/info?key=${encodeURIComponent(key)}`);
  assert.equal(info.info.soft_budget, 0.00007);
});
