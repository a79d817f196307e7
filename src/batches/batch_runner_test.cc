// The batch runner against a real (embedded) store and a fake clock: a batch's whole life, its
// jobs finished by hand as workers would finish them.
#include "batches/batch_runner.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <boost/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/ids.h"
#include "store/file_chunks.h"
#include "store/store.h"

namespace sluice {
namespace {

namespace json = boost::json;

constexpr const char* kChat = "/v1/chat/completions";

// A stand-in for the API's job validation: a chat request needs messages.
Result<Job> ChatJobFromBody(const json::value& body, const std::string& tenant, Millis now) {
  const json::object& o = body.as_object();
  const json::object& request = o.at("request").as_object();
  if (!request.contains("messages")) return InvalidArgument("request.messages is required", "request.messages");
  Job job;
  job.id = NewId("job_", now);
  job.created_at = now;
  job.spec.tenant = tenant;
  job.spec.type = "chat";
  job.spec.queue = std::string(o.at("queue").as_string());
  job.spec.input_json = json::serialize(request);
  job.spec.run_at = now;
  return job;
}

std::string ChatLine(const std::string& custom_id, bool valid = true) {
  json::object body{{"model", "fast"}};
  if (valid) body["messages"] = json::array{json::object{{"role", "user"}, {"content", "hi " + custom_id}}};
  return json::serialize(json::object{
      {"custom_id", custom_id}, {"method", "POST"}, {"url", kChat}, {"body", std::move(body)}});
}

class BatchRunnerTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "sluice-batches-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto store = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    runner_ = NewRunner("node-a");
  }
  void TearDown() override {
    runner_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<BatchRunner> NewRunner(const std::string& owner, int chunk_lines = 2) {
    BatchRunnerOptions options;
    options.work.chunk_lines = chunk_lines;
    options.work.page_jobs = 2;
    return std::make_unique<BatchRunner>(*store_, clock_, ChatJobFromBody, owner,
                                         [this](const std::string& queue) { woken_.push_back(queue); }, options);
  }

  std::string Upload(const std::string& content) {
    FileWriter writer(*store_, StoredFile{.id = NewId("file_", clock_.now()), .purpose = "batch",
                                          .created_at = clock_.now()});
    EXPECT_TRUE(writer.append(content).ok());
    EXPECT_TRUE(writer.finish().ok());
    return writer.file().id;
  }

  std::string CreateBatch(const std::vector<std::string>& lines, Millis window = 3'600'000) {
    std::string content;
    for (const std::string& line : lines) content += line + "\n";
    Batch batch;
    batch.id = NewId("batch_", clock_.now());
    batch.endpoint = kChat;
    batch.input_file_id = Upload(content);
    batch.completion_window = "1h";
    batch.created_at = clock_.now();
    batch.expires_at = clock_.now() + window;
    EXPECT_TRUE(store_->create_batch(batch).ok());
    return batch.id;
  }

  Batch Get(const std::string& id) {
    auto batch = store_->get_batch(kDefaultTenant, id);
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    return batch.ok() ? *batch : Batch{};
  }

  // Runs up to `n` queued jobs of the batch queue to `outcome`.
  std::vector<Job> Work(int n, AttemptOutcome outcome = AttemptOutcome::kDone) {
    auto claimed = store_->claim_jobs(ClaimRequest{.queue = "batch", .limit = n, .owner = "w",
                                                   .now = clock_.now(), .lease_until = clock_.now() + 60'000});
    EXPECT_TRUE(claimed.ok());
    for (const Job& job : *claimed) Finish(job, outcome);
    return *claimed;
  }
  void Finish(const Job& job, AttemptOutcome outcome = AttemptOutcome::kDone) {
    AttemptFinish f{.job_id = job.id, .attempt = job.attempt, .lease_owner = job.lease_owner,
                    .outcome = outcome, .now = clock_.now()};
    if (outcome == AttemptOutcome::kDone) {
      f.result_json = R"({"text":"answer","model":"m","finish_reason":"stop"})";
    } else {
      f.error = {"provider_rejected", "no"};
    }
    auto statuses = store_->finish_attempts(std::span(&f, 1));
    EXPECT_TRUE(statuses.ok() && (*statuses)[0].ok());
  }

  // The lines of a file, by custom_id.
  std::map<std::string, json::object> Lines(const std::string& file_id) {
    std::map<std::string, json::object> lines;
    if (file_id.empty()) return lines;
    FileLineReader reader(*store_, file_id);
    for (;;) {
      auto line = reader.next();
      EXPECT_TRUE(line.ok());
      if (!line.ok() || !line->has_value()) break;
      json::object o = json::parse((*line)->text).as_object();
      lines[std::string(o.at("custom_id").as_string())] = o;
    }
    return lines;
  }

  // The events appended under the batch's id (type, tenant), read from the database file.
  std::vector<std::pair<std::string, std::string>> BatchEvents(const std::string& batch_id) {
    std::vector<std::pair<std::string, std::string>> events;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((dir_ + "/sluice.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT type, tenant FROM events WHERE job_id = ?1 ORDER BY seq", -1, &q,
                                 nullptr),
              SQLITE_OK);
    sqlite3_bind_text(q, 1, batch_id.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(q) == SQLITE_ROW) {
      events.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)),
                          reinterpret_cast<const char*>(sqlite3_column_text(q, 1)));
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return events;
  }

  std::string dir_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<BatchRunner> runner_;
  std::vector<std::string> woken_;
};

TEST_F(BatchRunnerTest, AValidBatchRunsToCompletedWithEveryRequestInOneFile) {
  std::string id = CreateBatch({ChatLine("a"), "", ChatLine("b"), ChatLine("c", false), ChatLine("d"), ChatLine("e")});
  runner_->run_once();
  Batch started = Get(id);
  EXPECT_EQ(started.status, BatchStatus::kInProgress);
  EXPECT_EQ(started.counts.total, 5);  // the blank line is no request
  EXPECT_TRUE(started.ingested);
  EXPECT_FALSE(woken_.empty());
  EXPECT_EQ(woken_.front(), "batch");

  Work(2);
  runner_->run_once();
  Batch mid = Get(id);
  EXPECT_EQ(mid.status, BatchStatus::kInProgress);
  EXPECT_EQ(mid.counts.completed, 2);
  EXPECT_EQ(mid.counts.failed, 1);  // the invalid line
  Work(1, AttemptOutcome::kFailed);
  Work(10);
  runner_->run_once();

  Batch done = Get(id);
  ASSERT_EQ(done.status, BatchStatus::kCompleted);
  EXPECT_EQ(done.counts.total, 5);
  EXPECT_EQ(done.counts.completed, 3);
  EXPECT_EQ(done.counts.failed, 2);
  ASSERT_TRUE(done.completed_at.has_value());
  auto output = Lines(done.output_file_id);
  auto errors = Lines(done.error_file_id);
  EXPECT_EQ(output.size(), 3u);
  EXPECT_EQ(errors.size(), 2u);
  ASSERT_TRUE(errors.contains("c"));
  EXPECT_EQ(errors["c"].at("response").at("status_code"), 400);
  EXPECT_EQ(errors["c"].at("response").at("body").at("error").at("field"), "body.messages");
  for (const auto& [custom_id, line] : output) {
    EXPECT_EQ(line.at("response").at("status_code"), 200) << custom_id;
  }
  auto file = store_->get_file(kDefaultTenant, done.output_file_id);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->purpose, "batch_output");
  // Nothing is left to do.
  EXPECT_TRUE(store_->open_batches(10)->empty());
  using Event = std::pair<std::string, std::string>;
  EXPECT_EQ(BatchEvents(id), (std::vector<Event>{{"batch.in_progress", "default"}, {"batch.completed", "default"}}));
}

