// load.test.mjs - the load test (load.mjs) at a small size: no failures, RSS steady,
// and a burst past the queue answered with 503s and nothing else.
// BITTTT_LOAD_REQUESTS / BITTTT_LOAD_CONCURRENCY make it bigger.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runLoad } from "./load.mjs";

test("load: mixed streaming and not, 10% disconnecting; then a burst past the queue", async () => {
  const requests = Number(process.env.BITTTT_LOAD_REQUESTS || 40);
  const concurrency = Number(process.env.BITTTT_LOAD_CONCURRENCY || 16);
  const r = await runLoad({ requests, concurrency, burst: 100, log: (s) => console.log(s) });
  assert.deepEqual(r.main.failures, []);
  assert.equal(r.main.answered, requests - r.main.disconnected, "every other request answered 200 (the queue holds them)");
  assert.ok(r.main.disconnected >= requests / 10 - 1);
  assert.ok(r.main.rss_after_kib <= r.main.rss_warm_kib * 1.1,
    `RSS ${r.main.rss_after_kib} KiB after the run, ${r.main.rss_warm_kib} KiB after warm-up`);
  assert.deepEqual(r.burst.others, [], "only 200s and 503s");
  assert.ok((r.burst.statuses[503] || 0) > 0, "the burst overflowed the queue");
  assert.ok(r.burst.statuses[200] >= 68, "4 slots + 64 queued were served");
  assert.equal(r.health.slots_processing, 0);
  assert.equal(r.health.queue, 0);
});
