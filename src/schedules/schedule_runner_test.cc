// ScheduleRunner on a FakeClock with the real embedded store (SQLite in a temp dir), a real
// blob store, and a temp inbox / drop file.
#include "schedules/schedule_runner.h"

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "gateway/http_client.h"
#include "http/event_loop.h"
#include "store/open/open_blob_store.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

Millis T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

void Write(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

class ScheduleRunnerTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "sluice-schedules-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::create_directories(dir_ / "tasks");
    fs::create_directories(dir_ / "inbox");
    fs::create_directories(dir_ / "data");
    Write(dir_ / "tasks" / "note.toml",
          "name = \"note\"\nqueue = \"default\"\n[[version]]\nid = \"v1\"\nuser = \"{{text}}\"\n");
    auto tasks = TaskRegistry::Load((dir_ / "tasks").string());
    ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
    tasks_.emplace(std::move(tasks).value());
    StoreOptions options{(dir_ / "data").string(), "", /*durable=*/false};
    auto store = Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto blobs = OpenBlobStore(options, clock_);
    ASSERT_TRUE(blobs.ok()) << blobs.status().ToString();
    blobs_ = std::move(blobs).value();
    http_ = NewCurlHttpClient();
  }

  void TearDown() override {
    runner_.reset();
    gateway_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // Parses `schedules` (TOML [[schedule]] entries) and makes a runner over them.
  Result<std::unique_ptr<ScheduleRunner>> Make(const std::string& schedules) {
    auto config = Config::Parse(schedules, dir_.string());
    if (!config.ok()) return config.status();
    config_ = std::make_unique<Config>(std::move(config).value());
    gateway_ = std::make_unique<ModelGateway>(*config_, *http_, clock_, loop_);
    return ScheduleRunner::Create(ScheduleDeps{*config_, *tasks_, *blobs_, *gateway_, *store_, clock_,
                                               (dir_ / "data" / "schedules.json").string(),
                                               [this](const std::string& q) { woken_queues_.push_back(q); }});
  }

  void Start(const std::string& schedules) {
    auto runner = Make(schedules);
    ASSERT_TRUE(runner.ok()) << runner.status().ToString();
    runner_ = std::move(runner).value();
  }

  std::vector<Job> Jobs() {
    JobFilter f;
    f.limit = 1000;
    auto page = store_->list_jobs(f);
    EXPECT_TRUE(page.ok());
    std::vector<Job> jobs = page.ok() ? page->jobs : std::vector<Job>{};
    std::reverse(jobs.begin(), jobs.end());  // oldest first
    return jobs;
  }

  static std::string InputText(const Job& job) {
    json::value v = json::parse(job.spec.input_json);
    const json::value* text = v.as_object().if_contains("text");
    return text ? std::string(text->as_string()) : "";
  }

  std::string Inbox(const std::string& cron = "0 2 * * *") {
    return "[[schedule]]\nname = \"nightly\"\ncron = \"" + cron + "\"\ntype = \"note\"\ninbox = \"inbox\"\n" +
           "priority = 3\nmetadata = {team = \"ops\"}\n";
  }

  fs::path dir_;
  FakeClock clock_{T("2026-03-01T01:00:00Z")};
  http::EventLoop loop_{1};
  std::optional<TaskRegistry> tasks_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<Config> config_;
  std::unique_ptr<ModelGateway> gateway_;
  std::unique_ptr<ScheduleRunner> runner_;
  std::vector<std::string> woken_queues_;
};

TEST_F(ScheduleRunnerTest, NothingBeforeTheFireTimeThenEveryFileBecomesAJob) {
  Write(dir_ / "inbox" / "a.txt", "money was charged twice");
  Write(dir_ / "inbox" / "b.txt", "card blocked abroad");
  Write(dir_ / "inbox" / ".c.txt.part", "still being written");
  fs::create_directories(dir_ / "inbox" / "subdir");
  Start(Inbox());
  EXPECT_EQ(FormatRfc3339(*runner_->next_fire("nightly")), "2026-03-01T02:00:00.000Z");

  EXPECT_TRUE(runner_->run_due().empty());
  clock_.set(T("2026-03-01T01:59:59Z"));
  EXPECT_TRUE(runner_->run_due().empty());
  EXPECT_TRUE(Jobs().empty());

  clock_.set(T("2026-03-01T02:00:00Z"));
  auto reports = runner_->run_due();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].status.ok()) << reports[0].status.ToString();
  EXPECT_EQ(reports[0].created, 2);
  std::vector<Job> jobs = Jobs();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(InputText(jobs[0]), "money was charged twice");
  EXPECT_EQ(InputText(jobs[1]), "card blocked abroad");
  for (const Job& job : jobs) {
    EXPECT_EQ(job.spec.type, "note");
    EXPECT_EQ(job.spec.queue, "batch");  // a schedule's default queue
    EXPECT_EQ(job.spec.priority, 3);
    EXPECT_EQ(job.spec.prompt_version, "v1");  // filled by the API's job building
    EXPECT_EQ(json::parse(job.spec.metadata_json), json::parse(R"({"team":"ops"})"));
    EXPECT_EQ(job.spec.dedup_key, "schedule:nightly:" + Sha256Hex(InputText(job)));
  }
  EXPECT_EQ(jobs[0].spec.source, "inbox:a.txt");
  EXPECT_EQ(woken_queues_, std::vector<std::string>{"batch"});
  EXPECT_EQ(FormatRfc3339(*runner_->next_fire("nightly")), "2026-03-02T02:00:00.000Z");
  EXPECT_TRUE(runner_->run_due().empty());  // fired once
}

