#include "store/postgres/connection.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <utility>

#include "store/postgres/text.h"

namespace sluice::pg {

namespace {

// SQLSTATEs that say "not now" rather than "never": the call may succeed when retried.
bool IsTransient(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return false;
  std::string_view cls = sqlstate.substr(0, 2);
  return cls == "08"              // connection exception
         || cls == "53"           // insufficient resources (too many connections, disk full)
         || cls == "57"           // operator intervention: shutdown, crash, query canceled
         || sqlstate == "40001"   // serialization failure
         || sqlstate == "40P01"   // deadlock detected (the other transaction went on)
         || sqlstate == "55P03";  // lock not available
}

// libpq's message on one line: its line breaks and tabs become single spaces.
std::string Trimmed(const char* message) {
  std::string text;
  for (const char* c = message ? message : ""; *c; ++c) {
    bool space = *c == '\n' || *c == '\t' || *c == ' ';
    if (!space) {
      text += *c;
    } else if (!text.empty() && text.back() != ' ') {
      text += ' ';
    }
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

// --- Rows ---

Rows::Rows(Rows&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}

Rows& Rows::operator=(Rows&& other) noexcept {
  if (this != &other) {
    if (result_) PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

Rows::~Rows() {
  if (result_) PQclear(result_);
}

int Rows::size() const {
  return result_ ? PQntuples(result_) : 0;
}

std::int64_t Rows::affected() const {
  if (!result_) return 0;
  const char* tag = PQcmdTuples(result_);
  std::int64_t n = 0;
  if (tag && *tag) std::from_chars(tag, tag + std::strlen(tag), n);
  return n;
}

bool Rows::is_null(int row, int column) const {
  return PQgetisnull(result_, row, column) != 0;
}

std::string_view Rows::view_at(int row, int column) const {
  return std::string_view(PQgetvalue(result_, row, column),
                          static_cast<std::size_t>(PQgetlength(result_, row, column)));
}

std::string Rows::text_at(int row, int column) const {
  return std::string(view_at(row, column));
}

std::int64_t Rows::int_at(int row, int column) const {
  std::string_view text = view_at(row, column);
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

double Rows::real_at(int row, int column) const {
  std::string_view text = view_at(row, column);
  double value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// --- Connection ---

Result<std::unique_ptr<Connection>> Connection::Open(const ConnectionSettings& settings) {
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(settings.url.c_str(), &parse_error);
  if (!parsed) {
    std::string why = Trimmed(parse_error);
    PQfreemem(parse_error);
    return InvalidArgument("bad PostgreSQL url: " + why, "store");
  }
  PQconninfoFree(parsed);

  // Keywords before "dbname" are defaults the URL may override; those after it are forced:
  // the store reads and writes UTF-8 whatever the URL says. The TCP defaults bound how long a
  // call can hang on a server that vanished without closing its connections (a host gone, a
  // network cut): keepalives notice an idle dead peer in about a minute, the user timeout a
  // peer that stopped acknowledging what we sent.
  std::string timeout = std::to_string(settings.connect_timeout_seconds);
  const char* keywords[] = {"connect_timeout",
                            "application_name",
                            "keepalives_idle",
                            "keepalives_interval",
                            "keepalives_count",
                            "tcp_user_timeout",
                            "dbname",
                            "client_encoding",
                            nullptr};
  const char* values[] = {timeout.c_str(),      "sluice", "30",   "10", "3", "60000",
                          settings.url.c_str(), "UTF8",   nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (!conn) return Unavailable("PostgreSQL: out of memory opening a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return Unavailable("cannot connect to PostgreSQL: " + why);
  }
  // Notices ("relation already exists, skipping") are for people at a psql prompt; libpq
  // would print them on stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  std::unique_ptr<Connection> connection(new Connection(conn));
  if (!settings.durable) RETURN_IF_ERROR(connection->exec("SET synchronous_commit = off"));
  return connection;
}

Connection::~Connection() {
  PQfinish(conn_);
}

bool Connection::broken() const {
  return PQstatus(conn_) != CONNECTION_OK;
}

bool Connection::idle() const {
  return PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

int Connection::backend_pid() const {
  return PQbackendPID(conn_);
}

int Connection::socket() const {
  return PQsocket(conn_);
}

Status Connection::consume() {
  if (PQconsumeInput(conn_) == 0 || broken()) {
    return Unavailable("PostgreSQL (listen): " + Trimmed(PQerrorMessage(conn_)));
  }
  return Status::Ok();
}

std::optional<std::string> Connection::next_notification() {
  PGnotify* notification = PQnotifies(conn_);
  if (!notification) return std::nullopt;
  std::string payload = notification->extra ? notification->extra : "";
  PQfreemem(notification);
  return payload;
}

Status Connection::error(const pg_result* result, std::string_view context) const {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string_view sqlstate = state ? state : "";
  std::string message = Trimmed(result ? PQresultErrorMessage(result) : nullptr);
  if (message.empty()) message = Trimmed(PQerrorMessage(conn_));
  std::string text = "PostgreSQL (" + std::string(context) + "): " + message;
  if (broken() || IsTransient(sqlstate)) return Unavailable(std::move(text));
  if (sqlstate == "23505") return Status(StatusCode::kAlreadyExists, std::move(text));
  return Internal(std::move(text));
}

Status Connection::exec(const char* sql) {
  PGresult* result = PQexec(conn_, sql);
  ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    PQclear(result);
    return Status::Ok();
  }
  std::string_view head(sql, std::min<std::size_t>(std::strlen(sql), 40));
  Status failed = error(result, head);
  PQclear(result);
  return failed;
}

Result<std::string> Connection::prepared_name(const char* sql) {
  auto it = prepared_.find(sql);
  if (it != prepared_.end()) return it->second;
  std::string name = "sluice_" + std::to_string(prepared_.size());
  PGresult* result = PQprepare(conn_, name.c_str(), sql, 0, nullptr);
  if (!result || PQresultStatus(result) != PGRES_COMMAND_OK) {
    Status failed = error(result, "prepare");
    PQclear(result);
    return failed;
  }
  PQclear(result);
  prepared_.emplace(sql, name);
  return name;
}

Result<Rows> Connection::run(const char* sql, const sql::Params& params, ResultFormat format) {
  ASSIGN_OR_RETURN(std::string name, prepared_name(sql));
  // Every value in the text form libpq sends, but bytes, which go in binary format.
  const std::size_t n = params.values().size();
  std::vector<std::optional<std::string>> texts(n);
  std::vector<const char*> values(n, nullptr);
  std::vector<int> lengths(n, 0);
  std::vector<int> formats(n, 0);
  bool any_binary = false;
  for (std::size_t i = 0; i < n; ++i) {
    const sql::Params::Value& v = params.values()[i];
    switch (v.kind) {
      case sql::Params::Value::kNull:
        continue;
      case sql::Params::Value::kInteger:
        texts[i] = std::to_string(v.integer);
        break;
      case sql::Params::Value::kReal:
        texts[i] = DoubleText(v.real);
        break;
      case sql::Params::Value::kText:
        texts[i] = ValidText(v.text);
        break;
      case sql::Params::Value::kBytes:
        values[i] = v.text.data();
        lengths[i] = static_cast<int>(v.text.size());
        formats[i] = 1;
        any_binary = true;
        continue;
    }
    values[i] = texts[i]->c_str();
  }
  PGresult* result = PQexecPrepared(conn_, name.c_str(), static_cast<int>(n), values.data(),
                                    any_binary ? lengths.data() : nullptr,
                                    any_binary ? formats.data() : nullptr,
                                    static_cast<int>(format));
  ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return Rows(result);
  Status failed = error(result, std::string_view(sql, std::min<std::size_t>(std::strlen(sql), 60)));
  PQclear(result);
  return failed;
}

}  // namespace sluice::pg
