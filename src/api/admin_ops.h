// The administrator's operations on tenants and API keys (API.md "Tenants, API keys and
// quotas"): validation of the request bodies and the JSON answers, over a Store. Used by the
// /v1/admin routes and by `sluice tenants` / `sluice keys` offline (cli/admin_commands.cc).
// Blocking: store calls.
#pragma once

#include <string>

#include <boost/json/value.hpp>

#include "core/status.h"
#include "core/time.h"
#include "store/store.h"

namespace sluice {

struct AdminAnswer {
  int status = 200;          // the HTTP status the route answers with
  boost::json::value body;
};

// POST /v1/admin/tenants: 201 created, 200 updated.
Result<AdminAnswer> PutTenant(Store& store, const boost::json::value& body, Millis now);
Result<AdminAnswer> ListTenants(Store& store);
// The tenant with its usage this month.
Result<AdminAnswer> GetTenant(Store& store, const std::string& id, Millis now);
// POST /v1/admin/keys: 201 with the secret, shown only here.
Result<AdminAnswer> CreateKey(Store& store, const boost::json::value& body, Millis now);
// The tenant's keys (every key for ""), never their secrets.
Result<AdminAnswer> ListKeys(Store& store, const std::string& tenant);
Result<AdminAnswer> RevokeKey(Store& store, const std::string& id, Millis now);

}  // namespace sluice
