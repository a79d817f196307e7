// `sluice report costs [--month 2026-11] [--currency KZT] [-o text|csv|json]`: GET
// /v1/reports/costs. Text: a table for people, one line per tenant (its total), then one per
// model and one per task type of that tenant, then the total of all. CSV: the same rows with a
// header, one `kind` column (total | model | task_type) saying which. -o json: the answer as
// the server gave it.
//
// USD figures are printed from cost_nano_usd, digit for digit (9 decimals): a reader adding up
// the rows gets exactly the total, as the server's sums are exact. The converted cost is
// rounded to 6 decimals, enough for any currency's smallest unit.
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "cli/client_commands.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

namespace {

std::int64_t IntAt(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : 0;
}

double NumberAt(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<double>() : 0;
}

std::string TextAt(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// nano-USD as USD with all 9 decimals, exactly.
std::string Usd(std::int64_t nanos) {
  const bool negative = nanos < 0;
  const std::uint64_t n = negative ? 0 - static_cast<std::uint64_t>(nanos) : nanos;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%09" PRIu64, negative ? "-" : "", n / 1'000'000'000,
                n % 1'000'000'000);
  return buf;
}

std::string Fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

// One printed row: a tenant's total, one of its models or task types, or the grand total.
struct Row {
  std::string tenant;
  std::string kind;  // total | model | task_type
  std::string name;  // the model (alias/provider/model id) or the task type; "" for totals
  std::string jobs;  // "" where jobs are not counted (models, task types)
  std::vector<std::string> figures;
};

Row RowOf(const std::string& tenant, const std::string& kind, const std::string& name,
          const json::object& o, bool with_jobs) {
  Row r{tenant, kind, name, with_jobs ? std::to_string(IntAt(o, "jobs")) : "", {}};
  for (const char* key : {"calls", "prompt_tokens", "completion_tokens", "cached_tokens",
                          "reasoning_tokens", "unpriced_calls"}) {
    r.figures.push_back(std::to_string(IntAt(o, key)));
  }
  r.figures.push_back(Usd(IntAt(o, "cost_nano_usd")));
  r.figures.push_back(Fixed(NumberAt(o, "cost"), 6));
  return r;
}

std::vector<Row> RowsOf(const json::object& report) {
  std::vector<Row> rows;
  const json::value* tenants = report.if_contains("tenants");
  if (tenants && tenants->is_array()) {
    for (const json::value& t : tenants->as_array()) {
      if (!t.is_object()) continue;
      const json::object& to = t.as_object();
      const std::string tenant = TextAt(to, "tenant");
      rows.push_back(RowOf(tenant, "total", "", to, true));
      if (const json::value* models = to.if_contains("by_model"); models && models->is_array()) {
        for (const json::value& m : models->as_array()) {
          if (!m.is_object()) continue;
          const json::object& mo = m.as_object();
          const std::string name =
              TextAt(mo, "model_alias") + "/" + TextAt(mo, "provider") + "/" + TextAt(mo, "model");
          rows.push_back(RowOf(tenant, "model", name, mo, false));
        }
      }
      if (const json::value* types = to.if_contains("by_task_type"); types && types->is_array()) {
        for (const json::value& ty : types->as_array()) {
          if (!ty.is_object()) continue;
          rows.push_back(RowOf(tenant, "task_type", TextAt(ty.as_object(), "task_type"),
                               ty.as_object(), false));
        }
      }
    }
  }
  if (const json::value* total = report.if_contains("total"); total && total->is_object()) {
    rows.push_back(RowOf("*", "total", "", total->as_object(), true));
  }
  return rows;
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void PrintCsv(const json::object& report, const std::vector<Row>& rows) {
  const std::string month = TextAt(report, "month");
  const std::string currency = TextAt(report, "currency");
  const std::string rate =
      JsonText(report.contains("usd_rate") ? report.at("usd_rate") : json::value(1));
  std::printf(
      "month,currency,usd_rate,tenant,kind,name,jobs,calls,prompt_tokens,completion_tokens,"
      "cached_tokens,reasoning_tokens,unpriced_calls,cost_usd,cost\n");
  for (const Row& r : rows) {
    std::string line = CsvField(month) + "," + CsvField(currency) + "," + rate + "," +
                       CsvField(r.tenant) + "," + r.kind + "," + CsvField(r.name) + "," + r.jobs;
    for (const std::string& f : r.figures) line += "," + f;
    std::printf("%s\n", line.c_str());
  }
}

void PrintText(const json::object& report, const std::vector<Row>& rows) {
  const std::string currency = TextAt(report, "currency");
  std::printf("Costs of %s in %s (%s per USD)\n", TextAt(report, "month").c_str(), currency.c_str(),
              Fixed(NumberAt(report, "usd_rate"), 4).c_str());
  std::vector<std::string> header = {
      "tenant", "model / task type", "jobs",     "calls",    "prompt",          "completion",
      "cached", "reasoning",         "unpriced", "cost_usd", "cost_" + currency};
  std::vector<std::vector<std::string>> table = {header};
  for (const Row& r : rows) {
    std::vector<std::string> cells = {r.tenant == "*" ? "TOTAL" : r.tenant,
                                      r.kind == "total"   ? ""
                                      : r.kind == "model" ? "  model " + r.name
                                                          : "  type " + r.name,
                                      r.jobs};
    cells.insert(cells.end(), r.figures.begin(), r.figures.end());
    table.push_back(std::move(cells));
  }
  if (rows.size() <= 1) {
    std::printf("(no model calls)\n");
    return;
  }
  std::vector<std::size_t> width(header.size(), 0);
  for (const auto& cells : table) {
    for (std::size_t i = 0; i < cells.size(); ++i) width[i] = std::max(width[i], cells[i].size());
  }
  for (const auto& cells : table) {
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      // Names left, figures right.
      const std::size_t pad = width[i] - cells[i].size();
      line += i < 2 ? cells[i] + std::string(pad, ' ') : std::string(pad, ' ') + cells[i];
      if (i + 1 < cells.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  }
}

}  // namespace

int RunReportCosts(const ReportCostsFlags& f) {
  client::ApiClient api(ClientOptionsFor(f.client));
  auto body = api.get_json("/v1/reports/costs" +
                           client::QueryString({{"month", f.month}, {"currency", f.currency}}));
  if (!body.ok()) return ReportError(body.status());
  if (f.client.output == "json") {
    std::printf("%s\n", JsonText(*body).c_str());
    return kExitOk;
  }
  if (!body->is_object())
    return ReportError(Internal("the server answered a report that is no object"));
  const std::vector<Row> rows = RowsOf(body->as_object());
  if (f.client.output == "csv") {
    PrintCsv(body->as_object(), rows);
  } else {
    PrintText(body->as_object(), rows);
  }
  return kExitOk;
}

}  // namespace sluice
