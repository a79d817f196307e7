// The audit log (API.md "Audit log"), as the Store keeps it: an append-only hash chain of
// records of model calls, review actions and key and tenant changes. No prompt or answer text.
//
// How records join the chain. A chain needs each record's predecessor's hash.
// - The embedded engine has one writer, which holds the head: its flush seals each entry in
//   the very transaction that records the thing (sqlite/sqlite_dialect.cc), in commit order.
// - On PostgreSQL, taking the head inside the transaction that records a call would hold one
//   row lock across every node's commits (a row lock lasts until COMMIT, fsync included), so
//   the cluster would commit one finish at a time. Instead that transaction appends the entry
//   to `audit_pending`, and one sealer at a time (Store::seal_audit under a transaction-scoped
//   advisory lock; audit/audit_sealer.h) moves pending entries, in the order it finds them, into
//   `audit_log`, numbering them (seq), linking each to the one before (prev_hash) and hashing
//   it. seq is the primary key, so even two sealers racing could not fork the chain: the second
//   insert of a seq fails and its transaction changes nothing. Entries are as durable as what
//   they record (same transaction) and become visible records within a sealer pass.
// Either way an entry is made before its transaction (MakeAuditEntry: the JSON work off the
// write lock), records are never updated, and retention deletes only a whole prefix of the
// chain, keeping its last hash as the anchor of what remains.
#pragma once

#include <cstdint>
#include <string>

#include "core/time.h"

namespace sluice {

// The prev_hash of the first record of a chain nothing was ever pruned from.
inline constexpr char kAuditGenesis[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Actors of records that no API key caused.
inline constexpr char kAuditActorAdmin[] = "admin";    // the admin key, or a shell on the store
inline constexpr char kAuditActorSystem[] = "system";  // a worker's own calls

// One unsealed record, written in the transaction of what it records. Made by MakeAuditEntry
// (store/audit_chain.h) before that transaction starts, so the JSON work is done off the
// store's write lock: `record_json` is already the record's canonical JSON but for its two
// members the sealer adds, and sealing only splices those in (at the byte offsets given) and
// hashes.
struct AuditEntry {
  Millis at = 0;
  std::string tenant;
  std::string actor;        // "key_…", "admin", "system" or "anonymous"
  std::string action;       // "model_call", "review.approve", "key.create", "tenant.update", ...
  std::string job_id;       // "" when the record is about no job
  std::string record_json;  // canonical, without "prev_hash" and "seq"
  std::int64_t prev_hash_at = 0;  // where `"prev_hash":"…",` goes in record_json
  std::int64_t seq_at = 0;        // where `"seq":N,` goes (>= prev_hash_at)
};

// A sealed record: `record_json` is its canonical JSON without `hash` (store/audit_chain.h),
// and hash = hex SHA-256 of prev_hash followed by record_json.
struct AuditRecord {
  std::int64_t seq = 0;
  Millis at = 0;
  std::string tenant;
  std::string action;
  std::string job_id;
  std::string record_json;
  std::string hash;
};

// Store::audit_records: seq > after, oldest first, at most limit (clamped to 1..1000); each
// non-empty filter must match.
struct AuditFilter {
  std::string tenant;  // "": every tenant's (the admin's view)
  std::int64_t after = 0;
  int limit = 100;
  std::string job_id;
  std::string action;
};

// Where what remains of the chain starts: the last pruned record (seq 0 and kAuditGenesis when
// nothing was ever pruned). The first remaining record is seq + 1 and links to hash.
struct AuditAnchor {
  std::int64_t seq = 0;
  std::string hash = kAuditGenesis;
};

}  // namespace sluice
