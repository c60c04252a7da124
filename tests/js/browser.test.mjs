// The web build in headless Chromium: examples/browser/index.html (pkg/index.js through an
// import map) is served from 127.0.0.1 by the mock server, streams a completion from the mock
// upstream into the DOM, shows error classes, and its Stop button aborts the request.
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, beforeEach, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

import { startMockServer } from "../mock/server.mjs";

const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const root = fileURLToPath(new URL("../../", import.meta.url));
const skip = fs.existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`;

let mock;
let browser;
let page;
const pageErrors = [];

before(async () => {
  if (skip) return;
  mock = await startMockServer({
    static: { "/pkg/": `${root}pkg`, "/examples/browser/": `${root}examples/browser` },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  page = await browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(e));
  await page.goto(`${mock.url}/examples/browser/index.html`);
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("ready"), null, { timeout: 15000 });
});
after(async () => {
  await browser?.close();
  await mock?.close();
});
beforeEach(() => mock?.reset());

async function send({ model = "openai/gpt-4o-mini", key = "sk-test-browser", prompt = "Hello!" } = {}) {
  await page.fill("#model", model);
  await page.fill("#api-key", key);
  await page.fill("#api-base", `${mock.url}/v1`);
  await page.fill("#prompt", prompt);
  await page.click("#send");
}

const status = () => page.textContent("#status");
const waitStatus = (re) =>
  page.waitForFunction((src) => new RegExp(src).test(document.getElementById("status").textContent), re.source, { timeout: 10000 });

describe("browser (Chromium, pkg/web)", { skip }, () => {
  test("the page loaded the wasm", async () => {
    assert.match(await status(), /^ready \(edgellm \d+\.\d+\.\d+/);
    assert.deepEqual(pageErrors, []);
  });

  test("streams a completion into the DOM", async () => {
    mock.replyFixture("openai", "stream_basic", { chunkSize: 40, chunkDelayMs: 5 });
    await send();
    await waitStatus(/^done$/);
    assert.equal(await page.textContent("#out"), "Hello! How can I help?");
    const req = mock.requests[0];
    assert.equal(req.path, "/v1/chat/completions");
    assert.equal(req.headers.authorization, "Bearer sk-test-browser");
    assert.deepEqual(req.json, {
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Hello!" }],
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  test("an upstream 401 shows as AuthenticationError", async () => {
    mock.reply({ status: 401, body: { error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" } } });
    await send({ key: "sk-wrong" });
    await waitStatus(/AuthenticationError/);
    assert.equal(await status(), "AuthenticationError (401): Incorrect API key provided");
  });

  test("Stop cancels the stream and aborts the request", async () => {
    const chunk = (t) => `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content: t }, finish_reason: null }] })}\n\n`;
    mock.reply({ headers: { "content-type": "text/event-stream" }, stream: chunk("first ") + chunk("second"), chunkSize: 1000, holdOpen: true });
    await send();
    await page.waitForFunction(() => document.getElementById("out").textContent === "first second", null, { timeout: 10000 });
    await page.click("#stop");
    await waitStatus(/^stopped$/);
    const closed = await Promise.race([mock.requests[0].closed, new Promise((r) => setTimeout(() => r("still open"), 5000))]);
    assert.equal(closed, true, "the mock saw the connection closed");
    assert.deepEqual(pageErrors, []);
  });
});
