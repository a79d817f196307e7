// Micro-benchmark of the answer engine (src/answer), the CPU of the built-in `local` model.
// Answers the demo tickets (demo/tickets.jsonl) the way the bundled tasks ask: the latest
// version's system prompt and user template of classify_ticket, extract_fields and summarize,
// with their JSON schemas, plus a plain (no response_format) summary.
//
//   sluice_answer_bench                       Google Benchmark: time per answer
//   sluice_answer_bench --loop TASK N         answers N requests of TASK and exits (for
//                                             `valgrind --tool=callgrind`: instructions per answer)
//   sluice_answer_bench --dump                prints every answer, one a line (to diff two builds)
// TASK: classify_ticket, extract_fields, summarize or plain. Not run by ctest.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "answer/answer_engine.h"

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

const fs::path kRepo = fs::path(__FILE__).parent_path().parent_path();

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "answer_bench: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Tickets() {
  std::vector<std::string> texts;
  std::ifstream in(kRepo / "demo" / "tickets.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) texts.emplace_back(json::parse(line).at("text").as_string());
  }
  if (texts.empty()) {
    std::fprintf(stderr, "answer_bench: no demo tickets\n");
    std::exit(2);
  }
  return texts;
}

struct Task {
  const char* name;
  const char* schema;  // file under tasks/schemas, or nullptr for a plain chat answer
  const char* system;
  const char* user_before;  // the user template around {{text}}
  const char* user_after;
};

// Abridged from tasks/*.toml (the prompt length matters only to token counting).
const Task kTasks[] = {
    {"classify_ticket", "ticket_class_v1.json",
     "You sort bank support tickets for the support team. Pick exactly one category: double_charge, "
     "missing_transfer, early_repayment, card_blocked, login_problem, phone_change, fraud, other. "
     "Set urgent to true when money is at risk now. Answer only with JSON matching the schema.",
     "Classify this support ticket.\n\n<ticket>\n", "\n</ticket>"},
    {"extract_fields", "contract_fields_v1.json",
     "You read contracts, receipts and invoices and copy out their key fields. Use null for any "
     "field the document does not state; never guess. Answer only with JSON matching the schema.",
     "Extract the fields of this document.\n\n<document>\n", "\n</document>"},
    {"summarize", "summary_v1.json",
     "You write summaries of bank support calls and customer documents for the case file. "
     "Answer only with JSON matching the schema.",
     "Summarize this text.\n\n<text>\n", "\n</text>"},
    {"plain", nullptr, "You are a helpful assistant.", "", ""},
};

const Task* FindTask(std::string_view name) {
  for (const Task& t : kTasks) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

// One request per ticket, built (and the schema parsed) before timing, as the worker hands
// the engine a parsed request.
std::vector<json::object> Requests(const Task& task) {
  json::value schema;
  if (task.schema != nullptr) schema = json::parse(ReadFile(kRepo / "tasks" / "schemas" / task.schema));
  std::vector<json::object> out;
  for (const std::string& text : Tickets()) {
    json::object req{
        {"model", "fast"},
        {"messages", json::array{json::object{{"role", "system"}, {"content", task.system}},
                                 json::object{{"role", "user"},
                                              {"content", task.user_before + text + task.user_after}}}}};
    if (task.schema != nullptr) {
      req["response_format"] = json::object{
          {"type", "json_schema"}, {"json_schema", json::object{{"name", "t"}, {"schema", schema}}}};
    }
    out.push_back(std::move(req));
  }
  return out;
}

void BM_Answer(benchmark::State& state, const Task* task) {
  const std::vector<json::object> requests = Requests(*task);
  std::size_t i = 0;
  for (auto _ : state) {
    sluice::answer::Answer a = sluice::answer::AnswerChat(requests[i]);
    benchmark::DoNotOptimize(a.content.data());
    i = (i + 1) % requests.size();
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_Answer, classify_ticket, FindTask("classify_ticket"));
BENCHMARK_CAPTURE(BM_Answer, extract_fields, FindTask("extract_fields"));
BENCHMARK_CAPTURE(BM_Answer, summarize, FindTask("summarize"));
BENCHMARK_CAPTURE(BM_Answer, plain, FindTask("plain"));

int Loop(const Task& task, long n) {
  const std::vector<json::object> requests = Requests(task);
  std::size_t bytes = 0;
  for (long i = 0; i < n; ++i) {
    bytes += sluice::answer::AnswerChat(requests[static_cast<std::size_t>(i) % requests.size()]).content.size();
  }
  std::printf("%ld answers of %s, %zu bytes\n", n, task.name, bytes);
  return 0;
}

int Dump() {
  for (const Task& task : kTasks) {
    for (const json::object& req : Requests(task)) {
      sluice::answer::Answer a = sluice::answer::AnswerChat(req);
      std::printf("%s\t%d\t%d\t%s\n", task.name, a.prompt_tokens, a.completion_tokens, a.content.c_str());
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--loop") == 0) {
    const Task* task = FindTask(argv[2]);
    if (task == nullptr) {
      std::fprintf(stderr, "answer_bench: unknown task %s\n", argv[2]);
      return 2;
    }
    return Loop(*task, std::atol(argv[3]));
  }
  if (argc == 2 && std::strcmp(argv[1], "--dump") == 0) return Dump();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
