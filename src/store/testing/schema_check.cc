#include "store/testing/schema_check.h"

#include <map>

#include "store/sql/columns.h"

namespace sluice::sql {

namespace {

// $1 table name → name, type.
const Statement& TableColumns() {
  static const auto* const kStatement = new Statement(PerDialect(
      "SELECT name, type FROM pragma_table_info(?1)",
      "SELECT column_name, data_type FROM information_schema.columns "
      "WHERE table_name = $1::text AND table_schema = current_schema()"));
  return *kStatement;
}

template <typename T>
Status Check(Session& session, const Table<T>& table, std::vector<std::string>& out) {
  const bool sqlite = session.syntax() == Syntax::kSqlite;
  std::map<std::string, std::string> expected;
  for (const Column<T>& c : table.columns()) {
    expected[c.name] = sqlite ? SqliteTypeName(c.type) : PostgresTypeName(c.type);
  }
  for (const auto& [name, type] : table.stored_only()) {
    expected[name] = sqlite ? SqliteTypeName(type) : PostgresTypeName(type);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                   session.query(TableColumns(), Params().add(table.name())));
  std::map<std::string, std::string> actual;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, rows->next());
    if (!row) break;
    actual[rows->text_at(0)] = rows->text_at(1);
  }
  for (const auto& [name, type] : expected) {
    auto it = actual.find(name);
    if (it == actual.end()) {
      out.push_back(table.name() + "." + name + ": missing");
    } else if (it->second != type) {
      out.push_back(table.name() + "." + name + ": " + it->second + ", the table says " + type);
    }
  }
  for (const auto& [name, type] : actual) {
    if (!expected.contains(name)) out.push_back(table.name() + "." + name + ": not in the column table");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> SchemaMismatches(Session& session) {
  std::vector<std::string> out;
  RETURN_IF_ERROR(Check(session, JobColumns(), out));
  RETURN_IF_ERROR(Check(session, BatchColumns(), out));
  RETURN_IF_ERROR(Check(session, FileColumns(), out));
  RETURN_IF_ERROR(Check(session, DeliveryColumns(), out));
  RETURN_IF_ERROR(Check(session, EventColumns(), out));
  RETURN_IF_ERROR(Check(session, LineErrorColumns(), out));
  RETURN_IF_ERROR(Check(session, TenantColumns(), out));
  RETURN_IF_ERROR(Check(session, ApiKeyColumns(), out));
  RETURN_IF_ERROR(Check(session, ReservationColumns(), out));
  return out;
}

}  // namespace sluice::sql
