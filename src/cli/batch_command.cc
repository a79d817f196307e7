// `sluice batch FILE.jsonl`: every line a job, through POST /v1/jobs/bulk in chunks, reading
// the file as a stream (only the current chunk is in memory, plus one small record per line).
//
// Re-running is safe: each line gets a deterministic dedup key (client/job_line.h), so after a
// crash, a Ctrl-C or a server restart the same command submits what is missing and finds the
// rest (`deduplicated`). A chunk the server could not take (503, 429, a dropped connection) is
// sent again, which is harmless for the same reason. A chunk over the server's body limit (413)
// is split in halves until it fits; a single line that does not fit is reported invalid.
//
// With --wait the jobs are followed (client/job_tracker.h) with a progress bar on a terminal or
// plain progress lines elsewhere; --out writes one JSON line per input line in input order:
//   {"line": 12, "object_id": ..., "job_id": "job_…", "status": "done", "output": {...},
//    "error": null, "cost_usd": 0.0001}
// An invalid line has "status": "invalid" and its error; without --wait, "status" is the one
// at submission and "deduplicated" says whether the job already existed; a job still going
// when --timeout ends is written with "status": "pending".
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include <boost/json.hpp>

#include "cli/client_commands.h"
#include "client/job_line.h"
#include "client/job_tracker.h"
#include "client/progress.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

namespace {

// One input line's fate; `record` holds its --out line until it is written in order.
struct LineEntry {
  std::int64_t line = 0;
  std::string object_id;
  std::string job_id;  // empty for an invalid line
  std::string status;  // at submission; the settled one with --wait
  bool ready = false;  // `record` is final
  std::string record;
};

struct PendingLine {
  std::size_t entry = 0;
  std::string body;  // the job as JSON text
};

constexpr std::size_t kMaxChunkBytes = 8 << 20;

json::object ErrorObject(const Status& st) {
  json::object e{{"code", st.error_code().empty() ? StatusCodeName(st.code()) : st.error_code()},
                 {"message", st.message()}};
  if (!st.field().empty()) e["field"] = st.field();
  return e;
}

class BatchRun {
 public:
  explicit BatchRun(const BatchFlags& f) : f_(f), options_(ClientOptionsFor(f.client)), api_(options_) {}

  int run() {
    if (!f_.fields.dedup_key.empty()) {
      // One key for every line would make one job of the first and "deduplicated" of the rest.
      return ReportError(InvalidArgument("--dedup-key would give every line the same key, so only the first "
                                         "would run: leave it out (each line gets a key of its own) or use "
                                         "--dedup-prefix to run the file again",
                                         "--dedup-key"));
    }
    line_fields_.text_field = f_.text_field;
    line_fields_.id_field = f_.id_field;
    line_fields_.extra = f_.extra_fields == "ignore"   ? client::LineFields::Extra::kIgnore
                         : f_.extra_fields == "refuse" ? client::LineFields::Extra::kRefuse
                                                       : client::LineFields::Extra::kMetadata;
    std::optional<Millis> deadline;
    if (!f_.timeout.empty()) {
      auto d = ParseDuration(f_.timeout);
      if (!d.ok()) return ReportError(InvalidArgument("--timeout: " + d.status().message()));
      deadline = SystemClock::Instance().now() + *d;
    }
    if (!f_.out.empty()) {
      out_.open(f_.out, std::ios::binary | std::ios::trunc);
      if (!out_) return ReportError(InvalidArgument("cannot write " + f_.out, "--out"));
    }
    progress_mode_ = f_.progress;
    if (progress_mode_ == "auto") progress_mode_ = isatty(STDERR_FILENO) ? "bar" : "plain";

    Status submitted = submit_all();
    if (!submitted.ok()) {
      finish_submit_progress();
      std::fprintf(stderr, "sluice: %s\n", submitted.message().c_str());
      if (lines_sent_ > 0) {
        std::fprintf(stderr, "sluice: %lld lines were submitted before this; running the same command again "
                     "submits the rest without duplicates\n", static_cast<long long>(lines_sent_));
      }
      return ExitCodeFor(submitted);
    }
    finish_submit_progress();
    Status waited = Status::Ok();
    if (f_.wait) waited = wait_all(deadline);
    flush_all_pending();
    print_summary();
    if (!waited.ok()) {
      if (waited.code() == StatusCode::kDeadlineExceeded) {
        std::fprintf(stderr, "sluice: %s; they go on in the background\n", waited.message().c_str());
      } else {
        std::fprintf(stderr, "sluice: %s\n", waited.message().c_str());
      }
      return ExitCodeFor(waited);
    }
    if (invalid_ > 0) return kExitUsage;
    if (f_.wait && not_done_ > 0) return kExitJobFailed;
    return kExitOk;
  }

