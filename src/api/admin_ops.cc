// The administrator's operations on tenants and keys, shared by the /v1/admin routes
// (api/admin_routes.cc) and `sluice tenants` / `sluice keys` working offline on the store: one
// validation, one JSON shape.
#include "api/admin_ops.h"

#include <cmath>

#include <boost/json.hpp>

#include "auth/caller.h"
#include "auth/key_secret.h"
#include "core/ids.h"

namespace sluice {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxKeyName = 128;

json::value TimeOrNull(const std::optional<Millis>& t) {
  return t ? json::value(FormatRfc3339(*t)) : json::value(nullptr);
}

json::object TenantJson(const Tenant& t) {
  return json::object{{"id", t.id},
                      {"object", "tenant"},
                      {"weight", t.weight},
                      {"rpm", t.rpm},
                      {"max_queued", t.max_queued},
                      {"monthly_budget_usd", t.monthly_budget_usd},
                      {"mask_pii", t.mask_pii},
                      {"created_at", FormatRfc3339(t.created_at)},
                      {"updated_at", FormatRfc3339(t.updated_at)}};
}

json::object KeyJson(const ApiKey& k) {
  return json::object{{"id", k.id},
                      {"object", "api_key"},
                      {"tenant", k.tenant},
                      {"name", k.name},
                      {"created_at", FormatRfc3339(k.created_at)},
                      {"revoked_at", TimeOrNull(k.revoked_at)}};
}

// A non-negative integer member, absent → nullopt.
Result<std::optional<std::int64_t>> OptionalCount(const json::object& o, const char* field,
                                                  std::int64_t min, std::int64_t max) {
  const json::value* v = o.if_contains(field);
  if (!v || v->is_null()) return std::optional<std::int64_t>();
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->as_int64();
  } else if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(max)) {
    n = static_cast<std::int64_t>(v->as_uint64());
  } else {
    return InvalidArgument(std::string(field) + " must be an integer", field);
  }
  if (n < min || n > max) {
    return InvalidArgument(std::string(field) + " must be from " + std::to_string(min) + " to " +
                               std::to_string(max),
                           field);
  }
  return std::optional<std::int64_t>(n);
}

