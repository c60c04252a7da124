// GET /docs in headless Chromium: the Swagger UI page renders every operation of /openapi.json
// from the Worker's own assets (nothing from a CDN or any other host), and "Try it out" calls
// the gateway. `UPDATE_SCREENSHOT=1` also saves docs/swagger.png for the README.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { MASTER_KEY, operations, startDocsGateway } from "./docs-helpers.mjs";

const SCREENSHOT = fileURLToPath(new URL("../../docs/swagger.png", import.meta.url));

let gw;
let browser;
before(async () => {
  gw = await startDocsGateway();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
});
after(async () => {
  await browser?.close();
  await gw?.close();
});

/** A page that may only reach the gateway; anything else is aborted and recorded. */
async function localPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const external = [];
  const errors = [];
  await context.route("**/*", (route) => {
    const u = new URL(route.request().url());
    if (u.origin === new URL(gw.url).origin) return route.continue();
    external.push(u.href);
    return route.abort();
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return { page, context, external, errors };
}

test("/docs renders every operation from the local assets", async () => {
  const { page, context, external, errors } = await localPage();
  try {
    const r = await page.goto(`${gw.url}/docs`);
    assert.equal(r.status(), 200);
    await page.waitForSelector(".swagger-ui .info .title", { timeout: 30_000 });
    assert.match(await page.textContent(".swagger-ui .info .title"), /edgellm gateway/);
    const want = operations().length;
    await page.waitForFunction((n) => document.querySelectorAll(".swagger-ui .opblock").length === n, want, { timeout: 30_000 });
    for (const id of ["operations-chat-createChatCompletion", "operations-keys-generateKey", "operations-spend-spendLogs", "operations-health-readiness"]) {
      assert.equal(await page.locator(`#${id}`).count(), 1, id);
    }
    if (process.env.UPDATE_SCREENSHOT === "1") {
      await page.screenshot({ path: SCREENSHOT });
      console.log(`saved ${SCREENSHOT}`);
    }
    assert.deepEqual(external, [], "the page loads nothing from other hosts");
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("Try it out calls the gateway with the key", async () => {
  const { page, context, external } = await localPage();
  try {
    await page.goto(`${gw.url}/docs`);
    await page.waitForSelector("#operations-models-listModels", { timeout: 30_000 });
    await page.evaluate((key) => window.ui.preauthorizeApiKey("bearer", key), MASTER_KEY);
    const op = page.locator("#operations-models-listModels");
    await op.locator(".opblock-summary").click();
    await op.locator("button.try-out__btn").click();
    await op.locator("button.execute").click();
    const live = op.locator(".live-responses-table tbody tr.response");
    await live.waitFor({ timeout: 30_000 });
    assert.equal((await live.locator("td.response-col_status").textContent()).trim(), "200");
    assert.match(await live.locator("td.response-col_description").textContent(), /edgellm-demo/);
    assert.deepEqual(external, []);
  } finally {
    await context.close();
  }
});