 private:
  // Reads the file line by line, sending a chunk whenever it is full.
  Status submit_all() {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (f_.file != "-") {
      errno = 0;
      file.open(f_.file, std::ios::binary);
      if (!file) return CannotRead(f_.file);
      in = &file;
    }
    std::vector<PendingLine> chunk;
    std::size_t chunk_bytes = 0;
    std::string text;
    std::int64_t number = 0;
    while (std::getline(*in, text)) {
      ++number;
      line_extras_.clear();
      auto body = client::JobBodyFromLine(text, f_.fields.type, line_fields_, &line_extras_);
      for (std::string& name : line_extras_) extras_[std::move(name)]++;
      if (body.ok() && !*body) continue;  // a blank line
      Status st = body.ok() ? ApplyJobFields(f_.fields, **body, /*override_body=*/false) : body.status();
      if (!st.ok() && st.code() != StatusCode::kInvalidArgument) return st;
      if (!st.ok() && st.field() == "--metadata") return st;  // a usage error, not this line's
      std::size_t entry = entries_.size();
      entries_.push_back(LineEntry{.line = number});
      if (!st.ok()) {
        mark_invalid(entry, st);
        continue;
      }
      json::object& job = **body;
      if (auto* oid = job.if_contains("object_id"); oid && oid->is_string()) {
        entries_[entry].object_id = oid->as_string();
      }
      client::AssignBatchDedupKey(job, number, f_.dedup_prefix);
      std::string serialized = JsonText(job);
      if (!chunk.empty() && (chunk.size() >= static_cast<std::size_t>(f_.chunk) ||
                             chunk_bytes + serialized.size() > kMaxChunkBytes)) {
        RETURN_IF_ERROR(send(chunk));
        chunk.clear();
        chunk_bytes = 0;
      }
      chunk_bytes += serialized.size() + 1;
      chunk.push_back(PendingLine{entry, std::move(serialized)});
    }
    if (in->bad()) return InvalidArgument("error reading " + f_.file);
    if (!chunk.empty()) RETURN_IF_ERROR(send(chunk));
    return Status::Ok();
  }

