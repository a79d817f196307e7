// The BullMQ side of the benchmarks (bench/run.py starts Redis and runs this script).
//
//   node bullmq_peer.mjs <mode> --port REDIS_PORT [options]
//
// Modes (each prints one JSON line on stdout when it is done; times are epoch milliseconds):
//   add-bulk  --jobs N --batch 1000 --clients 4   Queue.addBulk in batches from `clients`
//             concurrent loops (no worker): {"jobs", "seconds", "rate"}
//   add       --seconds S --warmup W --clients 64  closed loop: `clients` concurrent loops of
//             Queue.add, one job each, for S seconds: {"jobs", "rate", "latency_us": {...}}
//   add-paced --rate R --seconds S --warmup W    open loop: add() due at t0 + i/R whatever the
//             earlier ones did: {"latency_us", "from_due_us", "achieved_rate"}
//   produce   --jobs N --batch 1000 --clients 4   like add-bulk, and prints {"start", "end"}
//   work      --jobs N --concurrency C [--delay-ms D]  a Worker whose handler returns at once
//             (or after D ms of setTimeout); prints {"ready": true} once connected, {"all_started"}
//             when the N-th job starts, then, after N completions, {"first_done", "last_done", "all_started", "series", "max_rss_kib"}:
//             `series` is completions per 100 ms since the first one, `all_started` when the N-th
//             job started (the queue was empty from then on).
// Job data is the same ticket text Sluice's benchmarks submit. BullMQ defaults otherwise (the
// completed jobs are kept in Redis, as Sluice keeps its results).
import { Queue, Worker } from "bullmq";
import IORedis from "ioredis";

const QUEUE = "bench";

function options(argv) {
  const o = { port: 6379, jobs: 1000, batch: 1000, clients: 4, seconds: 10, warmup: 2, rate: 1000,
              concurrency: 100, "delay-ms": 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in o)) throw new Error("unknown option " + argv[i]);
    o[key] = Number(argv[i + 1]);
  }
  return o;
}

function connection(o) {
  // maxRetriesPerRequest null: what BullMQ asks of a Worker's connection.
  return new IORedis({ host: "127.0.0.1", port: o.port, maxRetriesPerRequest: null });
}

function data(i) {
  return { type: "classify_ticket", input: { text: "I was charged twice for one purchase, ticket b-" + i } };
}

function nowUs() {
  return Number(process.hrtime.bigint() / 1000n);
}

function summary(values) {
  if (values.length === 0) return { n: 0 };
  const v = Float64Array.from(values).sort();
  const at = (p) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
  return { n: v.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: v[v.length - 1] };
}

async function addBulk(o) {
  const conn = connection(o);
  const queue = new Queue(QUEUE, { connection: conn });
  await queue.waitUntilReady();
  let next = 0;
  const start = Date.now();
  const t0 = performance.now();
  async function loop() {
    while (next < o.jobs) {
      const from = next;
      next = Math.min(o.jobs, next + o.batch);
      const batch = [];
      for (let i = from; i < next; i++) batch.push({ name: "classify_ticket", data: data(i) });
      await queue.addBulk(batch);
    }
  }
  await Promise.all(Array.from({ length: o.clients }, loop));
  const seconds = (performance.now() - t0) / 1000;
  const end = Date.now();
  await queue.close();
  await conn.quit();
  return { jobs: o.jobs, seconds, rate: o.jobs / seconds, start, end };
}

async function addClosed(o) {
  const conn = connection(o);
  const queue = new Queue(QUEUE, { connection: conn });
  await queue.waitUntilReady();
  const t0 = nowUs();
  const warmEnd = t0 + o.warmup * 1e6;
  const end = t0 + o.seconds * 1e6;
  const latency = [];
  let n = 0;
  let measuredFrom = 0;
  let lastDone = 0;
  async function loop(k) {
    let i = 0;
    for (;;) {
      const sent = nowUs();
      if (sent >= end) return;
      await queue.add("classify_ticket", data(k * 1e7 + i++));
      const done = nowUs();
      if (sent >= warmEnd) {
        if (measuredFrom === 0) measuredFrom = sent;
        latency.push(done - sent);
        n++;
        lastDone = Math.max(lastDone, done);
      }
    }
  }
  await Promise.all(Array.from({ length: o.clients }, (_, k) => loop(k)));
  await queue.close();
  await conn.quit();
  return { jobs: n, clients: o.clients, rate: n / ((lastDone - measuredFrom) / 1e6), latency_us: summary(latency) };
}

