// The audit chain's rules (store/audit_records.h), shared by the sealer that makes records and
// every check that walks them (`sluice audit verify` on a store or an exported file).
//
// Canonical JSON, the text a record's hash covers: object members sorted by the bytes of their
// keys, no whitespace, strings as JSON with only the escapes JSON requires (\" \\ \n \r \t and
// \u00XX below 0x20; UTF-8 as is), integers in decimal, fractions (cost_usd) in fixed point
// with at most 9 decimals, at most 15 significant digits and no trailing zeros (0.0015, 12.5),
// true/false/null. A record is
// {"action", "actor", "at" (RFC 3339), "job_id", "prev_hash", "seq", "tenant"} and its detail's
// members, and hash = lowercase hex SHA-256 of prev_hash's 64 characters followed by the record.
// An exported line is the record with "hash" appended as its last member, so the record is the
// line without that member, byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"
#include "store/audit_records.h"

namespace sluice {

// `json` parsed and written again in canonical form. kInvalidArgument for text that is not JSON
// or holds a number that is neither an integer nor a finite fraction.
Result<std::string> CanonicalJson(std::string_view json);

std::string AuditHash(std::string_view prev_hash, std::string_view record_json);

// The entry of a record with these fields and `detail_json`'s members (provider, usage, ...).
// kInvalidArgument when the detail is not a JSON object or names a member of the record's own.
Result<AuditEntry> MakeAuditEntry(Millis at, std::string tenant, std::string actor,
                                  std::string action, std::string job_id,
                                  std::string_view detail_json);

// The record `entry` becomes as number `seq` after `prev_hash`: its two members spliced in,
// hashed. kInvalidArgument for an entry whose offsets do not fit its text.
Result<AuditRecord> SealAuditEntry(const AuditEntry& entry, std::int64_t seq,
                                   std::string_view prev_hash);

// The line `sluice audit export` writes for a record, and the record and hash read back from
// one (kInvalidArgument when the line does not end in a "hash" member).
std::string AuditLine(const AuditRecord& record);
Result<std::pair<std::string, std::string>> SplitAuditLine(std::string_view line);

// Walks records in chain order. Each must be canonical, number one more than the record before,
// link to its hash and hash to its own; stored records must also carry, in the columns the
// store filters by, what the record says. The first failure names the record and stays.
class AuditChainCheck {
 public:
  // Starts after `anchor` (a store's) ...
  explicit AuditChainCheck(AuditAnchor anchor)
      : started_(true), seq_(anchor.seq), hash_(std::move(anchor.hash)) {}
  // ... or at whatever the first record links to (an export, which may start anywhere).
  AuditChainCheck() = default;

  Status next(std::string_view record_json, std::string_view hash);
  Status next_stored(const AuditRecord& stored);

  std::int64_t checked() const { return checked_; }
  std::int64_t first_seq() const { return first_seq_; }
  std::int64_t last_seq() const { return seq_; }
  const std::string& last_hash() const { return hash_; }

 private:
  Status fail(std::int64_t seq, const std::string& why);

  bool started_ = false;  // false until the first record, when no anchor was given
  std::int64_t seq_ = 0;
  std::string hash_;
  std::int64_t checked_ = 0;
  std::int64_t first_seq_ = 0;
  Status failed_;
};

}  // namespace sluice
