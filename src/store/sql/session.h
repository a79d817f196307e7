// A connection of one engine as the store core sees it: it runs a Statement with Params and
// hands back its rows. Inside Dialect::write it runs within the call's transaction.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include "core/status.h"
#include "store/sql/columns.h"
#include "store/sql/params.h"
#include "store/sql/row.h"
#include "store/sql/statement.h"

namespace sluice::sql {

class Session {
 public:
  virtual ~Session() = default;
  virtual Syntax syntax() const = 0;
  // Runs `stmt`. The cursor keeps `params` alive while its rows are read, and must go away
  // before the session runs its next statement.
  virtual Result<std::unique_ptr<Cursor>> query(const Statement& stmt, Params params = {}) = 0;
  // Runs `stmt`, discarding any rows; returns how many rows it changed.
  virtual Result<std::int64_t> exec(const Statement& stmt, Params params = {}) = 0;
  // Runs statements without parameters, unprepared (DDL, transaction control): for setup and
  // migrations, never for hot paths.
  virtual Status run_script(const char* sql) = 0;
};

// Every row of `cursor`, each made by `read(const Row&)`, which returns a T or a Result<T>.
template <typename T, typename Read>
Result<std::vector<T>> Collect(Cursor& cursor, Read read) {
  std::vector<T> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, cursor.next());
    if (!row) return out;
    if constexpr (std::is_same_v<std::invoke_result_t<Read&, const Row&>, T>) {
      out.push_back(read(static_cast<const Row&>(cursor)));
    } else {
      ASSIGN_OR_RETURN(T value, read(static_cast<const Row&>(cursor)));
      out.push_back(std::move(value));
    }
  }
}

// Every row of `stmt`, read through `table`.
template <typename T>
Result<std::vector<T>> QueryAll(Session& session, const Table<T>& table, const Statement& stmt,
                                Params params = {}) {
  ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows, session.query(stmt, std::move(params)));
  return Collect<T>(*rows, [&](const Row& row) { return table.Read(row); });
}

// The first row of `stmt`, read through `table`; nullopt when there is none.
template <typename T>
Result<std::optional<T>> QueryFirst(Session& session, const Table<T>& table, const Statement& stmt,
                                    Params params = {}) {
  ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows, session.query(stmt, std::move(params)));
  ASSIGN_OR_RETURN(bool found, rows->next());
  if (!found) return std::optional<T>();
  ASSIGN_OR_RETURN(T value, table.Read(*rows));
  return std::optional<T>(std::move(value));
}

}  // namespace sluice::sql
