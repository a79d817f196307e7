#include "config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sluice {
namespace {

TEST(ConfigTest, DefaultsHoldBuiltinQueues) {
  auto c = Config::Parse("", "/base");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_NE(c->find_queue("default"), nullptr);
  EXPECT_NE(c->find_queue("batch"), nullptr);
  EXPECT_EQ(c->server.data_dir, "/base/sluice-data");
  EXPECT_EQ(c->tasks_dir, "/base/tasks");
}

TEST(ConfigTest, ParsesTheApiExample) {
  auto c = Config::Parse(R"(
[server]
listen = "127.0.0.1:9000"
max_body = "1MiB"
[[provider]]
name = "primary"
base_url = "http://127.0.0.1:9001/v1/"
timeout = "2s"
rpm = 60
circuit_failures = 3
circuit_cool_down = "2s"
[[model]]
alias = "fast"
provider = "primary"
id = "gpt-4o-mini"
input_usd_per_mtok = 0.15
output_usd_per_mtok = 0.60
fallback = ["cheap", "local"]
params = {temperature = 0}
[[model]]
alias = "cheap"
provider = "local"
[[queue]]
name = "urgent"
max_concurrency = 64
reserved = 8
[worker]
lease = "3s"
heartbeat = "1s"
)", "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.max_body, 1 << 20);
  ASSERT_NE(c->find_provider("primary"), nullptr);
  EXPECT_EQ(c->find_provider("primary")->base_url, "http://127.0.0.1:9001/v1");
  EXPECT_EQ(c->find_provider("primary")->timeout, 2000);
  EXPECT_EQ(c->find_provider("primary")->circuit_failures, 3);
  EXPECT_EQ(c->find_provider("primary")->circuit_cool_down, 2000);
  EXPECT_EQ(c->find_model("fast")->fallback, (std::vector<std::string>{"cheap", "local"}));
  EXPECT_NE(c->find_model("fast")->params_json.find("temperature"), std::string::npos);
  EXPECT_EQ(c->find_queue("urgent")->reserved, 8);
  EXPECT_EQ(c->worker.lease, 3000);
}

TEST(ConfigTest, RejectsMistakes) {
  struct Case { const char* toml; const char* field; };
  const Case cases[] = {
      {"[server]\nlisten = 5\n", "server.listen"},
      {"[server]\nlistne = \"x\"\n", "server.listne"},
      {"[bogus]\n", "bogus"},
      {"[[model]]\nalias = \"a\"\nprovider = \"nope\"\n", "model.provider"},
      {"[[model]]\nalias = \"a\"\nprovider = \"local\"\nfallback = [\"zz\"]\n", "model.fallback"},
      {"[[queue]]\nname = \"q\"\nmax_concurrency = 2\nreserved = 3\n", "queue.reserved"},
      {"[worker]\nlease = \"1s\"\nheartbeat = \"2s\"\n", "worker.heartbeat"},
      {"[[provider]]\nname = \"p\"\nbase_url = \"ftp://x\"\n", "provider.base_url"},
      {"[worker]\nlease = \"soon\"\n", "worker.lease"},
      {"[[provider]]\nname = \"p\"\nbase_url = \"http://x\"\ncircuit_failure_ratio = 2.0\n",
       "provider.circuit_failure_ratio"},
      {"[[queue]]\nname = \"q\"\nmodel = \"nope\"\n", "queue.model"},
      {"[server]\nmax_body = -1\n", "server.max_body"},
      {"[server]\nmax_body = 0\n", "server.max_body"},
      {"[server]\nmax_file = -5\n", "server.max_file"},
      {"[log]\nlevel = \"verbose\"\n", "log.level"},
      {"[log]\nformat = \"xml\"\n", "log.format"},
      {"[log]\nlevle = \"info\"\n", "log.levle"},
      {"[privacy]\nbuiltins = false\n", "privacy.builtins"},
      {"[[privacy.rule]]\nname = \"TAX\"\npatern = \"x\"\n", "privacy.rule[0].patern"},
  };
  for (const auto& c : cases) {
    auto r = Config::Parse(c.toml, "");
    ASSERT_FALSE(r.ok()) << c.toml;
    EXPECT_EQ(r.status().field(), c.field) << c.toml << " → " << r.status().ToString();
  }
  EXPECT_FALSE(Config::Parse("[server\n", "").ok());
}

