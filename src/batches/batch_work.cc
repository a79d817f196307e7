#include "batches/batch_work.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>
#include <vector>

#include <boost/json.hpp>

#include "batches/batch_output.h"
#include "store/file_chunks.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

namespace {

// A custom_id as 128 bits (two independent 64-bit hashes) and its line: duplicates are found by
// sorting these, without keeping the ids themselves. Two different ids collide with
// probability ~2^-128 per pair.
struct IdHash {
  std::uint64_t a = 0, b = 0;
  std::int64_t line = 0;
  auto key() const { return std::pair(a, b); }
};

std::uint64_t Fnv1a(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

bool Blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

json::object Problem(const std::string& code, const std::string& message, std::optional<std::int64_t> line) {
  return json::object{{"code", code},
                      {"message", message},
                      {"param", nullptr},
                      {"line", line ? json::value(*line) : json::value(nullptr)}};
}

Status RenewLease(const BatchWorkDeps& deps, const std::string& batch_id) {
  const Millis now = deps.clock.now();
  return deps.store
      .transition_batch(BatchTransition{.id = batch_id,
                                        .from = {BatchStatus::kValidating, BatchStatus::kInProgress,
                                                 BatchStatus::kCancelling, BatchStatus::kFinalizing},
                                        .now = now,
                                        .owner = deps.owner,
                                        .lease_until = now + deps.options.lease,
                                        .keep_status = true})
      .status();
}

std::string EventData(BatchStatus status, const BatchRequestCounts& counts) {
  return JsonText(json::object{
      {"status", BatchStatusName(status)},
      {"request_counts",
       json::object{{"total", counts.total}, {"completed", counts.completed}, {"failed", counts.failed}}}});
}

}  // namespace

Result<Batch> ValidateBatch(const BatchWorkDeps& deps, const Batch& batch) {
  const BatchWorkOptions& opt = deps.options;
  json::array problems;
  std::int64_t requests = 0;
  std::vector<IdHash> ids;
  auto file = deps.store.get_file(batch.tenant, batch.input_file_id);
  if (!file.ok() && file.status().code() != StatusCode::kNotFound) return file.status();
  if (!file.ok()) {
    problems.push_back(Problem("file_not_found", "the input file " + batch.input_file_id + " does not exist",
                               std::nullopt));
  } else {
    FileLineReader reader(deps.store, batch.input_file_id, 0, 0, opt.max_line_bytes);
    for (;;) {
      ASSIGN_OR_RETURN(std::optional<FileLineReader::Line> line, reader.next());
      if (!line) break;
      if (line->number % 10'000 == 0) {
        if (deps.stopping()) return Status(StatusCode::kCanceled, "the node is stopping");
        RETURN_IF_ERROR(RenewLease(deps, batch.id));
      }
      if (line->too_long) {
        problems.push_back(Problem("line_too_large",
                                   "the line is longer than " + std::to_string(opt.max_line_bytes) + " bytes",
                                   line->number));
      } else if (!Blank(line->text)) {
        auto parsed = ParseBatchLine(line->text, batch.endpoint);
        if (!parsed.ok()) {
          problems.push_back(Problem(parsed.status().error_code(), parsed.status().message(), line->number));
        } else {
          ++requests;
          ids.push_back(IdHash{.a = std::hash<std::string_view>()(parsed->custom_id),
                               .b = Fnv1a(parsed->custom_id),
                               .line = line->number});
        }
      }
      if (static_cast<int>(problems.size()) >= opt.max_reported_errors) break;
    }
  }
  if (static_cast<int>(problems.size()) < opt.max_reported_errors) {
    std::sort(ids.begin(), ids.end(),
              [](const IdHash& x, const IdHash& y) { return std::tie(x.a, x.b, x.line) < std::tie(y.a, y.b, y.line); });
    for (std::size_t i = 1; i < ids.size(); ++i) {
      if (ids[i].key() != ids[i - 1].key()) continue;
      if (static_cast<int>(problems.size()) >= opt.max_reported_errors) break;
      problems.push_back(Problem("duplicate_custom_id",
                                 "this custom_id is used already on line " + std::to_string(ids[i - 1].line) +
                                     "; custom_ids must be unique within a batch",
                                 ids[i].line));
    }
  }
  ids.clear();
  ids.shrink_to_fit();
  if (problems.empty() && requests == 0) {
    problems.push_back(Problem("empty_file", "the input file holds no requests", std::nullopt));
  }
  if (requests > opt.max_requests) {
    problems.push_back(Problem("too_many_requests",
                               "a batch holds at most " + std::to_string(opt.max_requests) + " requests, this file " +
                                   std::to_string(requests),
                               std::nullopt));
  }

  const Millis now = deps.clock.now();
  if (!problems.empty()) {
    const std::string errors = JsonText(json::object{{"object", "list"}, {"data", std::move(problems)}});
    return deps.store.transition_batch(BatchTransition{
        .id = batch.id,
        .from = {BatchStatus::kValidating, BatchStatus::kCancelling},
        .to = BatchStatus::kFailed,
        .now = now,
        .owner = deps.owner,
        .errors_json = errors,
        .event_type = "batch.failed",
        .event_data = EventData(BatchStatus::kFailed, BatchRequestCounts{.total = requests})});
  }
  auto started = deps.store.transition_batch(BatchTransition{
      .id = batch.id,
      .from = {BatchStatus::kValidating},
      .to = BatchStatus::kInProgress,
      .now = now,
      .owner = deps.owner,
      .lease_until = now + opt.lease,
      .total = requests,
      .event_type = "batch.in_progress",
      .event_data = EventData(BatchStatus::kInProgress, BatchRequestCounts{.total = requests})});
  if (started.ok() || started.status().code() != StatusCode::kFailedPrecondition) return started;
  // Cancelled while validating: keep cancelling; ingestion records every request as cancelled.
  return deps.store.transition_batch(BatchTransition{.id = batch.id,
                                                     .from = {BatchStatus::kCancelling},
                                                     .now = now,
                                                     .owner = deps.owner,
                                                     .lease_until = now + opt.lease,
                                                     .total = requests,
                                                     .keep_status = true});
}

Status IngestBatch(const BatchWorkDeps& deps, const Batch& batch) {
  const BatchWorkOptions& opt = deps.options;
  FileLineReader reader(deps.store, batch.input_file_id, batch.ingest_offset, batch.ingest_line,
                        opt.max_line_bytes);
  BatchStatus status = batch.status;
  std::vector<Job> jobs;
  std::vector<BatchLineError> errors;
  std::int64_t next_line = batch.ingest_line;
  std::int64_t next_offset = batch.ingest_offset;

  auto flush = [&](bool last) -> Status {
    const Millis now = deps.clock.now();
    ASSIGN_OR_RETURN(BatchChunkOutcome outcome,
                     deps.store.ingest_batch_chunk(BatchChunk{.batch_id = batch.id,
                                                              .owner = deps.owner,
                                                              .now = now,
                                                              .lease_until = now + opt.lease,
                                                              .jobs = jobs,
                                                              .line_errors = errors,
                                                              .next_line = next_line,
                                                              .next_offset = next_offset,
                                                              .last = last}));
    status = outcome.status;
    if (outcome.created > 0 && deps.wake_queue) {
      std::set<std::string> queues;
      for (const Job& job : jobs) queues.insert(job.spec.queue);
      for (const std::string& queue : queues) deps.wake_queue(queue);
    }
    jobs.clear();
    errors.clear();
    return Status::Ok();
  };

  for (;;) {
    ASSIGN_OR_RETURN(std::optional<FileLineReader::Line> line, reader.next());
    if (!line) break;
    next_line = line->number;
    next_offset = line->end_offset;
    if (line->too_long || Blank(line->text)) continue;  // validation refused files with long lines
    auto parsed = ParseBatchLine(line->text, batch.endpoint);
    if (!parsed.ok()) {
      // Validated already; a line that fails now cannot run, but it is never dropped silently.
      errors.push_back({.line = line->number, .custom_id = "", .status_code = 400,
                        .code = parsed.status().error_code(), .message = parsed.status().message()});
    } else if (status == BatchStatus::kCancelling) {
      errors.push_back({.line = line->number, .custom_id = parsed->custom_id, .status_code = 0,
                        .code = "batch_cancelled", .message = "the batch was cancelled before this request ran"});
    } else if (const Millis now = deps.clock.now(); now >= batch.expires_at) {
      errors.push_back({.line = line->number, .custom_id = parsed->custom_id, .status_code = 0,
                        .code = "batch_expired",
                        .message = "the batch's completion window ended before this request ran"});
    } else {
      Result<Job> job = BatchLineJob(*parsed, batch, deps.job_from_body, now);
      if (job.ok()) {
        jobs.push_back(std::move(job).value());
      } else if (job.status().code() == StatusCode::kInvalidArgument) {
        const Status& s = job.status();
        errors.push_back({.line = line->number, .custom_id = parsed->custom_id, .status_code = 400,
                          .code = s.error_code().empty() ? "invalid_request" : s.error_code(),
                          .message = s.message(), .field = s.field()});
      } else {
        return job.status();  // the store is unreachable (a blob lookup): resume later, from here
      }
    }
    if (static_cast<int>(jobs.size() + errors.size()) >= opt.chunk_lines) {
      RETURN_IF_ERROR(flush(false));
      if (deps.stopping()) return Status(StatusCode::kCanceled, "the node is stopping");
    }
  }
  return flush(true);
}

Status WriteBatchFiles(const BatchWorkDeps& deps, const Batch& batch) {
  CHECK(batch.status == BatchStatus::kFinalizing && batch.outcome.has_value());
  const BatchStatus outcome = *batch.outcome;
  // A previous finalizer of this batch may have died halfway: start both files afresh.
  RETURN_IF_ERROR(deps.store.delete_file(batch.output_file_id));
  RETURN_IF_ERROR(deps.store.delete_file(batch.error_file_id));
  const Millis created = deps.clock.now();
  const std::string_view short_id = std::string_view(batch.id).substr(6);
  FileWriter output(deps.store, StoredFile{.id = batch.output_file_id,
                                           .tenant = batch.tenant,
                                           .purpose = kFilePurposeBatchOutput,
                                           .filename = "batch_" + std::string(short_id) + "_output.jsonl",
                                           .created_at = created});
  FileWriter error(deps.store, StoredFile{.id = batch.error_file_id,
                                          .tenant = batch.tenant,
                                          .purpose = kFilePurposeBatchOutput,
                                          .filename = "batch_" + std::string(short_id) + "_error.jsonl",
                                          .created_at = created});
  BatchRequestCounts counts{.total = batch.counts.total};
  std::string after;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<BatchJobRow> rows, deps.store.batch_jobs(batch.id, after, deps.options.page_jobs));
    if (rows.empty()) break;
    for (const BatchJobRow& row : rows) {
      OutputLine line = FormatJobLine(batch, outcome, row);
      line.json += '\n';
      RETURN_IF_ERROR((line.ok ? output : error).append(line.json));
      ++(line.ok ? counts.completed : counts.failed);
    }
    after = rows.back().job.id;
    if (deps.stopping()) return Status(StatusCode::kCanceled, "the node is stopping");
    RETURN_IF_ERROR(RenewLease(deps, batch.id));
  }
  std::int64_t after_line = 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<BatchLineError> rows,
                     deps.store.batch_line_errors(batch.id, after_line, deps.options.page_jobs));
    if (rows.empty()) break;
    for (const BatchLineError& e : rows) {
      RETURN_IF_ERROR(error.append(FormatLineError(batch, e) + "\n"));
      ++counts.failed;
    }
    after_line = rows.back().line;
  }
  // A file with no line is not made (its id in the batch object is null), as with OpenAI.
  const bool has_output = output.bytes() > 0;
  const bool has_errors = error.bytes() > 0;
  if (has_output) RETURN_IF_ERROR(output.finish());
  if (has_errors) RETURN_IF_ERROR(error.finish());
  const std::string event = std::string("batch.") + BatchStatusName(outcome);
  return deps.store
      .transition_batch(BatchTransition{.id = batch.id,
                                        .from = {BatchStatus::kFinalizing},
                                        .to = outcome,
                                        .now = deps.clock.now(),
                                        .owner = deps.owner,
                                        .output_file_id = has_output ? batch.output_file_id : std::string(),
                                        .error_file_id = has_errors ? batch.error_file_id : std::string(),
                                        .final_counts = counts,
                                        .event_type = event,
                                        .event_data = EventData(outcome, counts)})
      .status();
}

}  // namespace sluice
