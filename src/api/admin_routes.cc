// /v1/admin: tenants and API keys (API.md "Tenants, API keys and quotas"). Admin key only
// (Access::kAdmin). Every call is a store call: all of them run off the loop. This node's
// authenticator forgets what it cached after each change, so limits and revocations apply
// here at once (other nodes within [auth] key_cache).
#include <cmath>

#include <boost/json.hpp>

#include "api/off_loop.h"
#include "api/responses.h"
#include "api/routes.h"
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
        key != "monthly_budget_usd") {
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
  return patch;
}

void PutTenant(ApiContext& ctx, const json::value& body, const http::Responder& responder) {
  auto patch = ParseTenant(body, ctx.clock.now());
  if (!patch.ok()) return SendError(responder, patch.status());
  auto written = ctx.store.put_tenant(*patch);
  if (!written.ok()) return SendError(responder, written.status());
  ctx.auth->forget();
  SendJson(responder, written->created ? 201 : 200, TenantJson(written->tenant));
}

void GetTenant(ApiContext& ctx, const std::string& id, const http::Responder& responder) {
  auto tenant = ctx.store.get_tenant(id);
  if (!tenant.ok()) return SendError(responder, tenant.status());
  const Millis now = ctx.clock.now();
  auto usage = ctx.store.tenant_usage(id, auth::UsageMonth(now), now);
  if (!usage.ok()) return SendError(responder, usage.status());
  json::object body = TenantJson(*tenant);
  body["usage"] = json::object{{"month", usage->month},
                               {"spent_usd", usage->spent_usd},
                               {"reserved_usd", usage->reserved_usd},
                               {"live_jobs", usage->live_jobs}};
  SendJson(responder, 200, body);
}

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

void CreateKey(ApiContext& ctx, const json::value& body, const http::Responder& responder) {
  auto key = ParseKey(body, ctx.clock.now());
  if (!key.ok()) return SendError(responder, key.status());
  const std::string secret = auth::NewKeySecret();
  key->hash = auth::KeyHash(secret);
  if (Status created = ctx.store.create_api_key(*key); !created.ok()) {
    if (created.code() == StatusCode::kNotFound) {
      return SendError(responder,
                       Status(StatusCode::kNotFound,
                              "no tenant " + key->tenant + ": create it first (POST /v1/admin/tenants)",
                              "tenant"));
    }
    return SendError(responder, created);
  }
  (void)ctx.auth->refresh_required();
  ctx.auth->forget();
  json::object answer = KeyJson(*key);
  answer["key"] = secret;  // the only time the secret is shown
  SendJson(responder, 201, answer);
}

}  // namespace

void AddAdminRoutes(ApiContext& ctx, Router& router) {
  auto admin = [&router](std::string method, std::string pattern, RouteHandler handler) {
    router.add(std::move(method), std::move(pattern), std::move(handler), Access::kAdmin);
  };
  admin("POST", "/v1/admin/tenants", [&ctx](http::Request&& req, http::Responder res, const RouteContext&) {
    auto body = ParseJsonBody(req);
    if (!body.ok()) return SendError(res, body.status());
    RunOffLoop(ctx, res, [&ctx, body = std::move(body).value(), res] { PutTenant(ctx, body, res); });
  });
  admin("GET", "/v1/admin/tenants", [&ctx](http::Request&&, http::Responder res, const RouteContext&) {
    RunOffLoop(ctx, res, [&ctx, res] {
      auto tenants = ctx.store.list_tenants();
      if (!tenants.ok()) return SendError(res, tenants.status());
      json::array data;
      for (const Tenant& t : *tenants) data.push_back(TenantJson(t));
      SendJson(res, 200, json::object{{"object", "list"}, {"data", std::move(data)}});
    });
  });
  admin("GET", "/v1/admin/tenants/{id}", [&ctx](http::Request&&, http::Responder res, const RouteContext& rc) {
    RunOffLoop(ctx, res, [&ctx, id = rc.params.at("id"), res] { GetTenant(ctx, id, res); });
  });
  admin("POST", "/v1/admin/keys", [&ctx](http::Request&& req, http::Responder res, const RouteContext&) {
    auto body = ParseJsonBody(req);
    if (!body.ok()) return SendError(res, body.status());
    RunOffLoop(ctx, res, [&ctx, body = std::move(body).value(), res] { CreateKey(ctx, body, res); });
  });
  admin("GET", "/v1/admin/keys", [&ctx](http::Request&& req, http::Responder res, const RouteContext&) {
    RunOffLoop(ctx, res, [&ctx, tenant = req.query_param("tenant").value_or(""), res] {
      auto keys = ctx.store.list_api_keys(tenant);
      if (!keys.ok()) return SendError(res, keys.status());
      json::array data;
      for (const ApiKey& k : *keys) data.push_back(KeyJson(k));
      SendJson(res, 200, json::object{{"object", "list"}, {"data", std::move(data)}});
    });
  });
  admin("DELETE", "/v1/admin/keys/{id}", [&ctx](http::Request&&, http::Responder res, const RouteContext& rc) {
    RunOffLoop(ctx, res, [&ctx, id = rc.params.at("id"), res] {
      auto key = ctx.store.revoke_api_key(id, ctx.clock.now());
      if (!key.ok()) return SendError(res, key.status());
      ctx.auth->forget();
      SendJson(res, 200, KeyJson(*key));
    });
  });
}

}  // namespace sluice
