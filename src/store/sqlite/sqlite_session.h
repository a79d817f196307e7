// The embedded engine's side of the store core's row seams (sql/row.h, sql/session.h): a
// sqlite::Statement read as a sql::Row, bound from a ValueSink, and a Connection run as a
// sql::Session. Private to the embedded engine.
#pragma once

#include <memory>

#include "store/sql/session.h"
#include "store/sqlite/connection.h"

namespace sluice::sqlite {

// The current row of a statement.
class StatementRow : public sql::Row {
 public:
  explicit StatementRow(const Statement& stmt) : stmt_(stmt) {}
  bool is_null(int column) const override { return stmt_.is_null(column); }
  std::int64_t int_at(int column) const override { return stmt_.int_at(column); }
  double real_at(int column) const override { return stmt_.real_at(column); }
  std::string text_at(int column) const override { return stmt_.text_at(column); }

 private:
  const Statement& stmt_;
};

// Binds the values written to it as the statement's parameters ?first, ?first+1, ... Text is
// bound without copying: what it points at must outlive the statement's next reset.
class StatementBinder : public sql::ValueSink {
 public:
  explicit StatementBinder(Statement& stmt, int first = 1) : stmt_(stmt), next_(first) {}
  void text(std::string_view value) override { stmt_.bind_text(next_++, value); }
  void bytes(std::string_view value) override { stmt_.bind_blob(next_++, value); }
  void integer(std::int64_t value) override { stmt_.bind_int(next_++, value); }
  void real(double value) override { stmt_.bind_real(next_++, value); }
  void null() override { stmt_.bind_null(next_++); }
  using ValueSink::integer;
  using ValueSink::real;

 private:
  Statement& stmt_;
  int next_;
};

class ConnectionSession final : public sql::Session {
 public:
  explicit ConnectionSession(Connection& conn) : conn_(conn) {}
  sql::Syntax syntax() const override { return sql::Syntax::kSqlite; }
  Result<std::unique_ptr<sql::Cursor>> query(const sql::Statement& stmt,
                                             sql::Params params) override;
  Result<std::int64_t> exec(const sql::Statement& stmt, sql::Params params) override;
  Status run_script(const char* sql) override { return conn_.exec(sql); }
  Connection& conn() { return conn_; }

 private:
  Connection& conn_;
};

}  // namespace sluice::sqlite
