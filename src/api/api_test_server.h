// Test-only: the real router of `sluice serve` (AddAllRoutes) over loopback HTTP, on a real
// SqliteStore and file blob store in a temp dir, with one task type (`ticket`, schema
// `ticket_v1`) and the built-in `local` model. The scheduler is never started, so a job stays
// where a test puts it: tests move jobs with the store itself (claim, finish) and then ask the
// API. Header-only so that the api library never links it.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "api/api_context.h"
#include "api/routes.h"
#include "blobs/file_blob_store.h"
#include "gateway/http_client.h"
#include "http/test_client.h"
#include "store/attempt_writer.h"
#include "store/group_commit.h"
#include "worker/worker.h"

namespace sluice::testing {

inline const char* kTicketSchema = R"({
  "type": "object",
  "properties": {"category": {"type": "string"}, "confidence": {"type": "number"}},
  "required": ["category", "confidence"],
  "additionalProperties": false
})";

inline const char* kTicketTask = R"(name = "ticket"
queue = "default"
max_attempts = 2
model = "fast"

[[version]]
id = "v1"
system = "Sort the ticket."
user = "{{text}}"
schema = "ticket_v1"
)";

// A reply with its body parsed when it is JSON.
struct ApiReply {
  long status = 0;
  boost::json::value body;
  std::string text;
  std::string retry_after;
  std::string content_type;

  // error.code / error.field of an API.md error body, "" when absent.
  std::string error_code() const { return ErrorMember("code"); }
  std::string error_field() const { return ErrorMember("field"); }

 private:
  std::string ErrorMember(const char* name) const {
    if (!body.is_object()) return {};
    const auto* error = body.as_object().if_contains("error");
    if (!error || !error->is_object()) return {};
    const auto* v = error->as_object().if_contains(name);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  }
};

// The reply is the API.md error body with this status and code (and field, when one is named).
inline void ExpectApiError(const ApiReply& r, long status, const std::string& code, const std::string& field = {}) {
  EXPECT_EQ(r.status, status) << r.text;
  EXPECT_EQ(r.error_code(), code) << r.text;
  if (!field.empty()) {
    EXPECT_EQ(r.error_field(), field) << r.text;
  }
  ASSERT_TRUE(r.body.is_object()) << r.text;
  const auto* message = r.body.at("error").as_object().if_contains("message");
  EXPECT_TRUE(message && message->is_string() && !message->as_string().empty()) << r.text;
  EXPECT_NE(r.content_type.find("application/json"), std::string::npos) << r.content_type;
}

// A multipart/form-data body and its Content-Type header: fields, then one file part (none when
// `file_field` is empty).
inline std::pair<std::string, std::string> Multipart(const std::vector<std::pair<std::string, std::string>>& fields,
                                                     const std::string& file_field = {},
                                                     const std::string& content = {}) {
  const std::string boundary = "sluice-test-boundary";
  std::string body;
  for (const auto& [name, value] : fields) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
  }
  if (!file_field.empty()) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + file_field +
            "\"; filename=\"in.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n" + content + "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  return {body, "Content-Type: multipart/form-data; boundary=" + boundary};
}

struct ApiTestOptions {
  std::string extra_server_toml;  // more [server] keys
  std::string extra_toml;         // more sections, after the models ("[billing]\n...")
  BlockingPoolOptions pool{};
};

class ApiTestServer {
 public:
  using Options = ApiTestOptions;