Result<TenantPatch> ParseTenant(const json::value& body, Millis now) {
  if (!body.is_object()) return InvalidArgument("the body must be a JSON object");
  const json::object& o = body.as_object();
  for (const auto& [key, v] : o) {
    if (key != "id" && key != "weight" && key != "rpm" && key != "max_queued" &&
        key != "monthly_budget_usd" && key != "mask_pii") {
      return InvalidArgument("unknown field " + std::string(key), std::string(key));
    }
  }
  TenantPatch patch{.now = now};
  const json::value* id = o.if_contains("id");
  if (!id || !id->is_string() || !auth::IsValidTenantId(id->as_string())) {
    return InvalidArgument("id must be a tenant id: 1 to 64 of a-z, 0-9, _ and -, starting with a "
                           "letter or digit",
                           "id");
  }
  patch.id = std::string(id->as_string());
  ASSIGN_OR_RETURN(auto weight, OptionalCount(o, "weight", 1, 1000));
  if (weight) patch.weight = static_cast<int>(*weight);
  ASSIGN_OR_RETURN(patch.rpm, OptionalCount(o, "rpm", 0, 100'000'000));
  ASSIGN_OR_RETURN(patch.max_queued, OptionalCount(o, "max_queued", 0, 1'000'000'000));
  if (const json::value* b = o.if_contains("monthly_budget_usd"); b && !b->is_null()) {
    if (!b->is_number() || b->to_number<double>() < 0 || !std::isfinite(b->to_number<double>())) {
      return InvalidArgument("monthly_budget_usd must be a number >= 0 (0: no limit)",
                             "monthly_budget_usd");
    }
    patch.monthly_budget_usd = b->to_number<double>();
  }
  if (const json::value* m = o.if_contains("mask_pii"); m && !m->is_null()) {
    if (!m->is_bool()) return InvalidArgument("mask_pii must be true or false", "mask_pii");
    patch.mask_pii = m->as_bool();
  }
  return patch;
}

}  // namespace

Result<AdminAnswer> PutTenant(Store& store, const json::value& body, Millis now) {
  ASSIGN_OR_RETURN(TenantPatch patch, ParseTenant(body, now));
  ASSIGN_OR_RETURN(TenantWrite written, store.put_tenant(patch));
  return AdminAnswer{written.created ? 201 : 200, TenantJson(written.tenant)};
}

Result<AdminAnswer> ListTenants(Store& store) {
  ASSIGN_OR_RETURN(std::vector<Tenant> tenants, store.list_tenants());
  json::array data;
  for (const Tenant& t : tenants) data.push_back(TenantJson(t));
  return AdminAnswer{200, json::object{{"object", "list"}, {"data", std::move(data)}}};
}

Result<AdminAnswer> GetTenant(Store& store, const std::string& id, Millis now) {
  ASSIGN_OR_RETURN(Tenant tenant, store.get_tenant(id));
  ASSIGN_OR_RETURN(TenantUsage usage, store.tenant_usage(id, MonthOf(now), now));
  json::object body = TenantJson(tenant);
  body["usage"] = json::object{{"month", usage.month},
                               {"spent_usd", usage.spent_usd},
                               {"reserved_usd", usage.reserved_usd},
                               {"live_jobs", usage.live_jobs}};
  return AdminAnswer{200, std::move(body)};
}

namespace {


Result<ApiKey> ParseKey(const json::value& body, Millis now) {
  if (!body.is_object()) return InvalidArgument("the body must be a JSON object");
  const json::object& o = body.as_object();
  for (const auto& [key, v] : o) {
    if (key != "tenant" && key != "name") {
      return InvalidArgument("unknown field " + std::string(key), std::string(key));
    }
  }
  const json::value* tenant = o.if_contains("tenant");
  if (!tenant || !tenant->is_string() || !auth::IsValidTenantId(tenant->as_string())) {
    return InvalidArgument("tenant must be a tenant id", "tenant");
  }
  ApiKey key{.id = NewId("key_", now), .tenant = std::string(tenant->as_string()), .created_at = now};
  if (const json::value* name = o.if_contains("name"); name && !name->is_null()) {
    if (!name->is_string() || name->as_string().size() > kMaxKeyName) {
      return InvalidArgument("name must be a string of at most 128 bytes", "name");
    }
    key.name = std::string(name->as_string());
  }
  return key;
}

}  // namespace

Result<AdminAnswer> CreateKey(Store& store, const json::value& body, Millis now) {
  ASSIGN_OR_RETURN(ApiKey key, ParseKey(body, now));
  const std::string secret = auth::NewKeySecret();
  key.hash = auth::KeyHash(secret);
  if (Status created = store.create_api_key(key); !created.ok()) {
    if (created.code() == StatusCode::kNotFound) {
      return Status(StatusCode::kNotFound,
                    "no tenant " + key.tenant + ": create it first (sluice tenants create " +
                        key.tenant + ", or POST /v1/admin/tenants)",
                    "tenant");
    }
    return created;
  }
  json::object answer = KeyJson(key);
  answer["key"] = secret;  // the only time the secret is shown
  return AdminAnswer{201, std::move(answer)};
}

Result<AdminAnswer> ListKeys(Store& store, const std::string& tenant) {
  ASSIGN_OR_RETURN(std::vector<ApiKey> keys, store.list_api_keys(tenant));
  json::array data;
  for (const ApiKey& k : keys) data.push_back(KeyJson(k));
  return AdminAnswer{200, json::object{{"object", "list"}, {"data", std::move(data)}}};
}

Result<AdminAnswer> RevokeKey(Store& store, const std::string& id, Millis now) {
  ASSIGN_OR_RETURN(ApiKey key, store.revoke_api_key(id, now));
  return AdminAnswer{200, KeyJson(key)};
}


}  // namespace sluice
