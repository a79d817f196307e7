// The prepared, cached cue tables (keywords.h CompiledCues) score exactly as the cue lists
// they come from, matched the plain way: every phrase tried at every word. And the answer
// engine says the same with its caches cold, warm, and shared by threads at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "answer/answer_engine.h"
#include "answer/keywords.h"
#include "answer/text.h"

namespace sluice::answer {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

const fs::path kRepo = fs::path(__FILE__).parent_path().parent_path().parent_path();

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) parts.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// The cue semantics of keywords.h, written out the slow, obvious way.
bool NaiveCueMatches(const std::vector<std::string>& words, const std::string& pattern) {
  for (const std::string& part : Split(pattern, '&')) {
    std::vector<std::string> phrase = Split(part, ' ');
    if (phrase.empty()) return false;
    bool found = false;
    for (std::size_t i = 0; i + phrase.size() <= words.size() && !found; ++i) {
      bool all = true;
      for (std::size_t k = 0; k < phrase.size() && all; ++k) {
        const std::string& w = words[i + k];
        const std::string& p = phrase[k];
        all = CodePointCount(p) <= 2 ? w == p : w.rfind(p, 0) == 0;
      }
      found = all;
    }
    if (!found) return false;
  }
  return true;
}

int NaiveScore(const std::vector<std::string>& words, std::span<const Cue> cues) {
  int score = 0;
  for (const Cue& cue : cues) score += NaiveCueMatches(words, cue.pattern) ? cue.weight : 0;
  return score;
}

std::vector<std::string> DemoTexts() {
  std::vector<std::string> texts = {
      "", "a", "2 times I was charged", "не пришли деньги", "Не могу войти, пароль не подходит",
      "card card blocked blocked", "\xD0 broken \xFF utf8 \xD0\xB0", "I'm locked out, can't log in"};
  std::ifstream in(kRepo / "demo" / "tickets.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) texts.emplace_back(json::parse(line).at("text").as_string());
  }
  return texts;
}

const std::vector<std::string> kValues = {
    "double_charge", "missing_transfer", "early_repayment", "card_blocked", "login_problem",
    "phone_change",  "fraud",            "other",           "high",         "positive",
    "negative",      "payment_dispute",  "needs_review",    "PaymentDispute", "a&b",
    "&",             "",                 "x y",             "карта_заблокирована", "\xD0\xB0\xD0"};

TEST(CompiledCues, ScoreAsThePlainMatchOnEveryDemoTicket) {
  for (const std::string& text : DemoTexts()) {
    const std::vector<std::string> words = SplitWords(text);
    EXPECT_EQ(ScoreCues(words, CompiledUrgencyCues()), NaiveScore(words, UrgencyCues())) << text;
    EXPECT_EQ(ScoreCues(words, CompiledFraudCues()), NaiveScore(words, FraudCues())) << text;
    EXPECT_EQ(ScoreCues(words, UrgencyCues()), NaiveScore(words, UrgencyCues())) << text;
    for (const std::string& value : kValues) {
      const std::vector<Cue> cues = CuesForValue(value);
      EXPECT_EQ(ScoreCues(words, *CompiledCuesForValue(value)), NaiveScore(words, cues)) << value << ": " << text;
    }
  }
}

TEST(CompiledCues, TheCacheHandsBackTheSameTable) {
  auto first = CompiledCuesForValue("some_brand_new_value");
  auto second = CompiledCuesForValue("some_brand_new_value");
  EXPECT_EQ(first.get(), second.get());
  const std::vector<std::string> words = SplitWords("a brand new value");
  EXPECT_EQ(ScoreCues(words, *first), NaiveScore(words, CuesForValue("some_brand_new_value")));
}

std::vector<json::object> BundledRequests() {
  std::vector<json::object> requests;
  const std::vector<std::string> texts = DemoTexts();
  for (const char* schema_file : {"ticket_class_v1.json", "contract_fields_v1.json", "summary_v1.json"}) {
    std::ifstream in(kRepo / "tasks" / "schemas" / schema_file);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().empty()) continue;
    json::value schema = json::parse(ss.str());
    for (const std::string& text : texts) {
      requests.push_back(json::object{
          {"messages", json::array{json::object{{"role", "system"}, {"content", "Answer only with JSON."}},
                                   json::object{{"role", "user"}, {"content", "<ticket>\n" + text + "\n</ticket>"}}}},
          {"response_format", json::object{{"type", "json_schema"},
                                           {"json_schema", json::object{{"name", "t"}, {"schema", schema}}}}}});
    }
  }
  return requests;
}

std::vector<std::string> AnswerAll(const std::vector<json::object>& requests) {
  std::vector<std::string> out;
  for (const json::object& r : requests) {
    Answer a = AnswerChat(r);
    out.push_back(a.content + "|" + std::to_string(a.prompt_tokens) + "|" + std::to_string(a.completion_tokens));
  }
  return out;
}

// The first pass fills the caches (cold for any value no earlier test met), the second runs
// on them warm, two threads share them at once: all give byte-identical answers.
TEST(CompiledCues, AnswersAreTheSameColdWarmAndAcrossThreads) {
  const std::vector<json::object> requests = BundledRequests();
  if (requests.empty()) GTEST_SKIP() << "no bundled schemas";
  const std::vector<std::string> cold = AnswerAll(requests);
  EXPECT_EQ(AnswerAll(requests), cold);
  std::vector<std::string> a, b;
  std::thread ta([&] { a = AnswerAll(requests); });
  std::thread tb([&] { b = AnswerAll(requests); });
  ta.join();
  tb.join();
  EXPECT_EQ(a, cold);
  EXPECT_EQ(b, cold);
}

}  // namespace
}  // namespace sluice::answer
