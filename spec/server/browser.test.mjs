// browser.test.mjs - the chat page in a real browser: Debian's chromium, headless, driven
// by playwright-core on loopback. Type a message, see the answer arrive in pieces, reset.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { startServer, tempDir, removeDir } from "./lib.mjs";

const executablePath = "/usr/bin/chromium";
let server, browser, dir;

before(async () => {
  assert.ok(existsSync(executablePath), "chromium is installed (scripts/build.sh)");
  dir = tempDir("bitttt-browser-");
  server = await startServer(["--memory-dir", dir + "/memories"]);
  // a fresh profile folder (playwright passes it as --user-data-dir)
  browser = await chromium.launchPersistentContext(`${dir}/profile`, {
    executablePath, headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  removeDir(dir);
});

test("chat page: a message gets a streamed answer; reset clears the conversation", async () => {
  const page = await browser.newPage();
  const outside = [];
  page.on("request", (r) => { if (!r.url().startsWith(server.url)) outside.push(r.url()); });
  await page.goto(server.url + "/");
  await page.waitForFunction(() => document.getElementById("model").textContent.includes("default.gguf"));

  // the answer's text as shown after each streamed piece (the page signals each one)
  await page.evaluate(() => {
    window.seen = [];
    document.getElementById("log").addEventListener("piece", (e) => window.seen.push(e.target.textContent));
  });
  await page.fill("#temperature", "0");
  await page.fill("#max_tokens", "40");
  await page.fill("#message", "Tell me something wise.");
  await page.press("#message", "Enter");
  await page.waitForFunction(() => document.getElementById("status").textContent.includes("tokens"), null, { timeout: 30000 });

  assert.equal(await page.textContent(".msg.user"), "Tell me something wise.");
  const answer = await page.textContent(".msg.assistant");
  const seen = await page.evaluate(() => window.seen);
  assert.ok(answer.length > 0, "an answer");
  assert.ok(seen.length >= 3, `the answer was shown piece by piece (${seen.length} pieces)`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i].startsWith(seen[i - 1]), "each piece extends the answer");
  assert.equal(seen[seen.length - 1], answer);
  // the same greedy answer through the API
  const api = await (await fetch(server.url + "/v1/chat/completions", { method: "POST", body: JSON.stringify(
    { messages: [{ role: "user", content: "Tell me something wise." }], temperature: 0, max_tokens: 40 }) })).json();
  assert.equal(answer, api.choices[0].message.content);

  await page.click("#reset");
  assert.equal(await page.locator(".msg").count(), 0);
  // a new conversation after the reset
  await page.fill("#message", "Hello");
  await page.click("#send");
  await page.waitForFunction(() => document.querySelectorAll(".msg.assistant").length === 1 &&
    document.getElementById("status").textContent.includes("tokens"), null, { timeout: 30000 });
  assert.equal(await page.locator(".msg.user").count(), 1);
  assert.deepEqual(outside, [], "the page loads nothing from elsewhere");
  await page.close();
});