  // Sends one chunk: retried while the server is unavailable, split while it is too large.
  Status send(const std::vector<PendingLine>& chunk) {
    std::string body = "{\"jobs\":[";
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      if (i) body += ',';
      body += chunk[i].body;
    }
    body += "]}";
    Millis backoff = 500;
    for (int attempt = 1;; ++attempt) {
      auto answer = api_.send("POST", "/v1/jobs/bulk", body, client::CallOptions{.timeout = 120'000});
      if (answer.ok() && answer->status == 413) {
        if (chunk.size() == 1) {
          mark_invalid(chunk[0].entry, client::StatusFromResponse(*answer));
          return Status::Ok();
        }
        std::size_t half = chunk.size() / 2;
        RETURN_IF_ERROR(send({chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(half)}));
        return send({chunk.begin() + static_cast<std::ptrdiff_t>(half), chunk.end()});
      }
      Status st = answer.ok() ? (answer->status / 100 == 2 ? Status::Ok() : client::StatusFromResponse(*answer))
                              : answer.status();
      if (st.ok()) return take_answers(chunk, answer->body);
      // Nothing reached the server yet: an unreachable server is reported at once.
      bool retryable = st.code() == StatusCode::kUnavailable && (answer.ok() || lines_sent_ > 0);
      if (!retryable || attempt >= 6) return st;
      std::fprintf(stderr, "sluice: %s; sending the chunk again in %lld ms\n", st.message().c_str(),
                   static_cast<long long>(backoff));
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
      backoff = std::min<Millis>(backoff * 2, 8'000);
    }
  }

  Status take_answers(const std::vector<PendingLine>& chunk, const json::value& body) {
    const json::value* jobs = body.is_object() ? body.as_object().if_contains("jobs") : nullptr;
    if (!jobs || !jobs->is_array() || jobs->as_array().size() != chunk.size()) {
      return Internal("the server's bulk answer does not have one item per job");
    }
    const json::array& items = jobs->as_array();
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      LineEntry& e = entries_[chunk[i].entry];
      const json::object* item = items[i].is_object() ? &items[i].as_object() : nullptr;
      const json::value* error = item ? item->if_contains("error") : nullptr;
      if (!item || (error && error->is_object())) {
        json::object err = error ? error->as_object() : json::object{{"code", "invalid"}, {"message", "no answer"}};
        report_invalid(e.line, err);
        e.record = JsonText(json::object{{"line", e.line}, {"status", "invalid"}, {"error", err}});
        e.ready = true;
        ++invalid_;
        continue;
      }
      e.job_id = item->contains("id") ? std::string(item->at("id").as_string()) : "";
      e.status = item->contains("status") ? std::string(item->at("status").as_string()) : "";
      bool dedup = item->contains("deduplicated") && item->at("deduplicated").as_bool();
      (dedup ? deduplicated_ : created_)++;
      if (!f_.wait) {
        json::object r{{"line", e.line}};
        if (!e.object_id.empty()) r["object_id"] = e.object_id;
        r["job_id"] = e.job_id;
        r["status"] = e.status;
        r["deduplicated"] = dedup;
        e.record = JsonText(r);
        e.ready = true;
      }
    }
    lines_sent_ += static_cast<std::int64_t>(chunk.size());
    write_ready();
    submit_progress();
    return Status::Ok();
  }

  void mark_invalid(std::size_t entry, const Status& st) {
    LineEntry& e = entries_[entry];
    json::object err = ErrorObject(st);
    report_invalid(e.line, err);
    e.record = JsonText(json::object{{"line", e.line}, {"status", "invalid"}, {"error", err}});
    e.ready = true;
    ++invalid_;
  }

  void report_invalid(std::int64_t line, const json::object& err) {
    clear_bar();
    auto s = [&](const char* k) {
      const json::value* v = err.if_contains(k);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    std::string field = s("field");
    std::fprintf(stderr, "sluice: line %lld: %s%s\n", static_cast<long long>(line), s("message").c_str(),
                 field.empty() ? "" : (" (field: " + field + ")").c_str());
  }

  Status wait_all(std::optional<Millis> deadline) {
    const Clock& clock = SystemClock::Instance();
    client::JobTracker tracker(options_, client::TrackerOptions{.concurrency = f_.concurrency}, clock);
    std::vector<std::size_t> entry_of;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].job_id.empty()) continue;
      tracker.add(entries_[i].job_id);
      entry_of.push_back(i);
    }
    counts_.total = static_cast<std::int64_t>(entry_of.size());
    std::optional<client::ProgressReporter> reporter;
    // No job to follow (every line invalid): no "0/0 100%" bar, the summary says it all.
    if (progress_mode_ != "none" && !entry_of.empty())
      reporter.emplace(stderr, progress_mode_ == "bar", clock);
    if (reporter) reporter->update(counts_);
    Status st = tracker.run(
        deadline,
        [&](std::size_t index, const json::object& job) { settle(entry_of[index], job); },
        [&] {
          if (reporter) reporter->update(counts_);
        });
    if (reporter) reporter->finish(counts_);
    return st;
  }

  void settle(std::size_t entry, const json::object& job) {
    LineEntry& e = entries_[entry];
    e.status = JobStatusOf(job);
    ++counts_.ended;
    if (e.status == "review") ++counts_.review;
    else if (e.status != "done") ++counts_.failed;
    if (e.status != "done") ++not_done_;
    ++by_status_[e.status];
    json::object r{{"line", e.line}};
    if (!e.object_id.empty()) r["object_id"] = e.object_id;
    r["job_id"] = e.job_id;
    r["status"] = e.status;
    json::value output = nullptr;
    if (const json::value* result = job.if_contains("result"); result && result->is_object()) {
      if (const json::value* o = result->as_object().if_contains("output")) output = *o;
    }
    r["output"] = std::move(output);
    const json::value* error = job.if_contains("error");
    r["error"] = error ? *error : json::value(nullptr);
    if (const json::value* cost = job.if_contains("cost_usd")) r["cost_usd"] = *cost;
    e.record = JsonText(r);
    e.ready = true;
    write_ready();
  }

