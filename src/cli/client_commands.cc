#include "cli/client_commands.h"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "client/job_line.h"

namespace sluice {

namespace json = boost::json;

void AddJobFieldOptions(CLI::App& cmd, JobFieldFlags& f) {
  cmd.add_option("--type", f.type, "task type (or \"chat\")");
  cmd.add_option("--queue", f.queue, "queue (default: the task type's)");
  cmd.add_option("--priority", f.priority, "0 (lowest) .. 9 (highest)")->check(CLI::Range(0, 9));
  cmd.add_option("--object-id", f.object_id, "the business object the job is about");
  cmd.add_option("--dedup-key", f.dedup_key, "one job per tenant and key");
  cmd.add_option("--deadline-in", f.deadline_in, "expire the job after this long, e.g. 10m");
  cmd.add_option("--run-in", f.run_in, "not before this long from now, e.g. 8h");
  cmd.add_option("--model", f.model, "pin a model alias");
  cmd.add_option("--source", f.source, "where the text came from");
  cmd.add_option("--prompt-version", f.prompt_version, "prompt version of the task type");
  cmd.add_option("--max-attempts", f.max_attempts, "attempts before the job fails")->check(CLI::Range(1, 100));
  cmd.add_option("--metadata", f.metadata, "a JSON object stored with the job, or @file.json");
  cmd.add_flag("--mask-pii", f.mask_pii, "mask PII before any provider sees the text");
}

Status ApplyJobFields(const JobFieldFlags& f, json::object& body, bool override_body) {
  auto set = [&](std::string_view key, json::value v) {
    if (override_body) body[key] = std::move(v);
    else client::SetDefault(body, key, std::move(v));
  };
  auto str = [&](std::string_view key, const std::string& v) {
    if (!v.empty()) set(key, json::string(v));
  };
  str("type", f.type);
  str("queue", f.queue);
  str("object_id", f.object_id);
  str("dedup_key", f.dedup_key);
  str("deadline_in", f.deadline_in);
  str("run_in", f.run_in);
  str("model", f.model);
  str("source", f.source);
  str("prompt_version", f.prompt_version);
  if (f.priority >= 0) set("priority", f.priority);
  if (f.max_attempts > 0) set("max_attempts", f.max_attempts);
  if (f.mask_pii) set("mask_pii", true);
  if (!f.metadata.empty()) {
    ASSIGN_OR_RETURN(std::string text, ReadArgOrFile(f.metadata, "--metadata"));
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) return InvalidArgument("--metadata must be a JSON object (or @file.json)", "--metadata");
    set("metadata", std::move(v));
  }
  return Status::Ok();
}

