#include "mockllm/mock_llm.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "answer/answer_engine.h"
#include "mockllm/test_http_client.h"

namespace sluice::mockllm {
namespace {

namespace json = boost::json;
using testing::Call;
using testing::Get;
using testing::HttpCall;
using testing::HttpResult;
using testing::Post;
using testing::WaitFor;

const char* kTicketSchema = R"({
  "type": "object",
  "properties": {
    "category": {"type": "string", "enum": ["double_charge", "missing_transfer", "card_blocked", "fraud", "other"]},
    "urgent": {"type": "boolean"},
    "summary": {"type": "string"}
  },
  "required": ["category", "urgent", "summary"],
  "additionalProperties": false
})";

std::string ChatBody(const std::string& text, const std::string& model = "gpt-test") {
  return json::serialize(json::object{
      {"model", model},
      {"messages", json::array{json::object{{"role", "system"}, {"content", "You sort bank tickets."}},
                               json::object{{"role", "user"}, {"content", text}}}}});
}

std::string SchemaChatBody(const std::string& text) {
  json::object body = json::parse(ChatBody(text)).as_object();
  body["response_format"] = json::object{
      {"type", "json_schema"},
      {"json_schema", json::object{{"name", "ticket"}, {"strict", true}, {"schema", json::parse(kTicketSchema)}}}};
  return json::serialize(body);
}

bool ValidatesTicket(const json::value& instance, std::string* why) {
  json::value schema_doc = json::parse(kTicketSchema);
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::BoostJsonAdapter schema_adapter(schema_doc);
  parser.populateSchema(schema_adapter, schema);
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::BoostJsonAdapter target(instance);
  bool ok = validator.validate(schema, target, &results);
  valijson::ValidationResults::Error error;
  while (results.popError(error)) *why += error.description + "\n";
  return ok;
}

const std::string kText = "Здравствуйте! С карты дважды списали 1 250 руб. за одну покупку. Прошу вернуть деньги.";

class MockLlmTest : public ::testing::Test {
 protected:
  void SetUp() override { loop_.start(); }
  void TearDown() override {
    mock_.reset();
    loop_.stop();
  }

  void Start(MockOptions options = {}) {
    options.listen = "127.0.0.1:0";
    auto started = MockLlm::Start(loop_, std::move(options));
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    mock_ = std::move(started).value();
  }
  std::uint16_t port() const { return mock_->port(); }

  HttpResult Chat(const std::string& body, std::vector<std::string> headers = {}) {
    return Post(port(), "/v1/chat/completions", body, std::move(headers));
  }

  http::EventLoop loop_{2};
  std::unique_ptr<MockLlm> mock_;
};

TEST_F(MockLlmTest, AnswersInOpenAiShapeWithUsage) {
  Start();
  HttpResult r = Chat(ChatBody(kText, "my-model"));
  ASSERT_EQ(r.code, CURLE_OK);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/json");
  json::object o = json::parse(r.body).as_object();
  EXPECT_EQ(o.at("id").as_string().subview().substr(0, 9), "chatcmpl-");
  EXPECT_EQ(o.at("object").as_string(), "chat.completion");
  EXPECT_GT(o.at("created").as_int64(), 1'600'000'000);
  EXPECT_EQ(o.at("model").as_string(), "my-model");
  const json::object& choice = o.at("choices").as_array().at(0).as_object();
  EXPECT_EQ(choice.at("index").as_int64(), 0);
  EXPECT_EQ(choice.at("finish_reason").as_string(), "stop");
  EXPECT_EQ(choice.at("message").at("role").as_string(), "assistant");

  answer::Answer expected = answer::AnswerChat(json::parse(ChatBody(kText)).as_object());
  EXPECT_EQ(choice.at("message").at("content").as_string(), expected.content);
  const json::object& usage = o.at("usage").as_object();
  EXPECT_EQ(usage.at("prompt_tokens").as_int64(), expected.prompt_tokens);
  EXPECT_EQ(usage.at("completion_tokens").as_int64(), expected.completion_tokens);
  EXPECT_EQ(usage.at("total_tokens").as_int64(), expected.prompt_tokens + expected.completion_tokens);

  HttpResult again = Chat(ChatBody(kText, "my-model"));
  EXPECT_NE(json::parse(again.body).at("id"), o.at("id"));  // ids are unique
  MockStats stats = mock_->stats();
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.outcomes["ok"], 2u);
  EXPECT_EQ(stats.in_flight, 0);
}

