#include "store/sql/columns.h"

#include <iterator>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace sluice::sql {

namespace {

// How a field of each C++ type is stored: bool as 0/1, optionals as NULL when empty.
template <typename F>
constexpr ColumnType TypeOf() {
  if constexpr (std::is_same_v<F, std::string>) {
    return ColumnType::kText;
  } else if constexpr (std::is_same_v<F, bool>) {
    return ColumnType::kSmallInt;
  } else if constexpr (std::is_same_v<F, int>) {
    return ColumnType::kInteger;
  } else if constexpr (std::is_same_v<F, std::int64_t> ||
                       std::is_same_v<F, std::optional<std::int64_t>>) {
    return ColumnType::kBigInt;
  } else {
    static_assert(std::is_same_v<F, double> || std::is_same_v<F, std::optional<double>>,
                  "a field type the column tables do not store");
    return ColumnType::kDouble;
  }
}

void Put(ValueSink& out, const std::string& v) { out.text(v); }
void Put(ValueSink& out, bool v) { out.integer(std::int64_t{v ? 1 : 0}); }
void Put(ValueSink& out, int v) { out.integer(std::int64_t{v}); }
void Put(ValueSink& out, std::int64_t v) { out.integer(v); }
void Put(ValueSink& out, double v) { out.real(v); }
void Put(ValueSink& out, const std::optional<std::int64_t>& v) { out.integer(v); }
void Put(ValueSink& out, const std::optional<double>& v) { out.real(v); }

void Take(const Row& row, int c, std::string& v) { v = row.text_at(c); }
void Take(const Row& row, int c, bool& v) { v = row.int_at(c) != 0; }
void Take(const Row& row, int c, int& v) { v = static_cast<int>(row.int_at(c)); }
void Take(const Row& row, int c, std::int64_t& v) { v = row.int_at(c); }
void Take(const Row& row, int c, double& v) { v = row.real_at(c); }
void Take(const Row& row, int c, std::optional<std::int64_t>& v) { v = row.optional_int_at(c); }
void Take(const Row& row, int c, std::optional<double>& v) { v = row.optional_real_at(c); }

// The column of the field reached from T by a path of member pointers (&Job::spec,
// &JobSpec::queue), its type following the field's.
template <typename T, auto... Path>
Column<T> Field(const char* name) {
  using F = std::remove_cvref_t<decltype((std::declval<T&>() .* ... .* Path))>;
  return {name, TypeOf<F>(), [](const T& v, ValueSink& out) { Put(out, (v .* ... .* Path)); },
          [](const Row& row, int c, T& v) {
            Take(row, c, (v .* ... .* Path));
            return true;  // every value of these types is one this build knows
          }};
}

template <auto... Path>
Column<Job> JobField(const char* name) {
  return Field<Job, &Job::spec, Path...>(name);
}

// Nullable text made of an optional struct's member: NULL when the optional is empty (the
// job's error code and message).
template <auto Member>
Column<Job> ErrorField(const char* name) {
  return {name, ColumnType::kText,
          [](const Job& j, ValueSink& out) {
            if (j.error) {
              out.text((*j.error).*Member);
            } else {
              out.null();
            }
          },
          [](const Row& row, int c, Job& j) {
            if (row.is_null(c)) return true;
            if (!j.error) j.error = JobError{};
            (*j.error).*Member = row.text_at(c);
            return true;
          }};
}

// A batch status is stored by name, a job status by number (both append only).
bool ReadBatchStatus(const Row& row, int c, BatchStatus& out) {
  auto status = ParseBatchStatus(row.text_at(c));
  if (status) out = *status;
  return status.has_value();
}

bool ReadJobStatus(const Row& row, int c, JobStatus& out) {
  const std::int64_t n = row.int_at(c);
  if (n < 0 || n > static_cast<std::int64_t>(JobStatus::kCanceled)) return false;
  out = static_cast<JobStatus>(n);
  return true;
}

Table<Job> MakeJobColumns() {
  return Table<Job>(
      "jobs",
      {
          Field<Job, &Job::id>("id"),
          JobField<&JobSpec::tenant>("tenant"),
          JobField<&JobSpec::type>("type"),
          JobField<&JobSpec::input_json>("input"),
          JobField<&JobSpec::object_id>("object_id"),
          JobField<&JobSpec::source>("source"),
          JobField<&JobSpec::prompt_version>("prompt_version"),
          JobField<&JobSpec::response_schema>("response_schema"),
          JobField<&JobSpec::model>("model"),
          JobField<&JobSpec::allow_fallback>("allow_fallback"),
          JobField<&JobSpec::mask_pii>("mask_pii"),
          JobField<&JobSpec::params_json>("params"),
          JobField<&JobSpec::queue>("queue"),
          JobField<&JobSpec::priority>("priority"),
          JobField<&JobSpec::deadline>("deadline"),
          JobField<&JobSpec::run_at>("run_at"),
          JobField<&JobSpec::max_attempts>("max_attempts"),
          JobField<&JobSpec::cost_limit_usd>("cost_limit_usd"),
          JobField<&JobSpec::dedup_key>("dedup_key"),
          JobField<&JobSpec::webhook_url>("webhook_url"),
          JobField<&JobSpec::metadata_json>("metadata"),
          {"status", ColumnType::kSmallInt,
           [](const Job& j, ValueSink& out) { out.integer(std::int64_t{static_cast<int>(j.status)}); },
           [](const Row& row, int c, Job& j) { return ReadJobStatus(row, c, j.status); }},
          Field<Job, &Job::attempt>("attempt"),
          Field<Job, &Job::created_at>("created_at"),
          Field<Job, &Job::started_at>("started_at"),
          Field<Job, &Job::finished_at>("finished_at"),
          Field<Job, &Job::cost_usd>("cost_usd"),
          ErrorField<&JobError::code>("error_code"),
          ErrorField<&JobError::message>("error_message"),
          Field<Job, &Job::next_attempt_at>("next_attempt_at"),
          Field<Job, &Job::lease_owner>("lease_owner"),
          Field<Job, &Job::lease_until>("lease_until"),
          Field<Job, &Job::blocked_reason>("blocked_reason"),
      },
      {{"due_at", ColumnType::kBigInt}, {"batch_id", ColumnType::kText}});
}

Table<Batch> MakeBatchColumns() {
  return Table<Batch>(
      "batches",
      {
          Field<Batch, &Batch::id>("id"),
          Field<Batch, &Batch::tenant>("tenant"),
          Field<Batch, &Batch::endpoint>("endpoint"),
          Field<Batch, &Batch::input_file_id>("input_file_id"),
          Field<Batch, &Batch::completion_window>("completion_window"),
          Field<Batch, &Batch::metadata_json>("metadata"),
          {"status", ColumnType::kText,
           [](const Batch& b, ValueSink& out) { out.text(BatchStatusName(b.status)); },
           [](const Row& row, int c, Batch& b) { return ReadBatchStatus(row, c, b.status); }},
          {"outcome", ColumnType::kText,
           [](const Batch& b, ValueSink& out) {
             if (b.outcome) {
               out.text(BatchStatusName(*b.outcome));
             } else {
               out.null();
             }
           },
           [](const Row& row, int c, Batch& b) {
             if (row.is_null(c)) return true;
             b.outcome.emplace();
             return ReadBatchStatus(row, c, *b.outcome);
           }},
          Field<Batch, &Batch::errors_json>("errors"),
          Field<Batch, &Batch::output_file_id>("output_file_id"),
          Field<Batch, &Batch::error_file_id>("error_file_id"),
          Field<Batch, &Batch::created_at>("created_at"),
          Field<Batch, &Batch::expires_at>("expires_at"),
          Field<Batch, &Batch::in_progress_at>("in_progress_at"),
          Field<Batch, &Batch::finalizing_at>("finalizing_at"),
          Field<Batch, &Batch::completed_at>("completed_at"),
          Field<Batch, &Batch::failed_at>("failed_at"),
          Field<Batch, &Batch::expired_at>("expired_at"),
          Field<Batch, &Batch::cancelling_at>("cancelling_at"),
          Field<Batch, &Batch::cancelled_at>("cancelled_at"),
          Field<Batch, &Batch::counts, &BatchRequestCounts::total>("total"),
          Field<Batch, &Batch::counts, &BatchRequestCounts::completed>("completed"),
          Field<Batch, &Batch::counts, &BatchRequestCounts::failed>("failed"),
          Field<Batch, &Batch::ingested>("ingested"),
          Field<Batch, &Batch::ingest_line>("ingest_line"),
          Field<Batch, &Batch::ingest_offset>("ingest_offset"),
          Field<Batch, &Batch::runner>("runner"),
          Field<Batch, &Batch::runner_until>("runner_until"),
          Field<Batch, &Batch::webhook_url>("webhook_url"),
      });
}

Table<StoredFile> MakeFileColumns() {
  using F = StoredFile;
  return Table<F>("files",
                  {Field<F, &F::id>("id"), Field<F, &F::tenant>("tenant"),
                   Field<F, &F::purpose>("purpose"), Field<F, &F::filename>("filename"),
                   Field<F, &F::bytes>("bytes"), Field<F, &F::created_at>("created_at")},
                  {{"complete", ColumnType::kSmallInt}});
}

Table<WebhookDelivery> MakeDeliveryColumns() {
  using D = WebhookDelivery;
  return Table<D>("webhook_deliveries",
                  {Field<D, &D::id>("id"), Field<D, &D::job_id>("job_id"),
                   Field<D, &D::tenant>("tenant"), Field<D, &D::type>("type"),
                   Field<D, &D::url>("url"), Field<D, &D::created_at>("created_at"),
                   Field<D, &D::attempts>("attempts"),
                   // NULL until the first attempt is recorded: read as "".
                   Field<D, &D::payload>("payload"), Field<D, &D::lease_owner>("lease_owner")},
                  {{"state", ColumnType::kSmallInt},
                   {"due_at", ColumnType::kBigInt},
                   {"finished_at", ColumnType::kBigInt}});
}

Table<JobEvent> MakeEventColumns() {
  using E = JobEvent;
  return Table<E>("events",
                  {Field<E, &E::seq>("seq"), Field<E, &E::job_id>("job_id"), Field<E, &E::at>("at"),
                   Field<E, &E::type>("type"), Field<E, &E::data_json>("data")},
                  {{"tenant", ColumnType::kText}});
}

Table<BatchLineError> MakeLineErrorColumns() {
  using L = BatchLineError;
  return Table<L>("batch_line_errors",
                  {Field<L, &L::line>("line"), Field<L, &L::custom_id>("custom_id"),
                   Field<L, &L::status_code>("status_code"), Field<L, &L::code>("code"),
                   Field<L, &L::message>("message"), Field<L, &L::field>("field")},
                  {{"batch_id", ColumnType::kText}});
}

Table<Tenant> MakeTenantColumns() {
  using T = Tenant;
  return Table<T>("tenants",
                  {Field<T, &T::id>("id"), Field<T, &T::weight>("weight"), Field<T, &T::rpm>("rpm"),
                   Field<T, &T::max_queued>("max_queued"),
                   Field<T, &T::monthly_budget_usd>("monthly_budget_usd"),
                   Field<T, &T::mask_pii>("mask_pii"),
                   Field<T, &T::created_at>("created_at"), Field<T, &T::updated_at>("updated_at")});
}

Table<ApiKey> MakeApiKeyColumns() {
  using K = ApiKey;
  return Table<K>("api_keys",
                  {Field<K, &K::id>("id"), Field<K, &K::tenant>("tenant"),
                   Field<K, &K::name>("name"), Field<K, &K::hash>("hash"),
                   Field<K, &K::created_at>("created_at"), Field<K, &K::revoked_at>("revoked_at")});
}

Table<BudgetReservation> MakeReservationColumns() {
  using R = BudgetReservation;
  return Table<R>(
      "budget_reservations",
      {Field<R, &R::id>("id"), Field<R, &R::tenant>("tenant"), Field<R, &R::month>("month"),
       Field<R, &R::amount_usd>("amount_usd"), Field<R, &R::expires_at>("expires_at")});
}

}  // namespace