TEST_F(ScheduleRunnerTest, ALaterFireTakesOnlyNewContent) {
  Write(dir_ / "inbox" / "a.txt", "money was charged twice");
  Start(Inbox());
  clock_.set(T("2026-03-01T02:00:00Z"));
  ASSERT_EQ(runner_->run_due().at(0).created, 1);

  Write(dir_ / "inbox" / "new.txt", "a new complaint");
  Write(dir_ / "inbox" / "copy-of-a.txt", "money was charged twice");  // same content, other name
  Write(dir_ / "inbox" / "empty.txt", "");
  clock_.set(T("2026-03-02T02:00:00Z"));
  auto reports = runner_->run_due();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].created, 1);
  EXPECT_EQ(reports[0].deduplicated, 2);  // a.txt and its copy
  std::vector<Job> jobs = Jobs();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(InputText(jobs[1]), "a new complaint");
  // Files are left where they are.
  EXPECT_TRUE(fs::exists(dir_ / "inbox" / "a.txt"));
}

TEST_F(ScheduleRunnerTest, AFireMissedWhileDownRunsOnceAtStart) {
  Write(dir_ / "inbox" / "a.txt", "first");
  Start(Inbox());
  clock_.set(T("2026-03-01T02:00:00Z"));
  ASSERT_EQ(runner_->run_due().size(), 1u);
  runner_.reset();  // the server stops

  // Down for three nightly fires; a new file arrived meanwhile.
  Write(dir_ / "inbox" / "b.txt", "second");
  clock_.set(T("2026-03-04T09:30:00Z"));
  Start(Inbox());
  auto reports = runner_->run_due();
  ASSERT_EQ(reports.size(), 1u);  // one catch-up run, not three
  EXPECT_EQ(reports[0].created, 1);
  EXPECT_EQ(FormatRfc3339(*runner_->next_fire("nightly")), "2026-03-05T02:00:00.000Z");
  EXPECT_TRUE(runner_->run_due().empty());
}

TEST_F(ScheduleRunnerTest, ANewScheduleDoesNotFireForThePast) {
  Write(dir_ / "inbox" / "a.txt", "first");
  clock_.set(T("2026-03-01T09:00:00Z"));  // after today's 02:00, never fired before
  Start(Inbox());
  EXPECT_TRUE(runner_->run_due().empty());
  EXPECT_EQ(FormatRfc3339(*runner_->next_fire("nightly")), "2026-03-02T02:00:00.000Z");
}

TEST_F(ScheduleRunnerTest, LargeFilesGoInAsBlobs) {
  std::string big(ScheduleRunner::kBlobThreshold + 10, 'x');
  Write(dir_ / "inbox" / "big.txt", big);
  Start(Inbox());
  clock_.set(T("2026-03-01T02:00:00Z"));
  ASSERT_EQ(runner_->run_due().at(0).created, 1);
  std::vector<Job> jobs = Jobs();
  ASSERT_EQ(jobs.size(), 1u);
  json::value input = json::parse(jobs[0].spec.input_json);
  EXPECT_EQ(input.at("blob").as_string(), BlobStore::IdOf(big));
  EXPECT_EQ(blobs_->get(kDefaultTenant, BlobStore::IdOf(big)).value(), big);
}

TEST_F(ScheduleRunnerTest, InvalidFilesAreSkippedAndTheRestGoOn) {
  Write(dir_ / "inbox" / "a.txt", "fine");
  Write(dir_ / "inbox" / "bad.bin", std::string("\xff\xfe bytes", 8));
  Start(Inbox());
  clock_.set(T("2026-03-01T02:00:00Z"));
  auto reports = runner_->run_due();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].status.ok());
  EXPECT_EQ(reports[0].created, 1);
  EXPECT_EQ(reports[0].invalid, 1);
}

