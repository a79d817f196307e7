#include "store/sql/columns.h"

#include <type_traits>

namespace sluice::sql {

namespace {

// Column makers over an accessor: a captureless lambda `[](auto& row) -> auto& { return
// row.field; }` that names the field once for both directions.
template <typename T, typename Access>
Column<T> TextCol(const char* name, Access) {
  return {name, ColumnType::kText, [](const T& v, ValueSink& out) { out.text(Access{}(v)); },
          [](const Row& row, int c, T& v) { Access{}(v) = row.text_at(c); }};
}

template <typename T, typename Access>
Column<T> IntCol(const char* name, ColumnType type, Access) {
  return {name, type,
          [](const T& v, ValueSink& out) { out.integer(static_cast<std::int64_t>(Access{}(v))); },
          [](const Row& row, int c, T& v) {
            using Field = std::remove_reference_t<decltype(Access{}(v))>;
            Access{}(v) = static_cast<Field>(row.int_at(c));
          }};
}

template <typename T, typename Access>
Column<T> BoolCol(const char* name, Access) {
  return {name, ColumnType::kSmallInt,
          [](const T& v, ValueSink& out) { out.integer(std::int64_t{Access{}(v) ? 1 : 0}); },
          [](const Row& row, int c, T& v) { Access{}(v) = row.int_at(c) != 0; }};
}

template <typename T, typename Access>
Column<T> OptionalIntCol(const char* name, Access) {
  return {name, ColumnType::kBigInt, [](const T& v, ValueSink& out) { out.integer(Access{}(v)); },
          [](const Row& row, int c, T& v) { Access{}(v) = row.optional_int_at(c); }};
}

template <typename T, typename Access>
Column<T> RealCol(const char* name, Access) {
  return {name, ColumnType::kDouble, [](const T& v, ValueSink& out) { out.real(Access{}(v)); },
          [](const Row& row, int c, T& v) { Access{}(v) = row.real_at(c); }};
}

template <typename T, typename Access>
Column<T> OptionalRealCol(const char* name, Access) {
  return {name, ColumnType::kDouble, [](const T& v, ValueSink& out) { out.real(Access{}(v)); },
          [](const Row& row, int c, T& v) { Access{}(v) = row.optional_real_at(c); }};
}

// A batch status is stored by name; a name this build does not know is a newer build's: CHECK,
// never guess.
BatchStatus ReadBatchStatus(const Row& row, int c) {
  auto status = ParseBatchStatus(row.text_at(c));
  CHECK(status.has_value());
  return *status;
}

Table<Job> MakeJobColumns() {
  constexpr auto kInt = ColumnType::kInteger;
  constexpr auto kBig = ColumnType::kBigInt;
  return Table<Job>(
      "jobs",
      {
          TextCol<Job>("id", [](auto& j) -> auto& { return j.id; }),
          TextCol<Job>("tenant", [](auto& j) -> auto& { return j.spec.tenant; }),
          TextCol<Job>("type", [](auto& j) -> auto& { return j.spec.type; }),
          TextCol<Job>("input", [](auto& j) -> auto& { return j.spec.input_json; }),
          TextCol<Job>("object_id", [](auto& j) -> auto& { return j.spec.object_id; }),
          TextCol<Job>("source", [](auto& j) -> auto& { return j.spec.source; }),
          TextCol<Job>("prompt_version", [](auto& j) -> auto& { return j.spec.prompt_version; }),
          TextCol<Job>("response_schema", [](auto& j) -> auto& { return j.spec.response_schema; }),
          TextCol<Job>("model", [](auto& j) -> auto& { return j.spec.model; }),
          BoolCol<Job>("allow_fallback", [](auto& j) -> auto& { return j.spec.allow_fallback; }),
          TextCol<Job>("params", [](auto& j) -> auto& { return j.spec.params_json; }),
          TextCol<Job>("queue", [](auto& j) -> auto& { return j.spec.queue; }),
          IntCol<Job>("priority", kInt, [](auto& j) -> auto& { return j.spec.priority; }),
          OptionalIntCol<Job>("deadline", [](auto& j) -> auto& { return j.spec.deadline; }),
          IntCol<Job>("run_at", kBig, [](auto& j) -> auto& { return j.spec.run_at; }),
          IntCol<Job>("max_attempts", kInt, [](auto& j) -> auto& { return j.spec.max_attempts; }),
          OptionalRealCol<Job>("cost_limit_usd",
                               [](auto& j) -> auto& { return j.spec.cost_limit_usd; }),
          TextCol<Job>("dedup_key", [](auto& j) -> auto& { return j.spec.dedup_key; }),
          TextCol<Job>("webhook_url", [](auto& j) -> auto& { return j.spec.webhook_url; }),
          TextCol<Job>("metadata", [](auto& j) -> auto& { return j.spec.metadata_json; }),
          Column<Job>{"status", ColumnType::kSmallInt,
                      [](const Job& j, ValueSink& out) {
                        out.integer(std::int64_t{static_cast<int>(j.status)});
                      },
                      [](const Row& row, int c, Job& j) {
                        j.status = static_cast<JobStatus>(row.int_at(c));
                      }},
          IntCol<Job>("attempt", kInt, [](auto& j) -> auto& { return j.attempt; }),
          IntCol<Job>("created_at", kBig, [](auto& j) -> auto& { return j.created_at; }),
          OptionalIntCol<Job>("started_at", [](auto& j) -> auto& { return j.started_at; }),
          OptionalIntCol<Job>("finished_at", [](auto& j) -> auto& { return j.finished_at; }),
          RealCol<Job>("cost_usd", [](auto& j) -> auto& { return j.cost_usd; }),
          // error_code and error_message: both NULL for no error.
          Column<Job>{"error_code", ColumnType::kText,
                      [](const Job& j, ValueSink& out) {
                        if (j.error) {
                          out.text(j.error->code);
                        } else {
                          out.null();
                        }
                      },
                      [](const Row& row, int c, Job& j) {
                        if (!row.is_null(c)) j.error = JobError{row.text_at(c), ""};
                      }},
          Column<Job>{"error_message", ColumnType::kText,
                      [](const Job& j, ValueSink& out) {
                        if (j.error) {
                          out.text(j.error->message);
                        } else {
                          out.null();
                        }
                      },
                      [](const Row& row, int c, Job& j) {
                        if (j.error) j.error->message = row.text_at(c);
                      }},
          OptionalIntCol<Job>("next_attempt_at", [](auto& j) -> auto& { return j.next_attempt_at; }),
          TextCol<Job>("lease_owner", [](auto& j) -> auto& { return j.lease_owner; }),
          IntCol<Job>("lease_until", kBig, [](auto& j) -> auto& { return j.lease_until; }),
      },
      {{"due_at", ColumnType::kBigInt}, {"batch_id", ColumnType::kText}});
}

Table<Batch> MakeBatchColumns() {
  constexpr auto kBig = ColumnType::kBigInt;
  return Table<Batch>(
      "batches",
      {
          TextCol<Batch>("id", [](auto& b) -> auto& { return b.id; }),
          TextCol<Batch>("tenant", [](auto& b) -> auto& { return b.tenant; }),
          TextCol<Batch>("endpoint", [](auto& b) -> auto& { return b.endpoint; }),
          TextCol<Batch>("input_file_id", [](auto& b) -> auto& { return b.input_file_id; }),
          TextCol<Batch>("completion_window",
                         [](auto& b) -> auto& { return b.completion_window; }),
          TextCol<Batch>("metadata", [](auto& b) -> auto& { return b.metadata_json; }),
          Column<Batch>{"status", ColumnType::kText,
                        [](const Batch& b, ValueSink& out) {
                          out.text(BatchStatusName(b.status));
                        },
                        [](const Row& row, int c, Batch& b) { b.status = ReadBatchStatus(row, c); }},
          Column<Batch>{"outcome", ColumnType::kText,
                        [](const Batch& b, ValueSink& out) {
                          if (b.outcome) {
                            out.text(BatchStatusName(*b.outcome));
                          } else {
                            out.null();
                          }
                        },
                        [](const Row& row, int c, Batch& b) {
                          if (!row.is_null(c)) b.outcome = ReadBatchStatus(row, c);
                        }},
          TextCol<Batch>("errors", [](auto& b) -> auto& { return b.errors_json; }),
          TextCol<Batch>("output_file_id", [](auto& b) -> auto& { return b.output_file_id; }),
          TextCol<Batch>("error_file_id", [](auto& b) -> auto& { return b.error_file_id; }),
          IntCol<Batch>("created_at", kBig, [](auto& b) -> auto& { return b.created_at; }),
          IntCol<Batch>("expires_at", kBig, [](auto& b) -> auto& { return b.expires_at; }),
          OptionalIntCol<Batch>("in_progress_at", [](auto& b) -> auto& { return b.in_progress_at; }),
          OptionalIntCol<Batch>("finalizing_at", [](auto& b) -> auto& { return b.finalizing_at; }),
          OptionalIntCol<Batch>("completed_at", [](auto& b) -> auto& { return b.completed_at; }),
          OptionalIntCol<Batch>("failed_at", [](auto& b) -> auto& { return b.failed_at; }),
          OptionalIntCol<Batch>("expired_at", [](auto& b) -> auto& { return b.expired_at; }),
          OptionalIntCol<Batch>("cancelling_at", [](auto& b) -> auto& { return b.cancelling_at; }),
          OptionalIntCol<Batch>("cancelled_at", [](auto& b) -> auto& { return b.cancelled_at; }),
          IntCol<Batch>("total", kBig, [](auto& b) -> auto& { return b.counts.total; }),
          IntCol<Batch>("completed", kBig, [](auto& b) -> auto& { return b.counts.completed; }),
          IntCol<Batch>("failed", kBig, [](auto& b) -> auto& { return b.counts.failed; }),
          BoolCol<Batch>("ingested", [](auto& b) -> auto& { return b.ingested; }),
          IntCol<Batch>("ingest_line", kBig, [](auto& b) -> auto& { return b.ingest_line; }),
          IntCol<Batch>("ingest_offset", kBig, [](auto& b) -> auto& { return b.ingest_offset; }),
          TextCol<Batch>("runner", [](auto& b) -> auto& { return b.runner; }),
          IntCol<Batch>("runner_until", kBig, [](auto& b) -> auto& { return b.runner_until; }),
          TextCol<Batch>("webhook_url", [](auto& b) -> auto& { return b.webhook_url; }),
      });
}

Table<StoredFile> MakeFileColumns() {
  constexpr auto kBig = ColumnType::kBigInt;
  return Table<StoredFile>(
      "files",
      {
          TextCol<StoredFile>("id", [](auto& f) -> auto& { return f.id; }),
          TextCol<StoredFile>("tenant", [](auto& f) -> auto& { return f.tenant; }),
          TextCol<StoredFile>("purpose", [](auto& f) -> auto& { return f.purpose; }),
          TextCol<StoredFile>("filename", [](auto& f) -> auto& { return f.filename; }),
          IntCol<StoredFile>("bytes", kBig, [](auto& f) -> auto& { return f.bytes; }),
          IntCol<StoredFile>("created_at", kBig, [](auto& f) -> auto& { return f.created_at; }),
      },
      {{"complete", ColumnType::kSmallInt}});
}

Table<WebhookDelivery> MakeDeliveryColumns() {
  return Table<WebhookDelivery>(
      "webhook_deliveries",
      {
          TextCol<WebhookDelivery>("id", [](auto& d) -> auto& { return d.id; }),
          TextCol<WebhookDelivery>("job_id", [](auto& d) -> auto& { return d.job_id; }),
          TextCol<WebhookDelivery>("tenant", [](auto& d) -> auto& { return d.tenant; }),
          TextCol<WebhookDelivery>("type", [](auto& d) -> auto& { return d.type; }),
          TextCol<WebhookDelivery>("url", [](auto& d) -> auto& { return d.url; }),
          IntCol<WebhookDelivery>("created_at", ColumnType::kBigInt,
                                  [](auto& d) -> auto& { return d.created_at; }),
          IntCol<WebhookDelivery>("attempts", ColumnType::kInteger,
                                  [](auto& d) -> auto& { return d.attempts; }),
          // NULL until the first attempt is recorded: read as "".
          TextCol<WebhookDelivery>("payload", [](auto& d) -> auto& { return d.payload; }),
          TextCol<WebhookDelivery>("lease_owner", [](auto& d) -> auto& { return d.lease_owner; }),
      },
      {{"state", ColumnType::kSmallInt},
       {"due_at", ColumnType::kBigInt},
       {"finished_at", ColumnType::kBigInt}});
}

Table<JobEvent> MakeEventColumns() {
  return Table<JobEvent>(
      "events",
      {
          IntCol<JobEvent>("seq", ColumnType::kBigInt, [](auto& e) -> auto& { return e.seq; }),
          TextCol<JobEvent>("job_id", [](auto& e) -> auto& { return e.job_id; }),
          IntCol<JobEvent>("at", ColumnType::kBigInt, [](auto& e) -> auto& { return e.at; }),
          TextCol<JobEvent>("type", [](auto& e) -> auto& { return e.type; }),
          TextCol<JobEvent>("data", [](auto& e) -> auto& { return e.data_json; }),
      },
      {{"tenant", ColumnType::kText}});
}

Table<BatchLineError> MakeLineErrorColumns() {
  return Table<BatchLineError>(
      "batch_line_errors",
      {
          IntCol<BatchLineError>("line", ColumnType::kBigInt, [](auto& e) -> auto& { return e.line; }),
          TextCol<BatchLineError>("custom_id", [](auto& e) -> auto& { return e.custom_id; }),
          IntCol<BatchLineError>("status_code", ColumnType::kInteger,
                                 [](auto& e) -> auto& { return e.status_code; }),
          TextCol<BatchLineError>("code", [](auto& e) -> auto& { return e.code; }),
          TextCol<BatchLineError>("message", [](auto& e) -> auto& { return e.message; }),
          TextCol<BatchLineError>("field", [](auto& e) -> auto& { return e.field; }),
      },
      {{"batch_id", ColumnType::kText}});
}

}  // namespace

const char* PostgresTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kText:
      return "text";
    case ColumnType::kBytes:
      return "bytea";
    case ColumnType::kSmallInt:
      return "smallint";
    case ColumnType::kInteger:
      return "integer";
    case ColumnType::kBigInt:
      return "bigint";
    case ColumnType::kDouble:
      return "double precision";
  }
  return "text";
}