TEST(ConfigTest, PrivacyRulesAreReadInOrderWithTheBuiltInsOnByDefault) {
  auto defaults = Config::Parse("", "");
  ASSERT_TRUE(defaults.ok());
  EXPECT_TRUE(defaults->privacy.builtin_rules);
  EXPECT_TRUE(defaults->privacy.rules.empty());
  auto c = Config::Parse(R"([privacy]
builtin_rules = false

[[privacy.rule]]
name = "PASSPORT"
pattern = "N\\d{8}"

[[privacy.rule]]
name = "CARD"
pattern = "\\d{16}"
check = "luhn"
)",
                         "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->privacy.builtin_rules);
  ASSERT_EQ(c->privacy.rules.size(), 2u);
  EXPECT_EQ(c->privacy.rules[0].name, "PASSPORT");
  EXPECT_EQ(c->privacy.rules[0].pattern, "N\\d{8}");
  EXPECT_EQ(c->privacy.rules[0].check, "none");
  EXPECT_EQ(c->privacy.rules[1].check, "luhn");
}

TEST(ConfigTest, ServerConnectionLimits) {
  auto defaults = Config::Parse("", "");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->server.idle_timeout, 120'000);
  EXPECT_EQ(defaults->server.header_timeout, 10'000);
  EXPECT_EQ(defaults->server.body_timeout, 60'000);
  EXPECT_EQ(defaults->server.body_min_rate, 16 << 10);
  EXPECT_EQ(defaults->server.max_connections, 4096);

  auto c = Config::Parse(R"(
[server]
idle_timeout = "30s"
header_timeout = "2s"
body_timeout = "0s"
body_min_rate = "1MiB"
max_connections = 100
)", "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.idle_timeout, 30'000);
  EXPECT_EQ(c->server.header_timeout, 2'000);
  EXPECT_EQ(c->server.body_timeout, 0);
  EXPECT_EQ(c->server.body_min_rate, 1 << 20);
  EXPECT_EQ(c->server.max_connections, 100);

  for (const char* bad : {"[server]\nmax_connections = 0", "[server]\nheader_timeout = \"soon\"",
                          "[server]\nbody_min_rate = -1"}) {
    EXPECT_FALSE(Config::Parse(bad, "").ok()) << bad;
  }
}

TEST(ConfigTest, RetentionWindowsAreDurationsOrZero) {
  auto defaults = Config::Parse("", "/base");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->retention.jobs, 0);  // kept forever
  EXPECT_EQ(defaults->retention.dedup_window, 30LL * 86'400'000);

  auto c = Config::Parse("[retention]\njobs = \"90d\"\ndedup_window = \"12h\"\n", "/base");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->retention.jobs, 90LL * 86'400'000);
  EXPECT_EQ(c->retention.dedup_window, 12LL * 3'600'000);

  auto off = Config::Parse("[retention]\njobs = \"0\"\ndedup_window = \"0\"\n", "/base");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_EQ(off->retention.jobs, 0);
  EXPECT_EQ(off->retention.dedup_window, 0);

  struct Case {
    const char* toml;
    const char* field;
  };
  const Case cases[] = {
      {"[retention]\njobs = \"ninety days\"\n", "retention.jobs"},
      {"[retention]\njobs = \"\"\n", "retention.jobs"},
      {"[retention]\njobs = \"-1d\"\n", "retention.jobs"},
      {"[retention]\njobs = 90\n", "retention.jobs"},
      {"[retention]\ndedup_window = \"30\"\n", "retention.dedup_window"},
      {"[retention]\nblobs = \"1d\"\n", "retention.blobs"},
  };
  for (const auto& bad : cases) {
    auto r = Config::Parse(bad.toml, "");
    ASSERT_FALSE(r.ok()) << bad.toml;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().field(), bad.field) << bad.toml << " → " << r.status().ToString();
    EXPECT_NE(r.status().message().find(bad.field), std::string::npos) << r.status().ToString();
  }
}

}  // namespace
TEST(ConfigTest, EventStreamBoundsHaveDefaultsAndAreRead) {
  auto defaults = Config::Parse("", "/base");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->events.stream_buffer, 1 << 20);
  EXPECT_EQ(defaults->events.stall_timeout, 30'000);
  EXPECT_EQ(defaults->events.max_streams_per_tenant, 64);
  EXPECT_EQ(defaults->events.max_streams, 4096);

  auto c = Config::Parse(
      "[events]\nstream_buffer = \"256KiB\"\nstall_timeout = \"10s\"\n"
      "max_streams_per_tenant = 8\nmax_streams = 100\n",
      "/base");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->events.stream_buffer, 256 << 10);
  EXPECT_EQ(c->events.stall_timeout, 10'000);
  EXPECT_EQ(c->events.max_streams_per_tenant, 8);
  EXPECT_EQ(c->events.max_streams, 100);
  auto off = Config::Parse("[events]\nstall_timeout = \"0\"\n", "/base");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_EQ(off->events.stall_timeout, 0);

  const std::pair<const char*, const char*> cases[] = {
      {"[events]\nstream_buffer = \"lots\"\n", "events.stream_buffer"},
      {"[events]\nstream_buffer = \"1KiB\"\n", "events.stream_buffer"},
      {"[events]\nstream_buffer = \"2GiB\"\n", "events.stream_buffer"},
      {"[events]\nstall_timeout = \"soon\"\n", "events.stall_timeout"},
      {"[events]\nmax_streams_per_tenant = 0\n", "events.max_streams_per_tenant"},
      {"[events]\nmax_streams = -1\n", "events.max_streams"},
      {"[events]\nbuffer = \"1MiB\"\n", "events.buffer"},
  };
  for (const auto& [toml, field] : cases) {
    auto r = Config::Parse(toml, "");
    ASSERT_FALSE(r.ok()) << toml;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().field(), field) << toml << " → " << r.status().ToString();
  }
}