void AddClientCommands(CLI::App& app, ClientCommands& c) {
  {
    SubmitFlags& f = c.submit;
    CLI::App* cmd = app.add_subcommand("submit", "Submit one job to a running server; prints its id");
    AddClientOptions(*cmd, f.client);
    AddJobFieldOptions(*cmd, f.fields);
    cmd->add_option("--text", f.text, "the input text");
    cmd->add_option("--input-file", f.input_file, "read the input text from this file (- for stdin); large files go up as blobs");
    cmd->add_option("--json", f.json, "a full job body (API.md \"Submit\"), or @file.json; other flags override its fields");
    // `--wait` alone waits 30 s; `--wait 2m` or `--wait=2m` as long as given.
    cmd->add_option("--wait", f.wait, "wait for the job to end: --wait (30s) or --wait DURATION")
        ->expected(0, 1)
        ->default_str("30s");
    c.submit_cmd = cmd;
  }
  {
    GetFlags& f = c.get;
    CLI::App* cmd = app.add_subcommand("get", "Print a job (or, with --result, its result record)");
    AddClientOptions(*cmd, f.client);
    cmd->add_option("id", f.id, "job id")->required();
    cmd->add_flag("--result", f.result, "print the result record instead of the job");
    c.get_cmd = cmd;
  }
  {
    WaitFlags& f = c.wait;
    CLI::App* cmd = app.add_subcommand("wait", "Wait until a job ends (or waits in review)");
    AddClientOptions(*cmd, f.client);
    cmd->add_option("id", f.id, "job id")->required();
    cmd->add_option("--timeout", f.timeout, "give up after this long (exit 4), e.g. 10m; default: no limit");
    c.wait_cmd = cmd;
  }
  {
    BatchFlags& f = c.batch;
    CLI::App* cmd = app.add_subcommand("batch", "Submit every line of a JSONL file as a job (re-running is safe)");
    AddClientOptions(*cmd, f.client);
    AddJobFieldOptions(*cmd, f.fields);
    cmd->add_option("file", f.file, "JSONL file, one job (or input) a line; - for stdin")->required();
    cmd->add_flag("--wait", f.wait, "follow the jobs until every one ended");
    cmd->add_option("--timeout", f.timeout, "with --wait: give up after this long (exit 4)");
    cmd->add_option("--out", f.out, "write one result a line, in input order (JSONL)");
    cmd->add_option("--dedup-prefix", f.dedup_prefix, "prefix of the generated dedup keys; change it to run a file again");
    cmd->add_option("--text-field", f.text_field, "a line's field that is the input text (default text)");
    cmd->add_option("--id-field", f.id_field, "a line's field that becomes the job's object_id, e.g. id");
    cmd->add_option("--extra-fields", f.extra_fields,
                    "a line's fields that are no job field: metadata (carried into the job's metadata), ignore, "
                    "or refuse (the line is invalid)")
        ->check(CLI::IsMember({"metadata", "ignore", "refuse"}));
    cmd->add_option("--chunk", f.chunk, "jobs per bulk request")->check(CLI::Range(1, 1000));
    cmd->add_option("--concurrency", f.concurrency, "long-polls in flight while waiting")->check(CLI::Range(1, 256));
    cmd->add_option("--progress", f.progress, "auto (a bar on a terminal), bar, plain or none")
        ->check(CLI::IsMember({"auto", "bar", "plain", "none"}));
    c.batch_cmd = cmd;
  }
  {
    StatsFlags& f = c.stats;
    CLI::App* cmd = app.add_subcommand("stats", "Show the server's job and model statistics");
    AddClientOptions(*cmd, f.client);
    cmd->add_option("--window", f.window, "time window, e.g. 1h (refused until the server supports it)");
    c.stats_cmd = cmd;
  }
  {
    CancelFlags& f = c.cancel;
    CLI::App* cmd = app.add_subcommand(
        "cancel", "Cancel a job that has not ended (queued, running or in review)");
    AddClientOptions(*cmd, f.client);
    cmd->add_option("id", f.id, "job id")->required();
    c.cancel_cmd = cmd;
  }
  {
    ReviewFlags& f = c.review;
    CLI::App* cmd = app.add_subcommand(
        "review", "Decide on a job waiting in review: --approve, --reject or --retry");
    AddClientOptions(*cmd, f.client);
    cmd->add_option("id", f.id, "job id")->required();
    CLI::Option_group* action = cmd->add_option_group("action", "exactly one of");
    CLI::Option* approve = action->add_flag("--approve", f.approve,
                                            "the job ends done with --job-output as its result");
    CLI::Option* reject =
        action->add_flag("--reject", f.reject, "the job ends failed (error code rejected)");
    CLI::Option* retry =
        action->add_flag("--retry", f.retry, "the job runs again (one more attempt)");
    action->require_option(1);
    cmd->add_option("--job-output", f.job_output,
                    "with --approve: the output, JSON or @file.json (default: the job's own output "
                    "as it stands)")
        ->needs(approve);
    cmd->add_option("--reason", f.reason,
                    "with --reject: why (default: \"rejected by a reviewer\")")
        ->needs(reject);
    cmd->add_option("--model", f.model, "with --retry: the model alias to run it on")->needs(retry);
    c.review_cmd = cmd;
  }
  {
    ListFlags& f = c.list;
    CLI::App* cmd =
        app.add_subcommand("list", "List jobs, newest first: one line each (-o json: the page)");
    AddClientOptions(*cmd, f.client);
    cmd->add_option("--status", f.status,
                    "queued, running, review, done, failed, expired or canceled");
    cmd->add_option("--type", f.type, "task type");
    cmd->add_option("--queue", f.queue, "queue");
    cmd->add_option("--object-id", f.object_id, "the business object's id");
    cmd->add_option("--limit", f.limit, "jobs per page, 1..1000 (default: the server's)")
        ->check(CLI::Range(1, 1000));
    cmd->add_option("--after", f.after, "start after this cursor (the `next` of an earlier page)");
    cmd->add_flag("--all", f.all,
                  "follow the `next` cursors to the last page (at most --max-pages pages)");
    cmd->add_option("--max-pages", f.max_pages,
                    "with --all: stop after this many pages (default 1000)")
        ->check(CLI::Range(1, 1000000));
    c.list_cmd = cmd;
  }
  {
    EventsFlags& f = c.events;
    CLI::App* cmd = app.add_subcommand(
        "events",
        "Tail the live event stream until Ctrl-C (or, with --job, print one job's history)");
    AddClientOptions(*cmd, f.client);
    cmd->add_option("--types", f.types,
                    "only these types, comma-separated, e.g. job.done,job.failed or batch.*");
    cmd->add_option("--job", f.job,
                    "print this job's history (GET /v1/jobs/ID/events) instead, once");
    cmd->add_option("--after", f.after,
                    "resume the stream after this event id (the seq of the last one seen)")
        ->check(CLI::NonNegativeNumber)
        ->excludes("--job");
    cmd->add_option("--max-event-bytes", f.max_event_bytes,
                    "the largest event accepted (default 1 MiB; larger: exit 3)")
        ->check(CLI::Range(std::int64_t{1024}, std::int64_t{1} << 30));
    c.events_cmd = cmd;
  }
  {
    FilesFlags& f = c.files;
    CLI::App* group = app.add_subcommand("files", "Batch input files: upload, get, content");
    group->require_subcommand(1);
    CLI::App* upload =
        group->add_subcommand("upload", "Upload a JSONL file (multipart); prints its file id");
    AddClientOptions(*upload, f.client);
    upload->add_option("file", f.path, "the file")->required()->check(CLI::ExistingFile);
    upload->add_option("--purpose", f.purpose,
                       "the file's purpose (the server keeps batch files only)");
    c.files_upload_cmd = upload;
    CLI::App* get = group->add_subcommand("get", "Print a file's metadata");
    AddClientOptions(*get, f.client);
    get->add_option("id", f.id, "file id")->required();
    c.files_get_cmd = get;
    CLI::App* content =
        group->add_subcommand("content", "Write a file's content to stdout (or --out PATH)");
    AddClientOptions(*content, f.client);
    content->add_option("id", f.id, "file id")->required();
    content->add_option("--out", f.out,
                        "write to this path (replaced only once the whole file arrived)");
    c.files_content_cmd = content;
  }
  {
    BatchesFlags& f = c.batches;
    CLI::App* group = app.add_subcommand(
        "batches", "OpenAI-style batches of an uploaded file: create, get, list, cancel");
    group->require_subcommand(1);
    CLI::App* create =
        group->add_subcommand("create", "Create a batch from an uploaded file; prints it");
    AddClientOptions(*create, f.client);
    create->add_option("--input-file-id", f.input_file_id, "the file id of `sluice files upload`")
        ->required();
    create->add_option("--endpoint", f.endpoint, "/v1/chat/completions (default) or /v1/jobs");
    create->add_option("--completion-window", f.completion_window,
                       "the jobs' deadline, 1s..168h (default 24h)");
    create->add_option("--metadata", f.metadata, "a JSON object of strings, or @file.json");
    c.batches_create_cmd = create;
    CLI::App* get = group->add_subcommand("get", "Print a batch");
    AddClientOptions(*get, f.client);
    get->add_option("id", f.id, "batch id")->required();
    c.batches_get_cmd = get;
    CLI::App* list = group->add_subcommand("list", "List batches, newest first");
    AddClientOptions(*list, f.client);
    list->add_option("--limit", f.limit, "batches per page, 1..100 (default: the server's, 20)")
        ->check(CLI::Range(1, 100));
    list->add_option("--after", f.after,
                     "start after this batch id (the last_id of an earlier page)");
    c.batches_list_cmd = list;
    CLI::App* cancel =
        group->add_subcommand("cancel", "Cancel a batch; its finished lines are kept");
    AddClientOptions(*cancel, f.client);
    cancel->add_option("id", f.id, "batch id")->required();
    c.batches_cancel_cmd = cancel;
  }
  {
    ReportCostsFlags& f = c.report_costs;
    CLI::App* group = app.add_subcommand("report", "Reports from a running server: costs");
    group->require_subcommand(1);
    CLI::App* costs = group->add_subcommand(
        "costs",
        "A month's costs per tenant, model and task type (the admin key sees every tenant)");
    costs->add_option("--server", f.client.server,
                      "server base URL (default: $SLUICE_SERVER, else http://127.0.0.1:8080)");
    costs->add_option("-o,--output", f.client.output, "output format: text (a table), csv or json")
        ->check(CLI::IsMember({"text", "csv", "json"}));
    costs->add_option("--month", f.month, "YYYY-MM (default: this month, UTC)");
    costs->add_option("--currency", f.currency, "USD (default) or a code of [billing] rates");
    c.report_costs_cmd = costs;
  }
  {
    ConfigCheckFlags& f = c.config_check;
    CLI::App* group = app.add_subcommand("config", "Check a config file offline");
    group->require_subcommand(1);
    CLI::App* check = group->add_subcommand("check",
                                            "Load the config and the task types as `serve` would, "
                                            "and say what they hold (no server, no store)");
    check->add_option("--config", f.config_path, "TOML config file (default: none, the defaults)");
    check->add_option("--tasks", f.tasks_dir, "task types directory (overrides the config)");
    c.config_check_cmd = check;
  }
}

