// The Store contract for files and batches (store.h, "Files and batches"): part of the contract
// suite, so it runs against every engine.
#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "store/store_contract_test.h"

namespace sluice {
namespace {

using testing::ElementsAre;


Batch NewBatch(std::string id, Millis created_at = kT0) {
  Batch b;
  b.id = std::move(id);
  b.endpoint = "/v1/chat/completions";
  b.input_file_id = "file_in";
  b.completion_window = "24h";
  b.metadata_json = R"({"k":"v"})";
  b.created_at = created_at;
  b.expires_at = created_at + 86'400'000;
  return b;
}

Job BatchJob(const std::string& batch_id, const std::string& custom_id,
             std::string queue = "batch") {
  Job job;
  job.id = "job_" + batch_id + "_" + custom_id;
  job.created_at = kT0;
  job.spec.type = "chat";
  job.spec.input_json = R"({"messages":[]})";
  job.spec.queue = std::move(queue);
  job.spec.run_at = kT0;
  job.spec.dedup_key = batch_id + ":" + custom_id;
  return job;
}

BatchChunk Chunk(const std::string& batch_id, const std::string& owner, std::span<const Job> jobs,
                 std::span<const BatchLineError> errors, std::int64_t next_line, bool last) {
  return BatchChunk{.batch_id = batch_id,
                    .owner = owner,
                    .now = kT0,
                    .lease_until = kT0 + 60'000,
                    .jobs = jobs,
                    .line_errors = errors,
                    .next_line = next_line,
                    .next_offset = next_line * 100,
                    .last = last};
}

std::vector<std::string> BatchIds(const std::vector<Batch>& batches) {
  std::vector<std::string> ids;
  for (const Batch& b : batches) ids.push_back(b.id);
  return ids;
}

// Leases `id` for `owner` and moves it to in_progress with `total` requests.
void StartBatch(Store& store, const std::string& id, const std::string& owner,
                std::int64_t total) {
  auto leased = ValueOf(store.lease_batch_work(owner, kT0, kT0 + 60'000));
  ASSERT_TRUE(leased.has_value());
  ASSERT_EQ(leased->id, id);
  ValueOf(store.transition_batch(BatchTransition{.id = id,
                                                 .from = {BatchStatus::kValidating},
                                                 .to = BatchStatus::kInProgress,
                                                 .now = kT0 + 1,
                                                 .owner = owner,
                                                 .lease_until = kT0 + 60'000,
                                                 .total = total,
                                                 .event_type = "batch.in_progress"}));
}

TEST_P(StoreContractTest, FileIsInvisibleUntilCompleteAndKeepsBinaryChunks) {
  StoredFile file{.id = "file_1", .purpose = "batch", .filename = "in.jsonl", .created_at = kT0};
  ASSERT_TRUE(store_->create_file(file).ok());
  EXPECT_EQ(store_->get_file(kDefaultTenant, "file_1").status().code(), StatusCode::kNotFound);
  const std::string binary("a\0b\xff\n", 5);
  ASSERT_TRUE(store_->put_file_chunk("file_1", 0, binary).ok());
  ASSERT_TRUE(store_->put_file_chunk("file_1", 1, "second").ok());
  ASSERT_TRUE(store_->put_file_chunk("file_1", 1, "replaced").ok());
  ASSERT_TRUE(store_->complete_file("file_1", 13).ok());

  StoredFile got = ValueOf(store_->get_file(kDefaultTenant, "file_1"));
  EXPECT_EQ(got.purpose, "batch");
  EXPECT_EQ(got.filename, "in.jsonl");
  EXPECT_EQ(got.bytes, 13);
  EXPECT_EQ(got.created_at, kT0);
  EXPECT_EQ(ValueOf(store_->get_file_chunk("file_1", 0)), std::optional<std::string>(binary));
  EXPECT_EQ(ValueOf(store_->get_file_chunk("file_1", 1)), std::optional<std::string>("replaced"));
  EXPECT_EQ(ValueOf(store_->get_file_chunk("file_1", 2)), std::nullopt);
  // Another tenant's file is unknown, not forbidden.
  EXPECT_EQ(store_->get_file("other", "file_1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->create_file(file).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->complete_file("file_missing", 1).code(), StatusCode::kNotFound);

  ASSERT_TRUE(store_->delete_file("file_1").ok());
  EXPECT_EQ(store_->get_file(kDefaultTenant, "file_1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ValueOf(store_->get_file_chunk("file_1", 0)), std::nullopt);
}

TEST_P(StoreContractTest, BatchRoundTripsAndListsNewestFirstByPage) {
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(store_->create_batch(NewBatch("batch_" + std::to_string(i))).ok());
  }
  Batch got = ValueOf(store_->get_batch(kDefaultTenant, "batch_1"));
  EXPECT_EQ(got.status, BatchStatus::kValidating);
  EXPECT_EQ(got.endpoint, "/v1/chat/completions");
  EXPECT_EQ(got.input_file_id, "file_in");
  EXPECT_EQ(got.completion_window, "24h");
  EXPECT_EQ(got.metadata_json, R"({"k":"v"})");
  EXPECT_EQ(got.created_at, kT0);
  EXPECT_EQ(got.expires_at, kT0 + 86'400'000);
  EXPECT_FALSE(got.outcome.has_value());
  EXPECT_FALSE(got.in_progress_at.has_value());
  EXPECT_EQ(store_->get_batch("other", "batch_1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->create_batch(NewBatch("batch_1")).code(), StatusCode::kAlreadyExists);

  BatchPage first = ValueOf(store_->list_batches(kDefaultTenant, 2, ""));
  EXPECT_THAT(BatchIds(first.batches), ElementsAre("batch_5", "batch_4"));
  EXPECT_TRUE(first.has_more);
  BatchPage last = ValueOf(store_->list_batches(kDefaultTenant, 2, "batch_2"));
  EXPECT_THAT(BatchIds(last.batches), ElementsAre("batch_1"));
  EXPECT_FALSE(last.has_more);
  EXPECT_TRUE(ValueOf(store_->list_batches("other", 10, "")).batches.empty());
}

TEST_P(StoreContractTest, BatchTransitionIsACompareAndSetOnStatusAndLease) {
  ASSERT_TRUE(store_->create_batch(NewBatch("batch_1")).ok());
  // Wrong status: nothing changes.
  auto wrong = store_->transition_batch(BatchTransition{.id = "batch_1",
                                                        .from = {BatchStatus::kInProgress},
                                                        .to = BatchStatus::kFinalizing,
                                                        .now = kT0});
  EXPECT_EQ(wrong.status().code(), StatusCode::kFailedPrecondition);
  // Only the lease holder may move it when an owner is named.
  auto leased = ValueOf(store_->lease_batch_work("node-a", kT0, kT0 + 60'000));
  ASSERT_TRUE(leased.has_value());
  auto stolen = store_->transition_batch(BatchTransition{.id = "batch_1",
                                                         .from = {BatchStatus::kValidating},
                                                         .to = BatchStatus::kFailed,
                                                         .now = kT0,
                                                         .owner = "node-b"});
  EXPECT_EQ(stolen.status().code(), StatusCode::kAborted);
  EXPECT_EQ(store_->transition_batch(BatchTransition{.id = "batch_missing",
                                                     .from = {BatchStatus::kValidating},
                                                     .to = BatchStatus::kFailed})
                .status()
                .code(),
            StatusCode::kNotFound);

  Batch failed = ValueOf(store_->transition_batch(
      BatchTransition{.id = "batch_1",
                      .from = {BatchStatus::kValidating},
                      .to = BatchStatus::kFailed,
                      .now = kT0 + 5,
                      .owner = "node-a",
                      .lease_until = kT0 + 60'000,
                      .errors_json = R"({"object":"list","data":[]})",
                      .event_type = "batch.failed"}));
  EXPECT_EQ(failed.status, BatchStatus::kFailed);
  EXPECT_EQ(failed.failed_at, kT0 + 5);
  EXPECT_EQ(failed.errors_json, R"({"object":"list","data":[]})");
  EXPECT_EQ(failed.runner, "");  // a final batch needs no node
  Batch again = ValueOf(store_->get_batch(kDefaultTenant, "batch_1"));
  EXPECT_EQ(again.status, BatchStatus::kFailed);
  EXPECT_EQ(again.failed_at, kT0 + 5);
}

TEST_P(StoreContractTest, BatchWorkIsLeasedToOneNodeUntilItsLeaseRunsOut) {
  ASSERT_TRUE(store_->create_batch(NewBatch("batch_1")).ok());
  auto a = ValueOf(store_->lease_batch_work("node-a", kT0, kT0 + 1'000));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->runner, "node-a");
  EXPECT_FALSE(ValueOf(store_->lease_batch_work("node-b", kT0 + 500, kT0 + 1'500)).has_value());
  // Not even its holder takes a live lease again (a batch whose work failed waits it out);
  // any node takes it once the lease ran out.
  EXPECT_FALSE(ValueOf(store_->lease_batch_work("node-a", kT0 + 500, kT0 + 1'500)).has_value());
  auto b = ValueOf(store_->lease_batch_work("node-b", kT0 + 1'001, kT0 + 3'000));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->runner, "node-b");
}

TEST_P(StoreContractTest, IngestChunksAreIdempotentAndCountedFromTheJobs) {
  ASSERT_TRUE(store_->create_batch(NewBatch("batch_1")).ok());
  StartBatch(*store_, "batch_1", "node-a", 4);
  std::vector<Job> jobs = {BatchJob("batch_1", "r1"), BatchJob("batch_1", "r2")};
  std::vector<BatchLineError> errors = {
      {.line = 3, .custom_id = "r3", .status_code = 400, .code = "invalid", .message = "bad"}};

  auto first = ValueOf(store_->ingest_batch_chunk(Chunk("batch_1", "node-a", jobs, errors, 3, false)));
  EXPECT_EQ(first.created, 2);
  EXPECT_EQ(first.status, BatchStatus::kInProgress);
  // The same chunk again (a node resuming after a crash) creates nothing twice.
  auto again = ValueOf(store_->ingest_batch_chunk(Chunk("batch_1", "node-a", jobs, errors, 3, false)));
  EXPECT_EQ(again.created, 0);
  Batch mid = ValueOf(store_->get_batch(kDefaultTenant, "batch_1"));
  EXPECT_EQ(mid.ingest_line, 3);
  EXPECT_EQ(mid.ingest_offset, 300);
  EXPECT_FALSE(mid.ingested);
  // Only the lease holder ingests.
  EXPECT_EQ(store_->ingest_batch_chunk(Chunk("batch_1", "node-b", {}, {}, 4, true)).status().code(),
            StatusCode::kAborted);
  // Not yet fully ingested: not watched as an open batch.
  EXPECT_TRUE(ValueOf(store_->open_batches(10)).empty());

  std::vector<Job> rest = {BatchJob("batch_1", "r4")};
  ValueOf(store_->ingest_batch_chunk(Chunk("batch_1", "node-a", rest, {}, 4, true)));
  Batch ingested = ValueOf(store_->get_batch(kDefaultTenant, "batch_1"));
  EXPECT_TRUE(ingested.ingested);
  EXPECT_EQ(ingested.runner, "");
  EXPECT_THAT(BatchIds(ValueOf(store_->open_batches(10))), ElementsAre("batch_1"));
  EXPECT_FALSE(ValueOf(store_->lease_batch_work("node-b", kT0, kT0 + 1)).has_value());
  EXPECT_EQ(store_->ingest_batch_chunk(Chunk("batch_1", "node-a", {}, {}, 4, true)).status().code(),
            StatusCode::kFailedPrecondition);

  // Jobs of a batch are ordinary jobs: claimed, finished, counted.
  std::vector<Job> claimed = Claim(2, kT0 + 10, "node-a", "batch");
  ASSERT_EQ(claimed.size(), 2u);
  ASSERT_TRUE(Finish(FinishOf(claimed[0], AttemptOutcome::kDone, kT0 + 20)).ok());
  BatchProgress progress = ValueOf(store_->batch_progress("batch_1"));
  EXPECT_EQ(progress.jobs(), 3);
  EXPECT_EQ(progress.open_jobs(), 2);
  EXPECT_EQ(progress.line_errors, 1);
  EXPECT_EQ(progress.jobs_by_status[static_cast<int>(JobStatus::kDone)], 1);
  Batch live = ValueOf(store_->get_batch(kDefaultTenant, "batch_1"));
  EXPECT_EQ(live.counts.total, 4);
  EXPECT_EQ(live.counts.completed, 1);
  EXPECT_EQ(live.counts.failed, 1);  // the line error
}

TEST_P(StoreContractTest, CancelBatchJobsCancelsOnlyItsQueuedJobs) {
  ASSERT_TRUE(store_->create_batch(NewBatch("batch_1")).ok());
  StartBatch(*store_, "batch_1", "node-a", 3);
  std::vector<Job> jobs = {BatchJob("batch_1", "r1"), BatchJob("batch_1", "r2"),
                           BatchJob("batch_1", "r3")};
  ValueOf(store_->ingest_batch_chunk(Chunk("batch_1", "node-a", jobs, {}, 3, true)));
  Job outsider = BatchJob("other", "x");
  outsider.id = "job_outsider";
  Submit(outsider);
  std::vector<Job> running = Claim(1, kT0 + 10, "node-a", "batch");
  ASSERT_EQ(running.size(), 1u);

  EXPECT_EQ(ValueOf(store_->cancel_batch_jobs("batch_1", kT0 + 20, 1)), 1);
  EXPECT_EQ(ValueOf(store_->cancel_batch_jobs("batch_1", kT0 + 20, 10)), 1);
  EXPECT_EQ(ValueOf(store_->cancel_batch_jobs("batch_1", kT0 + 20, 10)), 0);
  BatchProgress progress = ValueOf(store_->batch_progress("batch_1"));
  EXPECT_EQ(progress.jobs_by_status[static_cast<int>(JobStatus::kCanceled)], 2);
  EXPECT_EQ(progress.jobs_by_status[static_cast<int>(JobStatus::kRunning)], 1);
  EXPECT_EQ(Get("job_outsider").status, JobStatus::kQueued);
  EXPECT_EQ(Get(running[0].id).status, JobStatus::kRunning);
}

TEST_P(StoreContractTest, BatchJobsAndLineErrorsPageInOrderWithResults) {
  ASSERT_TRUE(store_->create_batch(NewBatch("batch_1")).ok());
  StartBatch(*store_, "batch_1", "node-a", 5);
  std::vector<Job> jobs = {BatchJob("batch_1", "r1"), BatchJob("batch_1", "r2"),
                           BatchJob("batch_1", "r3")};
  std::vector<BatchLineError> errors = {
      {.line = 4, .custom_id = "r4", .status_code = 400, .code = "a", .message = "m4", .field = "f"},
      {.line = 5, .custom_id = "r5", .status_code = 0, .code = "batch_cancelled", .message = "m5"}};
  ValueOf(store_->ingest_batch_chunk(Chunk("batch_1", "node-a", jobs, errors, 5, true)));
  std::vector<Job> claimed = Claim(1, kT0 + 10, "node-a", "batch");
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_TRUE(Finish(FinishOf(claimed[0], AttemptOutcome::kDone, kT0 + 20)).ok());

  auto page1 = ValueOf(store_->batch_jobs("batch_1", "", 2));
  ASSERT_EQ(page1.size(), 2u);
  auto page2 = ValueOf(store_->batch_jobs("batch_1", page1.back().job.id, 2));
  ASSERT_EQ(page2.size(), 1u);
  std::vector<std::string> ids = {page1[0].job.id, page1[1].job.id, page2[0].job.id};
  EXPECT_THAT(ids, ElementsAre("job_batch_1_r1", "job_batch_1_r2", "job_batch_1_r3"));
  int with_result = 0;
  for (const auto& rows : {page1, page2}) {
    for (const BatchJobRow& row : rows) {
      if (row.job.id == claimed[0].id) {
        ++with_result;
        EXPECT_EQ(row.result_json, std::optional<std::string>(R"({"label":"ok"})"));
        EXPECT_EQ(row.job.status, JobStatus::kDone);
      } else {
        EXPECT_FALSE(row.result_json.has_value());
      }
    }
  }
  EXPECT_EQ(with_result, 1);
  EXPECT_TRUE(ValueOf(store_->batch_jobs("batch_other", "", 10)).empty());

  auto e1 = ValueOf(store_->batch_line_errors("batch_1", 0, 1));
  ASSERT_EQ(e1.size(), 1u);
  EXPECT_EQ(e1[0].line, 4);
  EXPECT_EQ(e1[0].custom_id, "r4");
  EXPECT_EQ(e1[0].status_code, 400);
  EXPECT_EQ(e1[0].field, "f");
  auto e2 = ValueOf(store_->batch_line_errors("batch_1", 4, 10));
  ASSERT_EQ(e2.size(), 1u);
  EXPECT_EQ(e2[0].code, "batch_cancelled");
  EXPECT_EQ(e2[0].status_code, 0);
}

TEST_P(StoreContractTest, FinalCountsReplaceLiveOnesAndTheLeaseIsGone) {
  ASSERT_TRUE(store_->create_batch(NewBatch("batch_1")).ok());
  StartBatch(*store_, "batch_1", "node-a", 1);
  std::vector<Job> jobs = {BatchJob("batch_1", "r1")};
  ValueOf(store_->ingest_batch_chunk(Chunk("batch_1", "node-a", jobs, {}, 1, true)));
  std::vector<Job> claimed = Claim(1, kT0 + 10, "node-a", "batch");
  ASSERT_TRUE(Finish(FinishOf(claimed[0], AttemptOutcome::kDone, kT0 + 20)).ok());
  // Exactly one node wins the move to finalizing.
  BatchTransition finalize{.id = "batch_1",
                           .from = {BatchStatus::kInProgress, BatchStatus::kCancelling},
                           .to = BatchStatus::kFinalizing,
                           .now = kT0 + 30,
                           .owner = "",
                           .outcome = BatchStatus::kCompleted,
                           .output_file_id = "file_out",
                           .error_file_id = "file_err"};
  ASSERT_TRUE(store_->transition_batch(finalize).ok());
  EXPECT_EQ(store_->transition_batch(finalize).status().code(), StatusCode::kFailedPrecondition);
  Batch done = ValueOf(store_->transition_batch(
      BatchTransition{.id = "batch_1",
                      .from = {BatchStatus::kFinalizing},
                      .to = BatchStatus::kCompleted,
                      .now = kT0 + 40,
                      .final_counts = BatchRequestCounts{.total = 1, .completed = 1, .failed = 0},
                      .event_type = "batch.completed"}));
  EXPECT_EQ(done.status, BatchStatus::kCompleted);
  EXPECT_EQ(done.outcome, BatchStatus::kCompleted);
  EXPECT_EQ(done.output_file_id, "file_out");
  EXPECT_EQ(done.error_file_id, "file_err");
  EXPECT_EQ(done.finalizing_at, kT0 + 30);
  EXPECT_EQ(done.completed_at, kT0 + 40);
  EXPECT_EQ(done.counts.completed, 1);
  EXPECT_TRUE(ValueOf(store_->open_batches(10)).empty());
}

}  // namespace
}  // namespace sluice
