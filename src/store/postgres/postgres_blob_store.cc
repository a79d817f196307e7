#include "store/postgres/postgres_blob_store.h"

#include "store/postgres/migrations.h"

namespace sluice {

namespace {

using pg::Connection;
using sql::Params;
using pg::Rows;

// Blob calls are short (one statement each) and rarer than job calls: a few connections do.
constexpr std::size_t kPoolSize = 4;

// $3 is binary (Params::add_bytes); its cast makes the parameter's type BYTEA.
constexpr char kPutBlob[] =
    "INSERT INTO blobs (id, bytes, content, created_at) "
    "VALUES ($1::text, $2::bigint, $3::bytea, $4::bigint) ON CONFLICT (id) DO NOTHING";
// Read in binary result format: the only column is BYTEA.
constexpr char kGetBlob[] = "SELECT content FROM blobs WHERE id = $1::text";
constexpr char kBlobExists[] = "SELECT 1 FROM blobs WHERE id = $1::text";

}  // namespace

PostgresBlobStore::PostgresBlobStore(const StoreOptions& options, const Clock& clock)
    : clock_(clock),
      pool_(pg::ConnectionPool::Options{
          .connection = {.url = options.url, .durable = options.durable},
          .max_connections = kPoolSize,
      }) {}

Status PostgresBlobStore::Init() {
  ASSIGN_OR_RETURN(pg::ConnectionPool::Lease lease, pool_.acquire());
  return pg::ApplyMigrations(lease.conn());
}

Result<BlobInfo> PostgresBlobStore::put(std::string_view content) {
  BlobInfo info;
  info.id = IdOf(content);
  info.bytes = static_cast<std::int64_t>(content.size());
  const Millis now = clock_.now();
  return run([&](Connection& conn) -> Result<BlobInfo> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(kPutBlob, sql::Params()
                                                       .add(info.id)
                                                       .add(info.bytes)
                                                       .add_bytes(content)
                                                       .add(static_cast<std::int64_t>(now))));
    BlobInfo out = info;
    // A retry after a lost acknowledgement finds its own row: created=false, same id, which
    // is all a caller relies on.
    out.created = rows.affected() == 1;
    return out;
  });
}

Result<std::string> PostgresBlobStore::get(std::string_view id) const {
  if (!IsValidId(id)) return InvalidArgument("not a blob id: expected sha256:<64 hex>", "id");
  return run([&](Connection& conn) -> Result<std::string> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(kGetBlob, sql::Params().add(id), pg::ResultFormat::kBinary));
    if (rows.size() == 0) return NotFound("no blob " + std::string(id));
    return rows.text_at(0, 0);
  });
}

Result<bool> PostgresBlobStore::exists(std::string_view id) const {
  if (!IsValidId(id)) return false;
  return run([&](Connection& conn) -> Result<bool> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(kBlobExists, sql::Params().add(id)));
    return rows.size() > 0;
  });
}

}  // namespace sluice
