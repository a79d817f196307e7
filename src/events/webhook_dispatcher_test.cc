// The webhook dispatcher over real parts: the outbox of a SQLite store in a temp dir, the
// SSRF-guarded libcurl client, and a receiver on a loopback port 0 that answers as each test
// scripts it. Due times run on a FakeClock: a retry goes out only once the test moves the clock
// past its recorded next_attempt_at and wakes the dispatcher.
#include "events/webhook_dispatcher.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "events/webhook_signature.h"
#include "http/server.h"
#include "tasks/test_util.h"

namespace sluice {
namespace {

namespace json = boost::json;

constexpr const char* kOwner = "node-a";
constexpr const char* kSecret = "s3cret";

// A webhook receiver on 127.0.0.1, port 0. Answers each request with the next scripted
// response (200 once the script is used up) and keeps what it received.
class Receiver {
 public:
  explicit Receiver(http::EventLoop& loop) {
    auto server = http::Server::Start(loop, http::ServerOptions{.listen = "127.0.0.1:0"},
                                      [this](http::Request&& request, http::Responder responder) {
                                        http::Response response;
                                        {
                                          std::lock_guard lock(mu_);
                                          received_.push_back(std::move(request));
                                          if (!script_.empty()) {
                                            response = std::move(script_.front());
                                            script_.pop_front();
                                          }
                                        }
                                        cv_.notify_all();
                                        responder.send(std::move(response));
                                      });
    CHECK(server.ok());
    server_ = std::move(server).value();
  }
  ~Receiver() { server_->stop(); }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/hook";
  }
  void script(int status, http::Headers headers = {}, std::string body = "{}") {
    std::lock_guard lock(mu_);
    script_.push_back(
        http::Response{.status = status, .headers = std::move(headers), .body = std::move(body)});
  }
  // Waits until `n` requests arrived; returns the n-th (from 1).
  http::Request wait_for(std::size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return received_.size() >= n; });
    return received_[n - 1];
  }
  std::size_t received() {
    std::lock_guard lock(mu_);
    return received_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<http::Request> received_;  // GUARDED_BY(mu_)
  std::deque<http::Response> script_;    // GUARDED_BY(mu_)
  std::unique_ptr<http::Server> server_;
};

// A slow receiver on 127.0.0.1, port 0: keeps every request unanswered until release(), then
// answers 200 to those and to every later one at once.
class HoldingReceiver {
 public:
  explicit HoldingReceiver(http::EventLoop& loop) {
    auto server = http::Server::Start(loop, http::ServerOptions{.listen = "127.0.0.1:0"},
                                      [this](http::Request&&, http::Responder responder) {
                                        {
                                          std::lock_guard lock(mu_);
                                          ++received_;
                                          if (holding_) {
                                            held_.push_back(std::move(responder));
                                            cv_.notify_all();
                                            return;
                                          }
                                        }
                                        responder.send(http::Response{.status = 200, .body = "{}"});
                                      });
    CHECK(server.ok());
    server_ = std::move(server).value();
  }
  ~HoldingReceiver() {
    release();
    server_->stop();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/slow";
  }
  void wait_held(std::size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return held_.size() >= n; });
  }
  int received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  void release() {
    std::vector<http::Responder> held;
    {
      std::lock_guard lock(mu_);
      holding_ = false;
      held.swap(held_);
    }
    for (auto& r : held) r.send(http::Response{.status = 200, .body = "{}"});
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool holding_ = true;                 // GUARDED_BY(mu_)
  int received_ = 0;                    // GUARDED_BY(mu_)
  std::vector<http::Responder> held_;   // GUARDED_BY(mu_)
  std::unique_ptr<http::Server> server_;
};

class WebhookDispatcherTest : public ::testing::Test {
 protected:
  WebhookDispatcherTest() : policy_({"127.0.0.1"}) {}

