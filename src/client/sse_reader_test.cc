#include "client/sse_reader.h"

#include <gtest/gtest.h>

#include <vector>

namespace sluice::client {
namespace {

struct Collected {
  std::vector<SseEvent> events;
  std::function<Status(const SseEvent&)> sink() {
    return [this](const SseEvent& e) {
      events.push_back(e);
      return Status::Ok();
    };
  }
};

// What GET /v1/events writes (events/event_stream.cc): the preamble, two events, a heartbeat.
constexpr std::string_view kStream =
    "retry: 2000\n: stream open\n\n"
    "id: 41\nevent: job.submitted\ndata: {\"seq\":41,\"job_id\":\"job_a\"}\n\n"
    ": keep-alive\n\n"
    "id: 42\nevent: job.done\ndata: {\"seq\":42,\"job_id\":\"job_a\"}\n\n";

TEST(SseReaderTest, ReadsTheServersStreamWhole) {
  SseReader reader(1 << 20);
  Collected got;
  ASSERT_TRUE(reader.feed(kStream, got.sink()).ok());
  ASSERT_EQ(got.events.size(), 2u);
  EXPECT_EQ(got.events[0].id, "41");
  EXPECT_EQ(got.events[0].type, "job.submitted");
  EXPECT_EQ(got.events[0].data, R"({"seq":41,"job_id":"job_a"})");
  EXPECT_EQ(got.events[1].id, "42");
  EXPECT_EQ(got.events[1].type, "job.done");
  EXPECT_EQ(reader.last_id(), "42");
}

TEST(SseReaderTest, AnySplitOfTheBytesGivesTheSameEvents) {
  for (std::size_t piece = 1; piece <= 7; ++piece) {
    SseReader reader(1 << 20);
    Collected got;
    for (std::size_t at = 0; at < kStream.size(); at += piece) {
      ASSERT_TRUE(reader.feed(kStream.substr(at, piece), got.sink()).ok());
    }
    ASSERT_EQ(got.events.size(), 2u) << "pieces of " << piece;
    EXPECT_EQ(got.events[1].data, R"({"seq":42,"job_id":"job_a"})");
  }
}

TEST(SseReaderTest, CrLfAndCrEndLinesTooEvenSplitBetweenThem) {
  SseReader reader(1 << 20);
  Collected got;
  ASSERT_TRUE(reader.feed("event: a\r", got.sink()).ok());
  ASSERT_TRUE(reader.feed("\ndata: 1\r\n\r", got.sink()).ok());
  ASSERT_TRUE(reader.feed("\n", got.sink()).ok());  // the "\n" of "\r\n": no second blank line
  ASSERT_TRUE(reader.feed("data: 2\r\rdata:3\n\n", got.sink()).ok());
  ASSERT_EQ(got.events.size(), 3u);
  EXPECT_EQ((got.events[0].type + "=" + got.events[0].data), "a=1");
  EXPECT_EQ((got.events[1].type + "=" + got.events[1].data), "message=2");
  EXPECT_EQ(got.events[2].data, "3");  // no space after the colon: the value as it is
}

TEST(SseReaderTest, DataLinesJoinAndAnEventWithoutDataIsNotDispatched) {
  SseReader reader(1 << 20);
  Collected got;
  ASSERT_TRUE(reader.feed("event: lonely\n\ndata: a\ndata: b\ndata\n\ndata:\n\n", got.sink()).ok());
  ASSERT_EQ(got.events.size(), 2u);
  EXPECT_EQ(got.events[0].data, "a\nb\n");
  EXPECT_EQ(got.events[0].type, "message");  // "lonely" did not carry over
  EXPECT_EQ(got.events[1].data, "");         // "data:" alone is an event with empty data
}

TEST(SseReaderTest, AnEventLargerThanTheCapFailsWhetherInOneLineOrMany) {
  {
    SseReader reader(64);
    Collected got;
    Status s = reader.feed("data: " + std::string(100, 'x'), got.sink());
    EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
    EXPECT_NE(s.message().find("larger than 64 bytes"), std::string::npos) << s.message();
  }
  {
    SseReader reader(64);
    Collected got;
    Status s;
    for (int i = 0; i < 20 && s.ok(); ++i) s = reader.feed("data: 0123456789\n", got.sink());
    EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
    EXPECT_TRUE(got.events.empty());
  }
  // Many events, each under the cap, are fine however long the stream.
  SseReader reader(64);
  Collected got;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(reader.feed("data: 0123456789\n\n", got.sink()).ok());
  EXPECT_EQ(got.events.size(), 1000u);
}

TEST(SseReaderTest, TheHandlersErrorStopsTheRead) {
  SseReader reader(1 << 20);
  int seen = 0;
  Status s = reader.feed(kStream, [&seen](const SseEvent&) {
    ++seen;
    return Status(StatusCode::kCanceled, "enough");
  });
  EXPECT_EQ(s.code(), StatusCode::kCanceled);
  EXPECT_EQ(seen, 1);
}

}  // namespace
}  // namespace sluice::client