TEST_F(MockLlmTest, SchemaRequestGetsSchemaValidContent) {
  Start();
  HttpResult r = Chat(SchemaChatBody(kText));
  ASSERT_EQ(r.status, 200) << r.body;
  json::value content = json::parse(json::parse(r.body).at("choices").at(0).at("message").at("content").as_string());
  std::string why;
  EXPECT_TRUE(ValidatesTicket(content, &why)) << json::serialize(content) << "\n" << why;
  EXPECT_EQ(content.at("category").as_string(), "double_charge");
}

TEST_F(MockLlmTest, InvalidRequestsAnswer400InOpenAiShape) {
  Start();
  for (const std::string& body : {std::string("not json"), std::string(R"({"model": "m"})"),
                                  std::string(R"({"messages": []})"), std::string(R"({"messages": [1]})")}) {
    HttpResult r = Chat(body);
    ASSERT_EQ(r.status, 400) << body;
    json::value error = json::parse(r.body).at("error");
    EXPECT_EQ(error.at("type").as_string(), "invalid_request_error");
    EXPECT_FALSE(error.at("message").as_string().empty());
  }
  EXPECT_EQ(Chat(ChatBody("hi"), {"X-Mock-Fault: explode"}).status, 400);
  EXPECT_EQ(Chat(ChatBody("hi"), {"X-Mock-Latency-Ms: soon"}).status, 400);
  EXPECT_EQ(mock_->stats().outcomes["bad_request"], 6u);
  EXPECT_EQ(Get(port(), "/v1/nothing").status, 404);
  EXPECT_EQ(Get(port(), "/v1/chat/completions").status, 405);
}

TEST_F(MockLlmTest, ScriptForcesExactOutcomesInOrder) {
  MockOptions options;
  options.script = *ParseFaultScript("500,429,garbage_body,reset,503,ok");
  options.retry_after_s = 7;
  Start(options);

  HttpResult r500 = Chat(ChatBody(kText));
  EXPECT_EQ(r500.status, 500);
  EXPECT_EQ(json::parse(r500.body).at("error").at("type").as_string(), "server_error");

  HttpResult r429 = Chat(ChatBody(kText));
  EXPECT_EQ(r429.status, 429);
  EXPECT_EQ(r429.headers["retry-after"], "7");
  EXPECT_EQ(json::parse(r429.body).at("error").at("code").as_string(), "rate_limit_exceeded");

  HttpResult garbage = Chat(ChatBody(kText));
  EXPECT_EQ(garbage.status, 200);
  boost::system::error_code ec;
  json::parse(garbage.body, ec);
  EXPECT_TRUE(ec) << "garbage body parsed as JSON: " << garbage.body;

  HttpResult reset = Chat(ChatBody(kText));
  EXPECT_NE(reset.code, CURLE_OK);
  EXPECT_EQ(reset.status, 0);

  EXPECT_EQ(Chat(ChatBody(kText)).status, 503);
  EXPECT_EQ(Chat(ChatBody(kText)).status, 200);
  EXPECT_EQ(Chat(ChatBody(kText)).status, 200);  // script used up, no rates: ok

  MockStats stats = mock_->stats();
  EXPECT_EQ(stats.requests, 7u);
  EXPECT_EQ(stats.outcomes["error"], 2u);
  EXPECT_EQ(stats.outcomes["rate_limited"], 1u);
  EXPECT_EQ(stats.outcomes["garbage"], 1u);
  EXPECT_EQ(stats.outcomes["reset"], 1u);
  EXPECT_EQ(stats.outcomes["ok"], 2u);
  EXPECT_EQ(stats.in_flight, 0);
}

