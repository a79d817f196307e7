#include "schedules/schedule_runner.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "api/job_request.h"
#include "api/mask_pii_request.h"
#include "client/job_line.h"
#include "core/guarded.h"
#include "core/utf8.h"

namespace sluice {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::size_t kChunkJobs = 500;
constexpr std::size_t kChunkBytes = 8 << 20;

void LogError(const std::string& line) { spdlog::error("{}", line); }

bool IsUtf8(std::string_view s) {
  while (!s.empty()) {
    std::size_t n = Utf8SequenceLength(s);
    if (n == 0) return false;
    s.remove_prefix(n);
  }
  return true;
}

// Validates bodies through the API's ParseJobRequest and submits the valid ones in chunks.
class Submission {
 public:
  Submission(const ScheduleDeps& deps, const ScheduleConfig& schedule, FireReport& report)
      : deps_(deps), schedule_(schedule), report_(report),
        mask_pii_(TenantMasksPii(deps.store, kDefaultTenant)) {}

  // `label` names the file or line in warnings.
  Status add(const std::string& label, const json::object& body) {
    ++report_.items;
    JobRequestContext ctx{deps_.config, deps_.tasks, deps_.blobs, deps_.gateway, deps_.clock.now(),
                          kDefaultTenant, mask_pii_};
    auto job = ParseJobRequest(body, ctx);
    if (!job.ok()) {
      if (job.status().code() != StatusCode::kInvalidArgument) return job.status();  // blobs unreachable
      ++report_.invalid;
      spdlog::warn("schedule {}: {}: not submitted: {}{}", schedule_.name, label, job.status().message(),
                   job.status().field().empty() ? "" : " (field " + job.status().field() + ")");
      return Status::Ok();
    }
    bytes_ += job->spec.input_json.size();
    jobs_.push_back(std::move(job).value());
    if (jobs_.size() >= kChunkJobs || bytes_ >= kChunkBytes) return flush();
    return Status::Ok();
  }

  void skip(const std::string& label, const std::string& why) {
    ++report_.items;
    ++report_.invalid;
    spdlog::warn("schedule {}: {}: not submitted: {}", schedule_.name, label, why);
  }

  Status flush() {
    if (jobs_.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(std::vector<SubmitOutcome> outcomes, deps_.store.submit_jobs(jobs_));
    std::vector<std::string> queues;
    for (const auto& o : outcomes) {
      if (o.deduplicated) {
        ++report_.deduplicated;
      } else {
        ++report_.created;
        if (std::find(queues.begin(), queues.end(), o.job.spec.queue) == queues.end()) queues.push_back(o.job.spec.queue);
      }
    }
    if (deps_.on_submitted) {
      for (const auto& q : queues) deps_.on_submitted(q);
    }
    jobs_.clear();
    bytes_ = 0;
    return Status::Ok();
  }

 private:
  const ScheduleDeps& deps_;
  const ScheduleConfig& schedule_;
  FireReport& report_;
  const bool mask_pii_;  // the default tenant's flag, read once a fire
  std::vector<Job> jobs_;
  std::size_t bytes_ = 0;
};

std::string DedupKey(const ScheduleConfig& s, std::string_view content) {
  return "schedule:" + s.name + ":" + Sha256Hex(content);
}

// The schedule's queue, priority and metadata where the body has none.
void ApplyScheduleDefaults(const ScheduleConfig& s, json::object& body) {
  client::SetDefault(body, "queue", json::string(s.queue));
  if (s.priority >= 0) client::SetDefault(body, "priority", s.priority);
  if (!s.metadata_json.empty()) client::SetDefault(body, "metadata", json::parse(s.metadata_json));
}

Status FireInbox(const ScheduleDeps& deps, const ScheduleConfig& s, Submission& submission) {
  std::error_code ec;
  if (!fs::is_directory(s.inbox, ec)) return Unavailable("inbox " + s.inbox + " is not a readable folder");
  std::vector<fs::path> files;
  for (fs::directory_iterator it(s.inbox, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    files.push_back(it->path());
  }
  if (ec) return Unavailable("cannot list inbox " + s.inbox + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const fs::path& path : files) {
    const std::string name = path.filename().string();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      submission.skip(name, "cannot be read");
      continue;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    std::string content = buf.str();
    if (content.empty()) continue;  // maybe still being written: a later fire takes it
    if (!IsUtf8(content)) {
      submission.skip(name, "the content is not UTF-8 text");
      continue;
    }
    json::object input;
    if (static_cast<std::int64_t>(content.size()) > ScheduleRunner::kBlobThreshold) {
      ASSIGN_OR_RETURN(BlobInfo blob, deps.blobs.put(kDefaultTenant, content));
      input["blob"] = blob.id;
    } else {
      input["text"] = content;
    }
    json::object body{{"type", s.type}, {"input", std::move(input)}};
    body["source"] = ("inbox:" + name).substr(0, kMaxShortField);
    body["dedup_key"] = DedupKey(s, content);
    ApplyScheduleDefaults(s, body);
    RETURN_IF_ERROR(submission.add(name, body));
  }
  return submission.flush();
}

Status FireDropFile(const ScheduleConfig& s, Submission& submission) {
  std::ifstream in(s.drop_file, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(s.drop_file, ec)) return Status::Ok();  // nothing dropped yet
    return Unavailable("cannot read drop file " + s.drop_file);
  }
  const std::string file = fs::path(s.drop_file).filename().string();
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline yet: the line may still be being written
    ++number;
    const std::string label = file + " line " + std::to_string(number);
    auto body = client::JobBodyFromLine(line, s.type);
    if (!body.ok()) {
      submission.skip(label, body.status().message());
      continue;
    }
    if (!*body) continue;
    json::object& job = **body;
    client::SetDefault(job, "dedup_key", json::string(DedupKey(s, line)));
    ApplyScheduleDefaults(s, job);
    RETURN_IF_ERROR(submission.add(label, job));
  }
  if (in.bad()) return Unavailable("error reading drop file " + s.drop_file);
  return submission.flush();
}

}  // namespace