TEST(ConfigTest, ReadsWebhookDeliveryKeys) {
  auto c = Config::Parse(R"(
[webhooks]
secret_env = "HOOK_SECRET"
allow_hosts = ["127.0.0.1", "hooks.internal"]
retry_base = "200ms"
retry_max = "2s"
max_attempts = 4
max_age = "1h"
timeout = "3s"
concurrency = 8
per_host_concurrency = 2
)",
                         "/base");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->webhooks.secret_env, "HOOK_SECRET");
  EXPECT_EQ(c->webhooks.allow_hosts, (std::vector<std::string>{"127.0.0.1", "hooks.internal"}));
  EXPECT_EQ(c->webhooks.retry_base, 200);
  EXPECT_EQ(c->webhooks.retry_max, 2'000);
  EXPECT_EQ(c->webhooks.max_attempts, 4);
  EXPECT_EQ(c->webhooks.max_age, 3'600'000);
  EXPECT_EQ(c->webhooks.timeout, 3'000);
  EXPECT_EQ(c->webhooks.concurrency, 8);
  EXPECT_EQ(c->webhooks.per_host_concurrency, 2);
  EXPECT_EQ(Config::Parse("", "/base")->webhooks.per_host_concurrency, 8);

  auto bad = Config::Parse("[webhooks]\nretry_base = \"2s\"\nretry_max = \"1s\"\n", "/base");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().field(), "webhooks.retry_base");
}

TEST(ConfigTest, ProviderMaxResponseIsAByteSizeWithAnEightMiBDefault) {
  auto c = Config::Parse(R"(
[[provider]]
name = "a"
base_url = "http://127.0.0.1:9001/v1"
[[provider]]
name = "b"
base_url = "http://127.0.0.1:9002/v1"
max_response = "1MiB"
)",
                         "/base");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->find_provider("a")->max_response, 8 << 20);
  EXPECT_EQ(c->find_provider("b")->max_response, 1 << 20);

  auto bad = Config::Parse("[[provider]]\nname = \"a\"\nbase_url = \"http://x/v1\"\nmax_response = 0\n", "/base");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().field(), "provider.max_response");
}

}  // namespace sluice

