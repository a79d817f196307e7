// The worker's attempt lifecycle over real parts: a SQLite store in a temp dir, the bundled
// tasks, the model gateway and the attempt writer, with a FakeClock. Only the provider's side
// of the network is faked (the gateway's HttpClient seam): each test answers the call it sees
// the way a provider would, and reads the outcome back from the store.
#include "worker/worker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "core/ids.h"
#include "scheduler/scheduler.h"
#include "store/open/open_blob_store.h"
#include "tasks/test_util.h"

namespace sluice {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// The provider end of the gateway's calls. Requests wait until the test answers them; answers
// (and cancellations) run on this fake's own thread, as a real client's do.
class FakeProvider final : public HttpClient {
 public:
  FakeProvider() : thread_([this] { run(); }) {}
  ~FakeProvider() override { stop(); }

  // Runs the answers already posted, then ends the thread: nothing calls into the gateway
  // after this (what `sluice serve` gets from resetting its HTTP client before it stops the
  // attempt writer).
  void stop() {
    {
      std::lock_guard lock(mu_);
      exiting_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  std::uint64_t send(HttpRequest request, Callback done) override {
    std::lock_guard lock(mu_);
    const std::uint64_t handle = ++next_handle_;
    requests_.push_back(std::move(request));
    open_[handle] = std::move(done);
    handles_.push_back(handle);
    cv_.notify_all();
    return handle;
  }
  void cancel(std::uint64_t handle) override {
    HttpResponse canceled;
    canceled.error = TransportError::kCanceled;
    canceled.error_message = "canceled";
    post(handle, std::move(canceled));
  }

  // Waits until `n` requests arrived in all; returns the last one.
  HttpRequest wait_for_request(std::size_t n = 1) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return requests_.size() >= n; });
    return requests_[n - 1];
  }
  std::size_t requests() {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  // Answers the n-th request (from 1).
  void answer(std::size_t n, HttpResponse response) {
    std::uint64_t handle = 0;
    {
      std::lock_guard lock(mu_);
      handle = handles_.at(n - 1);
    }
    post(handle, std::move(response));
  }

 private:
  void post(std::uint64_t handle, HttpResponse response) {
    {
      std::lock_guard lock(mu_);
      auto it = open_.find(handle);
      if (it == open_.end()) return;  // answered already
      Callback done = std::move(it->second);
      open_.erase(it);
      answers_.push_back([done = std::move(done), response = std::move(response)]() mutable {
        done(std::move(response));
      });
    }
    cv_.notify_all();
  }
  void run() {
    for (;;) {
      std::function<void()> next;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return exiting_ || !answers_.empty(); });
        if (answers_.empty()) return;
        next = std::move(answers_.front());
        answers_.pop_front();
      }
      next();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<HttpRequest> requests_;          // GUARDED_BY(mu_)
  std::vector<std::uint64_t> handles_;         // GUARDED_BY(mu_)
  std::map<std::uint64_t, Callback> open_;     // GUARDED_BY(mu_)
  std::deque<std::function<void()>> answers_;  // GUARDED_BY(mu_)
  std::uint64_t next_handle_ = 0;              // GUARDED_BY(mu_)
  bool exiting_ = false;                       // GUARDED_BY(mu_)
  std::thread thread_;
};

HttpResponse Answer(int status, std::string body = "{}", std::string retry_after = "") {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.retry_after = std::move(retry_after);
  return r;
}

// A chat.completion whose message is `content`.
HttpResponse Completion(const std::string& content) {
  json::object message{{"role", "assistant"}, {"content", content}};
  json::object choice{{"index", 0}, {"message", message}, {"finish_reason", "stop"}};
  json::object body{
      {"id", "chatcmpl-1"},
      {"object", "chat.completion"},
      {"model", "m1-2026"},
      {"choices", json::array{choice}},
      {"usage",
       json::object{{"prompt_tokens", 100}, {"completion_tokens", 20}, {"total_tokens", 120}}}};
  return Answer(200, json::serialize(body));
}

