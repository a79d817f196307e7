#include "mockllm/mock_options.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>

namespace sluice::mockllm {
namespace {

namespace json = boost::json;

// A script longer than this is a typo ("500*1000000000"), not a test.
constexpr std::size_t kMaxScript = 1'000'000;

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ParseInt(std::string_view text, long long* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

Result<double> Rate(const json::value& v, const std::string& key) {
  if (!v.is_number()) return InvalidArgument(key + " must be a number", key);
  double rate = v.to_number<double>();
  if (!(rate >= 0 && rate <= 1)) return InvalidArgument(key + " must be in [0, 1]", key);
  return rate;
}

Result<std::int64_t> NonNegative(const json::value& v, const std::string& key) {
  double d = v.is_number() ? v.to_number<double>() : -1;
  if (!v.is_number() || d < 0 || d != std::floor(d) || d > 9.0e15) {
    return InvalidArgument(key + " must be a non-negative integer", key);
  }
  return static_cast<std::int64_t>(d);
}

Result<std::vector<Fault>> ScriptFrom(const json::value& v) {
  if (v.is_string()) return ParseFaultScript(v.get_string());
  if (!v.is_array()) return InvalidArgument("script must be a string or an array", "script");
  std::vector<Fault> script;
  for (const json::value& item : v.get_array()) {
    std::string name;
    if (item.is_string()) {
      name = item.get_string();
    } else if (item.is_int64()) {
      name = std::to_string(item.get_int64());
    } else {
      return InvalidArgument("script entries must be strings or status numbers", "script");
    }
    ASSIGN_OR_RETURN(std::vector<Fault> part, ParseFaultScript(name));
    script.insert(script.end(), part.begin(), part.end());
  }
  return script;
}

Status Apply(MockOptions& o, const std::string& key, const json::value& v) {
  if (key == "listen") {
    if (!v.is_string()) return InvalidArgument("listen must be a string", key);
    o.listen = v.get_string();
  } else if (key == "latency_ms") {
    ASSIGN_OR_RETURN(o.latency_ms, NonNegative(v, key));
  } else if (key == "latency_jitter_ms") {
    ASSIGN_OR_RETURN(o.latency_jitter_ms, NonNegative(v, key));
  } else if (key == "latency_distribution") {
    if (v.is_string() && v.get_string() == "uniform") {
      o.latency_distribution = LatencyDistribution::kUniform;
    } else if (v.is_string() && v.get_string() == "lognormal") {
      o.latency_distribution = LatencyDistribution::kLogNormal;
    } else {
      return InvalidArgument("latency_distribution must be \"uniform\" or \"lognormal\"", key);
    }
  } else if (key == "latency_sigma") {
    if (!v.is_number() || !(v.to_number<double>() > 0 && v.to_number<double>() <= 5)) {
      return InvalidArgument("latency_sigma must be a number in (0, 5]", key);
    }
    o.latency_sigma = v.to_number<double>();
  } else if (key == "error_rate") {
    ASSIGN_OR_RETURN(o.error_rate, Rate(v, key));
  } else if (key == "error_status") {
    ASSIGN_OR_RETURN(std::int64_t status, NonNegative(v, key));
    if (status < 400 || status > 599 || status == 429) {
      return InvalidArgument("error_status must be 400..599 and not 429", key);
    }
    o.error_status = static_cast<int>(status);
  } else if (key == "rate_429") {
    ASSIGN_OR_RETURN(o.rate_429, Rate(v, key));
  } else if (key == "retry_after_s") {
    ASSIGN_OR_RETURN(std::int64_t s, NonNegative(v, key));
    o.retry_after_s = static_cast<int>(std::min<std::int64_t>(s, 86'400));
  } else if (key == "timeout_rate") {
    ASSIGN_OR_RETURN(o.timeout_rate, Rate(v, key));
  } else if (key == "garbage_rate") {
    ASSIGN_OR_RETURN(o.garbage_rate, Rate(v, key));
  } else if (key == "reset_rate") {
    ASSIGN_OR_RETURN(o.reset_rate, Rate(v, key));
  } else if (key == "cached_share") {
    ASSIGN_OR_RETURN(o.cached_share, Rate(v, key));
  } else if (key == "reasoning_share") {
    ASSIGN_OR_RETURN(o.reasoning_share, Rate(v, key));
  } else if (key == "script") {
    ASSIGN_OR_RETURN(o.script, ScriptFrom(v));
  } else if (key == "timeout_hold_ms") {
    ASSIGN_OR_RETURN(o.timeout_hold_ms, NonNegative(v, key));
  } else if (key == "models") {
    if (!v.is_array()) return InvalidArgument("models must be an array of strings", key);
    std::vector<std::string> models;
    for (const json::value& m : v.get_array()) {
      if (!m.is_string()) return InvalidArgument("models must be an array of strings", key);
      models.emplace_back(m.get_string());
    }
    o.models = std::move(models);
  } else if (key == "seed") {
    if (v.is_uint64()) {
      o.seed = v.get_uint64();
    } else if (v.is_int64() && v.get_int64() >= 0) {
      o.seed = static_cast<std::uint64_t>(v.get_int64());
    } else {
      return InvalidArgument("seed must be a non-negative integer", key);
    }
  } else if (key == "threads") {
    ASSIGN_OR_RETURN(std::int64_t threads, NonNegative(v, key));
    if (threads < 1 || threads > 256) return InvalidArgument("threads must be 1..256", key);
    o.threads = static_cast<int>(threads);
  } else {
    return InvalidArgument("unknown mock option '" + key + "'", key);
  }
  return Status::Ok();
}

}  // namespace

Result<Fault> ParseFault(std::string_view name) {
  name = TrimSpaces(name);
  if (name == "ok") return Fault{FaultKind::kOk};
  if (name == "429") return Fault{FaultKind::kRateLimit, 429};
  if (name == "timeout") return Fault{FaultKind::kTimeout};
  if (name == "garbage") return Fault{FaultKind::kGarbage};
  if (name == "garbage_body") return Fault{FaultKind::kGarbageBody};
  if (name == "garbage_content") return Fault{FaultKind::kGarbageContent};
  if (name == "truncated") return Fault{FaultKind::kTruncated};
  if (name == "reset") return Fault{FaultKind::kReset};
  long long status = 0;
  if (ParseInt(name, &status) && status >= 400 && status <= 599) {
    return Fault{FaultKind::kHttpError, static_cast<int>(status)};
  }
  return InvalidArgument("unknown fault '" + std::string(name) +
                             "' (ok, 4xx/5xx status, 429, timeout, garbage, garbage_body, "
                             "garbage_content, truncated, reset)",
                         "script");
}

std::string FaultName(const Fault& fault) {
  switch (fault.kind) {
    case FaultKind::kOk: return "ok";
    case FaultKind::kHttpError: return std::to_string(fault.status);
    case FaultKind::kRateLimit: return "429";
    case FaultKind::kTimeout: return "timeout";
    case FaultKind::kGarbage: return "garbage";
    case FaultKind::kGarbageBody: return "garbage_body";
    case FaultKind::kGarbageContent: return "garbage_content";
    case FaultKind::kTruncated: return "truncated";
    case FaultKind::kReset: return "reset";
  }
  return "ok";
}

Result<std::vector<Fault>> ParseFaultScript(std::string_view text) {
  std::vector<Fault> script;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = std::min(text.find(',', pos), text.size());
    std::string_view entry = TrimSpaces(text.substr(pos, comma - pos));
    pos = comma + 1;
    if (entry.empty()) continue;
    long long repeat = 1;
    if (std::size_t star = entry.find('*'); star != std::string_view::npos) {
      if (!ParseInt(TrimSpaces(entry.substr(star + 1)), &repeat) || repeat < 1) {
        return InvalidArgument("bad repeat count in script entry '" + std::string(entry) + "'", "script");
      }
      entry = entry.substr(0, star);
    }
    ASSIGN_OR_RETURN(Fault fault, ParseFault(entry));
    if (script.size() + static_cast<std::size_t>(repeat) > kMaxScript) {
      return InvalidArgument("script is longer than 1000000 entries", "script");
    }
    script.insert(script.end(), static_cast<std::size_t>(repeat), fault);
  }
  return script;
}

Result<MockOptions> ParseMockConfigJson(const std::string& text, MockOptions base) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return InvalidArgument("mock config is not valid JSON: " + ec.message());
  if (!v.is_object()) return InvalidArgument("mock config must be a JSON object");
  for (const auto& kv : v.get_object()) RETURN_IF_ERROR(Apply(base, std::string(kv.key()), kv.value()));
  double total = base.error_rate + base.rate_429 + base.timeout_rate + base.garbage_rate + base.reset_rate;
  if (total > 1.0 + 1e-9) return InvalidArgument("the fault rates add up to more than 1", "error_rate");
  return base;
}

std::string MockOptionsToJson(const MockOptions& o) {
  json::array script;
  for (const Fault& f : o.script) script.emplace_back(FaultName(f));
  json::array models;
  for (const std::string& m : o.models) models.emplace_back(m);
  json::object out{
      {"listen", o.listen},
      {"latency_ms", o.latency_ms},
      {"latency_jitter_ms", o.latency_jitter_ms},
      {"latency_distribution",
       o.latency_distribution == LatencyDistribution::kLogNormal ? "lognormal" : "uniform"},
      {"latency_sigma", o.latency_sigma},
      {"error_rate", o.error_rate},
      {"error_status", o.error_status},
      {"rate_429", o.rate_429},
      {"retry_after_s", o.retry_after_s},
      {"timeout_rate", o.timeout_rate},
      {"garbage_rate", o.garbage_rate},
      {"reset_rate", o.reset_rate},
      {"cached_share", o.cached_share},
      {"reasoning_share", o.reasoning_share},
      {"script", std::move(script)},
      {"timeout_hold_ms", o.timeout_hold_ms},
      {"models", std::move(models)},
      {"seed", o.seed},
      {"threads", o.threads},
  };
  return json::serialize(out);
}

}  // namespace sluice::mockllm
