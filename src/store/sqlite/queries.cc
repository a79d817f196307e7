#include "store/sqlite/queries.h"

#include <string>

namespace sluice::sqlite {

namespace {

constexpr unsigned kFilterCombinations = 32;

std::string BuildListJobsSql(unsigned filters) {
  std::string sql = "SELECT ";
  sql += kJobColumns;
  sql += " FROM jobs WHERE tenant = ?1";
  if (filters & kByStatus) sql += " AND status = ?2";
  if (filters & kByType) sql += " AND type = ?3";
  if (filters & kByQueue) sql += " AND queue = ?4";
  // The literal "object_id != ''" lets the planner use the partial index jobs_tenant_object.
  if (filters & kByObjectId) sql += " AND object_id = ?5 AND object_id != ''";
  if (filters & kAfterCursor) sql += " AND id < ?6";
  sql += " ORDER BY id DESC LIMIT ?7";
  return sql;
}

}  // namespace

const char* ListJobsSql(unsigned filters) {
  // Built once, never changed: the strings' addresses are stable statement-cache keys.
  static const auto* const kAll = [] {
    auto* all = new std::array<std::string, kFilterCombinations>;
    for (unsigned f = 0; f < kFilterCombinations; ++f) (*all)[f] = BuildListJobsSql(f);
    return all;
  }();
  return (*kAll)[filters % kFilterCombinations].c_str();
}

}  // namespace sluice::sqlite
