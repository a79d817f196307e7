// The audit entry of each thing the audit log records (API.md "Audit log"), made by the store in
// the transaction of the thing itself. Figures and names only: never prompt or answer text, and
// of masked PII only its counts.
#pragma once

#include <string>

#include "store/audit_records.h"
#include "store/cost_records.h"
#include "store/store.h"
#include "store/tenant_records.h"

namespace sluice {

// "model_call": a job attempt's provider call or a synchronous call (one per CallCharge).
AuditEntry ModelCallEntry(const CallCharge& call);
// "review.approve", "review.reject" (with the reason) or "review.retry" (with the alias pinned).
AuditEntry ReviewEntry(const ReviewAction& action);
// "tenant.create" or "tenant.update", with the fields the patch set.
AuditEntry TenantEntry(const TenantPatch& patch, bool created);
// "key.create" (its id and name; never its secret or hash) and "key.revoke".
AuditEntry KeyCreatedEntry(const ApiKey& key);
AuditEntry KeyRevokedEntry(const ApiKey& key, Millis at);

}  // namespace sluice
