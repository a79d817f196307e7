// `sluice mock-llm`: the model simulator as a process (options in mockllm/mock_options.h).
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace sluice {

struct MockLlmFlags {
  std::string listen = "127.0.0.1:9001";
  std::string latency = "0ms";
  std::string jitter = "0ms";
  std::string distribution = "uniform";
  double sigma = 0.5;
  double error_rate = 0;
  int error_status = 500;
  double rate_429 = 0;
  int retry_after = 1;
  double timeout_rate = 0;
  double garbage_rate = 0;
  double reset_rate = 0;
  std::string script;
  double cached_share = 0;
  double reasoning_share = 0;
  std::uint64_t seed = 42;
  int threads = 2;
};

void AddMockLlmOptions(CLI::App& app, MockLlmFlags& flags);
int RunMockLlm(const MockLlmFlags& flags);

}  // namespace sluice