TEST_F(ScheduleRunnerTest, EveryCompleteLineOfADropFileBecomesAJob) {
  const std::string schedule =
      "[[schedule]]\nname = \"drops\"\ncron = \"*/10 * * * *\"\ntype = \"note\"\ndrop_file = \"drop.jsonl\"\n"
      "queue = \"default\"\n";
  Write(dir_ / "drop.jsonl",
        "\"plain text line\"\n"
        "{\"text\": \"with an object id\", \"object_id\": \"t-1\", \"priority\": 9}\n"
        "\n"
        "{not json\n"
        "{\"text\": \"cut off");
  Start(schedule);
  clock_.set(T("2026-03-01T01:10:00Z"));
  auto reports = runner_->run_due();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].created, 2);
  EXPECT_EQ(reports[0].invalid, 1);  // line 4
  std::vector<Job> jobs = Jobs();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(InputText(jobs[0]), "plain text line");
  EXPECT_EQ(jobs[0].spec.queue, "default");
  EXPECT_EQ(jobs[0].spec.dedup_key, "schedule:drops:" + Sha256Hex("\"plain text line\""));
  EXPECT_EQ(jobs[1].spec.object_id, "t-1");
  EXPECT_EQ(jobs[1].spec.priority, 9);  // the line's own field wins

  // The cut line is finished and another one appended: only those two are new.
  {
    std::ofstream out(dir_ / "drop.jsonl", std::ios::app);
    out << "\"}\n\"one more\"\n";
  }
  clock_.set(T("2026-03-01T01:20:00Z"));
  reports = runner_->run_due();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].created, 2);
  EXPECT_EQ(reports[0].deduplicated, 2);
  ASSERT_EQ(Jobs().size(), 4u);
  EXPECT_EQ(InputText(Jobs()[2]), "cut off");
}

TEST_F(ScheduleRunnerTest, AMissingInboxFailsTheFireWhichIsTriedAgain) {
  fs::remove_all(dir_ / "inbox");
  Start(Inbox());
  clock_.set(T("2026-03-01T02:00:00Z"));
  auto reports = runner_->run_due();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_FALSE(reports[0].status.ok());
  EXPECT_EQ(*runner_->next_fire("nightly"), T("2026-03-01T02:00:30Z"));
  fs::create_directories(dir_ / "inbox");
  Write(dir_ / "inbox" / "a.txt", "late");
  clock_.set(T("2026-03-01T02:00:30Z"));
  reports = runner_->run_due();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].status.ok());
  EXPECT_EQ(reports[0].created, 1);
}

// A blob store that makes its folder with std::filesystem's throwing overload before each put
// (as code that forgets the error_code overload does), over the real one. Replace the folder
// by a file and put throws std::filesystem_error.
class FolderBlobStore final : public BlobStore {
 public:
  FolderBlobStore(std::unique_ptr<BlobStore> inner, fs::path folder)
      : inner_(std::move(inner)), folder_(std::move(folder)) {}
  Status Init() override { return inner_->Init(); }
  Result<BlobInfo> put(std::string_view tenant, std::string_view content) override {
    try {
      fs::create_directories(folder_);  // throws when a file is in the way
    } catch (...) {
      ++threw;
      throw;
    }
    return inner_->put(tenant, content);
  }
  Result<std::string> get(std::string_view t, std::string_view id) const override { return inner_->get(t, id); }
  Result<bool> exists(std::string_view t, std::string_view id) const override { return inner_->exists(t, id); }
  Result<bool> renew(std::string_view t, std::string_view id) override { return inner_->renew(t, id); }
  Result<std::vector<BlobKey>> list_older(Millis before, const BlobKey& after, int limit) const override {
    return inner_->list_older(before, after, limit);
  }
  Result<bool> remove(std::string_view t, std::string_view id, Millis before) override {
    return inner_->remove(t, id, before);
  }
  std::atomic<int> threw{0};

 private:
  std::unique_ptr<BlobStore> inner_;
  fs::path folder_;
};

// Before the guard, a std::filesystem_error thrown during a fire ended the process
// (std::terminate on the runner's thread). Now the fire fails, is reported, and is tried again.
TEST_F(ScheduleRunnerTest, AFireThatThrowsAFilesystemErrorFailsAndIsTriedAgain) {
  const fs::path folder = dir_ / "blob-folder";
  Write(folder, "a file where the folder should be");
  blobs_ = std::make_unique<FolderBlobStore>(std::move(blobs_), folder);
  Write(dir_ / "inbox" / "big.txt", std::string(ScheduleRunner::kBlobThreshold + 1, 'x'));
  Start(Inbox());
  clock_.set(T("2026-03-01T02:00:00Z"));
  auto reports = runner_->run_due();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].status.code(), StatusCode::kInternal);
  EXPECT_NE(reports[0].status.message().find("schedule nightly: a fire threw"), std::string::npos)
      << reports[0].status.message();
  EXPECT_EQ(*runner_->next_fire("nightly"), T("2026-03-01T02:00:30Z"));
  EXPECT_TRUE(Jobs().empty());

  fs::remove(folder);
  clock_.set(T("2026-03-01T02:00:30Z"));
  reports = runner_->run_due();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].status.ok()) << reports[0].status.ToString();
  EXPECT_EQ(reports[0].created, 1);
}