  void SetUp() override {
    auto store = Store::Open({dir_.path(), "", /*durable=*/false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    // Attempts are recorded in the job's history: each such commit is a condition to check.
    store_->set_commit_listener([this](const CommitNews&) {
      {
        std::lock_guard lock(mu_);
        ++commits_;
      }
      committed_.notify_all();
    });
    loop_.start();
    receiver_ = std::make_unique<Receiver>(loop_);
    client_ = NewCurlHttpClient(CurlClientOptions{
        .max_connections = 8, .address_guard = [this](std::string_view host, const sockaddr& a) {
          return policy_.check_connect(host, a);
        }});
    options_ = WebhookDispatcherOptions{
        .owner = kOwner,
        .secret = kSecret,
        .retry = {.base = 1'000, .max = 600'000, .max_attempts = 3, .max_age = 86'400'000},
        .timeout = 10'000,
        .concurrency = 4,
        .poll = 600'000,  // only wake() claims: every claim in these tests is on cue
        .lease = 60'000,
        .stop_grace = 1'000};
  }
  void TearDown() override {
    if (dispatcher_) dispatcher_->stop();
    dispatcher_.reset();
    client_.reset();
    receiver_.reset();
    store_->set_commit_listener(nullptr);
    loop_.stop();
  }

  WebhookDispatcher& dispatcher() {
    if (!dispatcher_) {
      dispatcher_ = std::make_unique<WebhookDispatcher>(
          *store_, *client_, clock_, policy_,
          WebhookRenderers{.job = [this](const std::string& tenant,
                                         const std::string& id) -> Result<std::string> {
            ASSIGN_OR_RETURN(Job job, store_->get_job(tenant, id));
            return json::serialize(
                json::object{{"id", job.id}, {"status", JobStatusName(job.status)}});
          }},
          options_);
      dispatcher_->start();
    }
    return *dispatcher_;
  }

  // A job with `url` as its webhook_url that just ended done: its job.done is in the outbox.
  std::string DoneJobWithWebhook(const std::string& url) {
    Job job;
    job.id = "job_" + std::to_string(++next_id_);
    job.created_at = clock_.now();
    job.spec.type = "classify_ticket";
    job.spec.run_at = clock_.now();
    job.spec.webhook_url = url;
    EXPECT_TRUE(store_->submit_jobs(std::span<const Job>(&job, 1)).ok());
    auto claimed = store_->claim_jobs(ClaimRequest{.queue = "default",
                                                   .limit = 1,
                                                   .owner = "worker",
                                                   .now = clock_.now(),
                                                   .lease_until = clock_.now() + 60'000});
    EXPECT_TRUE(claimed.ok() && claimed->size() == 1u);
    AttemptFinish done{.job_id = job.id,
                       .attempt = 1,
                       .lease_owner = "worker",
                       .outcome = AttemptOutcome::kDone,
                       .now = clock_.now(),
                       .result_json = R"({"label":"ok"})"};
    auto written = store_->finish_attempts(std::span<const AttemptFinish>(&done, 1));
    EXPECT_TRUE(written.ok() && (*written)[0].ok());
    return job.id;
  }

  // The job's recorded delivery attempts ("webhook" events), oldest first.
  std::vector<json::object> Attempts(const std::string& job_id) {
    std::vector<json::object> out;
    auto events = store_->job_events(kDefaultTenant, job_id);
    EXPECT_TRUE(events.ok());
    if (!events.ok()) return out;
    for (const JobEvent& e : *events) {
      if (e.type == "webhook") out.push_back(json::parse(e.data_json).as_object());
    }
    return out;
  }
  // Waits until the job has `n` recorded attempts (each is its own commit).
  std::vector<json::object> WaitForAttempts(const std::string& job_id, std::size_t n) {
    std::unique_lock lock(mu_);
    for (;;) {
      const int seen = commits_;
      lock.unlock();
      std::vector<json::object> attempts = Attempts(job_id);
      if (attempts.size() >= n) return attempts;
      lock.lock();
      committed_.wait(lock, [&] { return commits_ != seen; });
    }
  }
  // Like WaitForAttempts, but gives up after 20 s (a bound on failure, not a timing claim):
  // whether the job reached `n` recorded attempts.
  bool ReachesAttempts(const std::string& job_id, std::size_t n) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::unique_lock lock(mu_);
    for (;;) {
      const int seen = commits_;
      lock.unlock();
      if (Attempts(job_id).size() >= n) return true;
      lock.lock();
      if (!committed_.wait_until(lock, give_up, [&] { return commits_ != seen; })) return false;
    }
  }
  // Whether the outbox holds a delivery that anyone could still claim, however late.
  bool StillPending() {
    auto claimed = store_->claim_webhook_deliveries(WebhookClaim{
        .owner = "probe", .now = clock_.now() + 365LL * 86'400'000, .lease_until = 0, .limit = 10});
    return claimed.ok() && !claimed->empty();
  }
  static Millis TimeOf(const json::value& rfc3339) {
    return ParseRfc3339(std::string(rfc3339.as_string())).value();
  }

  testing::ScratchDir dir_;
  FakeClock clock_;
  WebhookTargetPolicy policy_;
  std::unique_ptr<Store> store_;
  http::EventLoop loop_{1};
  std::unique_ptr<Receiver> receiver_;
  std::unique_ptr<HttpClient> client_;
  WebhookDispatcherOptions options_;
  std::unique_ptr<WebhookDispatcher> dispatcher_;
  std::mutex mu_;
  std::condition_variable committed_;
  int commits_ = 0;  // GUARDED_BY(mu_)
  int next_id_ = 0;
};

TEST_F(WebhookDispatcherTest, DeliversTheSignedEventOnceTheReceiverAnswers2xx) {
  const std::string job = DoneJobWithWebhook(receiver_->url());
  dispatcher();

  auto attempts = WaitForAttempts(job, 1);
  http::Request got = receiver_->wait_for(1);

  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.path, "/hook");
  EXPECT_EQ(got.header("Sluice-Event-Type"), "job.done");
  EXPECT_EQ(got.header("Sluice-Delivery-Attempt"), "1");
  EXPECT_EQ(got.header("Sluice-Signature"),
            WebhookSignature(kSecret, clock_.now() / 1000, got.body));
  json::value body = json::parse(got.body);
  EXPECT_EQ(body.at("id").as_string(), got.header("Sluice-Event-Id"));
  EXPECT_EQ(body.at("type"), "job.done");
  EXPECT_EQ(body.at("version"), 1);
  EXPECT_EQ(body.at("data").at("id").as_string(), job);
  EXPECT_EQ(body.at("data").at("status"), "done");

  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].at("outcome"), "delivered");
  EXPECT_EQ(attempts[0].at("status_code"), 200);
  EXPECT_EQ(attempts[0].at("attempt"), 1);
  EXPECT_FALSE(StillPending());
}

// Nothing of a reply but its status is read, so nothing invites the receiver to compress it
// (libcurl would otherwise offer gzip, brotli, ... and inflate whatever came back).
TEST_F(WebhookDispatcherTest, DeliveriesAskForNoContentEncoding) {
  const std::string job = DoneJobWithWebhook(receiver_->url());
  dispatcher();
  WaitForAttempts(job, 1);
  http::Request got = receiver_->wait_for(1);
  EXPECT_EQ(got.header("Accept-Encoding"), "");
}

// The reply's body is capped at a few KiB (the transfer is aborted past it), yet a 2xx with a
// long body is a delivery: its status had arrived.
TEST_F(WebhookDispatcherTest, A2xxWithAnOversizedReplyIsStillDelivered) {
  receiver_->script(200, {}, std::string(1 << 20, 'x'));
  const std::string job = DoneJobWithWebhook(receiver_->url());
  dispatcher();
  auto attempts = WaitForAttempts(job, 1);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].at("outcome"), "delivered");
  EXPECT_EQ(attempts[0].at("status_code"), 200);
  EXPECT_FALSE(StillPending());
}

