#include "events/event_stream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/test_client.h"
#include "store/job_rules.h"
#include "store/webhook_rules.h"
#include "tasks/test_util.h"

namespace sluice {
namespace {

TEST(EventStreamTest, JobEventsGetTheJobPrefixBatchEventsKeepTheirs) {
  EXPECT_EQ(StreamEventType("done"), "job.done");
  EXPECT_EQ(StreamEventType("webhook"), "job.webhook");
  EXPECT_EQ(StreamEventType("batch.completed"), "batch.completed");
}

// Every type the store writes (store/job_rules.h, the lease and cancel paths, webhook attempts,
// the batch transitions) is a type a client may filter by, and nothing else is.
TEST(EventStreamTest, EveryStoredTypeIsAKnownFilter) {
  std::vector<std::string> stored = {"submitted", "started", "canceled", "lease_expired", "released",
                                     webhook_rules::kAttemptEventType, webhook_rules::kBatchAttemptEventType, "batch.in_progress",
                                     "batch.completed", "batch.failed", "batch.expired", "batch.cancelled"};
  for (AttemptOutcome o : {AttemptOutcome::kDone, AttemptOutcome::kRetry, AttemptOutcome::kFailed,
                           AttemptOutcome::kReview, AttemptOutcome::kExpired, AttemptOutcome::kBlocked}) {
    stored.emplace_back(store_rules::EventTypeOf(o));
  }
  for (ReviewAction::Kind k : {ReviewAction::kApprove, ReviewAction::kReject, ReviewAction::kRetry}) {
    stored.emplace_back(store_rules::ReviewEventType(ReviewAction{.kind = k}));
  }
  for (const std::string& type : stored) EXPECT_TRUE(IsStreamTypeFilter(StreamEventType(type))) << type;
  EXPECT_TRUE(IsStreamTypeFilter("job.*"));
  EXPECT_TRUE(IsStreamTypeFilter("batch.*"));
  for (const char* bad : {"bogus", "job.bogus", "*", "jobs.*", "job.", ""}) EXPECT_FALSE(IsStreamTypeFilter(bad)) << bad;
}

TEST(EventStreamTest, TypeFiltersMatchExactlyOrByFamily) {
  EXPECT_TRUE(StreamTypeMatches({}, "job.done"));
  EXPECT_TRUE(StreamTypeMatches({"job.done", "job.failed"}, "job.failed"));
  EXPECT_FALSE(StreamTypeMatches({"job.done"}, "job.done2"));
  EXPECT_TRUE(StreamTypeMatches({"batch.*"}, "batch.completed"));
  EXPECT_FALSE(StreamTypeMatches({"batch.*"}, "job.done"));
  EXPECT_FALSE(StreamTypeMatches({"job.*"}, "jobs.done"));
}

TEST(EventStreamTest, FormatsOneSseMessagePerEvent) {
  JobEvent e{.seq = 42,
             .job_id = "job_1",
             .at = 1'800'000'000'000,
             .type = "failed",
             .data_json = R"({"error":{"code":"x","message":"line one\nline two"}})"};
  std::string msg = FormatStreamEvent(e, "job.failed");
  EXPECT_EQ(msg.rfind("id: 42\nevent: job.failed\ndata: {", 0), 0u) << msg;
  EXPECT_TRUE(msg.ends_with("}\n\n")) << msg;
  // The data is one line: a newline inside the JSON would end the SSE field.
  const std::string data = msg.substr(msg.find("data: "));
  EXPECT_EQ(data.find('\n'), data.size() - 2) << msg;
  EXPECT_NE(msg.find(R"("job_id":"job_1")"), std::string::npos);
  EXPECT_NE(msg.find(R"("seq":42)"), std::string::npos);
  EXPECT_NE(msg.find(R"(line one\nline two)"), std::string::npos);
}

TEST(EventStreamTest, BadStoredDataBecomesAnEmptyObject) {
  JobEvent e{.seq = 1, .job_id = "job_1", .at = 0, .type = "done", .data_json = "not json"};
  EXPECT_NE(FormatStreamEvent(e, "job.done").find(R"("data":{})"), std::string::npos);
}

// The hub against a real SqliteStore and a real HTTP server: GET /<tenant> opens a stream of
// that tenant's events from seq 0.
class EventStreamHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open({dir_.path(), "", /*durable=*/false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    hub_.reset();  // before the server: no responder may outlive the event loop
    server_.reset();
  }

  void Start(EventStreamOptions options) {
    hub_ = std::make_unique<EventStreamHub>(*store_, options);
    hub_->start();
    server_ = std::make_unique<http::testing::TestServer>(
        [this](http::Request&& request, http::Responder responder) {
          Status opened = hub_->open(responder, request.target.substr(1), 0, {});
          if (!opened.ok()) {
            {
              std::lock_guard lock(mu_);
              refusals_.push_back(opened);
            }
            responder.send(http::ErrorResponse(opened));
          }
        });
  }

  // `n` jobs of `tenant`, one commit: n job.submitted events, seq in submission order.
  void Submit(const std::string& tenant, int n) {
    std::vector<Job> jobs(n);
    for (int i = 0; i < n; ++i) {
      jobs[i].id = "job_" + tenant + "_" + std::to_string(i);
      jobs[i].spec.tenant = tenant;
      jobs[i].created_at = 1'800'000'000'000;
      jobs[i].spec.type = "classify_ticket";
      jobs[i].spec.run_at = jobs[i].created_at;
    }
    ASSERT_TRUE(store_->submit_jobs(jobs).ok());
    hub_->wake();
  }

  std::unique_ptr<http::testing::RawSocket> Connect(const std::string& tenant,
                                                    int receive_buffer = 0) {
    auto socket = std::make_unique<http::testing::RawSocket>(server_->port(), receive_buffer);
    EXPECT_TRUE(socket->connected());
    EXPECT_TRUE(socket->send("GET /" + tenant + " HTTP/1.1\r\nHost: test\r\n\r\n"));
    return socket;
  }
  // Opens a stream and waits until the hub answered: true when it streams, false when refused.
  bool Open(const std::string& tenant, std::unique_ptr<http::testing::RawSocket>& socket) {
    socket = Connect(tenant);
    if (!socket->read_until("\r\n\r\n")) return false;
    if (socket->received().starts_with("HTTP/1.1 200")) return socket->read_until(": stream open");
    return false;
  }

  sluice::testing::ScratchDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<http::testing::TestServer> server_;
  std::unique_ptr<EventStreamHub> hub_;
  std::mutex mu_;
  std::vector<Status> refusals_;
};

TEST_F(EventStreamHubTest, StreamsPastTheTenantCapAre429TooManyStreams) {
  Start({.poll = 50, .max_streams_per_tenant = 2, .max_streams = 100});
  std::unique_ptr<http::testing::RawSocket> a1, a2, a3, b1;
  ASSERT_TRUE(Open("acme", a1));
  ASSERT_TRUE(Open("acme", a2));
  EXPECT_FALSE(Open("acme", a3));
  EXPECT_TRUE(a3->received().starts_with("HTTP/1.1 429")) << a3->received();
  EXPECT_NE(a3->received().find("too_many_streams"), std::string::npos) << a3->received();
  {
    std::lock_guard lock(mu_);
    ASSERT_EQ(refusals_.size(), 1u);
    EXPECT_EQ(refusals_[0].code(), StatusCode::kResourceExhausted);
    EXPECT_EQ(refusals_[0].error_code(), "too_many_streams");
    EXPECT_GT(refusals_[0].retry_after_s(), 0);
  }
  // Another tenant's streams are not this one's.
  EXPECT_TRUE(Open("globex", b1));
  EXPECT_EQ(hub_->open_streams(), 3);
  // A stream whose client left counts no more: its tenant may open another.
  a1->close();
  EXPECT_TRUE(http::testing::WaitFor([&] { return Open("acme", a3); }));
}

TEST_F(EventStreamHubTest, StreamsPastTheNodeCapAre429WhateverTheTenant) {
  Start({.poll = 50, .max_streams_per_tenant = 10, .max_streams = 2});
  std::unique_ptr<http::testing::RawSocket> a, b, c;
  ASSERT_TRUE(Open("acme", a));
  ASSERT_TRUE(Open("globex", b));
  EXPECT_FALSE(Open("initech", c));
  EXPECT_TRUE(c->received().starts_with("HTTP/1.1 429")) << c->received();
  EXPECT_NE(c->received().find("too_many_streams"), std::string::npos);
  EXPECT_EQ(hub_->open_streams(), 2);
}

TEST_F(EventStreamHubTest, AClientThatDoesNotReadHoldsAtMostItsBufferAndIsClosed) {
  constexpr std::int64_t kBuffer = 16 << 10;
  Start({.poll = 50, .min_interval = 1, .stream_buffer = kBuffer, .stall_timeout = 500});
  // About 7 MB of SSE: more than the buffer and what the kernel's socket buffers take in
  // (loopback send buffers grow to 4 MiB), so the stream really stalls.
  Submit("acme", 30'000);
  auto idle = Connect("acme", /*receive_buffer=*/4096);  // reads nothing
  ASSERT_TRUE(http::testing::WaitFor([&] { return hub_->open_streams() == 1; }));
  std::int64_t most = 0;
  ASSERT_TRUE(http::testing::WaitFor([&] {
    most = std::max(most, hub_->pending_bytes());
    return hub_->open_streams() == 0;
  })) << "a stream that made no progress for stall_timeout stays open; most pending " << most;
  EXPECT_GT(most, 0);
  EXPECT_LE(most, kBuffer) << "bytes waiting for a client that does not read";
  // The server cut the connection: the client sees its end once it reads what was sent.
  while (idle->recv_some(64 << 10) > 0) {
  }
}

TEST_F(EventStreamHubTest, AReadingClientGetsTheWholeBacklogInOrderThroughASmallBuffer) {
  Start({.poll = 50, .min_interval = 1, .stream_buffer = 8 << 10, .stall_timeout = 2'000});
  constexpr int kEvents = 3000;
  Submit("acme", kEvents);
  std::unique_ptr<http::testing::RawSocket> reader, idle;
  ASSERT_TRUE(Open("acme", reader));
  idle = Connect("acme", /*receive_buffer=*/4096);  // alongside, a client that never reads
  ASSERT_TRUE(reader->read_until("\"job_id\":\"job_acme_" + std::to_string(kEvents - 1) + "\""));
  std::vector<std::int64_t> ids;
  const std::string& text = reader->received();
  for (std::size_t at = text.find("\nid: "); at != std::string::npos;
       at = text.find("\nid: ", at + 1)) {
    ids.push_back(std::stoll(text.substr(at + 5)));
  }
  ASSERT_EQ(ids.size(), static_cast<std::size_t>(kEvents));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "an event went out twice";
}

}  // namespace
}  // namespace sluice
