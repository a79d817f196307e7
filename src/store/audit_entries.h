// The audit entry of each thing the audit log records (API.md "Audit log"), made by the store
// for the transaction of the thing itself (before it starts, where the thing is known by then).
// Figures and names only: never prompt or answer text, and of masked PII only its counts. Each
// fails only on figures no call has (a cost of 1e15 USD): the transaction then fails with it.
#pragma once

#include <string>

#include "core/status.h"

#include "store/audit_records.h"
#include "store/cost_records.h"
#include "store/store.h"
#include "store/tenant_records.h"

namespace sluice {

// "model_call": a job attempt's provider call or a synchronous call (one per CallCharge).
Result<AuditEntry> ModelCallEntry(const CallCharge& call);
// "review.approve", "review.reject" (with the reason) or "review.retry" (with the alias pinned).
Result<AuditEntry> ReviewEntry(const ReviewAction& action);
// "tenant.create" or "tenant.update", with the fields the patch set.
Result<AuditEntry> TenantEntry(const TenantPatch& patch, bool created);
// "key.create" (its id and name; never its secret or hash) and "key.revoke".
Result<AuditEntry> KeyCreatedEntry(const ApiKey& key);
Result<AuditEntry> KeyRevokedEntry(const ApiKey& key, Millis at);

}  // namespace sluice