namespace sluice {
namespace {

// A mistake in a config file names the file (and, for TOML syntax, the line); an unreadable
// file says why.
TEST(ConfigLoadTest, ErrorsNameTheFile) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("sluice-config-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string bad = (dir / "bad.toml").string();
  std::ofstream(bad) << "[server\nlisten = 1\n";
  auto syntax = Config::Load(bad);
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().message().rfind(bad + ": line 1: not valid TOML: ", 0), 0u) << syntax.status().message();

  const std::string unknown = (dir / "unknown.toml").string();
  std::ofstream(unknown) << "[nope]\n";
  auto section = Config::Load(unknown);
  ASSERT_FALSE(section.ok());
  EXPECT_EQ(section.status().message(), unknown + ": unknown config section nope");
  EXPECT_EQ(section.status().field(), "nope");

  auto missing = Config::Load((dir / "missing.toml").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("No such file or directory"), std::string::npos) << missing.status().message();
  std::filesystem::remove_all(dir);
}


TEST(ConfigTest, BillingRatesAreUnitsPerUsdByCurrencyCode) {
  auto c = Config::Parse("[billing]\nrates = {KZT = 520.0, EUR = 0.92, JPY = 150}\n", "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->billing.rates.size(), 3u);
  EXPECT_DOUBLE_EQ(c->billing.rates.at("KZT"), 520.0);
  EXPECT_DOUBLE_EQ(c->billing.rates.at("EUR"), 0.92);
  EXPECT_DOUBLE_EQ(c->billing.rates.at("JPY"), 150.0);  // an integer is a number too
  auto none = Config::Parse("", "");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->billing.rates.empty());
}

TEST(ConfigTest, BillingRejectsBadRatesAndCodes) {
  struct Case { const char* toml; const char* field; };
  const Case cases[] = {
      {"[billing]\nrates = {KZT = 0}\n", "billing.rates.KZT"},
      {"[billing]\nrates = {KZT = -520.0}\n", "billing.rates.KZT"},
      {"[billing]\nrates = {KZT = \"520\"}\n", "billing.rates.KZT"},
      {"[billing]\nrates = {KZT = inf}\n", "billing.rates.KZT"},
      {"[billing]\nrates = {KZT = nan}\n", "billing.rates.KZT"},
      {"[billing]\nrates = {kzt = 520.0}\n", "billing.rates.kzt"},
      {"[billing]\nrates = {KZTT = 520.0}\n", "billing.rates.KZTT"},
      {"[billing]\nrates = {K1T = 520.0}\n", "billing.rates.K1T"},
      {"[billing]\nrates = {USD = 2.0}\n", "billing.rates.USD"},
      {"[billing]\nrates = 520.0\n", "billing.rates"},
      {"[billing]\nrate = {KZT = 520.0}\n", "billing.rate"},
  };
  for (const auto& c : cases) {
    auto r = Config::Parse(c.toml, "");
    ASSERT_FALSE(r.ok()) << c.toml;
    EXPECT_EQ(r.status().field(), c.field) << c.toml << " → " << r.status().ToString();
  }
}

TEST(ConfigTest, ModelCachedAndReasoningPricesDefaultToTheNormalOnes) {
  auto c = Config::Parse(
      "[[model]]\nalias = \"a\"\nprovider = \"local\"\ninput_usd_per_mtok = 1.0\n"
      "output_usd_per_mtok = 4.0\ncached_input_usd_per_mtok = 0.25\n"
      "reasoning_usd_per_mtok = 8.0\n"
      "[[model]]\nalias = \"b\"\nprovider = \"local\"\ninput_usd_per_mtok = 1.0\n",
      "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->find_model("a")->cached_input_usd_per_mtok, 0.25);
  EXPECT_EQ(c->find_model("a")->reasoning_usd_per_mtok, 8.0);
  EXPECT_FALSE(c->find_model("b")->cached_input_usd_per_mtok.has_value());
  EXPECT_FALSE(c->find_model("b")->reasoning_usd_per_mtok.has_value());
  auto bad = Config::Parse(
      "[[model]]\nalias = \"a\"\nprovider = \"local\"\ncached_input_usd_per_mtok = -1\n", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "model[0].cached_input_usd_per_mtok");
}

}  // namespace
}  // namespace sluice
