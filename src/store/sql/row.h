// The two directions a row travels between the store core and an engine, written once for both
// dialects: a Row is read column by column (a SQLite statement's current row, one row of a
// PostgreSQL result), and a ValueSink takes a row's values in column order (a statement's
// parameters, or one array per column of a PostgreSQL bulk write). The column tables
// (sql/columns.h) map every row type onto these, so no engine maps a Job or a Batch itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sluice::sql {

class Row {
 public:
  virtual ~Row() = default;
  virtual bool is_null(int column) const = 0;
  virtual std::int64_t int_at(int column) const = 0;
  virtual double real_at(int column) const = 0;
  // "" for NULL. Bytes (a BYTEA or BLOB column) come back as they are.
  virtual std::string text_at(int column) const = 0;

  std::optional<std::int64_t> optional_int_at(int column) const {
    if (is_null(column)) return std::nullopt;
    return int_at(column);
  }
  std::optional<double> optional_real_at(int column) const {
    if (is_null(column)) return std::nullopt;
    return real_at(column);
  }
};

// A statement's rows, one at a time: next() moves to the following row (false when there is
// none); the Row accessors read the current one.
class Cursor : public Row {
 public:
  virtual Result<bool> next() = 0;
};

class ValueSink {
 public:
  virtual ~ValueSink() = default;
  virtual void text(std::string_view value) = 0;
  // Any bytes (NULs included), for a BYTEA / BLOB column.
  virtual void bytes(std::string_view value) = 0;
  virtual void integer(std::int64_t value) = 0;
  virtual void real(double value) = 0;
  virtual void null() = 0;

  void integer(const std::optional<std::int64_t>& value) {
    if (value) {
      integer(*value);
    } else {
      null();
    }
  }
  void real(const std::optional<double>& value) {
    if (value) {
      real(*value);
    } else {
      null();
    }
  }
};

}  // namespace sluice::sql
