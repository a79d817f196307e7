#include "fuzz/job_fixture.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "blobs/file_blob_store.h"
#include "core/time.h"
#include "gateway/gateway.h"
#include "gateway/http_client.h"
#include "http/event_loop.h"

namespace sluice::fuzz {
namespace {

// Aliases and queues a body may name, with a fallback chain; the provider is never called.
constexpr char kConfig[] = R"(
[[provider]]
name = "primary"
base_url = "http://127.0.0.1:9/v1/"
[[model]]
alias = "fast"
provider = "primary"
id = "gpt-4o-mini"
input_usd_per_mtok = 0.15
output_usd_per_mtok = 0.60
fallback = ["local"]
[[queue]]
name = "urgent"
max_concurrency = 4
[webhooks]
allow_hosts = ["hooks.example.com"]
)";

constexpr Millis kNow = 1'800'000'000'000;

[[noreturn]] void Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "job fixture: %s: %s\n", what.c_str(), status.ToString().c_str());
  std::abort();
}

}  // namespace

bool Verbose() {
  static const bool verbose = std::getenv("SLUICE_FUZZ_VERBOSE") != nullptr;
  return verbose;
}

struct JobFixture::Parts {
  Config config;
  TaskRegistry tasks;
  std::unique_ptr<FileBlobStore> blobs;
  http::EventLoop loop{1};
  std::unique_ptr<HttpClient> http = NewCurlHttpClient();
  FakeClock clock{kNow};
  std::unique_ptr<ModelGateway> gateway;
};

JobFixture& JobFixture::Get() {
  static JobFixture* fixture = new JobFixture();
  return *fixture;
}

JobFixture::JobFixture() {
  auto config = Config::Parse(kConfig, "");
  if (!config.ok()) Fail("config", config.status());
  auto tasks = TaskRegistry::Load(SLUICE_FUZZ_TASKS_DIR);
  if (!tasks.ok()) Fail("tasks", tasks.status());
  char dir[] = "/tmp/sluice-fuzz-blobs-XXXXXX";
  if (mkdtemp(dir) == nullptr) Fail("blob dir", Internal("mkdtemp failed"));
  auto blobs = std::make_unique<FileBlobStore>(dir);
  if (Status s = blobs->Init(); !s.ok()) Fail("blob store", s);
  auto blob = blobs->put(kDefaultTenant, kFuzzBlobContent);
  if (!blob.ok()) Fail("blob", blob.status());
  parts_ = new Parts{std::move(*config), std::move(*tasks), std::move(blobs)};
  parts_->gateway =
      std::make_unique<ModelGateway>(parts_->config, *parts_->http, parts_->clock, parts_->loop);
}

JobRequestContext JobFixture::context(const std::string& tenant) {
  return JobRequestContext{parts_->config,   parts_->tasks, *parts_->blobs,
                           *parts_->gateway, kNow,          tenant};
}

}  // namespace sluice::fuzz