const char* CastName(ColumnType type) {
  return type == ColumnType::kDouble ? "float8" : PostgresTypeName(type);
}

const char* SqliteTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kText:
      return "TEXT";
    case ColumnType::kBytes:
      return "BLOB";
    case ColumnType::kSmallInt:
    case ColumnType::kInteger:
    case ColumnType::kBigInt:
      return "INTEGER";
    case ColumnType::kDouble:
      return "REAL";
  }
  return "TEXT";
}

const Table<Job>& JobColumns() {
  static const auto* const kTable = new Table<Job>(MakeJobColumns());
  return *kTable;
}
const Table<Batch>& BatchColumns() {
  static const auto* const kTable = new Table<Batch>(MakeBatchColumns());
  return *kTable;
}
const Table<StoredFile>& FileColumns() {
  static const auto* const kTable = new Table<StoredFile>(MakeFileColumns());
  return *kTable;
}
const Table<WebhookDelivery>& DeliveryColumns() {
  static const auto* const kTable = new Table<WebhookDelivery>(MakeDeliveryColumns());
  return *kTable;
}
const Table<JobEvent>& EventColumns() {
  static const auto* const kTable = new Table<JobEvent>(MakeEventColumns());
  return *kTable;
}
const Table<BatchLineError>& LineErrorColumns() {
  static const auto* const kTable = new Table<BatchLineError>(MakeLineErrorColumns());
  return *kTable;
}

}  // namespace sluice::sql