TEST_F(MockLlmTest, HeaderForcesGarbageContentAndTruncation) {
  Start();
  HttpResult r = Chat(SchemaChatBody(kText), {"X-Mock-Fault: garbage_content"});
  ASSERT_EQ(r.status, 200);
  json::value envelope = json::parse(r.body);  // the envelope is fine...
  std::string content(envelope.at("choices").at(0).at("message").at("content").as_string());
  boost::system::error_code ec;
  json::value parsed = json::parse(content, ec);
  std::string why;
  EXPECT_TRUE(ec || !ValidatesTicket(parsed, &why)) << "garbage content is valid: " << content;

  HttpResult cut = Chat(ChatBody(kText), {"X-Mock-Fault: truncated"});
  ASSERT_EQ(cut.status, 200);
  json::value cut_body = json::parse(cut.body);
  const json::value& choice = cut_body.at("choices").at(0);
  EXPECT_EQ(choice.at("finish_reason").as_string(), "length");
  std::string full = answer::AnswerChat(json::parse(ChatBody(kText)).as_object()).content;
  std::string half(choice.at("message").at("content").as_string());
  EXPECT_LT(half.size(), full.size());
  EXPECT_EQ(full.substr(0, half.size()), half);

  EXPECT_EQ(Chat(ChatBody(kText), {"X-Mock-Fault: 502"}).status, 502);
  EXPECT_EQ(Chat(ChatBody(kText), {"X-Mock-Fault: ok"}).status, 200);
}

TEST_F(MockLlmTest, GarbageForAJsonRequestIsNeverUsable) {
  MockOptions options;
  options.garbage_rate = 1.0;
  Start(options);
  for (int i = 0; i < 8; ++i) {
    HttpResult r = Chat(SchemaChatBody(kText));
    ASSERT_EQ(r.status, 200);
    boost::system::error_code ec;
    json::value envelope = json::parse(r.body, ec);
    if (ec) continue;  // a body that is not JSON
    std::string content(envelope.at("choices").at(0).at("message").at("content").as_string());
    json::value parsed = json::parse(content, ec);
    std::string why;
    EXPECT_TRUE(ec || !ValidatesTicket(parsed, &why)) << content;
  }
  EXPECT_EQ(mock_->stats().outcomes["garbage"], 8u);
}