ScheduleRunner::ScheduleRunner(ScheduleDeps deps) : deps_(std::move(deps)), state_(deps_.state_path) {}

ScheduleRunner::~ScheduleRunner() { stop(); }

Status ScheduleRunner::Check(const Config& config, const TaskRegistry& tasks) {
  for (const ScheduleConfig& s : config.schedules) {
    auto cron = CronExpr::Parse(s.cron);
    if (!cron.ok()) {
      return InvalidArgument("schedule " + s.name + ": cron: " + cron.status().message(), "schedule.cron");
    }
    const TaskType* task = tasks.find(s.type);
    if (!task) {
      return InvalidArgument("schedule " + s.name + ": unknown task type " + s.type, "schedule.type");
    }
    if (task->is_pipeline()) {
      return InvalidArgument("schedule " + s.name + ": pipeline task types cannot be submitted yet", "schedule.type");
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<ScheduleRunner>> ScheduleRunner::Create(ScheduleDeps deps) {
  RETURN_IF_ERROR(Check(deps.config, deps.tasks));
  std::unique_ptr<ScheduleRunner> runner(new ScheduleRunner(std::move(deps)));
  for (const ScheduleConfig& s : runner->deps_.config.schedules) {
    // Check() parsed every expression already.
    runner->entries_.push_back(Entry{&s, CronExpr::Parse(s.cron).value(), 0});
  }
  if (!runner->entries_.empty()) RETURN_IF_ERROR(runner->state_.Load());
  const Millis now = runner->deps_.clock.now();
  for (Entry& e : runner->entries_) {
    auto last = runner->state_.last_fires().find(e.config->name);
    // Never fired here before: start from now, nothing fires for the past.
    Millis from = last == runner->state_.last_fires().end() ? now : last->second;
    e.next = e.cron.next_after(from).value_or(std::numeric_limits<Millis>::max());
  }
  return runner;
}

std::vector<FireReport> ScheduleRunner::run_due() {
  std::vector<FireReport> reports;
  for (Entry& e : entries_) {
    const Millis now = deps_.clock.now();
    if (now < e.next) continue;
    FireReport report = fire(e, now);
    if (report.status.ok()) {
      if (Status saved = state_.set_last_fire(e.config->name, now); !saved.ok()) {
        spdlog::warn("schedule {}: {}", e.config->name, saved.message());
      }
      e.next = e.cron.next_after(now).value_or(std::numeric_limits<Millis>::max());
      spdlog::info("schedule {}: {} items, {} new jobs, {} submitted before, {} invalid; next at {}", e.config->name,
                   report.items, report.created, report.deduplicated, report.invalid, FormatRfc3339(e.next));
    } else {
      e.next = now + kRetryAfterFailure;
      spdlog::warn("schedule {}: fire failed ({}), trying again at {}", e.config->name, report.status.message(),
                   FormatRfc3339(e.next));
    }
    reports.push_back(std::move(report));
  }
  return reports;
}

FireReport ScheduleRunner::fire(const Entry& e, Millis now) {
  FireReport report;
  report.schedule = e.config->name;
  report.at = now;
  // A fire that throws (a std::filesystem error, a blob store's, std::bad_alloc) failed like
  // one that returned an error: it is tried again kRetryAfterFailure later.
  report.status = RunGuarded(
      "schedule " + e.config->name + ": a fire",
      [&] {
        Submission submission(deps_, *e.config, report);
        return e.config->inbox.empty() ? FireDropFile(*e.config, submission)
                                       : FireInbox(deps_, *e.config, submission);
      },
      LogError);
  return report;
}

std::optional<Millis> ScheduleRunner::next_fire(const std::string& name) const {
  for (const Entry& e : entries_) {
    if (e.config->name == name) return e.next;
  }
  return std::nullopt;
}

void ScheduleRunner::start() {
  if (entries_.empty() || thread_.joinable()) return;
  for (const Entry& e : entries_) {
    const ScheduleConfig& c = *e.config;
    spdlog::info("schedule {} loaded: cron '{}', type {}, queue {}, from {}; next at {}", c.name,
                 c.cron, c.type, c.queue, c.inbox.empty() ? c.drop_file : c.inbox,
                 FormatRfc3339(e.next));
  }
  thread_ = std::thread([this] { loop(); });
}

void ScheduleRunner::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

void ScheduleRunner::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void ScheduleRunner::loop() {
  for (;;) {
    // fire() catches what a fire throws; this guard is for the rest of a round (the state file,
    // the logging), with a pause so that a fault that repeats does not spin.
    if (!RunGuarded("schedules: a round", [this] { (void)run_due(); }, LogError).ok()) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kPauseAfterThrow, [this] { return stopping_; });
      if (stopping_) return;
    }
    Millis next = std::numeric_limits<Millis>::max();
    for (const Entry& e : entries_) next = std::min(next, e.next);
    Millis wait = std::clamp<Millis>(next - deps_.clock.now(), 0, 1'000);
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(wait), [this] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

}  // namespace sluice
