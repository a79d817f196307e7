#include "store/postgres/queries.h"

#include <string>

namespace sluice::pg {

namespace {

constexpr unsigned kFilterCombinations = 32;

std::string BuildListJobsSql(unsigned filters) {
  int n = 0;
  auto next = [&n] { return "$" + std::to_string(++n); };
  std::string sql = "SELECT ";
  sql += kJobColumns;
  sql += " FROM jobs WHERE tenant = " + next() + "::text";
  if (filters & kByStatus) sql += " AND status = " + next() + "::smallint";
  if (filters & kByType) sql += " AND type = " + next() + "::text";
  if (filters & kByQueue) sql += " AND queue = " + next() + "::text";
  // The literal "object_id <> ''" lets the planner use the partial index jobs_tenant_object.
  if (filters & kByObjectId) sql += " AND object_id = " + next() + "::text AND object_id <> ''";
  if (filters & kAfterCursor) sql += " AND id < " + next() + "::text";
  sql += " ORDER BY id DESC LIMIT " + next() + "::bigint";
  return sql;
}

}  // namespace

const char* ListJobsSql(unsigned filters) {
  // Built once, never changed: the strings' addresses are stable statement keys.
  static const auto* const kAll = [] {
    auto* all = new std::array<std::string, kFilterCombinations>;
    for (unsigned f = 0; f < kFilterCombinations; ++f) (*all)[f] = BuildListJobsSql(f);
    return all;
  }();
  return (*kAll)[filters % kFilterCombinations].c_str();
}

}  // namespace sluice::pg