TEST_F(ScheduleRunnerTest, TheThreadOutlivesAFireThatThrows) {
  const fs::path folder = dir_ / "blob-folder";
  Write(folder, "a file where the folder should be");
  auto owned = std::make_unique<FolderBlobStore>(std::move(blobs_), folder);
  FolderBlobStore& blobs = *owned;
  blobs_ = std::move(owned);
  Write(dir_ / "inbox" / "big.txt", std::string(ScheduleRunner::kBlobThreshold + 1, 'x'));
  Start(Inbox());
  runner_->start();
  clock_.set(T("2026-03-01T02:00:00Z"));
  runner_->wake();
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (blobs.threw.load() == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(blobs.threw.load(), 1);
  fs::remove(folder);
  clock_.set(T("2026-03-01T02:00:30Z"));
  runner_->wake();
  while (Jobs().empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  runner_->stop();
  ASSERT_EQ(Jobs().size(), 1u);
}

TEST_F(ScheduleRunnerTest, TheThreadFiresWhenTheClockGetsThere) {
  Write(dir_ / "inbox" / "a.txt", "threaded");
  Start(Inbox());
  runner_->start();
  clock_.set(T("2026-03-01T02:00:00Z"));
  runner_->wake();
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Jobs().empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  runner_->stop();
  ASSERT_EQ(Jobs().size(), 1u);
}

TEST_F(ScheduleRunnerTest, BadSchedulesAreRejectedWithClearMessages) {
  struct Case {
    std::string toml;
    std::string says;
  } cases[] = {
      {"[[schedule]]\nname=\"x\"\ncron=\"0 2 * * *\"\ntype=\"note\"\ninbox=\"i\"\nfolder=\"f\"\n",
       "unknown key schedule[0].folder"},
      {"[[schedule]]\nname=\"x\"\ncron=\"0 2 * * *\"\ntype=\"note\"\n", "exactly one of inbox"},
      {"[[schedule]]\nname=\"x\"\ncron=\"0 2 * * *\"\ntype=\"note\"\ninbox=\"i\"\ndrop_file=\"d\"\n",
       "exactly one of inbox"},
      {"[[schedule]]\ncron=\"0 2 * * *\"\ntype=\"note\"\ninbox=\"i\"\n", "needs a name"},
      {"[[schedule]]\nname=\"x\"\ntype=\"note\"\ninbox=\"i\"\n", "needs a cron expression"},
      {"[[schedule]]\nname=\"x\"\ncron=\"0 2 * * *\"\ninbox=\"i\"\n", "needs a task type"},
      {"[[schedule]]\nname=\"x\"\ncron=\"0 2 * * *\"\ntype=\"note\"\ninbox=\"i\"\nqueue=\"nope\"\n",
       "unknown queue nope"},
      {"[[schedule]]\nname=\"x\"\ncron=\"0 2 * * *\"\ntype=\"note\"\ninbox=\"i\"\npriority=12\n",
       "schedule[0].priority is out of range"},
      {"[[schedule]]\nname=\"x\"\ncron=\"0 2 * * *\"\ntype=\"note\"\ninbox=\"i\"\n"
       "[[schedule]]\nname=\"x\"\ncron=\"0 2 * * *\"\ntype=\"note\"\ninbox=\"i\"\n",
       "duplicate schedule x"},
      // Checked when the runner is made (at serve start):
      {"[[schedule]]\nname=\"x\"\ncron=\"0 25 * * *\"\ntype=\"note\"\ninbox=\"i\"\n",
       "schedule x: cron: hour: 25 is out of range"},
      {"[[schedule]]\nname=\"x\"\ncron=\"0 2 * * *\"\ntype=\"nope\"\ninbox=\"i\"\n",
       "schedule x: unknown task type nope"},
  };
  for (const auto& c : cases) {
    auto runner = Make(c.toml);
    ASSERT_FALSE(runner.ok()) << c.toml;
    EXPECT_EQ(runner.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(runner.status().message().find(c.says), std::string::npos) << runner.status().message();
  }
}

}  // namespace
}  // namespace sluice
