#include "store/postgres/postgres_blob_store.h"

#include "store/postgres/migrations.h"

namespace sluice {

namespace {

using pg::Connection;
using sql::Params;
using pg::Rows;

// Blob calls are short (one statement each) and rarer than job calls: a few connections do.
constexpr std::size_t kPoolSize = 4;

// $4 is binary (Params::add_bytes); its cast makes the parameter's type BYTEA.
constexpr char kPutBlob[] =
    "INSERT INTO blobs (tenant, id, bytes, content, created_at) "
    "VALUES ($1::text, $2::text, $3::bigint, $4::bytea, $5::bigint) "
    "ON CONFLICT (tenant, id) DO NOTHING";
// Read in binary result format: the only column is BYTEA.
constexpr char kGetBlob[] = "SELECT content FROM blobs WHERE tenant = $1::text AND id = $2::text";
constexpr char kBlobExists[] = "SELECT 1 FROM blobs WHERE tenant = $1::text AND id = $2::text";
// Never moves an age back (another node's clock may be behind).
constexpr char kRenewBlob[] =
    "UPDATE blobs SET created_at = greatest(created_at, $3::bigint) "
    "WHERE tenant = $1::text AND id = $2::text";
// A walk of the primary key (tenant, id) from the cursor on.
constexpr char kListOlder[] =
    "SELECT tenant, id FROM blobs WHERE created_at < $1::bigint "
    "AND (tenant, id) > ($2::text, $3::text) ORDER BY tenant, id LIMIT $4::bigint";
constexpr char kRemoveBlob[] =
    "DELETE FROM blobs WHERE tenant = $1::text AND id = $2::text AND created_at < $3::bigint";

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

Result<BlobInfo> PostgresBlobStore::put(std::string_view tenant, std::string_view content) {
  BlobInfo info;
  info.id = IdOf(content);
  info.bytes = static_cast<std::int64_t>(content.size());
  ASSIGN_OR_RETURN(bool stored, renew(tenant, info.id));
  if (stored) return info;
  const Millis now = clock_.now();
  return run([&](Connection& conn) -> Result<BlobInfo> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(kPutBlob, sql::Params()
                                                       .add(tenant)
                                                       .add(info.id)
                                                       .add(info.bytes)
                                                       .add_bytes(content)
                                                       .add(static_cast<std::int64_t>(now))));
    BlobInfo out = info;
    // A retry after a lost acknowledgement, or another node's put of the same bytes, finds a
    // row that is as fresh: created=false, same id, which is all a caller relies on.
    out.created = rows.affected() == 1;
    return out;
  });
}

Result<std::string> PostgresBlobStore::get(std::string_view tenant, std::string_view id) const {
  if (!IsValidId(id)) return InvalidArgument("not a blob id: expected sha256:<64 hex>", "id");
  return run([&](Connection& conn) -> Result<std::string> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(kGetBlob, sql::Params().add(tenant).add(id),
                                         pg::ResultFormat::kBinary));
    if (rows.size() == 0) return NotFound("no blob " + std::string(id));
    return rows.text_at(0, 0);
  });
}

Result<bool> PostgresBlobStore::exists(std::string_view tenant, std::string_view id) const {
  if (!IsValidId(id)) return false;
  return run([&](Connection& conn) -> Result<bool> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(kBlobExists, sql::Params().add(tenant).add(id)));
    return rows.size() > 0;
  });
}

Result<bool> PostgresBlobStore::renew(std::string_view tenant, std::string_view id) {
  if (!IsValidId(id)) return false;
  const Millis now = clock_.now();
  return run([&](Connection& conn) -> Result<bool> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(kRenewBlob, sql::Params().add(tenant).add(id).add(now)));
    return rows.affected() > 0;
  });
}

Result<std::vector<BlobKey>> PostgresBlobStore::list_older(Millis before, const BlobKey& after,
                                                           int limit) const {
  using Keys = std::vector<BlobKey>;
  if (limit <= 0) return Keys();
  return run([&](Connection& conn) -> Result<Keys> {
    ASSIGN_OR_RETURN(
        Rows rows,
        conn.run(kListOlder, sql::Params().add(before).add(after.tenant).add(after.id).add(limit)));
    Keys keys;
    keys.reserve(static_cast<std::size_t>(rows.size()));
    for (int i = 0; i < rows.size(); ++i) keys.push_back({rows.text_at(i, 0), rows.text_at(i, 1)});
    return keys;
  });
}

Result<bool> PostgresBlobStore::remove(std::string_view tenant, std::string_view id,
                                       Millis before) {
  return run([&](Connection& conn) -> Result<bool> {
    ASSIGN_OR_RETURN(Rows rows,
                     conn.run(kRemoveBlob, sql::Params().add(tenant).add(id).add(before)));
    return rows.affected() > 0;
  });
}

}  // namespace sluice
