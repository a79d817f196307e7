// An exported audit line (store/audit_chain.cc) as `sluice audit verify --file` reads it, from
// a file that may be anything: splitting and checking never crash; canonical JSON is a fixed
// point (canonicalizing its own output changes nothing); and a record the check accepted, sealed
// again from its own members, is byte for byte the line it was.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/audit_chain.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  sluice::Result<std::string> canonical = sluice::CanonicalJson(line);
  if (canonical.ok()) {
    sluice::Result<std::string> again = sluice::CanonicalJson(*canonical);
    if (!again.ok() || *again != *canonical) __builtin_trap();
  }
  auto split = sluice::SplitAuditLine(line);
  if (!split.ok()) return 0;
  sluice::AuditChainCheck check;
  if (!check.next(split->first, split->second).ok()) return 0;
  // Accepted: the record is canonical and hashes to its hash, so re-joining gives the line.
  sluice::AuditRecord record{.record_json = split->first, .hash = split->second};
  std::string_view trimmed = line;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r')) {
    trimmed.remove_suffix(1);
  }
  if (sluice::AuditLine(record) != trimmed) __builtin_trap();
  return 0;
}