TEST_F(BatchRunnerTest, AFileThatIsNoBatchFailsWithItsProblemsAndRunsNothing) {
  std::string id = CreateBatch({ChatLine("a"), "{oops", ChatLine("a"),
                                R"({"custom_id":"x","method":"POST","url":"/v1/embeddings","body":{}})"});
  runner_->run_once();
  Batch failed = Get(id);
  ASSERT_EQ(failed.status, BatchStatus::kFailed);
  ASSERT_TRUE(failed.failed_at.has_value());
  json::object errors = json::parse(failed.errors_json).as_object();
  EXPECT_EQ(errors["object"], "list");
  std::map<std::string, std::int64_t> by_code;
  for (const auto& e : errors["data"].as_array()) {
    by_code[std::string(e.at("code").as_string())] = e.at("line").as_int64();
  }
  EXPECT_EQ(by_code["invalid_json_line"], 2);
  EXPECT_EQ(by_code["duplicate_custom_id"], 3);
  EXPECT_EQ(by_code["invalid_url"], 4);
  EXPECT_EQ(store_->batch_progress(id)->jobs(), 0);
  EXPECT_EQ(BatchEvents(id), (std::vector<std::pair<std::string, std::string>>{{"batch.failed", "default"}}));

  std::string empty = CreateBatch({"", "  "});
  runner_->run_once();
  Batch nothing = Get(empty);
  EXPECT_EQ(nothing.status, BatchStatus::kFailed);
  EXPECT_NE(nothing.errors_json.find("empty_file"), std::string::npos);
}