  ApiTestServer() : ApiTestServer(Options{}) {}
  explicit ApiTestServer(Options options) : dir_(MakeTempDir()), loop_(2) {
    std::filesystem::create_directories(dir_ / "tasks" / "schemas");
    std::ofstream(dir_ / "tasks" / "ticket.toml") << kTicketTask;
    std::ofstream(dir_ / "tasks" / "schemas" / "ticket_v1.json") << kTicketSchema;
    const std::string toml = "[server]\ndata_dir = \"" + (dir_ / "data").string() +
                             "\"\ndurable = false\n" + options.extra_server_toml + "\n[tasks]\ndir = \"" +
                             (dir_ / "tasks").string() +
                             "\"\n\n[[model]]\nalias = \"fast\"\nprovider = \"local\"\nid = \"local\"\n"
                             "\n[[model]]\nalias = \"strong\"\nprovider = \"local\"\nid = \"local\"\n" +
                             options.extra_toml;
    auto config = Config::Parse(toml, dir_.string());
    CHECK(config.ok());
    config_ = std::make_unique<Config>(std::move(config).value());
    std::filesystem::create_directories(config_->server.data_dir);
    const StoreOptions store_options{config_->server.data_dir, "", false};
    auto store = Store::Open(store_options);
    CHECK(store.ok());
    store_ = std::move(store).value();
    blobs_ = std::make_unique<FileBlobStore>((std::filesystem::path(config_->server.data_dir) / "blobs").string());
    CHECK(blobs_->Init().ok());
    auto tasks = TaskRegistry::Load(config_->tasks_dir);
    CHECK(tasks.ok());
    tasks_ = std::make_unique<TaskRegistry>(std::move(tasks).value());

    http_client_ = NewAsioHttpClient(loop_);
    gateway_ = std::make_unique<ModelGateway>(*config_, *http_client_, clock_, loop_);
    finisher_ = std::make_unique<AttemptWriter>(*store_, clock_);
    worker_ = std::make_unique<Worker>(
        WorkerDeps{*config_, *tasks_, *blobs_, *gateway_, *finisher_, loop_, watch_, clock_, config_->worker});
    scheduler_ = std::make_unique<Scheduler>(*store_, clock_,
                                             SchedulerOptions{config_->worker, config_->queues, "api-test"},
                                             *worker_, [this](const Job& job) { watch_.notify(job.id); });
    submitter_ = std::make_unique<SubmitGroupCommit>(*store_);
    ctx_.reset(new ApiContext{*config_, *store_, *submitter_, *tasks_, *blobs_, *gateway_, *scheduler_, *worker_,
                              watch_, loop_, clock_});
    ctx_->blocking = std::make_unique<BlockingPool>(options.pool);
    events_ = std::make_unique<EventStreamHub>(*store_, EventStreamOptions{.poll = 100});
    ctx_->event_stream = events_.get();
    AddAllRoutes(*ctx_, router_);

    loop_.start();
    finisher_->start();
    http::ServerOptions server_options;
    server_options.max_body = config_->server.max_body;
    auto server = http::Server::Start(loop_, server_options, [this](http::Request&& req, http::Responder res) {
      router_.dispatch(std::move(req), std::move(res));
    });
    CHECK(server.ok());
    server_ = std::move(server).value();
    events_->start();
  }

