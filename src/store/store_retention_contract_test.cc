// The Store contract for retention (store.h "Fair share and retention": purge_finished and
// blob_referenced): part of the contract suite, so it runs against every engine.
#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "store/store_contract_test.h"

namespace sluice {
namespace {

using testing::ElementsAre;

constexpr Millis kEnded = kT0 + 1'000;     // when the old jobs and batches end
constexpr Millis kCut = kT0 + 100'000;     // what ended before this is purged
constexpr Millis kRecent = kT0 + 200'000;  // when the recent ones end
constexpr char kUrl[] = "https://hooks.example.com/sluice";

std::string BlobId(char hex) {
  return "sha256:" + std::string(64, hex);
}

Job NewJob(std::string id, std::string queue = "default", std::string tenant = kDefaultTenant) {
  return QueuedJob(std::move(id), std::move(tenant), 5, kT0, std::move(queue));
}

// The rows `sql` counts, read behind the store's back (StoreEngine::count).
std::int64_t Rows(const std::string& dir, const std::string& sql) {
  return StoreContractTest::GetParam().count(dir, sql);
}

// How many rows of each table a job's history left, for jobs whose id starts with `prefix`.
std::vector<std::int64_t> HistoryRows(const std::string& dir, const std::string& prefix) {
  std::vector<std::int64_t> counts;
  for (std::string table : {"results", "attempts", "events", "webhook_deliveries", "job_blobs"}) {
    counts.push_back(
        Rows(dir, "SELECT count(*) FROM " + table + " WHERE job_id LIKE '" + prefix + "%'"));
  }
  return counts;
}

class JobEnder {
 public:
  explicit JobEnder(Store& store) : store_(store) {}

