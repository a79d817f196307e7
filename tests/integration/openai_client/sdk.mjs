// Runs one call of the official OpenAI Node client against Sluice and prints its result as JSON
// on stdout: `node sdk.mjs <operation> '<json args>'`. The server is OPENAI_BASE_URL (…/v1).
// An API error prints {"api_error": {"status", "code", "message", "field"}} and exits 0, so the
// Python test can assert on it; anything else unexpected exits 1.
import fs from "node:fs";
import OpenAI from "openai";

const client = new OpenAI({
  baseURL: process.env.OPENAI_BASE_URL,
  apiKey: process.env.OPENAI_API_KEY || "sluice-test",
  maxRetries: 0, // Sluice answers or refuses; a retry would hide what it answered
  timeout: 60_000,
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const operations = {
  "files.create": ({ path, purpose }) =>
    client.files.create({ file: fs.createReadStream(path), purpose: purpose ?? "batch" }),
  "files.retrieve": ({ id }) => client.files.retrieve(id),
  // The content as text (the SDK hands back a fetch Response).
  "files.content": async ({ id }) => ({ text: await (await client.files.content(id)).text() }),
  "batches.create": (args) => client.batches.create(args),
  "batches.retrieve": ({ id }) => client.batches.retrieve(id),
  "batches.cancel": ({ id }) => client.batches.cancel(id),
  // One page, as the server answered it.
  "batches.list": async ({ limit, after }) => {
    const page = await client.batches.list({ limit, ...(after ? { after } : {}) });
    return { ids: page.data.map((b) => b.id), has_more: page.has_more ?? page.hasNextPage() };
  },
  // Every batch, following the pages the way the SDK does (after = the last id of a page).
  "batches.list_all": async ({ limit }) => {
    const ids = [];
    for await (const batch of client.batches.list({ limit })) ids.push(batch.id);
    return { ids };
  },
  // batches.retrieve until the status is one of `statuses` (or `counts_at_least` completed
  // requests are counted), or `timeout_ms` passes.
  "batches.wait": async ({ id, statuses, completed_at_least, timeout_ms }) => {
    const until = Date.now() + (timeout_ms ?? 60_000);
    for (;;) {
      const batch = await client.batches.retrieve(id);
      if (statuses?.includes(batch.status)) return batch;
      if (completed_at_least !== undefined && batch.request_counts?.completed >= completed_at_least) return batch;
      if (Date.now() > until) return { timed_out: true, batch };
      await sleep(50);
    }
  },
};

const [operation, argsText] = process.argv.slice(2);
const run = operations[operation];
if (!run) {
  console.error(`unknown operation ${operation}`);
  process.exit(1);
}
try {
  const result = await run(JSON.parse(argsText ?? "{}"));
  process.stdout.write(JSON.stringify(result));
} catch (err) {
  if (err instanceof OpenAI.APIError) {
    const error = err.error ?? {};
    process.stdout.write(
      JSON.stringify({ api_error: { status: err.status, code: error.code ?? err.code, message: error.message ?? err.message, field: error.field } }),
    );
  } else {
    console.error(err);
    process.exit(1);
  }
}