  // In `sluice serve`'s order: no more requests, no more blocking work, then the loop.
  ~ApiTestServer() {
    server_->stop();
    events_->stop();
    ctx_->blocking->stop();
    submitter_->stop();
    finisher_->give_up();
    finisher_->stop();
    http_client_.reset();
    loop_.stop();
    server_.reset();
    ctx_.reset();
    events_.reset();
    submitter_.reset();
    scheduler_.reset();
    worker_.reset();
    gateway_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Store& store() { return *store_; }
  ApiContext& ctx() { return *ctx_; }
  const Router& router() const { return router_; }
  const Config& config() const { return *config_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  ApiReply call(const std::string& method, const std::string& path, const std::string& body = {},
                std::vector<std::string> headers = {}) {
    if (!body.empty() && headers.empty()) headers.push_back("Content-Type: application/json");
    http::testing::Reply r = client_.request(method, url(path), body, headers);
    EXPECT_EQ(r.code, CURLE_OK) << method << " " << path;
    ApiReply out;
    out.status = r.status;
    out.text = r.body;
    out.retry_after = r.header("retry-after");
    out.content_type = r.header("content-type");
    boost::system::error_code ec;
    out.body = boost::json::parse(r.body, ec);
    if (ec) out.body = nullptr;
    return out;
  }
  ApiReply get(const std::string& path) { return call("GET", path); }
  // POST /v1/files of `content` (purpose batch); returns the file id.
  std::string upload(const std::string& content) {
    auto [body, type] = Multipart({{"purpose", "batch"}}, "file", content);
    ApiReply r = call("POST", "/v1/files", body, {type});
    EXPECT_EQ(r.status, 200) << r.text;
    return r.body.is_object() ? std::string(r.body.at("id").as_string()) : std::string();
  }
  ApiReply post(const std::string& path, const std::string& body) { return call("POST", path, body); }

  // A `ticket` job, queued, through the API; returns its id.
  std::string submit(const std::string& text = "charged twice") {
    ApiReply r = post("/v1/jobs", R"({"type": "ticket", "input": {"text": ")" + text + R"("}})");
    EXPECT_EQ(r.status, 202) << r.text;
    return std::string(r.body.at("id").as_string());
  }

  // Claims every queued job of "default" as this test's worker (attempt 1, running).
  std::vector<Job> claim_all() {
    auto claimed = store_->claim_jobs(ClaimRequest{.queue = "default",
                                                   .limit = 100,
                                                   .owner = "api-test",
                                                   .now = clock_.now(),
                                                   .lease_until = clock_.now() + 600'000});
    CHECK(claimed.ok());
    return std::move(claimed).value();
  }

  // Ends a claimed job's attempt with `outcome` (kDone stores a minimal result record).
  void finish(const Job& job, AttemptOutcome outcome) {
    AttemptFinish f{.job_id = job.id,
                    .attempt = job.attempt,
                    .lease_owner = "api-test",
                    .outcome = outcome,
                    .now = clock_.now(),
                    .error = {.code = "schema_invalid", .message = "not the schema"},
                    .result_json = R"({"job_id": ")" + job.id + R"(", "output": {"category": "fraud"}})",
                    .attempt_json = R"({"n": 1, "outcome": "ok"})"};
    auto statuses = store_->finish_attempts(std::span<const AttemptFinish>(&f, 1));
    CHECK(statuses.ok() && statuses->front().ok());
  }

  // Runs one job of the default tenant to done, its attempt making `calls` (each given the
  // job's tenant, id, attempt, type and, when it has none, the attempt's start); its id.
  std::string run_job_with_calls(std::vector<CallCharge> calls) {
    const std::string id = submit();
    std::vector<Job> claimed = claim_all();
    CHECK(claimed.size() == 1);
    const Job& job = claimed[0];
    AttemptFinish f{.job_id = job.id,
                    .attempt = job.attempt,
                    .lease_owner = "api-test",
                    .outcome = AttemptOutcome::kDone,
                    .now = job.started_at.value_or(0) + 1,
                    .result_json = R"({"output": {}})",
                    .attempt_json = "[]"};
    for (CallCharge& c : calls) {
      c.tenant = job.spec.tenant;
      c.job_id = job.id;
      c.attempt = job.attempt;
      c.task_type = job.spec.type;
      if (c.at == 0) c.at = job.started_at.value_or(0);
      f.charges.push_back(c);
    }
    auto statuses = store_->finish_attempts(std::span<const AttemptFinish>(&f, 1));
    CHECK(statuses.ok() && statuses->front().ok());
    return id;
  }

  // A job in the given state: queued, running, done, failed, review or canceled.
  std::string job_in(JobStatus status) {
    const std::string id = submit("a ticket in state " + std::string(JobStatusName(status)));
    if (status == JobStatus::kQueued) return id;
    if (status == JobStatus::kCanceled) {
      CHECK(store_->cancel_job(kDefaultTenant, id, clock_.now()).ok());
      return id;
    }
    for (const Job& job : claim_all()) {
      if (job.id != id) continue;
      if (status == JobStatus::kDone) finish(job, AttemptOutcome::kDone);
      if (status == JobStatus::kFailed) finish(job, AttemptOutcome::kFailed);
      if (status == JobStatus::kReview) finish(job, AttemptOutcome::kReview);
    }
    auto job = store_->get_job(kDefaultTenant, id);
    CHECK(job.ok() && job->status == status);
    return id;
  }

 private:
  static std::filesystem::path MakeTempDir() {
    static std::atomic<int> n{0};
    auto dir = std::filesystem::temp_directory_path() /
               ("sluice-api-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
  }

  std::filesystem::path dir_;
  SystemClock clock_;
  http::EventLoop loop_;
  std::unique_ptr<Config> config_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<TaskRegistry> tasks_;
  std::unique_ptr<HttpClient> http_client_;
  std::unique_ptr<ModelGateway> gateway_;
  JobWatch watch_;
  std::unique_ptr<AttemptWriter> finisher_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<SubmitGroupCommit> submitter_;
  std::unique_ptr<EventStreamHub> events_;
  std::unique_ptr<ApiContext> ctx_;
  Router router_;
  std::unique_ptr<http::Server> server_;
  http::testing::CurlClient client_;
};

}  // namespace sluice::testing