// A slow receiver holds at most per_host_concurrency of the node's slots: with 6 of its
// deliveries queued first and 4 slots, the fast receiver's deliveries still go out (and are
// delivered) while the slow one holds its 2; its other 4 wait and go out once it answers.
TEST_F(WebhookDispatcherTest, ASlowReceiverHoldsOnlyItsCapWhileOthersAreDelivered) {
  options_.per_host_concurrency = 2;  // concurrency is 4
  // No attempt times out within the test: only the cap can free a slot for the fast receiver.
  options_.timeout = 120'000;
  options_.lease = 180'000;
  HoldingReceiver slow(loop_);
  std::vector<std::string> slow_jobs, fast_jobs;
  for (int i = 0; i < 6; ++i) slow_jobs.push_back(DoneJobWithWebhook(slow.url()));
  for (int i = 0; i < 3; ++i) fast_jobs.push_back(DoneJobWithWebhook(receiver_->url()));
  dispatcher();

  slow.wait_held(2);
  for (const std::string& job : fast_jobs) {
    ASSERT_TRUE(ReachesAttempts(job, 1)) << "the fast receiver's " << job << " never went out";
    EXPECT_EQ(Attempts(job)[0].at("outcome"), "delivered");
  }
  EXPECT_EQ(slow.received(), 2);  // nothing answered there: its cap still holds

  slow.release();
  for (const std::string& job : slow_jobs) {
    ASSERT_TRUE(ReachesAttempts(job, 1));
    EXPECT_EQ(Attempts(job)[0].at("outcome"), "delivered");
  }
  EXPECT_EQ(slow.received(), 6);
  EXPECT_FALSE(StillPending());
}

TEST_F(WebhookDispatcherTest, ANon2xxAnswerIsRetriedAtItsRecordedTimeWithTheSameBody) {
  receiver_->script(500);
  const std::string job = DoneJobWithWebhook(receiver_->url());
  const Millis failed_at = clock_.now();
  dispatcher();

  auto attempts = WaitForAttempts(job, 1);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].at("outcome"), "retry");
  EXPECT_EQ(attempts[0].at("status_code"), 500);
  EXPECT_EQ(attempts[0].at("code"), "http_error");
  const Millis retry_at = TimeOf(attempts[0].at("next_attempt_at"));
  EXPECT_GE(retry_at, failed_at + 500);  // attempt 1: base 1 s, jittered into [0.5 s, 1 s)
  EXPECT_LT(retry_at, failed_at + 1'000);

  clock_.set(retry_at);
  dispatcher().wake();
  attempts = WaitForAttempts(job, 2);
  http::Request first = receiver_->wait_for(1);
  http::Request second = receiver_->wait_for(2);

  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[1].at("outcome"), "delivered");
  EXPECT_EQ(attempts[1].at("attempt"), 2);
  EXPECT_EQ(second.header("Sluice-Delivery-Attempt"), "2");
  EXPECT_EQ(second.header("Sluice-Event-Id"), first.header("Sluice-Event-Id"));
  EXPECT_EQ(second.body, first.body);  // byte for byte
  EXPECT_EQ(receiver_->received(), 2u);
  EXPECT_FALSE(StillPending());
}

