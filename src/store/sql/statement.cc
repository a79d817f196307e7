#include "store/sql/statement.h"

#include <cctype>
#include <cstdio>
#include <string>

#include "core/job.h"
#include "core/status.h"
#include "store/sql/columns.h"
#include "store/webhook_rules.h"

namespace sluice::sql {

namespace {

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// The value of {name}; CHECK-fails on a name nobody defined (a typo in a statement).
std::string SpliceValue(std::string_view name) {
  if (auto status = ParseJobStatus(name)) return std::to_string(static_cast<int>(*status));
  if (name == "jobs") return JobColumns().list();
  if (name == "batches") return BatchColumns().list();
  if (name == "files") return FileColumns().list();
  if (name == "deliveries") return DeliveryColumns().list();
  if (name == "events") return EventColumns().list();
  if (name == "line_errors") return LineErrorColumns().list();
  if (name == "tenants") return TenantColumns().list();
  if (name == "api_keys") return ApiKeyColumns().list();
  if (name == "reservations") return ReservationColumns().list();
  if (name == "delivery_pending") {
    return std::to_string(static_cast<int>(webhook_rules::DeliveryState::kPending));
  }
  std::fprintf(stderr, "CHECK failed: unknown {%.*s} in a store statement\n",
               static_cast<int>(name.size()), name.data());
  CHECK(false);
  return {};
}

}  // namespace

std::string Splice(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool quoted = false;  // inside a '...' literal, which is never spliced
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\'') quoted = !quoted;
    if (quoted || text[i] != '{') {
      out += text[i];
      continue;
    }
    std::size_t end = text.find('}', i);
    CHECK(end != std::string_view::npos);
    out += SpliceValue(text.substr(i + 1, end - i - 1));
    i = end;
  }
  return out;
}

std::string SqliteSpelling(std::string_view pg) {
  // Locks and planner hints have no SQLite spelling: such a statement needs PerDialect.
  CHECK(pg.find("FOR UPDATE") == std::string_view::npos);
  CHECK(pg.find("SKIP LOCKED") == std::string_view::npos);
  CHECK(pg.find("MATERIALIZED") == std::string_view::npos);
  std::string out;
  out.reserve(pg.size());
  bool quoted = false;
  for (std::size_t i = 0; i < pg.size(); ++i) {
    const char c = pg[i];
    if (c == '\'') quoted = !quoted;
    if (quoted) {
      out += c;
      continue;
    }
    if (c == '$' && i + 1 < pg.size() && std::isdigit(static_cast<unsigned char>(pg[i + 1]))) {
      out += '?';
      continue;
    }
    if (c == ':' && i + 1 < pg.size() && pg[i + 1] == ':') {
      // A cast: skip "::type" (a two-word "double precision" is spelt float8 in statements)
      // and an array's "[]".
      i += 2;
      while (i < pg.size() && IsWordChar(pg[i])) ++i;
      if (i + 1 < pg.size() && pg[i] == '[' && pg[i + 1] == ']') i += 2;
      --i;
      continue;
    }
    auto replaced = [&](std::string_view from, std::string_view to) {
      if (pg.substr(i, from.size()) != from || (i > 0 && IsWordChar(pg[i - 1]))) return false;
      out += to;
      i += from.size() - 1;
      return true;
    };
    if (replaced("greatest(", "max(") || replaced("least(", "min(")) continue;
    out += c;
  }
  return out;
}

Statement Portable(std::string_view postgres) {
  Statement s;
  s.postgres_ = Splice(postgres);
  s.sqlite_ = SqliteSpelling(s.postgres_);
  return s;
}

Statement PerDialect(std::string_view sqlite, std::string_view postgres) {
  Statement s;
  s.sqlite_ = Splice(sqlite);
  s.postgres_ = Splice(postgres);
  return s;
}

}  // namespace sluice::sql