TEST_F(MockLlmTest, TimeoutHoldsTheRequestUntilTheClientGivesUp) {
  Start();
  HttpCall call{"POST", "/v1/chat/completions", ChatBody(kText), {"X-Mock-Fault: timeout"}, 1000};
  HttpResult r = Call(port(), call);
  EXPECT_EQ(r.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(mock_->stats().outcomes["timeout"], 1u);
  // The simulator notices the client left and stops counting the request.
  EXPECT_TRUE(WaitFor([&] { return mock_->stats().in_flight == 0; })) << mock_->stats().ToJson();
  EXPECT_EQ(Chat(ChatBody(kText)).status, 200);  // and still serves
}

TEST_F(MockLlmTest, TimeoutRequestsAreResetAfterTheHoldLimit) {
  MockOptions options;
  options.timeout_rate = 1.0;
  options.timeout_hold_ms = 100;
  Start(options);
  HttpResult r = Call(port(), {"POST", "/v1/chat/completions", ChatBody(kText), {}, 20'000});
  EXPECT_NE(r.code, CURLE_OK);
  EXPECT_NE(r.code, CURLE_OPERATION_TIMEDOUT);  // the server hung up, not the client
  EXPECT_EQ(mock_->stats().in_flight, 0);
}

TEST_F(MockLlmTest, ManySlowRequestsAreInFlightAtOnce) {
  Start();
  const int n = 64;
  std::vector<HttpCall> calls(n, HttpCall{"POST", "/v1/chat/completions", ChatBody(kText), {"X-Mock-Latency-Ms: 2000"}});
  std::vector<HttpResult> results = testing::CallConcurrently(port(), calls);
  for (const HttpResult& r : results) {
    EXPECT_EQ(r.code, CURLE_OK);
    EXPECT_EQ(r.status, 200);
  }
  MockStats stats = mock_->stats();
  EXPECT_EQ(stats.requests, static_cast<std::uint64_t>(n));
  EXPECT_EQ(stats.peak_in_flight, n);
  EXPECT_EQ(stats.in_flight, 0);
  ASSERT_EQ(stats.arrivals.size(), static_cast<std::size_t>(n));
  EXPECT_TRUE(std::is_sorted(stats.arrivals.begin(), stats.arrivals.end()));
}

TEST_F(MockLlmTest, HeldRequestsCountInFlightUntilTheirClientsLeave) {
  Start();
  const int n = 20;
  std::vector<HttpCall> calls(n, HttpCall{"POST", "/v1/chat/completions", ChatBody(kText), {"X-Mock-Fault: timeout"}});
  // The clients leave as soon as the simulator holds all of them.
  std::vector<HttpResult> results =
      testing::CallConcurrently(port(), calls, [&] { return mock_->stats().in_flight == n; });
  for (const HttpResult& r : results) EXPECT_EQ(r.code, CURLE_ABORTED_BY_CALLBACK);
  MockStats stats = mock_->stats();
  EXPECT_EQ(stats.peak_in_flight, n);
  EXPECT_EQ(stats.outcomes["timeout"], static_cast<std::uint64_t>(n));
  EXPECT_TRUE(WaitFor([&] { return mock_->stats().in_flight == 0; })) << mock_->stats().ToJson();
}

TEST_F(MockLlmTest, ConfigEndpointChangesBehaviourAtRunTime) {
  Start();
  EXPECT_EQ(Chat(ChatBody(kText)).status, 200);

  HttpResult set = Post(port(), "/mock/config", R"({"error_rate": 1.0, "error_status": 503})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_DOUBLE_EQ(json::parse(set.body).at("error_rate").as_double(), 1.0);
  EXPECT_EQ(Chat(ChatBody(kText)).status, 503);
  EXPECT_EQ(Chat(ChatBody(kText)).status, 503);

  ASSERT_EQ(Post(port(), "/mock/config", R"({"error_rate": 0, "script": "429,reset", "retry_after_s": 3})").status, 200);
  HttpResult limited = Chat(ChatBody(kText));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.headers["retry-after"], "3");
  EXPECT_NE(Chat(ChatBody(kText)).code, CURLE_OK);
  EXPECT_EQ(Chat(ChatBody(kText)).status, 200);

  json::value config = json::parse(Get(port(), "/mock/config").body);
  EXPECT_EQ(config.at("retry_after_s").as_int64(), 3);
  EXPECT_EQ(config.at("error_status").as_int64(), 503);
  EXPECT_EQ(mock_->options().retry_after_s, 3);

  HttpResult bad = Post(port(), "/mock/config", R"({"error_rate": 2})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body).at("error").at("code").as_string(), "error_rate");
  EXPECT_EQ(Post(port(), "/mock/config", R"({"listen": "127.0.0.1:1"})").status, 400);
  EXPECT_EQ(Post(port(), "/mock/config", R"({"nope": 1})").status, 400);
}

TEST_F(MockLlmTest, ReportsCachedAndReasoningTokensInTheUsageDetails) {
  Start();
  json::object plain = json::parse(Chat(ChatBody(kText)).body).as_object();
  EXPECT_FALSE(plain.at("usage").as_object().contains("prompt_tokens_details"));
  EXPECT_FALSE(plain.at("usage").as_object().contains("completion_tokens_details"));

  ASSERT_EQ(Post(port(), "/mock/config", R"({"cached_share": 0.5, "reasoning_share": 0.25})").status,
            200);
  HttpResult r = Chat(ChatBody(kText));
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value body = json::parse(r.body);
  const json::object& usage = body.at("usage").as_object();
  const std::int64_t prompt = usage.at("prompt_tokens").as_int64();
  const std::int64_t completion = usage.at("completion_tokens").as_int64();
  ASSERT_GT(prompt, 1);
  ASSERT_GT(completion, 3);
  EXPECT_EQ(usage.at("prompt_tokens_details").at("cached_tokens").as_int64(), prompt / 2);
  EXPECT_EQ(usage.at("completion_tokens_details").at("reasoning_tokens").as_int64(),
            completion / 4);
  EXPECT_EQ(Post(port(), "/mock/config", R"({"cached_share": 1.5})").status, 400);
}

TEST_F(MockLlmTest, StatsEndpointAndReset) {
  Start();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Chat(ChatBody(kText)).status, 200);
  json::value stats = json::parse(Get(port(), "/mock/stats").body);
  EXPECT_EQ(stats.at("requests").as_int64(), 3);
  EXPECT_EQ(stats.at("in_flight").as_int64(), 0);
  EXPECT_EQ(stats.at("peak_in_flight").as_int64(), 1);
  EXPECT_EQ(stats.at("outcomes").at("ok").as_int64(), 3);
  EXPECT_EQ(stats.at("outcomes").at("rate_limited").as_int64(), 0);
  EXPECT_EQ(stats.at("arrivals").as_array().size(), 3u);

  ASSERT_EQ(Post(port(), "/mock/reset", "").status, 200);
  stats = json::parse(Get(port(), "/mock/stats").body);
  EXPECT_EQ(stats.at("requests").as_int64(), 0);
  EXPECT_EQ(stats.at("outcomes").at("ok").as_int64(), 0);
  EXPECT_TRUE(stats.at("arrivals").as_array().empty());
}

TEST_F(MockLlmTest, ModelsAndHealth) {
  MockOptions options;
  options.models = {"fast", "smart"};
  Start(options);
  json::value models = json::parse(Get(port(), "/v1/models").body);
  EXPECT_EQ(models.at("object").as_string(), "list");
  ASSERT_EQ(models.at("data").as_array().size(), 2u);
  EXPECT_EQ(models.at("data").at(1).at("id").as_string(), "smart");
  EXPECT_EQ(models.at("data").at(0).at("object").as_string(), "model");
  EXPECT_EQ(Get(port(), "/health").status, 200);
}

TEST_F(MockLlmTest, MaxTokensCutsTheAnswer) {
  Start();
  json::object body = json::parse(ChatBody(kText)).as_object();
  body["max_tokens"] = 5;
  HttpResult r = Chat(json::serialize(body));
  ASSERT_EQ(r.status, 200);
  json::value o = json::parse(r.body);
  EXPECT_EQ(o.at("choices").at(0).at("finish_reason").as_string(), "length");
  EXPECT_LE(o.at("usage").at("completion_tokens").as_int64(), 5);
}

// The events of an SSE body, "data: " stripped.
std::vector<std::string> Events(const std::string& body) {
  std::vector<std::string> events;
  std::size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    std::size_t end = body.find("\n\n", pos);
    events.push_back(body.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  return events;
}

TEST_F(MockLlmTest, StreamsChunksEndingWithDone) {
  Start();
  json::object body = json::parse(ChatBody(kText)).as_object();
  body["stream"] = true;
  body["stream_options"] = json::object{{"include_usage", true}};
  HttpResult r = Chat(json::serialize(body));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  std::vector<std::string> events = Events(r.body);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string content;
  std::string finish;
  bool usage = false;
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    json::object chunk = json::parse(events[i]).as_object();
    EXPECT_EQ(chunk.at("object").as_string(), "chat.completion.chunk");
    if (chunk.contains("usage")) {
      usage = true;
      continue;
    }
    const json::object& choice = chunk.at("choices").at(0).as_object();
    if (const json::value* c = choice.at("delta").as_object().if_contains("content")) content += c->as_string();
    if (choice.at("finish_reason").is_string()) finish = choice.at("finish_reason").as_string();
  }
  EXPECT_EQ(content, answer::AnswerChat(json::parse(ChatBody(kText)).as_object()).content);
  EXPECT_EQ(finish, "stop");
  EXPECT_TRUE(usage);
  EXPECT_EQ(mock_->stats().in_flight, 0);
}

TEST_F(MockLlmTest, TruncatedStreamIsCut) {
  Start();
  json::object body = json::parse(ChatBody(kText)).as_object();
  body["stream"] = true;
  HttpResult r = Chat(json::serialize(body), {"X-Mock-Fault: truncated"});
  EXPECT_NE(r.code, CURLE_OK);  // the stream ends without its last chunk
  EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
}

TEST(MockLlmStart, FailsOnABusyPort) {
  http::EventLoop loop(1);
  loop.start();
  MockOptions options;
  options.listen = "127.0.0.1:0";
  auto first = MockLlm::Start(loop, options);
  ASSERT_TRUE(first.ok());
  options.listen = "127.0.0.1:" + std::to_string((*first)->port());
  EXPECT_FALSE(MockLlm::Start(loop, options).ok());
  first->reset();
  loop.stop();
}

}  // namespace
}  // namespace sluice::mockllm
