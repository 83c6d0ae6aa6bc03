// api.test.mjs - serve.lua through the official OpenAI client: completions and chat,
// streaming and not, greedy answers equal to generate.lua's and chat.lua's; the other
// endpoints; the bad requests with their statuses (and the server keeps serving).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startServer, runScript, tempDir, removeDir, modelId } from "./lib.mjs";

let server, client, memDir;
const prompts = ["The", "A cat", "Love is"];
const pick = (list) => list[Math.floor(Math.random() * list.length)];

before(async () => {
  memDir = tempDir("bitttt-api-");
  server = await startServer(["-np", "2", "-c", "512", "--memory-dir", memDir]);   // a context, for "max_tokens past the context"
  client = new OpenAI({ baseURL: server.url + "/v1", apiKey: "unused", maxRetries: 0 });
});
after(async () => { await server.stop(); removeDir(memDir); });

const post = (path, body, headers = {}) => fetch(server.url + path, {
  method: "POST", headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

test("a greedy completion's text is generate.lua's, whole and streamed", async () => {
  const prompt = pick(prompts), n = 16 + Math.floor(Math.random() * 16);
  const expected = runScript("generate.lua", ["-p", prompt, "-n", String(n), "--temp", "0"]);
  const r = await client.completions.create({ model: modelId, prompt, max_tokens: n, temperature: 0 });
  assert.equal(prompt + r.choices[0].text + "\n", expected);
  assert.equal(r.object, "text_completion");
  const finish = r.choices[0].finish_reason;   // "stop": the model's end of text came first
  assert.ok(finish === "length" ? r.usage.completion_tokens === n : finish === "stop" && r.usage.completion_tokens <= n);
  let text = "", last;
  const stream = await client.completions.create({ model: modelId, prompt, max_tokens: n, temperature: 0, stream: true });
  for await (const chunk of stream) { text += chunk.choices[0].text ?? ""; last = chunk; }
  assert.equal(prompt + text + "\n", expected);
  assert.deepEqual(last.usage, r.usage);
  assert.equal(last.choices[0].finish_reason, finish);
});

test("a greedy chat answer is chat.lua's, whole and streamed", async () => {
  const message = pick(["Tell me a joke.", "What is love?", "Say something wise."]);
  const expected = runScript("chat.lua", ["--temp", "0", "-n", "24"], message + "\n");
  const messages = [{ role: "user", content: message }];
  const r = await client.chat.completions.create({ model: modelId, messages, max_tokens: 24, temperature: 0 });
  assert.equal(r.choices[0].message.content + "\n", expected);
  assert.equal(r.choices[0].message.role, "assistant");
  assert.ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
  let text = "", chunks = 0, usage;
  const stream = await client.chat.completions.create({ model: modelId, messages, max_tokens: 24, temperature: 0, stream: true });
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta?.content ?? "";
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text + "\n", expected);
  assert.ok(chunks > 2, "streamed in pieces");
  assert.deepEqual(usage, r.usage);
});

test("the raw stream ends with data: [DONE]", async () => {
  const res = await post("/v1/completions", { prompt: "The", max_tokens: 3, stream: true, seed: 7 });
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const body = await res.text();
  assert.match(body, /^data: \{/);
  assert.ok(body.endsWith("data: [DONE]\n\n"));
});

test("sampling fields and seeds: the same seed gives the same text", async () => {
  const args = { model: modelId, prompt: "The", max_tokens: 12, temperature: 0.9, top_p: 0.9, seed: 1 + Math.floor(Math.random() * 1000) };
  const extra = { top_k: 20, min_p: 0.02, repeat_penalty: 1.2, frequency_penalty: 0.1, presence_penalty: 0.1 };
  const a = await client.completions.create({ ...args, ...extra, stop: ["\n\n"] });
  const b = await client.completions.create({ ...args, ...extra, stop: ["\n\n"] });
  assert.equal(a.choices[0].text, b.choices[0].text);
});

test("models, health, tokenize/detokenize, metrics", async () => {
  const models = await client.models.list();
  assert.equal(models.data[0].id, modelId);
  assert.equal((await (await fetch(server.url + "/health")).json()).status, "ok");
  const text = "Hello there, " + Math.random();
  const { tokens } = await (await post("/tokenize", { content: text })).json();
  assert.ok(tokens.length > 3);
  const { content } = await (await post("/detokenize", { tokens })).json();
  assert.equal(content, text);
  assert.deepEqual(await (await post("/tokenize", { content: "" })).json(), { tokens: [] });
  const metrics = await (await fetch(server.url + "/metrics")).text();
  assert.match(metrics, /^bitttt_generated_tokens_total [1-9]\d*$/m);
  assert.match(metrics, /^bitttt_slots_total 2$/m);
  assert.match(metrics, /^bitttt_queue_length 0$/m);
  assert.match(metrics, /^bitttt_requests_total\{endpoint="\/v1\/completions",status="200"\} \d+$/m);
});

test("bad requests get OpenAI error objects with their 4xx status", async () => {
  const cases = [
    ["malformed JSON", () => post("/v1/completions", "{\"prompt\": "), 400],
    ["not an object", () => post("/v1/completions", "[1, 2]"), 400],
    ["wrong type", () => post("/v1/completions", { prompt: "x", max_tokens: "ten" }), 400, "max_tokens"],
    ["wrong type (temperature)", () => post("/v1/chat/completions", { messages: [{ role: "user", content: "x" }], temperature: "hot" }), 400, "temperature"],
    ["negative max_tokens", () => post("/v1/completions", { prompt: "x", max_tokens: -1 }), 400, "max_tokens"],
    ["max_tokens past the context", () => post("/v1/completions", { prompt: "x", max_tokens: 100000 }), 400, "max_tokens"],
    ["more than one choice", () => post("/v1/completions", { prompt: "x", n: 3 }), 400, "n"],
    ["no prompt", () => post("/v1/completions", { max_tokens: 1 }), 400, "prompt"],
    ["bad messages", () => post("/v1/chat/completions", { messages: [{ role: "wizard", content: "x" }] }), 400, "messages"],
    ["unknown model", () => post("/v1/completions", { model: "gpt-9", prompt: "x" }), 404, "model"],
    ["unknown endpoint", () => fetch(server.url + "/v1/nothing"), 404],
    ["wrong method", () => fetch(server.url + "/v1/completions"), 405],
    ["body over the limit", () => post("/v1/completions", JSON.stringify({ prompt: "x".repeat(1100000) })), 413],
    ["bad memory name", () => post("/v1/completions", { prompt: "x", ttt: { memory: "../etc/passwd" } }), 400, "ttt.memory"],
    ["memory name too long", () => post("/v1/memories/" + "a".repeat(65), { text: "hello there" }), 400, "name"],
    ["bad memory header", () => post("/v1/completions", { prompt: "x" }, { "X-Bitttt-Memory": "a/b" }), 400, "ttt.memory"],
    ["no such memory", () => fetch(server.url + "/v1/memories/nobody-" + Date.now()), 404],
  ];
  for (const [name, send, status, param] of cases) {
    const res = await send();
    assert.equal(res.status, status, name);
    const body = await res.json();
    assert.equal(typeof body.error?.message, "string", name);
    assert.equal(typeof body.error?.type, "string", name);
    if (param) assert.equal(body.error.param, param, name);
  }
  // through the client: typed errors with the status
  await assert.rejects(client.completions.create({ model: modelId, prompt: "x", max_tokens: -5 }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400);
  await assert.rejects(client.completions.create({ model: "nope", prompt: "x" }),
    (e) => e instanceof OpenAI.NotFoundError);
  // and it keeps serving
  const r = await client.completions.create({ model: modelId, prompt: "The", max_tokens: 2 });
  assert.equal(r.usage.completion_tokens, 2);
});

test("a wrong API key is a 401; the right one passes", async () => {
  const key = "k" + Math.random().toString(36).slice(2);
  const guarded = await startServer(["--api-key", key, "--memory-dir", memDir]);
  try {
    const wrong = new OpenAI({ baseURL: guarded.url + "/v1", apiKey: "wrong", maxRetries: 0 });
    await assert.rejects(wrong.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
    const right = new OpenAI({ baseURL: guarded.url + "/v1", apiKey: key, maxRetries: 0 });
    assert.equal((await right.models.list()).data[0].id, modelId);
    assert.equal((await fetch(guarded.url + "/health")).status, 200);
  } finally { await guarded.stop(); }
});

test("a client that goes away (mid-stream or waiting for a whole answer) frees its slot; a request past its time limit is ended", async () => {
  const cancelled = async () => Number((await (await fetch(server.url + "/metrics")).text())
    .match(/^bitttt_cancelled_total (\d+)$/m)[1]);
  const before = await cancelled();
  for (const stream of [true, false]) {
    const controller = new AbortController();
    const request = fetch(server.url + "/v1/completions", {
      method: "POST", signal: controller.signal, headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "A cat", max_tokens: 480, stream, temperature: 0 }),   // greedy: 480 tokens
    });
    const busy = async () => (await (await fetch(server.url + "/health")).json()).slots_processing > 0;
    if (stream) await (await request).body.getReader().read();
    else {   // goes away once its generation runs
      request.catch(() => {});
      while (!(await busy())) await new Promise((r) => setTimeout(r, 2));
    }
    controller.abort();
    let health;
    for (let i = 0; i < 100; i++) {
      health = await (await fetch(server.url + "/health")).json();
      if (health.slots_processing === 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(health.slots_processing, 0);
  }
  assert.equal(await cancelled(), before + 2, "both generations were ended early");

  const slow = await startServer(["--timeout", "0.05", "--memory-dir", memDir]);
  try {
    const c = new OpenAI({ baseURL: slow.url + "/v1", apiKey: "x", maxRetries: 0 });
    const r = await c.completions.create({ model: modelId, prompt: "A cat", max_tokens: 480, temperature: 0 });   // greedy: no end of text before 480
    assert.equal(r.choices[0].finish_reason, "length");
    assert.ok(r.usage.completion_tokens < 480, `ended early (${r.usage.completion_tokens} tokens)`);
    assert.match(await (await fetch(slow.url + "/metrics")).text(), /^bitttt_timed_out_total 1$/m);
  } finally { await slow.stop(); }
});
