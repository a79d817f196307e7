#include "auth/caller.h"

#include "store/audit_records.h"

namespace sluice::auth {

std::string AuditActorOf(const Caller& caller) {
  if (!caller.key_id.empty()) return caller.key_id;
  return caller.admin ? kAuditActorAdmin : "anonymous";
}

bool IsValidTenantId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(id.front())) return false;
  for (char c : id) {
    if (!lower_or_digit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

}  // namespace sluice::auth
