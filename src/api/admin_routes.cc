// /v1/admin: tenants and API keys (API.md "Tenants, API keys and quotas"). Admin key only
// (Access::kAdmin). Every call is a store call: all of them run off the loop. This node's
// authenticator forgets what it cached after each change, so limits and revocations apply
// here at once (other nodes within [auth] key_cache).
#include "api/admin_ops.h"
#include "api/off_loop.h"
#include "api/responses.h"
#include "api/routes.h"

namespace sluice {

namespace {

// Runs `op` off the loop and answers with what it returned. `changed`: the op changes what
// authentication must know.
void RunAdmin(ApiContext& ctx, const http::Responder& responder, bool changed,
              std::function<Result<AdminAnswer>()> op) {
  RunOffLoop(ctx, responder, [&ctx, responder, changed, op = std::move(op)] {
    Result<AdminAnswer> answer = op();
    if (!answer.ok()) return SendError(responder, answer.status());
    if (changed) {
      (void)ctx.auth->refresh_required();  // the first key turns authentication on
      ctx.auth->forget();
    }
    SendJson(responder, answer->status, answer->body);
  });
}

}  // namespace

void AddAdminRoutes(ApiContext& ctx, Router& router) {
  auto admin = [&router](std::string method, std::string pattern, RouteHandler handler) {
    router.add(std::move(method), std::move(pattern), std::move(handler), Access::kAdmin);
  };
  admin("POST", "/v1/admin/tenants", [&ctx](http::Request&& req, http::Responder res, const RouteContext&) {
    auto body = ParseJsonBody(req);
    if (!body.ok()) return SendError(res, body.status());
    RunAdmin(ctx, res, true, [&ctx, body = std::move(body).value()] {
      return PutTenant(ctx.store, body, ctx.clock.now());
    });
  });
  admin("GET", "/v1/admin/tenants", [&ctx](http::Request&&, http::Responder res, const RouteContext&) {
    RunAdmin(ctx, res, false, [&ctx] { return ListTenants(ctx.store); });
  });
  admin("GET", "/v1/admin/tenants/{id}", [&ctx](http::Request&&, http::Responder res, const RouteContext& rc) {
    RunAdmin(ctx, res, false, [&ctx, id = rc.params.at("id")] {
      return GetTenant(ctx.store, id, ctx.clock.now());
    });
  });
  admin("POST", "/v1/admin/keys", [&ctx](http::Request&& req, http::Responder res, const RouteContext&) {
    auto body = ParseJsonBody(req);
    if (!body.ok()) return SendError(res, body.status());
    RunAdmin(ctx, res, true, [&ctx, body = std::move(body).value()] {
      return CreateKey(ctx.store, body, ctx.clock.now());
    });
  });
  admin("GET", "/v1/admin/keys", [&ctx](http::Request&& req, http::Responder res, const RouteContext&) {
    RunAdmin(ctx, res, false, [&ctx, tenant = req.query_param("tenant").value_or("")] {
      return ListKeys(ctx.store, tenant);
    });
  });
  admin("DELETE", "/v1/admin/keys/{id}", [&ctx](http::Request&&, http::Responder res, const RouteContext& rc) {
    RunAdmin(ctx, res, true, [&ctx, id = rc.params.at("id")] {
      return RevokeKey(ctx.store, id, ctx.clock.now());
    });
  });
}

}  // namespace sluice