async function addPaced(o) {
  const conn = connection(o);
  const queue = new Queue(QUEUE, { connection: conn });
  await queue.waitUntilReady();
  const total = Math.round(o.rate * o.seconds);
  const t0 = nowUs() + 50_000;
  const warmEnd = t0 + o.warmup * 1e6;
  const due = (i) => t0 + (i * 1e6) / o.rate;
  const latency = [], fromDue = [], lag = [];
  let next = 0, answered = 0, measured = 0, firstDue = 0, lastDone = 0;
  await new Promise((resolve) => {
    function send(i) {
      const sent = nowUs();
      queue.add("classify_ticket", data(i)).then(() => {
        const done = nowUs();
        const d = due(i);
        if (d >= warmEnd) {
          if (firstDue === 0) firstDue = d;
          measured++;
          latency.push(done - sent);
          fromDue.push(done - d);
          lag.push(sent - d);
          lastDone = Math.max(lastDone, done);
        }
        if (++answered === total) resolve();
      });
    }
    function tick() {
      const now = nowUs();
      while (next < total && due(next) <= now) send(next++);
      if (next < total) setTimeout(tick, Math.max(0, (due(next) - nowUs()) / 1000 - 0.5));
    }
    setTimeout(tick, 50);
  });
  await queue.close();
  await conn.quit();
  return { rate: o.rate, measured, achieved_rate: measured / ((lastDone - firstDue) / 1e6),
           latency_us: summary(latency), from_due_us: summary(fromDue), send_lag_us: summary(lag) };
}

async function work(o) {
  const conn = connection(o);
  let completed = 0, startedCount = 0, firstDone = 0, lastDone = 0, allStarted = 0;
  const doneTimes = [];
  let finish;
  const finished = new Promise((resolve) => { finish = resolve; });
  const delay = o["delay-ms"];
  // The moment the N-th job starts is printed at once (the recovery scenario waits for it).
  const started = () => {
    if (++startedCount === o.jobs) {
      allStarted = Date.now();
      process.stdout.write(JSON.stringify({ all_started: allStarted }) + "\n");
    }
  };
  const handler = delay > 0
    ? async () => { started(); await new Promise((r) => setTimeout(r, delay)); }
    : async () => { started(); };
  const worker = new Worker(QUEUE, handler, { connection: conn, concurrency: o.concurrency, autorun: false });
  worker.on("completed", () => {
    const t = Date.now();
    if (firstDone === 0) firstDone = t;
    lastDone = t;
    doneTimes.push(t);
    if (++completed === o.jobs) finish();
  });
  worker.on("failed", (job, err) => { process.stderr.write("failed: " + err + "\n"); });
  await worker.waitUntilReady();
  worker.run();
  process.stdout.write(JSON.stringify({ ready: true }) + "\n");
  await finished;
  const series = [];
  for (const t of doneTimes) {
    const b = Math.floor((t - firstDone) / 100);
    while (series.length <= b) series.push(0);
    series[b]++;
  }
  const result = { jobs: o.jobs, concurrency: o.concurrency, first_done: firstDone, last_done: lastDone,
                   all_started: allStarted, series, max_rss_kib: process.resourceUsage().maxRSS };
  await worker.close(true);
  await conn.quit();
  return result;
}

const [mode, ...rest] = process.argv.slice(2);
const o = options(rest);
const modes = { "add-bulk": addBulk, produce: addBulk, add: addClosed, "add-paced": addPaced, work };
if (!modes[mode]) {
  process.stderr.write("usage: node bullmq_peer.mjs add-bulk|add|add-paced|produce|work --port P ...\n");
  process.exit(2);
}
modes[mode](o).then((r) => {
  process.stdout.write(JSON.stringify(r) + "\n");
  process.exit(0);
}, (e) => {
  process.stderr.write(String(e && e.stack || e) + "\n");
  process.exit(1);
});