TEST_F(WebhookDispatcherTest, RetryAfterPostponesTheNextAttempt) {
  receiver_->script(503, {{"Retry-After", "120"}});
  const std::string job = DoneJobWithWebhook(receiver_->url());
  const Millis failed_at = clock_.now();
  dispatcher();

  auto attempts = WaitForAttempts(job, 1);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].at("outcome"), "retry");
  // The receiver's 120 s, not the 1 s backoff.
  EXPECT_EQ(TimeOf(attempts[0].at("next_attempt_at")), failed_at + 120'000);

  clock_.set(failed_at + 120'000);
  dispatcher().wake();
  attempts = WaitForAttempts(job, 2);
  EXPECT_EQ(attempts[1].at("outcome"), "delivered");
}

TEST_F(WebhookDispatcherTest, GivesUpAfterMaxAttempts) {
  options_.retry.max_attempts = 2;
  receiver_->script(500);
  receiver_->script(502);
  const std::string job = DoneJobWithWebhook(receiver_->url());
  dispatcher();

  auto attempts = WaitForAttempts(job, 1);
  ASSERT_EQ(attempts[0].at("outcome"), "retry");
  clock_.set(TimeOf(attempts[0].at("next_attempt_at")));
  dispatcher().wake();
  attempts = WaitForAttempts(job, 2);

  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[1].at("outcome"), "gave_up");
  EXPECT_EQ(attempts[1].at("status_code"), 502);
  EXPECT_FALSE(attempts[1].contains("next_attempt_at"));
  EXPECT_EQ(receiver_->received(), 2u);
  EXPECT_FALSE(StillPending());  // over: no node will try it again
}

TEST_F(WebhookDispatcherTest, ARefusedTargetEndsAtOnceWithoutARequest) {
  // A private address the policy does not allow: what the SSRF guard exists for.
  const std::string job = DoneJobWithWebhook("http://10.1.2.3/hook");
  dispatcher();

  auto attempts = WaitForAttempts(job, 1);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].at("outcome"), "refused");
  EXPECT_EQ(attempts[0].at("code"), "ssrf_refused");
  EXPECT_TRUE(attempts[0].at("status_code").is_null());
  EXPECT_FALSE(StillPending());  // never retried
  EXPECT_EQ(receiver_->received(), 0u);
}

TEST_F(WebhookDispatcherTest, StopHandsBackADeliveryStillInFlight) {
  // A receiver that never answers in time: the attempt is in flight when the node stops.
  http::EventLoop slow_loop(1);
  slow_loop.start();
  std::mutex held_mu;
  std::vector<http::Responder> held;
  std::condition_variable arrived;
  auto slow = http::Server::Start(slow_loop, http::ServerOptions{.listen = "127.0.0.1:0"},
                                  [&](http::Request&&, http::Responder responder) {
                                    {
                                      std::lock_guard lock(held_mu);
                                      held.push_back(std::move(responder));
                                    }
                                    arrived.notify_all();
                                  });
  ASSERT_TRUE(slow.ok());
  const std::string job =
      DoneJobWithWebhook("http://127.0.0.1:" + std::to_string((*slow)->port()) + "/hook");
  options_.stop_grace = 0;
  dispatcher();
  {
    std::unique_lock lock(held_mu);
    arrived.wait(lock, [&] { return !held.empty(); });
  }

  dispatcher_->stop();

  EXPECT_EQ(dispatcher_->in_flight(), 0);
  EXPECT_TRUE(Attempts(job).empty());  // a canceled attempt is not counted
  // Handed back due now, for whichever node runs next.
  auto claimed = store_->claim_webhook_deliveries(WebhookClaim{
      .owner = "next-node", .now = clock_.now(), .lease_until = clock_.now() + 1, .limit = 1});
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().job_id, job);
  EXPECT_EQ(claimed->front().attempts, 0);
  (*slow)->stop();
  {
    std::lock_guard lock(held_mu);
    held.clear();
  }
  slow_loop.stop();
}

}  // namespace
}  // namespace sluice