int RunClientCommand(const ClientCommands& c) {
  if (c.submit_cmd && *c.submit_cmd) return RunSubmit(c.submit);
  if (c.get_cmd && *c.get_cmd) return RunGet(c.get);
  if (c.wait_cmd && *c.wait_cmd) return RunWait(c.wait);
  if (c.batch_cmd && *c.batch_cmd) return RunBatch(c.batch);
  if (c.stats_cmd && *c.stats_cmd) return RunStats(c.stats);
  if (c.cancel_cmd && *c.cancel_cmd) return RunCancel(c.cancel);
  if (c.review_cmd && *c.review_cmd) return RunReview(c.review);
  if (c.list_cmd && *c.list_cmd) return RunList(c.list);
  if (c.events_cmd && *c.events_cmd) return RunEvents(c.events);
  if (c.files_upload_cmd && *c.files_upload_cmd) return RunFilesUpload(c.files);
  if (c.files_get_cmd && *c.files_get_cmd) return RunFilesGet(c.files);
  if (c.files_content_cmd && *c.files_content_cmd) return RunFilesContent(c.files);
  if (c.batches_create_cmd && *c.batches_create_cmd) return RunBatchesCreate(c.batches);
  if (c.batches_get_cmd && *c.batches_get_cmd) return RunBatchesGet(c.batches);
  if (c.batches_list_cmd && *c.batches_list_cmd) return RunBatchesList(c.batches);
  if (c.batches_cancel_cmd && *c.batches_cancel_cmd) return RunBatchesCancel(c.batches);
  if (c.report_costs_cmd && *c.report_costs_cmd) return RunReportCosts(c.report_costs);
  if (c.config_check_cmd && *c.config_check_cmd) return RunConfigCheck(c.config_check);
  return -1;
}

}  // namespace sluice
