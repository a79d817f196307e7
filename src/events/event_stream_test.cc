#include "events/event_stream.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(EventStreamTest, JobEventsGetTheJobPrefixBatchEventsKeepTheirs) {
  EXPECT_EQ(StreamEventType("done"), "job.done");
  EXPECT_EQ(StreamEventType("webhook"), "job.webhook");
  EXPECT_EQ(StreamEventType("batch.completed"), "batch.completed");
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

}  // namespace
}  // namespace sluice
