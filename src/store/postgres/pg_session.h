// The shared engine's side of the store core's row seams (sql/row.h, sql/session.h): a row of
// a pg::Rows read as a sql::Row, and a pg::Connection run as a sql::Session. Private to the
// shared engine.
#pragma once

#include <memory>
#include <vector>

#include "store/postgres/connection.h"
#include "store/postgres/text.h"
#include "store/sql/session.h"

namespace sluice::pg {

// Row `row` of a result.
class ResultRow : public sql::Row {
 public:
  ResultRow(const Rows& rows, int row) : rows_(rows), row_(row) {}
  bool is_null(int column) const override { return rows_.is_null(row_, column); }
  std::int64_t int_at(int column) const override { return rows_.int_at(row_, column); }
  double real_at(int column) const override { return rows_.real_at(row_, column); }
  std::string text_at(int column) const override { return rows_.text_at(row_, column); }

 private:
  const Rows& rows_;
  int row_;
};

// The values written to it, one array per column: a row's values go to arrays 0, 1, ... in
// turn, so that one statement unnests many rows. next_row() starts the next row.
class ArrayColumns : public sql::ValueSink {
 public:
  explicit ArrayColumns(int columns) : arrays_(static_cast<std::size_t>(columns)) {}
  void next_row() { next_ = 0; }
  void text(std::string_view value) override { at().add(value); }
  // No bulk-written column holds bytes (an array literal would carry them as text).
  void bytes(std::string_view) override { CHECK(false); }
  void integer(std::int64_t value) override { at().add(value); }
  void real(double value) override { at().add(value); }
  void null() override { at().add_null(); }
  using ValueSink::integer;
  using ValueSink::real;
  // Adds every array as a parameter, in column order.
  void add_to(sql::Params& params) const {
    for (const TextArray& a : arrays_) params.add(a.str());
  }

 private:
  TextArray& at() { return arrays_.at(next_++); }
  std::vector<TextArray> arrays_;
  std::size_t next_ = 0;
};

class ConnectionSession final : public sql::Session {
 public:
  explicit ConnectionSession(Connection& conn) : conn_(conn) {}
  sql::Syntax syntax() const override { return sql::Syntax::kPostgres; }
  Result<std::unique_ptr<sql::Cursor>> query(const sql::Statement& stmt,
                                             sql::Params params) override;
  Result<std::int64_t> exec(const sql::Statement& stmt, sql::Params params) override;
  Status run_script(const char* sql) override { return conn_.exec(sql); }
  Connection& conn() { return conn_; }

 private:
  Connection& conn_;
};

}  // namespace sluice::pg
