// Who a request is from, as authentication found it (auth/authenticator.h).
#pragma once

#include <optional>
#include <string>

#include "core/job.h"
#include "core/time.h"
#include "store/tenant_records.h"

namespace sluice::auth {

struct Caller {
  std::string tenant = kDefaultTenant;
  // The admin key: the /v1/admin routes; elsewhere it acts as the default tenant, unlimited.
  bool admin = false;
  std::string key_id;   // the API key's id; empty for the admin key and without authentication
  Tenant limits;        // the tenant's row (Tenant's defaults, no limits, when it has none)
  // The tenant's usage when it has a budget or max_queued (what submit checks), and when it
  // was read.
  std::optional<TenantUsage> usage;
  Millis looked_up_at = 0;
};

// Who an audit record says acted (API.md "Audit log"): the key's id, "admin" for the admin
// key, "anonymous" when the server runs without authentication.
std::string AuditActorOf(const Caller& caller);

// [a-z0-9][a-z0-9_-]{0,63}: safe in paths, URLs and metric labels.
bool IsValidTenantId(std::string_view id);

}  // namespace sluice::auth
