// memory.test.mjs - TTT memories: taught through the API, kept across a restart, used by
// completions (field or header), refused when made with another model; two requests for
// one memory are serialised.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startServer, tempDir, removeDir, modelId } from "./lib.mjs";

let memDir;
before(() => { memDir = tempDir("bitttt-mem-"); });
after(() => removeDir(memDir));

const post = (url, path, body, headers = {}) => fetch(url + path, {
  method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
});

// A fact-like text with a random name and number, so nothing about it was in the training data.
function fact() {
  const names = ["Zorbin", "Quillet", "Marvak", "Tesbury", "Olwen"];
  const name = names[Math.floor(Math.random() * names.length)] + Math.floor(Math.random() * 90 + 10);
  const number = Math.floor(Math.random() * 9000 + 1000);
  return `The secret keeper of ${name} lives at number ${number} on the old harbour road, ` +
         `and every night ${name} lights a green lamp in the window for the ships.`;
}

test("alice remembers a text across a restart: lower perplexity than a fresh memory", async () => {
  const text = fact();
  let server = await startServer(["--memory-dir", memDir]);
  let taught;
  try {
    const res = await post(server.url, "/v1/memories/alice", { text });
    assert.equal(res.status, 200);
    taught = await res.json();
    assert.equal(taught.learned, true);
    assert.ok(taught.tokens > 10);
  } finally { await server.stop(); }

  server = await startServer(["--memory-dir", memDir]);
  try {
    const info = await (await fetch(server.url + "/v1/memories/alice")).json();
    assert.equal(info.tokens, taught.tokens);
    const alice = await (await post(server.url, "/v1/memories/alice", { text, learn: false })).json();
    const fresh = await (await post(server.url, "/v1/memories/fresh-" + Date.now(), { text, learn: false })).json();
    console.log(`# memory: a text of ${taught.read} tokens; first reading ${taught.perplexity.toFixed(3)}, alice after restart ` +
                `${alice.perplexity.toFixed(3)}, fresh memory ${fresh.perplexity.toFixed(3)} (perplexity of the text)`);
    assert.ok(alice.perplexity < fresh.perplexity, `alice ${alice.perplexity} < fresh ${fresh.perplexity}`);
    // learn: false left alice as it was
    assert.equal((await (await fetch(server.url + "/v1/memories/alice")).json()).tokens, taught.tokens);

    // completions run from the memory; with learn they move it on (field or header)
    const r1 = await (await post(server.url, "/v1/completions",
      { model: modelId, prompt: " The secret keeper", max_tokens: 8, ttt: { memory: "alice", learn: true } })).json();
    assert.equal(r1.usage.completion_tokens + r1.usage.prompt_tokens > 0, true);
    const after1 = (await (await fetch(server.url + "/v1/memories/alice")).json()).tokens;
    assert.ok(after1 > taught.tokens, "learning moved the memory on");
    const r2 = await post(server.url, "/v1/chat/completions",
      { messages: [{ role: "user", content: "Where?" }], max_tokens: 4 }, { "X-Bitttt-Memory": "alice" });
    assert.equal(r2.status, 200);
    assert.equal((await (await fetch(server.url + "/v1/memories/alice")).json()).tokens, after1, "no learn: unchanged");

    // two learning requests for one memory at once: serialised, both counted
    const before2 = after1;
    const [a, b] = await Promise.all([
      post(server.url, "/v1/memories/alice", { text: "One more line to keep." }).then((r) => r.json()),
      post(server.url, "/v1/memories/alice", { text: "And another line to keep." }).then((r) => r.json()),
    ]);
    const end = (await (await fetch(server.url + "/v1/memories/alice")).json()).tokens;
    assert.equal(end, before2 + a.read + b.read);

    // DELETE
    assert.equal((await fetch(server.url + "/v1/memories/alice", { method: "DELETE" })).status, 200);
    assert.equal((await fetch(server.url + "/v1/memories/alice")).status, 404);
  } finally { await server.stop(); }
});

test("a memory made with another model is refused (409)", async () => {
  const server = await startServer(["--memory-dir", memDir]);
  try {
    assert.equal((await post(server.url, "/v1/memories/bob", { text: "Bob was here once." })).status, 200);
    // bob's state file with another model's fingerprint (same length: the file stays valid)
    const bob = readFileSync(join(memDir, "bob.state"), "latin1");
    const fingerprint = bob.match(/"fingerprint":"([0-9a-f]{16})"/)[1];
    const otherFingerprint = [...fingerprint].map((c) => (parseInt(c, 16) ^ 5).toString(16)).join("");
    writeFileSync(join(memDir, "dave.state"), Buffer.from(bob.replace(fingerprint, otherFingerprint), "latin1"));
    let res = await post(server.url, "/v1/completions", { prompt: "x", max_tokens: 1, ttt: { memory: "dave" } });
    assert.equal(res.status, 409);
    assert.match((await res.json()).error.message, /dave.*another model/);
    res = await post(server.url, "/v1/memories/dave", { text: "Dave was here too." });
    assert.equal(res.status, 409);
    // not a state file at all
    writeFileSync(join(memDir, "carol.state"), Buffer.from("not a state file at all"));
    res = await post(server.url, "/v1/completions", { prompt: "x", max_tokens: 1, ttt: { memory: "carol" } });
    assert.equal(res.status, 409);
    assert.match((await res.json()).error.message, /carol/);
    // and it keeps serving
    assert.equal((await post(server.url, "/v1/completions", { prompt: "x", max_tokens: 1 })).status, 200);
  } finally { await server.stop(); }
});

test("two processes sharing the folder serialise one memory's requests (file lock): no learning is lost", async () => {
  const servers = [await startServer(["--memory-dir", memDir]), await startServer(["--memory-dir", memDir])];
  try {
    const name = "shared-" + Date.now();
    const texts = Array.from({ length: 8 }, (_, i) => `Line ${i} of the shared memory: ${fact()}`);
    const results = await Promise.all(texts.map((text, i) =>
      post(servers[i % 2].url, `/v1/memories/${name}`, { text }).then((r) => r.json())));
    const total = results.reduce((sum, r) => sum + r.read, 0);
    const info = await (await fetch(`${servers[0].url}/v1/memories/${name}`)).json();
    assert.equal(info.tokens, total, "every request's tokens are in the memory");
    // each request started from the state the one before it saved
    const ends = results.map((r) => r.tokens).sort((a, b) => a - b);
    assert.equal(ends[ends.length - 1], total);
    assert.equal(new Set(ends).size, ends.length);
  } finally { for (const s of servers) await s.stop(); }
});
