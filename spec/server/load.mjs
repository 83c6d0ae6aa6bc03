// load.mjs - a bounded load test of serve.lua: a server with -np 4 and a queue of 64,
// REQUESTS requests from CONCURRENCY clients, mixed streaming and not, 10% of the
// clients going away early. Prints p50/p99 latency, tokens/s, the statuses and RSS;
// returns them. Then a burst at BURST concurrency against the same queue: 503s only
// for what does not fit.
//
//   node spec/server/load.mjs [REQUESTS=200] [CONCURRENCY=16] [BURST=100]
import { startServer, tempDir, removeDir, rssKiB } from "./lib.mjs";

const prompts = ["The", "A cat", "Love is", "Once upon a time", "I", "You will", "Never", "A wise man"];
const pick = (list) => list[Math.floor(Math.random() * list.length)];

// One client request; returns { status, ms, tokens, aborted }.
async function one(url, { disconnect, maxTokens }) {
  const stream = Math.random() < 0.5;
  const controller = new AbortController();
  const t0 = performance.now();
  const body = { prompt: pick(prompts), max_tokens: maxTokens, stream, temperature: 0.8, seed: Math.floor(Math.random() * 1e6) };
  let res;
  // a non-streaming client that goes away does so 5-50 ms in (while its answer is made)
  if (disconnect && !stream) setTimeout(() => controller.abort(), 5 + Math.random() * 45);
  try {
    res = await fetch(url + "/v1/completions", { method: "POST", signal: controller.signal,
      headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (disconnect && stream) {   // goes away after the first piece
      if (res.status === 200) await res.body.getReader().read();
      controller.abort();
      return { status: res.status, aborted: true };
    }
    const text = await res.text();
    if (disconnect) return { status: res.status, aborted: true };   // it was done before 5-50 ms
    const ms = performance.now() - t0;
    if (res.status !== 200) return { status: res.status, ms, error: text };
    let tokens;
    if (stream) {
      if (!text.endsWith("data: [DONE]\n\n")) return { status: 0, ms, error: "stream without [DONE]" };
      const chunks = text.split("\n\n").filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6)));
      tokens = chunks[chunks.length - 1].usage.completion_tokens;
    } else {
      tokens = JSON.parse(text).usage.completion_tokens;
    }
    return { status: 200, ms, tokens };
  } catch (e) {
    if (disconnect) return { status: res?.status ?? 0, aborted: true };
    return { status: 0, ms: performance.now() - t0, error: String(e) };
  }
}

// Runs `total` requests from `concurrency` clients; returns the results and the wall time.
async function drive(url, total, concurrency, options) {
  const results = [];
  let next = 0;
  const t0 = performance.now();
  async function client() {
    while (next < total) {
      const i = next++;
      results[i] = await one(url, options(i));
    }
  }
  await Promise.all(Array.from({ length: concurrency }, client));
  return { results, seconds: (performance.now() - t0) / 1000 };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function statuses(results) {
  const counts = {};
  for (const r of results) counts[r.status] = (counts[r.status] || 0) + 1;
  return counts;
}

export async function runLoad({ requests = 200, concurrency = 16, burst = 100, log = console.log } = {}) {
  const memDir = tempDir("bitttt-load-");
  const server = await startServer(["-np", "4", "--queue", "64", "--memory-dir", memDir]);
  try {
    await one(server.url, { maxTokens: 32 });   // warm-up
    const rssWarm = rssKiB(server.proc.pid);
    // every tenth client goes away early, at a random place in the run
    const disconnecting = new Set();
    while (disconnecting.size < Math.round(requests / 10)) disconnecting.add(Math.floor(Math.random() * requests));
    const run = await drive(server.url, requests, concurrency,
      (i) => ({ disconnect: disconnecting.has(i), maxTokens: 16 + Math.floor(Math.random() * 49) }));
    const done = run.results.filter((r) => r.status === 200 && !r.aborted);
    const ms = done.map((r) => r.ms).sort((a, b) => a - b);
    const tokens = done.reduce((s, r) => s + r.tokens, 0);
    const rssAfter = rssKiB(server.proc.pid);
    const metrics = await (await fetch(server.url + "/metrics")).text();
    const cancelled = Number(metrics.match(/^bitttt_cancelled_total (\d+)$/m)[1]);
    const main = {
      requests, concurrency, statuses: statuses(run.results),
      failures: run.results.filter((r) => !r.aborted && r.status !== 200),
      disconnected: run.results.filter((r) => r.aborted).length, answered: done.length, cancelled,
      p50_ms: percentile(ms, 50), p99_ms: percentile(ms, 99), tokens, seconds: run.seconds,
      tokens_per_s: tokens / run.seconds, rss_warm_kib: rssWarm, rss_after_kib: rssAfter,
    };
    log(`# load: ${requests} requests at concurrency ${concurrency} (-np 4, queue 64): statuses ` +
        `${JSON.stringify(main.statuses)} (0: gone before an answer), ${main.disconnected} disconnected early ` +
        `(${cancelled} generations ended for it), p50 ${main.p50_ms.toFixed(0)} ms, ` +
        `p99 ${main.p99_ms.toFixed(0)} ms, ${tokens} tokens in ${run.seconds.toFixed(2)} s = ` +
        `${main.tokens_per_s.toFixed(0)} tokens/s, RSS ${(rssWarm / 1024).toFixed(1)} MiB after warm-up, ` +
        `${(rssAfter / 1024).toFixed(1)} MiB after the run`);

    // the burst: everyone at once; what does not fit in 4 slots + 64 queued gets 503
    const b = await drive(server.url, burst, burst, () => ({ maxTokens: 64 }));
    const burstResult = { burst, statuses: statuses(b.results), others: b.results.filter((r) => r.status !== 200 && r.status !== 503) };
    log(`# load: burst of ${burst} at once: statuses ${JSON.stringify(burstResult.statuses)}`);
    const health = await (await fetch(server.url + "/health")).json();
    return { main, burst: burstResult, health };
  } finally {
    await server.stop();
    removeDir(memDir);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [requests = 200, concurrency = 16, burst = 100] = process.argv.slice(2).map(Number);
  const r = await runLoad({ requests, concurrency, burst });
  if (r.main.failures.length) console.log("failures:", r.main.failures.slice(0, 5));
  process.exit(r.main.failures.length || r.burst.others.length ? 1 : 0);
}
