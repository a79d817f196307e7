#include "store/sqlite/connection.h"

#include <sqlite3.h>

#include <mutex>
#include <utility>

namespace sluice::sqlite {

namespace {

// SQLite keeps memory-use statistics behind one process-wide mutex taken on every allocation
// it makes; nothing here reads them, and every statement of every connection paid for that lock.
// Must run before SQLite initializes itself (the first open); later it is refused, harmlessly.
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                     const ConnectionOptions& options) {
  ConfigureSqliteOnce();
  sqlite3* db = nullptr;
  // NOMUTEX: every connection is used by one thread at a time (see the header), so SQLite's
  // own per-connection mutex would only cost time.
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Unavailable("cannot open " + path + ": " + message);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  std::unique_ptr<Connection> conn(new Connection(db, options.durable));

  // WAL: readers never wait for the writer and a commit appends to one file. A database that
  // cannot switch (e.g. on a filesystem without shared memory) is refused rather than run in a
  // mode whose locking behaves differently.
  {
    ASSIGN_OR_RETURN(Statement wal, conn->prepare("PRAGMA journal_mode = WAL"));
    ASSIGN_OR_RETURN(bool row, wal.step());
    if (!row || wal.text_at(0) != "wal") {
      return FailedPrecondition("cannot switch " + path + " to WAL mode");
    }
    RETURN_IF_ERROR(wal.run());
  }
  // In WAL mode synchronous=FULL syncs the log on every commit: accepted means durable.
  RETURN_IF_ERROR(
      conn->exec(options.durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = OFF"));
  RETURN_IF_ERROR(conn->exec("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768"));
  if (options.read_only) RETURN_IF_ERROR(conn->exec("PRAGMA query_only = 1"));
  return conn;
}

Status Connection::set_sync_each_commit(bool sync) {
  if (!durable_) return Status::Ok();
  static constexpr char kFull[] = "PRAGMA synchronous = FULL";
  static constexpr char kNormal[] = "PRAGMA synchronous = NORMAL";
  ASSIGN_OR_RETURN(Statement q, prepare(sync ? kFull : kNormal));
  return q.run();
}

Connection::~Connection() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  sqlite3_close(db_);
}

Status Connection::exec(const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string text = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return error(rc, text);
}

Result<Statement> Connection::prepare(const char* sql) {
  Cached& cached = cache_[sql];
  if (cached.stmt == nullptr) {
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &cached.stmt, nullptr);
    if (rc != SQLITE_OK) {
      Status status = error(rc, std::string("prepare: ") + sql);
      cache_.erase(sql);
      return status;
    }
  }
  // Two live Statements over one sqlite3_stmt would reset each other: a bug in the caller.
  CHECK(!cached.in_use);
  cached.in_use = true;
  return Statement(this, &cached);
}

int Connection::changes() const {
  return sqlite3_changes(db_);
}

Status Connection::error(int rc, std::string_view context) const {
  std::string message(context);
  message += ": ";
  message += sqlite3_errmsg(db_);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
      return Unavailable("store: " + message);
    default:
      break;
  }
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
    return {StatusCode::kAlreadyExists, "store: " + message};
  }
  return Internal("store: " + message);
}

Statement::Statement(Statement&& other) noexcept
    : conn_(other.conn_), cached_(other.cached_), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);  // drop the borrowed text pointers
  cached_->in_use = false;
}

// A bind can only fail for a parameter index that the SQL does not have (a bug) or for a value
// larger than SQLite's 1 GB limit, which the API's body limit rules out long before.
void Statement::bind_int(int index, std::int64_t value) {
  CHECK(sqlite3_bind_int64(stmt_, index, value) == SQLITE_OK);
}

void Statement::bind_real(int index, double value) {
  CHECK(sqlite3_bind_double(stmt_, index, value) == SQLITE_OK);
}

void Statement::bind_text(int index, std::string_view value) {
  // A null data pointer would bind SQL NULL, not the empty string.
  const char* data = value.data() != nullptr ? value.data() : "";
  CHECK(sqlite3_bind_text(stmt_, index, data, static_cast<int>(value.size()), SQLITE_STATIC) ==
        SQLITE_OK);
}

void Statement::bind_blob(int index, std::string_view value) {
  // A zero-length blob with a null pointer would bind NULL: point at something.
  const char* data = value.empty() ? "" : value.data();
  CHECK(sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_STATIC) == SQLITE_OK);
}

void Statement::bind_null(int index) {
  CHECK(sqlite3_bind_null(stmt_, index) == SQLITE_OK);
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // sqlite3_step's error is also what reset reports; reset now so the statement is reusable.
  Status status = conn_->error(rc, sqlite3_sql(stmt_));
  sqlite3_reset(stmt_);
  return status;
}

Status Statement::run() {
  for (;;) {
    ASSIGN_OR_RETURN(bool row, step());
    if (!row) return Status::Ok();
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::int_at(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double Statement::real_at(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string Statement::text_at(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

}  // namespace sluice::sqlite