TEST_F(BatchRunnerTest, CancelKeepsFinishedResultsAndWaitsForRunningOnes) {
  std::string id = CreateBatch({ChatLine("a"), ChatLine("b"), ChatLine("c"), ChatLine("d")});
  runner_->run_once();
  Work(1);
  auto running = store_->claim_jobs(ClaimRequest{.queue = "batch", .limit = 1, .owner = "w",
                                                 .now = clock_.now(), .lease_until = clock_.now() + 60'000});
  ASSERT_EQ(running->size(), 1u);
  ASSERT_TRUE(store_->transition_batch(BatchTransition{.id = id, .from = {BatchStatus::kInProgress},
                                                       .to = BatchStatus::kCancelling, .now = clock_.now()})
                  .ok());
  runner_->run_once();
  Batch cancelling = Get(id);
  EXPECT_EQ(cancelling.status, BatchStatus::kCancelling);  // one job still runs
  BatchProgress progress = *store_->batch_progress(id);
  EXPECT_EQ(progress.jobs_by_status[static_cast<int>(JobStatus::kCanceled)], 2);
  Finish(running->front());
  runner_->run_once();

  Batch cancelled = Get(id);
  ASSERT_EQ(cancelled.status, BatchStatus::kCancelled);
  EXPECT_TRUE(cancelled.cancelled_at.has_value());
  EXPECT_EQ(cancelled.counts.completed, 2);
  EXPECT_EQ(cancelled.counts.failed, 2);
  auto errors = Lines(cancelled.error_file_id);
  ASSERT_EQ(errors.size(), 2u);
  for (const auto& [custom_id, line] : errors) {
    EXPECT_TRUE(line.at("response").is_null());
    EXPECT_EQ(line.at("error").at("code"), "batch_cancelled") << custom_id;
  }
  EXPECT_EQ(Lines(cancelled.output_file_id).size(), 2u);
  EXPECT_EQ(BatchEvents(id).back().first, "batch.cancelled");
}

TEST_F(BatchRunnerTest, ABatchCancelledWhileValidatingRecordsEveryRequestAsCancelled) {
  std::string id = CreateBatch({ChatLine("a"), ChatLine("b")});
  ASSERT_TRUE(store_->transition_batch(BatchTransition{.id = id, .from = {BatchStatus::kValidating},
                                                       .to = BatchStatus::kCancelling, .now = clock_.now()})
                  .ok());
  runner_->run_once();
  runner_->run_once();
  Batch cancelled = Get(id);
  ASSERT_EQ(cancelled.status, BatchStatus::kCancelled);
  EXPECT_EQ(cancelled.counts.total, 2);
  EXPECT_EQ(cancelled.counts.failed, 2);
  EXPECT_EQ(store_->batch_progress(id)->jobs(), 0);
  EXPECT_EQ(Lines(cancelled.error_file_id)["a"].at("error").at("code"), "batch_cancelled");
  EXPECT_TRUE(cancelled.output_file_id.empty());
}

TEST_F(BatchRunnerTest, AtTheEndOfItsWindowABatchExpiresWithWhatItHas) {
  std::string id = CreateBatch({ChatLine("a"), ChatLine("b"), ChatLine("c")}, /*window=*/60'000);
  runner_->run_once();
  Work(1);
  clock_.advance(60'000);
  // The scheduler expires queued jobs at their deadline, which is the window's end.
  auto expired = store_->expire_overdue(clock_.now());
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(expired->size(), 2u);
  runner_->run_once();
  Batch batch = Get(id);
  ASSERT_EQ(batch.status, BatchStatus::kExpired);
  EXPECT_TRUE(batch.expired_at.has_value());
  EXPECT_EQ(batch.counts.completed, 1);
  EXPECT_EQ(batch.counts.failed, 2);
  for (const auto& [custom_id, line] : Lines(batch.error_file_id)) {
    EXPECT_EQ(line.at("error").at("code"), "batch_expired") << custom_id;
  }
  EXPECT_EQ(BatchEvents(id).back().first, "batch.expired");
}

TEST_F(BatchRunnerTest, AnotherNodeResumesAnIngestionWhoseNodeDied) {
  std::vector<std::string> lines;
  for (int i = 0; i < 9; ++i) lines.push_back(ChatLine("r" + std::to_string(i)));
  std::string id = CreateBatch(lines);
  // Node A validates and ingests the first chunk, then "dies" (its ingestion stops).
  Batch leased = **store_->lease_batch_work("node-a", clock_.now(), clock_.now() + 30'000);
  BatchWorkDeps deps{*store_, clock_, ChatJobFromBody, "node-a", nullptr,
                     BatchWorkOptions{.chunk_lines = 4}};
  int chunks = 0;
  deps.stopping = [&chunks] { return ++chunks >= 1; };
  auto validated = ValidateBatch(deps, leased);
  ASSERT_TRUE(validated.ok());
  EXPECT_EQ(IngestBatch(deps, *validated).code(), StatusCode::kCanceled);
  EXPECT_EQ(store_->batch_progress(id)->jobs(), 4);
  // Node B waits out A's lease, then resumes from the resume point.
  auto other = NewRunner("node-b");
  other->run_once();
  EXPECT_FALSE(Get(id).ingested);
  clock_.advance(30'001);
  other->run_once();
  Batch batch = Get(id);
  EXPECT_TRUE(batch.ingested);
  EXPECT_EQ(store_->batch_progress(id)->jobs(), 9);
  Work(20);
  other->run_once();
  EXPECT_EQ(Get(id).status, BatchStatus::kCompleted);
  EXPECT_EQ(Lines(Get(id).output_file_id).size(), 9u);
}

TEST_F(BatchRunnerTest, ASuccessorFinalizerRemovesTheDeadOnesFilesAndWritesItsOwn) {
  std::string id = CreateBatch({ChatLine("a"), ChatLine("b"), ChatLine("c")});
  runner_->run_once();
  ASSERT_TRUE(Get(id).ingested);
  Work(10);
  // Node A wins the move to finalizing, starts its output file, and dies halfway.
  const Millis now = clock_.now();
  ASSERT_TRUE(store_
                  ->transition_batch(BatchTransition{.id = id,
                                                     .from = {BatchStatus::kInProgress},
                                                     .to = BatchStatus::kFinalizing,
                                                     .now = now,
                                                     .owner = "node-a",
                                                     .lease_until = now + 30'000,
                                                     .outcome = BatchStatus::kCompleted,
                                                     .output_file_id = "file_dead_out",
                                                     .error_file_id = "file_dead_err",
                                                     .take_lease = true})
                  .ok());
  ASSERT_TRUE(store_->create_file(StoredFile{.id = "file_dead_out", .purpose = kFilePurposeBatchOutput,
                                             .created_at = now})
                  .ok());
  ASSERT_TRUE(store_->put_file_chunk("file_dead_out", 0, ChatLine("a")).ok());
  // Node B takes over once A's lease ran out.
  auto other = NewRunner("node-b");
  clock_.advance(30'001);
  other->run_once();
  Batch batch = Get(id);
  EXPECT_EQ(batch.status, BatchStatus::kCompleted);
  EXPECT_NE(batch.output_file_id, "file_dead_out");
  EXPECT_EQ(Lines(batch.output_file_id).size(), 3u);
  EXPECT_EQ(store_->get_file_chunk("file_dead_out", 0).value(), std::nullopt);
}

TEST_F(BatchRunnerTest, ResubmittingAChunkCreatesNoSecondJob) {
  std::vector<std::string> lines = {ChatLine("a"), ChatLine("b"), ChatLine("c")};
  std::string id = CreateBatch(lines);
  Batch leased = **store_->lease_batch_work("node-a", clock_.now(), clock_.now() + 30'000);
  BatchWorkDeps deps{*store_, clock_, ChatJobFromBody, "node-a", nullptr, BatchWorkOptions{.chunk_lines = 2}};
  auto validated = ValidateBatch(deps, leased);
  ASSERT_TRUE(validated.ok());
  // A crash after the first chunk committed but before anything else: the chunk runs again
  // from the batch as it was read before (its old resume point).
  int calls = 0;
  deps.stopping = [&calls] { return ++calls >= 1; };
  EXPECT_EQ(IngestBatch(deps, *validated).code(), StatusCode::kCanceled);
  deps.stopping = [] { return false; };
  ASSERT_TRUE(IngestBatch(deps, *validated).ok());
  EXPECT_EQ(store_->batch_progress(id)->jobs(), 3);
}

}  // namespace
}  // namespace sluice