// Indexed by ColumnType.
constexpr const char* kPostgresTypeNames[] = {"text",    "bytea",  "smallint",
                                              "integer", "bigint", "double precision"};
constexpr const char* kSqliteTypeNames[] = {"TEXT", "BLOB", "INTEGER", "INTEGER", "INTEGER", "REAL"};
static_assert(std::size(kPostgresTypeNames) == static_cast<std::size_t>(ColumnType::kDouble) + 1);
static_assert(std::size(kSqliteTypeNames) == std::size(kPostgresTypeNames));

const char* PostgresTypeName(ColumnType type) {
  return kPostgresTypeNames[static_cast<int>(type)];
}

const char* CastName(ColumnType type) {
  return type == ColumnType::kDouble ? "float8" : PostgresTypeName(type);
}

const char* SqliteTypeName(ColumnType type) {
  return kSqliteTypeNames[static_cast<int>(type)];
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
const Table<Tenant>& TenantColumns() {
  static const auto* const kTable = new Table<Tenant>(MakeTenantColumns());
  return *kTable;
}
const Table<ApiKey>& ApiKeyColumns() {
  static const auto* const kTable = new Table<ApiKey>(MakeApiKeyColumns());
  return *kTable;
}
const Table<BudgetReservation>& ReservationColumns() {
  static const auto* const kTable = new Table<BudgetReservation>(MakeReservationColumns());
  return *kTable;
}

}  // namespace sluice::sql