  // Submits `job`, runs one attempt of it and ends it with `outcome` at `at`, recording an
  // attempt (and, when done, a result).
  void Run(const Job& job, AttemptOutcome outcome, Millis at) {
    ASSERT_TRUE(store_.submit_jobs(std::span(&job, 1)).ok());
    auto claimed = ValueOf(store_.claim_jobs(ClaimRequest{.queue = job.spec.queue,
                                                          .limit = 1,
                                                          .owner = "node-a",
                                                          .now = at,
                                                          .lease_until = at + 30'000}));
    ASSERT_EQ(claimed.size(), 1u);
    ASSERT_EQ(claimed[0].id, job.id);
    AttemptFinish finish{.job_id = job.id,
                         .attempt = claimed[0].attempt,
                         .lease_owner = "node-a",
                         .outcome = outcome,
                         .now = at,
                         .result_json = outcome == AttemptOutcome::kDone ? R"({"label":"ok"})" : "",
                         .attempt_json = R"({"n":1})"};
    auto outcomes = ValueOf(store_.finish_attempts(std::span(&finish, 1)));
    ASSERT_EQ(outcomes.size(), 1u);
    ASSERT_TRUE(outcomes[0].ok()) << outcomes[0].ToString();
  }
  void Cancel(const Job& job, Millis at) {
    ASSERT_TRUE(store_.submit_jobs(std::span(&job, 1)).ok());
    ASSERT_TRUE(store_.cancel_job(job.spec.tenant, job.id, at).ok());
  }
  // Delivers (or fails for good, or retries) every due webhook at `at`.
  void Deliver(WebhookAttempt::Outcome outcome, Millis at) {
    auto due = ValueOf(store_.claim_webhook_deliveries(
        {.owner = "node-a", .now = at, .lease_until = at + 60'000, .limit = 100}));
    std::vector<WebhookAttempt> attempts;
    for (const WebhookDelivery& d : due) {
      attempts.push_back(WebhookAttempt{.id = d.id,
                                        .lease_owner = d.lease_owner,
                                        .attempt = d.attempts + 1,
                                        .outcome = outcome,
                                        .now = at,
                                        .retry_at = at,
                                        .payload = "{}",
                                        .event_json = "{}"});
    }
    for (const Status& s : ValueOf(store_.record_webhook_attempts(attempts))) {
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  }

 private:
  Store& store_;
};

PurgeCounts Purge(Store& store, Millis before, int limit = 500) {
  return ValueOf(store.purge_finished(before, limit));
}

testing::Matcher<PurgeCounts> Purged(std::int64_t jobs, std::int64_t batches = 0,
                                     std::int64_t files = 0) {
  return testing::AllOf(testing::Field("jobs", &PurgeCounts::jobs, jobs),
                        testing::Field("batches", &PurgeCounts::batches, batches),
                        testing::Field("files", &PurgeCounts::files, files));
}

const QueueStats* StatsOf(const std::vector<QueueStats>& stats, const std::string& queue) {
  for (const QueueStats& q : stats) {
    if (q.queue == queue) return &q;
  }
  return nullptr;
}

// --- jobs ---

TEST_P(StoreContractTest, PurgeDeletesOldTerminalJobsWithEverythingTheyHeld) {
  JobEnder ender(*store_);
  Job done = NewJob("job_gone_done");
  done.spec.webhook_url = kUrl;
  done.spec.blob_refs = {BlobId('a')};
  ender.Run(done, AttemptOutcome::kDone, kEnded);
  ender.Deliver(WebhookAttempt::kDelivered, kEnded);
  ender.Run(NewJob("job_gone_failed"), AttemptOutcome::kFailed, kEnded);
  Job overdue = NewJob("job_gone_expired");
  overdue.spec.deadline = kEnded;
  Submit(overdue);
  ASSERT_EQ(ValueOf(store_->expire_overdue(kEnded)).size(), 1u);
  ender.Cancel(NewJob("job_gone_canceled"), kEnded);
  // Kept: recent, waiting for a person, running, queued.
  ender.Run(NewJob("job_kept_recent"), AttemptOutcome::kDone, kRecent);
  ender.Run(NewJob("job_kept_review"), AttemptOutcome::kReview, kEnded);
  Submit(NewJob("job_kept_running", "slow"));
  ASSERT_EQ(Claim(1, kEnded, "node-a", "slow").size(), 1u);
  Submit(NewJob("job_kept_queued", "waiting"));
  const std::vector<std::int64_t> kept_history = HistoryRows(dir_, "job_kept");

  // Every kind of row the old jobs hold exists before the purge, so its absence after means
  // something.
  EXPECT_THAT(HistoryRows(dir_, "job_gone"), ElementsAre(1, 2, testing::Ge(8), 1, 1));
  EXPECT_THAT(Purge(*store_, kCut), Purged(4));
  EXPECT_THAT(Purge(*store_, kCut), Purged(0));

  for (std::string id :
       {"job_gone_done", "job_gone_failed", "job_gone_expired", "job_gone_canceled"}) {
    EXPECT_EQ(store_->get_job(kDefaultTenant, id).status().code(), StatusCode::kNotFound) << id;
  }
  EXPECT_EQ(store_->get_result(kDefaultTenant, "job_gone_done").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(Rows(dir_, "SELECT count(*) FROM jobs WHERE id LIKE 'job_gone%'"), 0);
  EXPECT_THAT(HistoryRows(dir_, "job_gone"), ElementsAre(0, 0, 0, 0, 0));

  EXPECT_EQ(Get("job_kept_recent").status, JobStatus::kDone);
  EXPECT_EQ(Get("job_kept_review").status, JobStatus::kReview);
  EXPECT_EQ(Get("job_kept_running").status, JobStatus::kRunning);
  EXPECT_EQ(Get("job_kept_queued").status, JobStatus::kQueued);
  EXPECT_TRUE(store_->get_result(kDefaultTenant, "job_kept_recent").ok());
  EXPECT_EQ(HistoryRows(dir_, "job_kept"), kept_history);

  // The queue counters count the rows that remain.
  auto stats = ValueOf(store_->queue_stats());
  const QueueStats* queue = StatsOf(stats, "default");
  ASSERT_NE(queue, nullptr);
  EXPECT_EQ(queue->by_status[static_cast<int>(JobStatus::kDone)], 1);
  EXPECT_EQ(queue->by_status[static_cast<int>(JobStatus::kFailed)], 0);
  EXPECT_EQ(queue->by_status[static_cast<int>(JobStatus::kExpired)], 0);
  EXPECT_EQ(queue->by_status[static_cast<int>(JobStatus::kCanceled)], 0);
  EXPECT_EQ(queue->by_status[static_cast<int>(JobStatus::kReview)], 1);
  ASSERT_NE(StatsOf(stats, "slow"), nullptr);
  EXPECT_EQ(StatsOf(stats, "slow")->by_status[static_cast<int>(JobStatus::kRunning)], 1);
}

TEST_P(StoreContractTest, PurgeTakesAtMostItsLimitOldestFirst) {
  JobEnder ender(*store_);
  for (int i = 0; i < 7; ++i) ender.Cancel(NewJob("job_" + std::to_string(i)), kEnded + 6 - i);
  EXPECT_THAT(Purge(*store_, kCut, 3), Purged(3));
  // The three that ended first went first.
  for (std::string id : {"job_6", "job_5", "job_4"}) {
    EXPECT_EQ(store_->get_job(kDefaultTenant, id).status().code(), StatusCode::kNotFound) << id;
  }
  EXPECT_EQ(Get("job_3").status, JobStatus::kCanceled);
  EXPECT_THAT(Purge(*store_, kCut, 3), Purged(3));
  EXPECT_THAT(Purge(*store_, kCut, 3), Purged(1));
  EXPECT_THAT(Purge(*store_, kCut, 3), Purged(0));
  EXPECT_THAT(Purge(*store_, kCut, 0), Purged(0));
}

TEST_P(StoreContractTest, AJobWhoseWebhookIsStillBeingDeliveredStaysUntilTheDeliveryEnds) {
  JobEnder ender(*store_);
  Job hooked = NewJob("job_hooked");
  hooked.spec.webhook_url = kUrl;
  ender.Run(hooked, AttemptOutcome::kDone, kEnded);
  EXPECT_THAT(Purge(*store_, kCut), Purged(0));
  ender.Deliver(WebhookAttempt::kRetry, kEnded + 1);
  EXPECT_THAT(Purge(*store_, kCut), Purged(0));
  ender.Deliver(WebhookAttempt::kGaveUp, kEnded + 2);
  EXPECT_THAT(Purge(*store_, kCut), Purged(1));
  EXPECT_EQ(Rows(dir_, "SELECT count(*) FROM webhook_deliveries"), 0);
}

// Seqs are store-wide and never handed out twice, even once the newest events are purged.
TEST_P(StoreContractTest, EventSeqsAreNeverReusedAfterAPurge) {
  JobEnder ender(*store_);
  ender.Cancel(NewJob("job_old"), kEnded);
  const std::int64_t newest = ValueOf(store_->job_events(kDefaultTenant, "job_old")).back().seq;
  EXPECT_THAT(Purge(*store_, kCut), Purged(1));
  Reopen();
  Submit(NewJob("job_new"));
  EXPECT_GT(ValueOf(store_->job_events(kDefaultTenant, "job_new")).front().seq, newest);
}

// --- batches ---

StoredFile FileOf(std::string id) {
  return StoredFile{
      .id = std::move(id), .purpose = "batch", .filename = "f.jsonl", .created_at = kT0};
}

class BatchMaker {
 public:
  explicit BatchMaker(Store& store) : store_(store) {}

  void File(const std::string& id) {
    ASSERT_TRUE(store_.create_file(FileOf(id)).ok());
    ASSERT_TRUE(store_.put_file_chunk(id, 0, "chunk 0").ok());
    ASSERT_TRUE(store_.put_file_chunk(id, 1, "chunk 1").ok());
    ASSERT_TRUE(store_.complete_file(id, 14).ok());
  }
  // A batch of `tenant` reading `input`, in progress and fully ingested: `jobs` and one line
  // error.
  void Start(const std::string& id, const std::string& input, std::span<const Job> jobs = {},
             const std::string& tenant = kDefaultTenant) {
    sluice::Batch batch;
    batch.id = id;
    batch.tenant = tenant;
    batch.endpoint = "/v1/chat/completions";
    batch.input_file_id = input;
    batch.completion_window = "24h";
    batch.created_at = kT0;
    batch.expires_at = kT0 + 86'400'000;
    ASSERT_TRUE(store_.create_batch(batch).ok());
    ASSERT_TRUE(store_
                    .transition_batch(BatchTransition{.id = id,
                                                      .from = {BatchStatus::kValidating},
                                                      .to = BatchStatus::kInProgress,
                                                      .now = kT0,
                                                      .owner = "node-a",
                                                      .lease_until = kT0 + 60'000,
                                                      .total = 1,
                                                      .event_type = "batch.in_progress",
                                                      .take_lease = true})
                    .ok());
    const BatchLineError error{
        .line = 1, .custom_id = "r1", .code = "invalid_request", .message = "bad line"};
    ASSERT_TRUE(store_
                    .ingest_batch_chunk(BatchChunk{.batch_id = id,
                                                   .owner = "node-a",
                                                   .now = kT0,
                                                   .lease_until = kT0 + 60'000,
                                                   .jobs = jobs,
                                                   .line_errors = std::span(&error, 1),
                                                   .next_line = 2,
                                                   .next_offset = 100,
                                                   .last = true})
                    .ok());
  }
  // Ends a started batch as `end` at `at`, with files of its own for the output and errors.
  void End(const std::string& id, BatchStatus end, Millis at) {
    File(id + "_out");
    File(id + "_err");
    ASSERT_TRUE(store_
                    .transition_batch(
                        BatchTransition{.id = id,
                                        .from = {BatchStatus::kInProgress},
                                        .to = end,
                                        .now = at,
                                        .outcome = end,
                                        .output_file_id = id + "_out",
                                        .error_file_id = id + "_err",
                                        .final_counts = BatchRequestCounts{.total = 1, .failed = 1},
                                        .event_type = std::string("batch.") + BatchStatusName(end)})
                    .ok());
  }

 private:
  Store& store_;
};

TEST_P(StoreContractTest, PurgeDeletesFinalBatchesWithTheirFilesButNotAFileAnotherBatchReads) {
  BatchMaker make(*store_);
  make.File("file_in_gone");
  make.File("file_in_shared");
  make.File("file_in_recent");
  make.Start("batch_gone", "file_in_gone");
  make.End("batch_gone", BatchStatus::kCompleted, kEnded);
  make.Start("batch_gone_cancelled", "file_in_shared");
  make.End("batch_gone_cancelled", BatchStatus::kCancelled, kEnded);
  make.Start("batch_kept_live", "file_in_shared");
  make.Start("batch_kept_recent", "file_in_recent");
  make.End("batch_kept_recent", BatchStatus::kExpired, kRecent);

  EXPECT_THAT(Purge(*store_, kCut), Purged(0, 2, 5));
  EXPECT_THAT(Purge(*store_, kCut), Purged(0));

  for (std::string id : {"batch_gone", "batch_gone_cancelled"}) {
    EXPECT_EQ(store_->get_batch(kDefaultTenant, id).status().code(), StatusCode::kNotFound) << id;
    EXPECT_EQ(Rows(dir_, "SELECT count(*) FROM batch_line_errors WHERE batch_id = '" + id + "'"),
              0);
    EXPECT_EQ(Rows(dir_, "SELECT count(*) FROM events WHERE job_id = '" + id + "'"), 0);
  }
  for (std::string id : {"file_in_gone", "batch_gone_out", "batch_gone_err",
                         "batch_gone_cancelled_out", "batch_gone_cancelled_err"}) {
    EXPECT_EQ(store_->get_file(kDefaultTenant, id).status().code(), StatusCode::kNotFound) << id;
    EXPECT_EQ(ValueOf(store_->get_file_chunk(id, 0)), std::nullopt) << id;
  }
  // The live batch still reads the input it shared with a purged one.
  EXPECT_EQ(ValueOf(store_->get_file_chunk("file_in_shared", 1)), "chunk 1");
  for (std::string id :
       {"file_in_shared", "file_in_recent", "batch_kept_recent_out", "batch_kept_recent_err"}) {
    EXPECT_TRUE(store_->get_file(kDefaultTenant, id).ok()) << id;
  }
  EXPECT_EQ(ValueOf(store_->get_batch(kDefaultTenant, "batch_kept_live")).status,
            BatchStatus::kInProgress);
  EXPECT_EQ(ValueOf(store_->get_batch(kDefaultTenant, "batch_kept_recent")).status,
            BatchStatus::kExpired);
  EXPECT_EQ(ValueOf(store_->batch_line_errors("batch_kept_live", 0, 10)).size(), 1u);
}

// --- blob references ---

TEST_P(StoreContractTest, BlobReferencesFollowTheJobsThatRemain) {
  Job a = NewJob("job_a", "default", "acme");
  a.spec.blob_refs = {BlobId('a')};
  Job b = NewJob("job_b");
  b.spec.blob_refs = {BlobId('b')};
  Job c = NewJob("job_c", "default", "acme");  // a second job on the same blob
  c.spec.blob_refs = {BlobId('a')};
  Job keyed = NewJob("job_keyed", "default", "acme");
  keyed.spec.dedup_key = "k";
  keyed.spec.blob_refs = {BlobId('c')};
  Job duplicate = NewJob("job_duplicate", "default", "acme");
  duplicate.spec.dedup_key = "k";
  duplicate.spec.blob_refs = {BlobId('d')};
  std::vector<Job> jobs = {a, b, c, keyed, duplicate};
  auto outcomes = ValueOf(store_->submit_jobs(jobs));
  ASSERT_EQ(outcomes.size(), 5u);
  EXPECT_TRUE(outcomes[4].deduplicated);

  auto referenced = [this](const std::string& tenant, char blob) {
    return ValueOf(store_->blob_referenced(tenant, BlobId(blob)));
  };
  EXPECT_TRUE(referenced("acme", 'a'));
  EXPECT_FALSE(referenced(kDefaultTenant, 'a'));  // the same id, another tenant's: not it
  EXPECT_TRUE(referenced(kDefaultTenant, 'b'));
  EXPECT_FALSE(referenced("acme", 'b'));
  EXPECT_TRUE(referenced("acme", 'c'));
  EXPECT_FALSE(referenced("acme", 'd'));  // the deduplicated job was never created
  EXPECT_FALSE(referenced("acme", 'e'));

  // A batch's jobs record theirs too.
  Job line = NewJob("job_line", "batch", "acme");
  line.spec.blob_refs = {BlobId('e')};
  BatchMaker(*store_).Start("batch_1", "file_in", std::span(&line, 1), "acme");
  EXPECT_TRUE(referenced("acme", 'e'));

  // Once every job that named a blob is purged, nothing refers to it; a recent one still does.
  ASSERT_TRUE(store_->cancel_job("acme", "job_a", kEnded).ok());
  EXPECT_TRUE(referenced("acme", 'a'));  // job_c still does
  ASSERT_TRUE(store_->cancel_job("acme", "job_c", kEnded).ok());
  ASSERT_TRUE(store_->cancel_job(kDefaultTenant, "job_b", kRecent).ok());
  EXPECT_TRUE(referenced("acme", 'a'));  // ended is not purged
  EXPECT_THAT(Purge(*store_, kCut), Purged(2));
  EXPECT_FALSE(referenced("acme", 'a'));
  EXPECT_TRUE(referenced(kDefaultTenant, 'b'));
  EXPECT_TRUE(referenced("acme", 'c'));
}

}  // namespace
}  // namespace sluice