  // Writes every record that is next in input order; frees what it wrote.
  void write_ready() {
    while (next_write_ < entries_.size() && entries_[next_write_].ready) {
      if (out_.is_open()) out_ << entries_[next_write_].record << '\n';
      std::string().swap(entries_[next_write_].record);
      ++next_write_;
    }
  }

  // At the end: jobs still going (a timeout) are written as pending.
  void flush_all_pending() {
    for (std::size_t i = next_write_; i < entries_.size(); ++i) {
      LineEntry& e = entries_[i];
      if (e.ready) continue;
      json::object r{{"line", e.line}};
      if (!e.object_id.empty()) r["object_id"] = e.object_id;
      r["job_id"] = e.job_id;
      r["status"] = "pending";
      e.record = JsonText(r);
      e.ready = true;
    }
    write_ready();
    if (out_.is_open()) out_.flush();
  }

  void submit_progress() {
    if (progress_mode_ != "bar") return;
    std::fprintf(stderr, "\r\033[Ksubmitting: %lld lines sent", static_cast<long long>(lines_sent_));
    bar_drawn_ = true;
  }
  void clear_bar() {
    if (bar_drawn_) std::fprintf(stderr, "\r\033[K");
    bar_drawn_ = false;
  }
  void finish_submit_progress() { clear_bar(); }

  void print_summary() {
    json::object s{{"lines", static_cast<std::int64_t>(entries_.size())},
                   {"jobs", created_ + deduplicated_},
                   {"created", created_},
                   {"deduplicated", deduplicated_},
                   {"invalid", invalid_}};
    if (f_.wait) {
      json::object ended;
      for (auto& [status, n] : by_status_) ended[status] = n;
      s["ended"] = std::move(ended);
    }
    json::object extras;
    for (auto& [name, n] : extras_) extras[name] = n;
    if (!extras.empty()) s["extra_fields"] = json::object{{"to", f_.extra_fields}, {"lines", std::move(extras)}};
    if (f_.client.output == "json") {
      std::printf("%s\n", JsonText(s).c_str());
      return;
    }
    std::printf("%lld lines: %lld jobs (%lld new, %lld deduplicated), %lld invalid\n",
                static_cast<long long>(entries_.size()), static_cast<long long>(created_ + deduplicated_),
                static_cast<long long>(created_), static_cast<long long>(deduplicated_),
                static_cast<long long>(invalid_));
    if (f_.wait) {
      std::string line = "ended:";
      for (auto& [status, n] : by_status_) line += " " + status + " " + std::to_string(n);
      if (by_status_.empty()) line += " none";
      std::printf("%s\n", line.c_str());
    }
    if (!extras_.empty()) {
      std::string line = f_.extra_fields == "metadata" ? "extra fields, carried into metadata:" : "extra fields, ignored:";
      for (auto& [name, n] : extras_) line += " " + name + " (" + std::to_string(n) + " lines)";
      std::printf("%s\n", line.c_str());
    }
    if (!f_.out.empty()) std::printf("results in %s\n", f_.out.c_str());
  }

  const BatchFlags& f_;
  client::LineFields line_fields_;
  std::vector<std::string> line_extras_;           // the current line's extra fields
  std::map<std::string, std::int64_t> extras_;    // lines that had each extra field
  client::ClientOptions options_;
  client::ApiClient api_;
  std::ofstream out_;
  std::string progress_mode_;
  bool bar_drawn_ = false;
  std::vector<LineEntry> entries_;
  std::size_t next_write_ = 0;
  std::int64_t lines_sent_ = 0, created_ = 0, deduplicated_ = 0, invalid_ = 0, not_done_ = 0;
  std::map<std::string, std::int64_t> by_status_;
  client::ProgressCounts counts_;
};

}  // namespace

int RunBatch(const BatchFlags& flags) { return BatchRun(flags).run(); }

}  // namespace sluice