const char* kConfident =
    R"({"category":"double_charge","urgent":false,"confidence":0.9,"summary":"Charged twice."})";
const char* kUnsure =
    R"({"category":"double_charge","urgent":false,"confidence":0.3,"summary":"Charged twice?"})";

constexpr const char* kOwner = "node-a";

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = Config::Parse(R"(
[[provider]]
name = "p"
base_url = "http://provider.invalid/v1"
[[model]]
alias = "fast"
provider = "p"
id = "m1"
input_usd_per_mtok = 1.0
output_usd_per_mtok = 2.0
params = {temperature = 1, top_p = 0.5}
[worker]
lease = "15s"
heartbeat = "5s"
retry_base = "1s"
retry_max = "1m"
)",
                                dir_.path());
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = std::make_unique<Config>(std::move(config).value());
    auto tasks = TaskRegistry::Load(testing::BundledTasksDir());
    ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
    tasks_ = std::make_unique<TaskRegistry>(std::move(tasks).value());
    auto store = Store::Open({dir_.path(), "", /*durable=*/false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto blobs = OpenBlobStore({dir_.path(), "", false}, clock_);
    ASSERT_TRUE(blobs.ok()) << blobs.status().ToString();
    blobs_ = std::move(blobs).value();

    loop_.start();
    gateway_ = std::make_unique<ModelGateway>(*config_, provider_, clock_, loop_);
    writer_ = std::make_unique<AttemptWriter>(*store_, clock_);
    writer_->start();
    worker_ = std::make_unique<Worker>(WorkerDeps{*config_, *tasks_, *blobs_, *gateway_, *writer_,
                                                  loop_, watch_, clock_, config_->worker});
  }
  void TearDown() override {
    if (worker_) worker_->drain(0s);
    // Every thread that calls into the worker, the gateway and the writer ends before they
    // go, in the order of `sluice serve`'s shutdown: an answer's thread or the loop may still
    // be on its way out of them (TSan saw the writer's condition variable and the worker's
    // map destroyed under them).
    provider_.stop();
    if (writer_) writer_->stop();
    loop_.stop();
    worker_.reset();
    writer_.reset();
    gateway_.reset();
  }

  Job NewJob(std::optional<Millis> deadline = std::nullopt) {
    const TaskType* task = tasks_->find("classify_ticket");
    Job job;
    job.id = NewId("job_", clock_.now());
    job.created_at = clock_.now();
    job.spec.type = "classify_ticket";
    job.spec.prompt_version = task->current()->id;
    job.spec.response_schema = "ticket_class_v1";
    job.spec.input_json = R"({"text":"I was charged twice for one coffee."})";
    job.spec.run_at = clock_.now();
    job.spec.max_attempts = 3;
    job.spec.deadline = deadline;
    return job;
  }
  // Submits `job` and claims it as the scheduler would: running under kOwner, attempt 1.
  Job Claimed(Job job) {
    EXPECT_TRUE(store_->submit_jobs(std::span<const Job>(&job, 1)).ok());
    auto claimed = store_->claim_jobs(ClaimRequest{.queue = "default",
                                                   .limit = 1,
                                                   .owner = kOwner,
                                                   .now = clock_.now(),
                                                   .lease_until = clock_.now() + 15'000});
    EXPECT_TRUE(claimed.ok() && claimed->size() == 1u);
    return claimed.ok() && !claimed->empty() ? claimed->front() : job;
  }
  // Runs a test's one claimed job's attempt, answering its provider call (the test's first)
  // with `answer`; returns the job as stored once the attempt is over.
  Job RunAnswered(Job job, HttpResponse answer) {
    worker_->run(job);
    provider_.wait_for_request(1);
    provider_.answer(1, std::move(answer));
    EXPECT_TRUE(worker_->wait_idle(30s));
    return Stored(job.id);
  }
  Job Stored(const std::string& id) { return store_->get_job(kDefaultTenant, id).value(); }
  std::vector<json::value> Attempts(const std::string& id) {
    std::vector<json::value> out;
    auto attempts = store_->get_attempts(kDefaultTenant, id);
    EXPECT_TRUE(attempts.ok());
    if (!attempts.ok()) return out;
    for (const std::string& a : *attempts) {
      out.push_back(json::parse(a));
    }
    return out;
  }

  testing::ScratchDir dir_;
  FakeClock clock_;
  std::unique_ptr<Config> config_;
  std::unique_ptr<TaskRegistry> tasks_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<BlobStore> blobs_;
  http::EventLoop loop_{1};
  FakeProvider provider_;
  std::unique_ptr<ModelGateway> gateway_;
  std::unique_ptr<AttemptWriter> writer_;
  JobWatch watch_;
  std::unique_ptr<Worker> worker_;
};

TEST_F(WorkerTest, AValidAnswerMakesTheJobDoneWithItsResultAndAttempt) {
  Job job = Claimed(NewJob());
  Job stored = RunAnswered(job, Completion(kConfident));

  EXPECT_EQ(stored.status, JobStatus::kDone);
  EXPECT_EQ(stored.lease_owner, "");
  json::value result = json::parse(store_->get_result(kDefaultTenant, job.id).value());
  EXPECT_EQ(result.at("output").at("category"), "double_charge");
  auto attempts = Attempts(job.id);
  ASSERT_EQ(attempts.size(), 1u);
  // The call went to the configured model of the task's alias.
  json::value request = json::parse(provider_.wait_for_request(1).body);
  EXPECT_EQ(request.at("model"), "m1");
  EXPECT_EQ(provider_.wait_for_request(1).url, "http://provider.invalid/v1/chat/completions");
  auto spend = worker_->spend_by_queue();
  EXPECT_EQ(spend["default"].settled_jobs, 1);
  EXPECT_EQ(spend["default"].attempts, 1);
  EXPECT_GT(spend["default"].cost_usd, 0.0);
  EXPECT_EQ(worker_->in_flight(), 0);
}

TEST_F(WorkerTest, AServerErrorQueuesARetryAfterTheBackoff) {
  const Millis now = clock_.now();
  Job job = Claimed(NewJob());
  Job stored = RunAnswered(job, Answer(500, R"({"error":{"message":"overloaded"}})"));

  EXPECT_EQ(stored.status, JobStatus::kQueued);
  EXPECT_EQ(stored.attempt, 1);
  ASSERT_TRUE(stored.next_attempt_at.has_value());
  // Attempt 1's backoff: retry_base (1 s), jittered into [base/2, base].
  EXPECT_GE(*stored.next_attempt_at, now + 500);
  EXPECT_LE(*stored.next_attempt_at, now + 1'000);
  EXPECT_EQ(Attempts(job.id).size(), 1u);
  EXPECT_EQ(worker_->spend_by_queue()["default"].settled_jobs, 0);
}

TEST_F(WorkerTest, RetryAfterOfA429IsHonoured) {
  const Millis now = clock_.now();
  Job job = Claimed(NewJob());
  Job stored = RunAnswered(job, Answer(429, R"({"error":{"message":"slow down"}})", "30"));

  EXPECT_EQ(stored.status, JobStatus::kQueued);
  ASSERT_TRUE(stored.next_attempt_at.has_value());
  EXPECT_GE(*stored.next_attempt_at, now + 30'000);  // not the 1 s backoff
}

TEST_F(WorkerTest, ANonRetryableProviderErrorFailsTheJobAtOnce) {
  Job job = Claimed(NewJob());
  Job stored = RunAnswered(job, Answer(400, R"({"error":{"message":"bad request"}})"));

  EXPECT_EQ(stored.status, JobStatus::kFailed);
  ASSERT_TRUE(stored.error.has_value());
  EXPECT_FALSE(stored.error->code.empty());
  EXPECT_EQ(stored.attempt, 1);  // attempts were left: a 400 is not retried anyway
  EXPECT_EQ(provider_.requests(), 1u);
  EXPECT_EQ(worker_->spend_by_queue()["default"].settled_jobs, 1);
}

TEST_F(WorkerTest, AnUnsureAnswerSendsTheJobToReviewWithItsResultKept) {
  Job job = Claimed(NewJob());
  Job stored = RunAnswered(job, Completion(kUnsure));

  EXPECT_EQ(stored.status, JobStatus::kReview);  // confidence below the task's 0.6
  ASSERT_TRUE(stored.error.has_value());
  EXPECT_EQ(stored.error->message, "confidence 0.3 is below 0.6");  // numbers as people write them
  json::value result = json::parse(store_->get_result(kDefaultTenant, job.id).value());
  EXPECT_EQ(result.at("output").at("confidence").to_number<double>(), 0.3);
}

TEST_F(WorkerTest, AJobWhoseDeadlinePassedBeforeItStartedExpiresWithoutACall) {
  Job job = Claimed(NewJob(clock_.now() + 1'000));
  clock_.advance(2'000);
  worker_->run(job);
  ASSERT_TRUE(worker_->wait_idle(30s));

  Job stored = Stored(job.id);
  EXPECT_EQ(stored.status, JobStatus::kExpired);
  ASSERT_TRUE(stored.error.has_value());
  EXPECT_EQ(stored.error->code, "deadline_exceeded");
  EXPECT_EQ(provider_.requests(), 0u);
}

TEST_F(WorkerTest, ARetryThatCouldOnlyStartAfterTheDeadlineExpiresTheJob) {
  Job job = Claimed(NewJob(clock_.now() + 1'500));
  worker_->run(job);
  provider_.wait_for_request(1);
  clock_.advance(1'400);  // the call took long: any backoff now ends past the deadline
  provider_.answer(1, Answer(503));
  ASSERT_TRUE(worker_->wait_idle(30s));

  EXPECT_EQ(Stored(job.id).status, JobStatus::kExpired);
}

TEST_F(WorkerTest, ALostLeaseWritesNothingAndFreesTheSlot) {
  Job job = Claimed(NewJob());
  std::mutex freed_mu;
  std::vector<std::string> freed;
  std::atomic<int> freed_count{0};
  worker_->set_slot_freed([&](const std::string& queue) {
    std::lock_guard lock(freed_mu);
    freed.push_back(queue);
    ++freed_count;
  });
  worker_->run(job);
  provider_.wait_for_request(1);
  // Meanwhile the lease ran out and the reaper gave the job back to the queue.
  ASSERT_TRUE(store_->reap_expired_leases(clock_.now() + 16'000).ok());
  provider_.answer(1, Completion(kConfident));
  ASSERT_TRUE(worker_->wait_idle(30s));
  // The slot is freed just after the attempt leaves the worker's books (Worker::Done).
  const auto freed_by = std::chrono::steady_clock::now() + 30s;
  while (freed_count.load() == 0 && std::chrono::steady_clock::now() < freed_by) {
    std::this_thread::sleep_for(1ms);
  }

  Job stored = Stored(job.id);
  EXPECT_EQ(stored.status, JobStatus::kQueued);  // the zombie's result did not land
  EXPECT_EQ(store_->get_result(kDefaultTenant, job.id).status().code(), StatusCode::kNotFound);
  std::lock_guard lock(freed_mu);
  EXPECT_EQ(freed, std::vector<std::string>{"default"});
  EXPECT_EQ(worker_->spend_by_queue()["default"].attempts, 0);  // not counted: not written
}

TEST_F(WorkerTest, HeartbeatsKeepALongCallsLeaseUntilItsOutcomeIsWritten) {
  SchedulerOptions options{config_->worker, config_->queues, kOwner};
  Scheduler scheduler(*store_, clock_, options, *worker_, [](const Job&) {});
  worker_->set_slot_freed([&](const std::string& queue) { scheduler.slot_freed(queue); });
  Job submitted = NewJob();
  ASSERT_TRUE(store_->submit_jobs(std::span<const Job>(&submitted, 1)).ok());
  const Millis start = clock_.now();
  ASSERT_EQ(scheduler.tick(), 1);  // claimed, handed to the worker
  provider_.wait_for_request(1);
  EXPECT_EQ(Stored(submitted.id).lease_until, start + 15'000);

  // The call outlives its first lease; each heartbeat pushes the lease on.
  for (int beat = 1; beat <= 4; ++beat) {
    clock_.advance(5'000);
    scheduler.tick();
    EXPECT_EQ(Stored(submitted.id).lease_until, clock_.now() + 15'000) << "beat " << beat;
  }
  ASSERT_GT(clock_.now(), start + 15'000);
  EXPECT_EQ(Stored(submitted.id).status, JobStatus::kRunning);

  provider_.answer(1, Completion(kConfident));
  ASSERT_TRUE(worker_->wait_idle(30s));
  Job stored = Stored(submitted.id);
  EXPECT_EQ(stored.status, JobStatus::kDone);
  EXPECT_EQ(stored.attempt, 1);  // never reaped, never run twice
  EXPECT_EQ(Attempts(submitted.id).size(), 1u);
}

TEST_F(WorkerTest, DrainPastTheGraceAbortsTheCallAndWritesNoOutcome) {
  Job job = Claimed(NewJob());
  worker_->run(job);
  provider_.wait_for_request(1);
  EXPECT_EQ(worker_->in_flight(), 1);

  EXPECT_TRUE(worker_->drain(0s));  // the provider never answers: the call is aborted

  EXPECT_EQ(worker_->in_flight(), 0);
  Job stored = Stored(job.id);
  // Left running under the lease, for release_leases: the next attempt starts cleanly.
  EXPECT_EQ(stored.status, JobStatus::kRunning);
  EXPECT_TRUE(store_->get_attempts(kDefaultTenant, job.id)->empty());
}

TEST_F(WorkerTest, CancelAbortsTheRunningCallWithoutAnOutcome) {
  Job job = Claimed(NewJob());
  worker_->run(job);
  provider_.wait_for_request(1);
  ASSERT_TRUE(store_->cancel_job(kDefaultTenant, job.id, clock_.now()).ok());

  worker_->cancel(job.id);
  ASSERT_TRUE(worker_->wait_idle(30s));

  EXPECT_EQ(Stored(job.id).status, JobStatus::kCanceled);
  EXPECT_TRUE(store_->get_attempts(kDefaultTenant, job.id)->empty());
}

// The worst case a call may cost decides whether it is made under the job's cost limit. The
// alias charges $2 per million output tokens; with a $0.01 limit a call may reserve ~5 000 tokens.
TEST_F(WorkerTest, TheWorstCaseCostCountsEveryChoiceAndAnyNumericMaxTokens) {
  struct Case {
    const char* params;
    bool runs;
  };
  const Case cases[] = {
      {R"({"max_tokens":2000})", true},         // 2 000 tokens + the prompt: under the limit
      {R"({"max_tokens":2000,"n":5})", false},  // 5 choices × 2 000 tokens: over
      {R"({"max_tokens":1e6})", false},         // a float is still a million tokens
      {R"({"max_completion_tokens":1E5})", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.params);
    const std::size_t calls_before = provider_.requests();
    Job job = NewJob();
    job.spec.params_json = c.params;
    job.spec.cost_limit_usd = 0.01;
    job = Claimed(job);
    worker_->run(job);
    if (c.runs) {
      provider_.wait_for_request(calls_before + 1);
      provider_.answer(calls_before + 1, Completion(kConfident));
    }
    ASSERT_TRUE(worker_->wait_idle(30s));
    Job stored = Stored(job.id);
    if (c.runs) {
      EXPECT_EQ(stored.status, JobStatus::kDone);
    } else {
      EXPECT_EQ(stored.status, JobStatus::kFailed);
      ASSERT_TRUE(stored.error.has_value());
      EXPECT_EQ(stored.error->code, "cost_limit_exceeded") << stored.error->message;
      EXPECT_EQ(provider_.requests(), calls_before) << "the call must not go out";
    }
  }
}

// Provenance: the result and each attempt record the params the provider was sent: the
// version's (classify_ticket: temperature 0, max_tokens 200), the alias's defaults under them
// (temperature 1 loses, top_p 0.5 is added) and the job's overrides on top.
TEST_F(WorkerTest, TheResultAndAttemptsRecordTheParamsSent) {
  Job job = NewJob();
  job.spec.params_json = R"({"max_tokens":100,"seed":7})";
  job = Claimed(job);
  Job stored = RunAnswered(job, Completion(kConfident));
  ASSERT_EQ(stored.status, JobStatus::kDone);

  const json::value expected =
      json::parse(R"({"temperature":0,"max_tokens":100,"top_p":0.5,"seed":7})");
  json::value result = json::parse(store_->get_result(kDefaultTenant, job.id).value());
  EXPECT_EQ(result.at("params"), expected) << result.at("params");
  auto attempts = Attempts(job.id);
  ASSERT_EQ(attempts.size(), 1u);
  const json::value& records = attempts[0];
  const json::value& attempt = records.is_array() ? records.as_array().at(0) : records;
  EXPECT_EQ(attempt.at("params"), expected) << attempt;
  // And that is what went out: the request minus the parts Sluice builds itself.
  json::object sent = json::parse(provider_.wait_for_request(1).body).as_object();
  for (const char* own : {"model", "messages", "response_format"}) sent.erase(own);
  EXPECT_EQ(json::value(sent), expected);
}

// classify_ticket's current version masks PII: the provider reads placeholders, the stored
// result has the values back, and the record counts what was masked.
TEST_F(WorkerTest, AMaskingJobSendsPlaceholdersAndStoresTheRealValues) {
  Job job = NewJob();
  job.spec.input_json = R"({"text":"Charged twice on 4111 1111 1111 1111, mail anna@bank.kz"})";
  job = Claimed(job);
  Job stored = RunAnswered(
      job, Completion(R"({"category":"double_charge","urgent":false,"confidence":0.9,)"
                      R"("summary":"[EMAIL_1] was charged twice on [CARD_1]"})"));
  ASSERT_EQ(stored.status, JobStatus::kDone) << (stored.error ? stored.error->message : "");
  const std::string sent = provider_.wait_for_request(1).body;
  EXPECT_EQ(sent.find("anna@bank.kz"), std::string::npos) << sent;
  EXPECT_EQ(sent.find("4111 1111 1111 1111"), std::string::npos) << sent;
  EXPECT_NE(sent.find("[CARD_1], mail [EMAIL_1]"), std::string::npos) << sent;
  json::value result = json::parse(store_->get_result(kDefaultTenant, job.id).value());
  EXPECT_EQ(result.at("output").at("summary"), "anna@bank.kz was charged twice on 4111 1111 1111 1111");
  EXPECT_NE(json::value_to<std::string>(result.at("text")).find("anna@bank.kz"), std::string::npos);
  EXPECT_EQ(result.at("pii"), json::parse(R"({"masked":{"CARD":1,"EMAIL":1}})"));
}

// A chat job masks only when it asks to (or its tenant does: decided at submit).
TEST_F(WorkerTest, AChatJobMasksOnlyWhenItsSpecSaysSo) {
  std::size_t calls = 0;
  for (bool mask : {false, true}) {
    Job job = NewJob();
    job.spec.type = kChatType;
    job.spec.prompt_version.clear();
    job.spec.response_schema.clear();
    job.spec.input_json = R"({"model":"fast","messages":[{"role":"user","content":"call +7 701 234 56 78"}]})";
    job.spec.mask_pii = mask;
    job = Claimed(job);
    worker_->run(job);
    const std::string sent = provider_.wait_for_request(++calls).body;
    provider_.answer(calls, Completion("Calling [PHONE_1] now"));
    ASSERT_TRUE(worker_->wait_idle(30s));
    ASSERT_EQ(Stored(job.id).status, JobStatus::kDone);
    EXPECT_EQ(sent.find("+7 701 234 56 78") == std::string::npos, mask) << sent;
    json::value result = json::parse(store_->get_result(kDefaultTenant, job.id).value());
    // Not masked: the model's text is stored as it came, placeholder-looking words included.
    EXPECT_EQ(result.at("text"), mask ? "Calling +7 701 234 56 78 now" : "Calling [PHONE_1] now");
    EXPECT_EQ(result.as_object().contains("pii"), mask);
  }
}

// A blob store that notes the thread of every read.
class ThreadNotingBlobs final : public BlobStore {
 public:
  explicit ThreadNotingBlobs(BlobStore& inner) : inner_(inner) {}
  Status Init() override { return inner_.Init(); }
  Result<BlobInfo> put(std::string_view t, std::string_view c) override { return inner_.put(t, c); }
  Result<std::string> get(std::string_view t, std::string_view id) const override {
    std::lock_guard lock(mu_);
    readers_.push_back(std::this_thread::get_id());
    return inner_.get(t, id);
  }
  Result<bool> exists(std::string_view t, std::string_view id) const override {
    return inner_.exists(t, id);
  }
  Result<bool> renew(std::string_view t, std::string_view id) override { return inner_.renew(t, id); }
  Result<std::vector<BlobKey>> list_older(Millis before, const BlobKey& after, int limit) const override {
    return inner_.list_older(before, after, limit);
  }
  Result<bool> remove(std::string_view t, std::string_view id, Millis before) override {
    return inner_.remove(t, id, before);
  }
  std::vector<std::thread::id> readers() const {
    std::lock_guard lock(mu_);
    return readers_;
  }

 private:
  BlobStore& inner_;
  mutable std::mutex mu_;
  mutable std::vector<std::thread::id> readers_;
};

// A blob is read from the store (the database, on PostgreSQL) on the thread that hands the job
// to the worker, as the scheduler does, never on the event loop; the call still carries it.
TEST_F(WorkerTest, AJobsBlobIsReadOffTheEventLoop) {
  ThreadNotingBlobs blobs(*blobs_);
  worker_ = std::make_unique<Worker>(WorkerDeps{*config_, *tasks_, blobs, *gateway_, *writer_,
                                                loop_, watch_, clock_, config_->worker});
  auto blob = blobs_->put(kDefaultTenant, "A blob ticket: I was charged twice for one coffee.");
  ASSERT_TRUE(blob.ok());
  Job job = NewJob();
  job.spec.input_json = R"({"blob":")" + blob->id + R"("})";
  Job stored = RunAnswered(Claimed(job), Completion(kConfident));
  EXPECT_EQ(stored.status, JobStatus::kDone);
  EXPECT_THAT(provider_.wait_for_request(1).body, ::testing::HasSubstr("A blob ticket"));
  EXPECT_THAT(blobs.readers(), ::testing::ElementsAre(std::this_thread::get_id()));
  worker_->drain(0s);
  worker_.reset();  // before `blobs` goes
}

// Gives the worker a gateway over `config_text` (the fixture's provider_ answers its calls).
class WorkerHandBackTest : public WorkerTest {
 protected:
  void Reconfigure(const std::string& config_text) {
    auto config = Config::Parse(config_text, dir_.path());
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    worker_.reset();
    gateway_.reset();
    config_ = std::make_unique<Config>(std::move(config).value());
    gateway_ = std::make_unique<ModelGateway>(*config_, provider_, clock_, loop_);
    worker_ = std::make_unique<Worker>(WorkerDeps{*config_, *tasks_, *blobs_, *gateway_, *writer_,
                                                  loop_, watch_, clock_, config_->worker});
  }
  // Runs a claimed job whose call reaches no provider; returns it as stored.
  Job RunUnsent(const Job& job) {
    worker_->run(job);
    EXPECT_TRUE(worker_->wait_idle(30s));
    return Stored(job.id);
  }
};

// A provider with one slot and two claimed jobs: the second waits in the gateway for the slot.
// Drain hands it back at once (queued, due now, attempt not counted, blocked node_stopping) with
// no call made, while the first call, already at the provider, gets the grace period to finish.
TEST_F(WorkerHandBackTest, DrainHandsBackAnAttemptWaitingForAProviderSlot) {
  Reconfigure(R"(
[[provider]]
name = "p"
base_url = "http://provider.invalid/v1"
max_concurrency = 1
[[model]]
alias = "fast"
provider = "p"
id = "m1"
)");
  Job first = Claimed(NewJob());
  Job second = Claimed(NewJob());
  worker_->run(first);
  worker_->run(second);
  provider_.wait_for_request(1);

  bool drained = false;
  std::thread drain([&] { drained = worker_->drain(30s); });
  for (int i = 0; i < 3'000 && Stored(second.id).status != JobStatus::kQueued; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  Job handed_back = Stored(second.id);
  EXPECT_EQ(handed_back.status, JobStatus::kQueued);
  EXPECT_EQ(handed_back.attempt, 0);  // not counted: the next claim makes it attempt 1
  EXPECT_EQ(handed_back.blocked_reason, kNodeStopping);
  EXPECT_LE(handed_back.next_attempt_at.value_or(0), clock_.now());  // due at once
  EXPECT_TRUE(Attempts(second.id).empty());
  EXPECT_EQ(Stored(first.id).status, JobStatus::kRunning);  // its call is still out

  provider_.answer(1, Completion(kConfident));
  drain.join();
  EXPECT_TRUE(drained);
  EXPECT_EQ(Stored(first.id).status, JobStatus::kDone);
  EXPECT_EQ(provider_.requests(), 1u);  // the freed slot started nothing
}

// The circuit opened on the first job's failure: the next job's call reaches no provider, so it
// is no attempt — queued, blocked circuit_open, due when the cool-down ends.
TEST_F(WorkerHandBackTest, AJobWhoseEveryAliasHasAnOpenCircuitIsHeldNotAttempted) {
  Reconfigure(R"(
[[provider]]
name = "p"
base_url = "http://provider.invalid/v1"
circuit_failures = 1
circuit_window = 0
circuit_cool_down = "20s"
[[model]]
alias = "fast"
provider = "p"
id = "m1"
)");
  Job failing = Claimed(NewJob());
  EXPECT_EQ(RunAnswered(failing, Answer(500, R"({"error":{"message":"down"}})")).status, JobStatus::kQueued);

  const Millis now = clock_.now();
  Job held = RunUnsent(Claimed(NewJob()));
  EXPECT_EQ(held.status, JobStatus::kQueued);
  EXPECT_EQ(held.attempt, 0);  // not counted
  EXPECT_EQ(held.blocked_reason, "circuit_open");
  EXPECT_GE(held.next_attempt_at.value_or(0), now + 20'000);  // the cool-down's end, jittered
  EXPECT_LE(held.next_attempt_at.value_or(0), now + 21'000);
  EXPECT_TRUE(Attempts(held.id).empty());
  EXPECT_EQ(provider_.requests(), 1u);
  EXPECT_EQ(worker_->spend_by_queue()["default"].attempts, 1);  // the failing job's only
}

// A rate limit that would hold a queued job's call past kMaxLimitWait hands the job back,
// blocked rate_limited and due when the limit has room, instead of waiting while it shows running.
TEST_F(WorkerHandBackTest, AJobARateLimitWouldHoldLongIsHandedBack) {
  Reconfigure(R"(
[[provider]]
name = "p"
base_url = "http://provider.invalid/v1"
rpm = 1
[[model]]
alias = "fast"
provider = "p"
id = "m1"
)");
  Job first = Claimed(NewJob());
  EXPECT_EQ(RunAnswered(first, Completion(kConfident)).status, JobStatus::kDone);

  const Millis now = clock_.now();
  Job held = RunUnsent(Claimed(NewJob()));
  EXPECT_EQ(held.status, JobStatus::kQueued);
  EXPECT_EQ(held.attempt, 0);
  EXPECT_EQ(held.blocked_reason, "rate_limited");
  EXPECT_GT(held.next_attempt_at.value_or(0), now + kMaxLimitWait);
  EXPECT_LE(held.next_attempt_at.value_or(0), now + 61'000);
  EXPECT_TRUE(Attempts(held.id).empty());
  EXPECT_EQ(provider_.requests(), 1u);
}

}  // namespace
}  // namespace sluice
