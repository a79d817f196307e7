// One table of columns per row type: how a Job, a Batch, a file, a webhook delivery, an event, a
// tenant, an API key and a budget reservation map onto the columns of their SQL tables, written
// once for both engines. Each table gives the column list statements splice in (`{jobs}`,
// sql/statement.h), reads a row type from a Row and writes it to a ValueSink in column order (a
// statement's parameters, or the column arrays of a PostgreSQL bulk insert), and names each
// column's type so that a test can hold both engines' migrations to it (columns_test.cc).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/job.h"
#include "store/sql/row.h"
#include "store/store.h"

namespace sluice::sql {

// A column's type: PostgreSQL's name for it, and SQLite's affinity.
enum class ColumnType { kText, kBytes, kSmallInt, kInteger, kBigInt, kDouble };
const char* PostgresTypeName(ColumnType type);  // "text", "bytea", "smallint", ...
const char* SqliteTypeName(ColumnType type);    // "TEXT", "BLOB", "INTEGER", "REAL"
// The type as a one-word cast in a statement ("float8" for double precision).
const char* CastName(ColumnType type);

template <typename T>
struct Column {
  const char* name;
  ColumnType type;
  void (*write)(const T& value, ValueSink& out);
  // False when the stored value is not one this build knows (a status a newer build wrote
  // while another node still runs this one): an error for the caller, never a guess or a crash.
  bool (*read)(const Row& row, int column, T& value);
};

template <typename T>
class Table {
 public:
  // `stored_only`: columns of the SQL table that are not part of T (due_at, batch_id, ...),
  // with their types, so that the schema check knows every column the table has.
  Table(std::string name, std::vector<Column<T>> columns,
        std::vector<std::pair<std::string, ColumnType>> stored_only = {})
      : name_(std::move(name)), columns_(std::move(columns)), stored_only_(std::move(stored_only)) {
    for (const Column<T>& c : columns_) {
      if (!list_.empty()) list_ += ", ";
      list_ += c.name;
    }
  }

  const std::string& name() const { return name_; }
  // "id, tenant, ...": the columns in order.
  const std::string& list() const { return list_; }
  // The list with every column prefixed by `alias.`.
  std::string list(const std::string& alias) const {
    std::string out;
    for (const Column<T>& c : columns_) {
      if (!out.empty()) out += ", ";
      out += alias + "." + c.name;
    }
    return out;
  }
  // "$first::type, $first+1::type, ...": one parameter per column, cast to its type.
  std::string placeholders(int first = 1) const {
    std::string out;
    for (const Column<T>& c : columns_) {
      if (!out.empty()) out += ", ";
      out += "$" + std::to_string(first++) + "::" + CastName(c.type);
    }
    return out;
  }
  int size() const { return static_cast<int>(columns_.size()); }
  std::span<const Column<T>> columns() const { return columns_; }
  const std::vector<std::pair<std::string, ColumnType>>& stored_only() const {
    return stored_only_;
  }

  // The T in the row's columns [first, first + size()). kFailedPrecondition when a column holds
  // a value this build does not know.
  Result<T> Read(const Row& row, int first = 0) const {
    T value;
    for (int i = 0; i < size(); ++i) {
      const Column<T>& c = columns_[static_cast<std::size_t>(i)];
      if (!c.read(row, first + i, value)) {
        return FailedPrecondition(name_ + "." + c.name + " holds '" + row.text_at(first + i) +
                                  "', which this build does not know (written by a newer one?)");
      }
    }
    return value;
  }
  // Every column of `value`, in order.
  void Write(const T& value, ValueSink& out) const {
    for (const Column<T>& c : columns_) c.write(value, out);
  }

 private:
  std::string name_;
  std::vector<Column<T>> columns_;
  std::vector<std::pair<std::string, ColumnType>> stored_only_;
  std::string list_;
};

// jobs: a Job's 32 columns (stored only: due_at, batch_id).
const Table<Job>& JobColumns();
// batches: a Batch's 29 columns.
const Table<Batch>& BatchColumns();
// files: a complete file's metadata (stored only: complete).
const Table<StoredFile>& FileColumns();
// webhook_deliveries: what a claim returns (stored only: state, due_at, finished_at).
const Table<WebhookDelivery>& DeliveryColumns();
// events: an event as read back (stored only: tenant).
const Table<JobEvent>& EventColumns();
// batch_line_errors: one line error (stored only: batch_id).
const Table<BatchLineError>& LineErrorColumns();
// tenants: a Tenant's 7 columns.
const Table<Tenant>& TenantColumns();
// api_keys: a key as stored (its hash, never the secret).
const Table<ApiKey>& ApiKeyColumns();
// budget_reservations: what a reservation holds (not its budget_usd and now, which only
// decide whether it fits).
const Table<BudgetReservation>& ReservationColumns();

}  // namespace sluice::sql
