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
}

int RunClientCommand(const ClientCommands& c) {
  if (c.submit_cmd && *c.submit_cmd) return RunSubmit(c.submit);
  if (c.get_cmd && *c.get_cmd) return RunGet(c.get);
  if (c.wait_cmd && *c.wait_cmd) return RunWait(c.wait);
  if (c.batch_cmd && *c.batch_cmd) return RunBatch(c.batch);
  if (c.stats_cmd && *c.stats_cmd) return RunStats(c.stats);
  return -1;
}

}  // namespace sluice
