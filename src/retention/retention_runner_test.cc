#include "retention/retention_runner.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <thread>

#include "blobs/file_blob_store.h"
#include "store/testing/forwarding_store.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

constexpr Millis kDay = 86'400'000;
constexpr Millis kWindow = 90 * kDay;

class RetentionRunnerTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "sluice-retention-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto store = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    blobs_ = std::make_unique<FileBlobStore>(dir_ + "/blobs");
    ASSERT_TRUE(blobs_->Init().ok());
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // A blob of "acme" whose age (its file's mtime, set by the real clock) is `age`.
  std::string Blob(const std::string& content, Millis age) {
    auto info = blobs_->put("acme", content);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    const std::string hex = info->id.substr(7);
    fs::last_write_time(fs::path(dir_) / "blobs" / "tenants" / "acme" / hex.substr(0, 2) / hex,
                        fs::file_time_type::clock::now() - std::chrono::milliseconds(age));
    return info->id;
  }
  // A job of "acme" naming `blob` (none: ""), submitted and run at `ended` and done then; with
  // ended = 0 it stays queued.
  void AddJob(const std::string& id, const std::string& blob, Millis ended) {
    Job job;
    job.id = id;
    job.created_at = (ended ? ended : now_) - 1'000;
    job.spec.tenant = "acme";
    job.spec.type = "classify";
    job.spec.queue = ended ? "default" : "waiting";
    job.spec.run_at = job.created_at;
    if (!blob.empty()) {
      job.spec.input_json = R"({"blob":")" + blob + R"("})";
      job.spec.blob_refs = {blob};
    }
    ASSERT_TRUE(store_->submit_jobs(std::span(&job, 1)).ok());
    if (!ended) return;
    auto claimed = store_->claim_jobs(ClaimRequest{
        .queue = "default", .limit = 1, .owner = "w", .now = ended, .lease_until = ended + 1'000});
    ASSERT_TRUE(claimed.ok());
    ASSERT_EQ(claimed->size(), 1u);
    AttemptFinish done{.job_id = id,
                       .attempt = 1,
                       .lease_owner = "w",
                       .now = ended,
                       .result_json = R"({"ok":true})"};
    auto outcomes = store_->finish_attempts(std::span(&done, 1));
    ASSERT_TRUE(outcomes.ok() && (*outcomes)[0].ok());
  }
  bool JobExists(const std::string& id) { return store_->get_job("acme", id).ok(); }
  bool BlobExists(const std::string& id) { return *blobs_->exists("acme", id); }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<FileBlobStore> blobs_;
  const Millis now_ = SystemClock::Instance().now();
  FakeClock clock_{now_};
};

TEST_F(RetentionRunnerTest, APassPurgesWhatIsOldAndKeepsWhatIsNot) {
  const std::string unused_old = Blob("nobody needs me", 100 * kDay);
  const std::string unused_young = Blob("uploaded yesterday", kDay);
  const std::string needed_by_live = Blob("a queued job needs me", 100 * kDay);
  const std::string needed_by_old = Blob("only an old job needed me", 100 * kDay);
  AddJob("job_old", "", now_ - 91 * kDay);
  AddJob("job_old_with_blob", needed_by_old, now_ - 91 * kDay);
  AddJob("job_recent", "", now_ - kDay);
  AddJob("job_live", needed_by_live, 0);

  RetentionRunner runner(*store_, *blobs_, clock_, RetentionOptions::ForWindow(kWindow));
  RetentionReport report = runner.pass();
  ASSERT_TRUE(report.status.ok()) << report.status.ToString();
  EXPECT_EQ(report.purged.jobs, 2);
  EXPECT_EQ(report.blobs, 2);  // the job's blob goes in the same pass as the job
  EXPECT_FALSE(JobExists("job_old"));
  EXPECT_FALSE(JobExists("job_old_with_blob"));
  EXPECT_TRUE(JobExists("job_recent"));
  EXPECT_TRUE(JobExists("job_live"));
  EXPECT_FALSE(BlobExists(unused_old));
  EXPECT_FALSE(BlobExists(needed_by_old));
  EXPECT_TRUE(BlobExists(unused_young));
  EXPECT_TRUE(BlobExists(needed_by_live));

  RetentionReport again = runner.pass();
  EXPECT_TRUE(again.status.ok());
  EXPECT_EQ(again.purged.jobs, 0);
  EXPECT_EQ(again.blobs, 0);

  // Time moves on: the recent job is old now; the live job still holds its blob.
  clock_.advance(90 * kDay);
  RetentionReport later = runner.pass();
  EXPECT_EQ(later.purged.jobs, 1);
  EXPECT_EQ(later.blobs, 1);  // the one uploaded "yesterday" is past the cut now
  EXPECT_FALSE(JobExists("job_recent"));
  EXPECT_FALSE(BlobExists(unused_young));
  EXPECT_TRUE(BlobExists(needed_by_live));
}

TEST_F(RetentionRunnerTest, PassesInSmallTransactionsUntilNothingIsLeft) {
  for (int i = 0; i < 25; ++i) AddJob("job_" + std::to_string(i), "", now_ - 100 * kDay);
  RetentionOptions options = RetentionOptions::ForWindow(kWindow);
  options.jobs_per_transaction = 4;
  options.blobs_per_page = 2;
  for (int i = 0; i < 5; ++i) Blob("blob " + std::to_string(i), 100 * kDay);
  RetentionRunner runner(*store_, *blobs_, clock_, options);
  RetentionReport report = runner.pass();
  ASSERT_TRUE(report.status.ok()) << report.status.ToString();
  EXPECT_EQ(report.purged.jobs, 25);
  EXPECT_EQ(report.blobs, 5);
}

TEST_F(RetentionRunnerTest, AZeroWindowKeepsEverything) {
  AddJob("job_ancient", "", now_ - 1'000 * kDay);
  const std::string blob = Blob("ancient", 1'000 * kDay);
  RetentionRunner runner(*store_, *blobs_, clock_, RetentionOptions::ForWindow(0));
  RetentionReport report = runner.pass();
  EXPECT_EQ(report.purged.jobs, 0);
  EXPECT_EQ(report.blobs, 0);
  runner.start();  // runs nothing
  runner.stop();
  EXPECT_TRUE(JobExists("job_ancient"));
  EXPECT_TRUE(BlobExists(blob));
}

TEST_F(RetentionRunnerTest, ItsThreadPassesSoonAfterStartAndStops) {
  AddJob("job_old", "", now_ - 100 * kDay);
  RetentionOptions options = RetentionOptions::ForWindow(kWindow);
  options.first_after = 0;
  RetentionRunner runner(*store_, *blobs_, clock_, options);
  runner.start();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (JobExists("job_old") && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(JobExists("job_old"));
  runner.stop();
  runner.stop();  // idempotent
}

TEST(RetentionOptionsTest, APassEveryTenthOfTheWindowBetweenASecondAndTenMinutes) {
  EXPECT_EQ(RetentionOptions::ForWindow(90 * kDay).every, 600'000);
  EXPECT_EQ(RetentionOptions::ForWindow(30 * 60'000).every, 180'000);
  EXPECT_EQ(RetentionOptions::ForWindow(1'000).every, 1'000);
  EXPECT_EQ(RetentionOptions::ForWindow(1'000).first_after, 1'000);
  EXPECT_EQ(RetentionOptions::ForWindow(90 * kDay).first_after, 30'000);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// A store whose first purge_finished throws, as a std::filesystem call or an allocation might.
class ThrowOncePurgeStore final : public ForwardingStore {
 public:
  explicit ThrowOncePurgeStore(Store& inner) : ForwardingStore(inner) {}
  Result<PurgeCounts> purge_finished(Millis cut, int limit) override {
    if (!thrown_.exchange(true)) {
      throw std::filesystem::filesystem_error("purging", std::make_error_code(std::errc::io_error));
    }
    return ForwardingStore::purge_finished(cut, limit);
  }
  std::atomic<bool> thrown_{false};
};

TEST_F(RetentionRunnerTest, APassThatThrowsIsReportedAndTheNextOneRuns) {
  AddJob("job_old", "", now_ - 100 * kDay);
  ThrowOncePurgeStore store(*store_);
  RetentionRunner runner(store, *blobs_, clock_, RetentionOptions::ForWindow(kWindow));
  RetentionReport failed = runner.pass();
  EXPECT_EQ(failed.status.code(), StatusCode::kInternal);
  EXPECT_NE(failed.status.message().find("retention: purging jobs threw"), std::string::npos)
      << failed.status.message();
  EXPECT_TRUE(JobExists("job_old"));
  RetentionReport next = runner.pass();
  ASSERT_TRUE(next.status.ok()) << next.status.ToString();
  EXPECT_EQ(next.purged.jobs, 1);
}

// Before the guard the throw ended the process (std::terminate in the runner's thread).
TEST_F(RetentionRunnerTest, ItsThreadOutlivesAPassThatThrows) {
  AddJob("job_old", "", now_ - 100 * kDay);
  ThrowOncePurgeStore store(*store_);
  RetentionOptions options = RetentionOptions::ForWindow(kWindow);
  options.first_after = 0;
  options.every = 20;
  RetentionRunner runner(store, *blobs_, clock_, options);
  runner.start();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (JobExists("job_old") && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(store.thrown_.load());
  EXPECT_FALSE(JobExists("job_old"));
  runner.stop();
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// [retention] audit: whole UTC days older than the window go, the chain stays whole from the
// anchor, and the jobs' window is not involved.
TEST_F(RetentionRunnerTest, AuditRecordsOlderThanTheWindowGoByWholeDays) {
  const Millis today = now_ / kDay * kDay;
  const Millis times[] = {today - 40 * kDay, today - 31 * kDay + 1, today - 30 * kDay - 1,
                          today - 30 * kDay, today - kDay, today};
  for (std::size_t i = 0; i < std::size(times); ++i) {
    ASSERT_TRUE(store_->put_tenant(TenantPatch{.id = "t" + std::to_string(i), .now = times[i]}).ok());
  }
  ASSERT_TRUE(store_->seal_audit(100).ok());
  auto before = *store_->audit_records({.limit = 100});
  ASSERT_EQ(before.size(), 6u);

  RetentionOptions options = RetentionOptions::ForWindow(0, 30 * kDay);
  options.audit_per_transaction = 2;
  RetentionRunner runner(*store_, *blobs_, clock_, options);
  RetentionReport report = runner.pass();
  ASSERT_TRUE(report.status.ok()) << report.status.ToString();
  // The cut is the start of the day 30 days ago: the three records made before it go.
  EXPECT_EQ(report.audit_records, 3);
  AuditAnchor anchor = *store_->audit_anchor();
  EXPECT_EQ(anchor.seq, 3);
  EXPECT_EQ(anchor.hash, before[2].hash);
  auto after = *store_->audit_records({.limit = 100});
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[0].seq, 4);
  EXPECT_EQ(runner.pass().audit_records, 0);
}

TEST_F(RetentionRunnerTest, AnAuditWindowOfZeroKeepsEveryRecord) {
  ASSERT_TRUE(store_->put_tenant(TenantPatch{.id = "old", .now = now_ - 1000 * kDay}).ok());
  ASSERT_TRUE(store_->seal_audit(100).ok());
  RetentionRunner runner(*store_, *blobs_, clock_, RetentionOptions::ForWindow(kWindow, 0));
  EXPECT_EQ(runner.pass().audit_records, 0);
  EXPECT_EQ(store_->audit_records({.limit = 100})->size(), 1u);
}

}  // namespace
}  // namespace sluice
