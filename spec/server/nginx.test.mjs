// nginx.test.mjs - docs/serving/bitttt.nginx.conf in Debian's nginx on loopback, in front
// of two serve.lua processes sharing one memory folder, used through the openai client:
// a memory's requests always reach one backend while both run; with one stopped, every
// request started after that succeeds (stateless and memory ones).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync, chmodSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import OpenAI from "openai";
import { root, startServer, tempDir, removeDir, modelId } from "./lib.mjs";

const nginxBin = "/usr/sbin/nginx";
let dir, memDir, backends, nginx, client;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function waitFor(url) {
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(url)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("nginx did not answer: " + readFileSync(join(dir, "error.log"), "utf8"));
}

before(async () => {
  assert.ok(existsSync(nginxBin), "nginx-light is installed (scripts/build.sh)");
  dir = tempDir("bitttt-nginx-");
  chmodSync(dir, 0o755);
  memDir = join(dir, "memories");
  backends = [await startServer(["--memory-dir", memDir]), await startServer(["--memory-dir", memDir])];
  const port = await freePort();
  const site = readFileSync(join(root, "docs", "serving", "bitttt.nginx.conf"), "utf8")
    .replaceAll("127.0.0.1:8081", `127.0.0.1:${backends[0].port}`)
    .replaceAll("127.0.0.1:8082", `127.0.0.1:${backends[1].port}`)
    .replace("listen 127.0.0.1:8080", `listen 127.0.0.1:${port}`);
  writeFileSync(join(dir, "site.conf"), site);
  writeFileSync(join(dir, "nginx.conf"), `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    include ${dir}/site.conf;
}
`);
  nginx = spawn(nginxBin, ["-p", dir, "-c", join(dir, "nginx.conf")], { stdio: "ignore" });
  await waitFor(`http://127.0.0.1:${port}/health`);
  client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  if (nginx && nginx.exitCode === null) {
    const exited = new Promise((r) => nginx.once("exit", r));
    nginx.kill("SIGTERM");
    await exited;
  }
  for (const b of backends || []) await b.stop();
  removeDir(dir);
});

// One completion through nginx; returns the address of the backend that answered (the last
// in nginx's X-Bitttt-Backend: "A, B" when A was tried first and was down).
async function complete(memory, stream = false) {
  const options = memory ? { headers: { "X-Bitttt-Memory": memory } } : {};
  const body = { model: modelId, prompt: "The", max_tokens: 6, stream, ...(memory ? { ttt: { memory, learn: true } } : {}) };
  const { data, response } = await client.completions.create(body, options).withResponse();
  if (stream) { let n = 0; for await (const c of data) n++; assert.ok(n > 1); }
  else assert.ok(data.usage.completion_tokens > 0);
  return response.headers.get("x-bitttt-backend").split(", ").pop();
}

test("nginx: round-robin for stateless requests, one backend per memory, and a backend going away", async () => {
  const seen = new Set();
  for (let i = 0; i < 6; i++) seen.add(await complete(null, i % 2 === 1));
  assert.equal(seen.size, 2, "stateless requests reach both backends");

  // random memory names until each backend is the home of two (the hash decides: ~half each)
  const names = [], home = {};
  const homes = () => Object.values(home);
  while (names.length < 40 && [0, 1].some((b) => homes().filter((h) => h === `127.0.0.1:${backends[b].port}`).length < 2)) {
    const name = `user${names.length}-${Math.floor(Math.random() * 1e6)}`;
    names.push(name);
    for (let i = 0; i < 3; i++) {
      const backend = await complete(name, i % 2 === 0);
      home[name] ??= backend;
      assert.equal(backend, home[name], `memory ${name} stays on one backend`);
    }
  }
  assert.equal(new Set(homes()).size, 2, "the memories are spread over both backends");

  // stop the first backend; everything started afterwards succeeds
  await backends[0].stop();
  const survivor = `127.0.0.1:${backends[1].port}`;
  for (let i = 0; i < 6; i++) assert.equal(await complete(null, i % 2 === 0), survivor);
  for (const name of names) {
    const before = (await (await fetch(`${client.baseURL}/memories/${name}`)).json()).tokens;
    assert.ok(before > 0, "the memory is in the shared folder");
    assert.equal(await complete(name, false), survivor);
    const now = (await (await fetch(`${client.baseURL}/memories/${name}`)).json()).tokens;
    assert.ok(now > before, `memory ${name} went on from its saved state (${before} -> ${now})`);
  }
});
