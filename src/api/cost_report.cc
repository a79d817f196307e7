#include "api/cost_report.h"

#include <cctype>
#include <map>
#include <tuple>
#include <utility>

#include <boost/json.hpp>

namespace sluice {

namespace json = boost::json;

namespace {

// What every level of the report counts.
struct Sums {
  std::int64_t calls = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t cached_tokens = 0;
  std::int64_t reasoning_tokens = 0;
  std::int64_t cost_nano_usd = 0;
  std::int64_t unpriced_calls = 0;

  void add(const CostLine& l) {
    calls += l.calls;
    prompt_tokens += l.prompt_tokens;
    completion_tokens += l.completion_tokens;
    cached_tokens += l.cached_tokens;
    reasoning_tokens += l.reasoning_tokens;
    cost_nano_usd += l.cost_nano_usd;
    unpriced_calls += l.unpriced_calls;
  }
  void write(json::object& out, const Currency& currency) const {
    const double usd = UsdOfNanos(cost_nano_usd);
    out["calls"] = calls;
    out["prompt_tokens"] = prompt_tokens;
    out["completion_tokens"] = completion_tokens;
    out["cached_tokens"] = cached_tokens;
    out["reasoning_tokens"] = reasoning_tokens;
    out["cost_usd"] = usd;
    out["cost_nano_usd"] = cost_nano_usd;
    out["cost"] = usd * currency.usd_rate;
    out["unpriced_calls"] = unpriced_calls;
  }
};

struct TenantSums {
  Sums total;
  std::map<std::tuple<std::string, std::string, std::string>, Sums>
      by_model;  // alias, provider, id
  std::map<std::string, Sums> by_task_type;
};

}  // namespace

Result<Currency> FindCurrency(const BillingConfig& billing, const std::string& asked) {
  std::string code = asked;
  for (char& c : code) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (code.empty() || code == "USD") return Currency{};
  if (auto it = billing.rates.find(code); it != billing.rates.end()) {
    return Currency{.code = code, .usd_rate = it->second};
  }
  std::string known = "USD";
  for (const auto& [c, rate] : billing.rates) known += ", " + c;
  return InvalidArgument("currency " + asked + " has no rate in [billing] rates; known: " + known,
                         "currency");
}

json::object CostReportJson(const std::string& month, const Currency& currency,
                            const CostLedgerMonth& ledger) {
  std::map<std::string, TenantSums> tenants;
  for (const CostLine& l : ledger.lines) {
    TenantSums& t = tenants[l.tenant];
    t.total.add(l);
    t.by_model[{l.model_alias, l.provider, l.model_id}].add(l);
    t.by_task_type[l.task_type].add(l);
  }
  std::map<std::string, std::int64_t> jobs;
  for (const TenantJobCount& j : ledger.jobs) jobs[j.tenant] = j.jobs;

  Sums all;
  json::array tenant_list;
  for (const auto& [tenant, sums] : tenants) {
    json::object t{{"tenant", tenant}, {"jobs", jobs[tenant]}};
    sums.total.write(t, currency);
    json::array by_model;
    for (const auto& [key, s] : sums.by_model) {
      json::object m{{"model_alias", std::get<0>(key)},
                     {"provider", std::get<1>(key)},
                     {"model", std::get<2>(key)}};
      s.write(m, currency);
      by_model.push_back(std::move(m));
    }
    json::array by_type;
    for (const auto& [type, s] : sums.by_task_type) {
      json::object m{{"task_type", type}};
      s.write(m, currency);
      by_type.push_back(std::move(m));
    }
    t["by_model"] = std::move(by_model);
    t["by_task_type"] = std::move(by_type);
    tenant_list.push_back(std::move(t));
    all.calls += sums.total.calls;
    all.prompt_tokens += sums.total.prompt_tokens;
    all.completion_tokens += sums.total.completion_tokens;
    all.cached_tokens += sums.total.cached_tokens;
    all.reasoning_tokens += sums.total.reasoning_tokens;
    all.cost_nano_usd += sums.total.cost_nano_usd;
    all.unpriced_calls += sums.total.unpriced_calls;
  }
  json::object out{{"object", "cost_report"},
                   {"month", month},
                   {"currency", currency.code},
                   {"usd_rate", currency.usd_rate}};
  json::object total;
  std::int64_t all_jobs = 0;
  for (const auto& [tenant, n] : jobs) all_jobs += n;
  total["jobs"] = all_jobs;
  all.write(total, currency);
  out["total"] = std::move(total);
  out["tenants"] = std::move(tenant_list);
  return out;
}

}  // namespace sluice
