// The spend dashboard (/ui) in headless Chromium (playwright-core, the system chromium): sign
// in with the master key, see a key's spend after requests, create a key and revoke it.
// `UPDATE_SCREENSHOT=1` also saves docs/dashboard.png for the README.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startKeysGateway, usagePrompt, MASTER_KEY } from "./keys-helpers.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SCREENSHOT = fileURLToPath(new URL("../../docs/dashboard.png", import.meta.url));

let gw, browser;

before(async () => {
  gw = await startKeysGateway();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
});

after(async () => {
  await browser?.close();
  await gw?.close();
});

test("dashboard: sign in, see spend, create and revoke a key", async () => {
  // Some traffic on a few keys first.
  const keys = {
    "web-app": await gw.generate({ key_alias: "web-app", max_budget: 0.5, budget_duration: "30d", rpm_limit: 600 }),
    "batch-jobs": await gw.generate({ key_alias: "batch-jobs", models: ["gpt"], max_budget: 0.1, tpm_limit: 200000 }),
    "intern": await gw.generate({ key_alias: "intern", models: ["other"], max_budget: 0.02, duration: "7d" }),
  };
  const plan = [["web-app", "gpt", 40], ["batch-jobs", "gpt", 25], ["intern", "other", 6]];
  for (const [alias, model, n] of plan) {
    const client = gw.client(keys[alias]);
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        client.chat.completions.create({ model, messages: usagePrompt(200 + 13 * i, 40 + 7 * i), max_tokens: 300 }),
      ),
    );
  }
  const webSpend = (await gw.info(keys["web-app"])).spend;

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const external = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(gw.url)) external.push(r.url());
  });
  await page.goto(`${gw.url}/ui`);
  await page.fill("#master-key", "sk-wrong");
  await page.click("#login");
  await page.waitForFunction(() => document.getElementById("login-error").textContent.length > 0);
  assert.match(await page.textContent("#login-error"), /master key/i);

  await page.fill("#master-key", MASTER_KEY);
  await page.click("#login");
  await page.waitForSelector("#app:not(.hidden)");
  const row = page.locator("#keys-table tbody tr", { hasText: "web-app" });
  await row.waitFor();
  const shown = await row.locator("td.spend").textContent();
  assert.equal(shown, "$" + webSpend.toPrecision(3).replace(/\.?0+$/, ""), `row shows ${shown}, key spend ${webSpend}`);
  assert.equal(await page.locator("#keys-table tbody tr").count(), 3);
  assert.ok((await page.locator("#chart svg rect").count()) >= 1, "the chart has a bar");
  assert.ok((await page.locator("#logs-table tbody tr").count()) >= 10, "recent requests are listed");
  assert.match(await page.textContent("#summary-requests"), /^7\d$/);

  // Create a key from the page; it is shown once and works at once.
  await page.fill("#new-alias", "from-ui");
  await page.fill("#new-models", "gpt");
  await page.fill("#new-budget", "2");
  await page.fill("#new-budget-duration", "30d");
  await page.click("#create-key");
  await page.waitForFunction(() => document.getElementById("new-key-value").textContent.startsWith("sk-"));
  const created = await page.textContent("#new-key-value");
  await page.locator("#keys-table tbody tr", { hasText: "from-ui" }).waitFor();
  const reply = await gw.client(created).chat.completions.create({ model: "gpt", messages: usagePrompt(3, 3), max_tokens: 5 });
  assert.equal(reply.choices[0].message.content, "ok");

  await page.click("#refresh");
  await page.locator("#keys-table tbody tr", { hasText: "from-ui" }).locator("td.spend", { hasText: "$" }).waitFor();
  await page.evaluate(() => document.getElementById("new-key").style.display = "none");
  const shot = await page.screenshot({ fullPage: true });
  // Like docs.test.mjs: the README's copy is rewritten only on request, so a test run leaves the
  // tracked file alone.
  if (process.env.UPDATE_SCREENSHOT === "1") {
    fs.writeFileSync(SCREENSHOT, shot);
    console.log(`saved ${SCREENSHOT}`);
  }

  // Revoke it: two clicks (arm, confirm); the row goes and the key is refused.
  const revoke = page.locator("#keys-table tbody tr", { hasText: "from-ui" }).locator("button.revoke");
  await revoke.click();
  assert.equal(await revoke.textContent(), "Confirm revoke");
  await revoke.click();
  await page.locator("#keys-table tbody tr", { hasText: "from-ui" }).waitFor({ state: "detached" });
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${created}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt", messages: usagePrompt(1, 1) }),
  });
  assert.equal(res.status, 401);
  assert.deepEqual(external, [], "the page loads nothing from elsewhere");
  assert.ok(shot.length > 10_000, "the dashboard renders (screenshot size)");
  await page.close();
});
