#include "api/request_gate.h"

#include <atomic>
#include <memory>

#include "api/off_loop.h"
#include "api/responses.h"
#include "auth/authenticator.h"
#include "auth/tenant_quotas.h"

namespace sluice {

namespace {

bool ChangesState(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

Status CheckOrigin(const http::Request& req) {
  if (!ChangesState(req.method)) return Status::Ok();
  const std::string origin = req.header("origin");
  if (origin.empty()) return Status::Ok();  // not a browser's cross-origin request
  const std::string own = "http://" + req.header("host");
  if (origin == own) return Status::Ok();
  return PermissionDenied("requests from the web origin " + origin +
                          " are refused: the API takes state-changing requests only from its "
                          "own origin or from clients that send no Origin")
      .with_error_code("forbidden_origin");
}

// After authentication: the route's access level, then the tenant's request rate.
void Admit(ApiContext& ctx, Access access, Result<auth::Caller> caller, http::Request&& req,
           const http::Responder& responder, const RouteNext& next) {
  if (!caller.ok()) return SendError(responder, caller.status());
  if (access == Access::kAdmin && !caller->admin) {
    return SendError(responder,
                     PermissionDenied(ctx.auth->required()
                                          ? "this route needs the admin key"
                                          : "this route needs the admin key: start the server with "
                                            "it in $" + ctx.config.auth.admin_key_env +
                                                ", or manage tenants and keys offline with "
                                                "`sluice tenants` / `sluice keys` --data-dir"));
  }
  if (access == Access::kMetrics && !caller->admin && ctx.auth->required()) {
    return SendError(responder, PermissionDenied("/metrics needs the admin key (or [server] "
                                                 "metrics_public = true)"));
  }
  if (Status rate = ctx.quotas->admit_request(*caller); !rate.ok()) {
    return SendError(responder, rate);
  }
  next(std::move(req), responder, std::move(caller).value());
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    return host.substr(0, host.find(']') + 1) == "[::1]";
  }
  std::string_view name = host.substr(0, host.find(':'));
  return name == "localhost" || name.starts_with("127.");
}

RouteGate MakeRequestGate(ApiContext& ctx) {
  auto last_mode_check = std::make_shared<std::atomic<Millis>>(0);
  return [&ctx, last_mode_check](Access access, http::Request&& req, http::Responder responder,
                                 RouteNext next) {
    if (Status origin = CheckOrigin(req); !origin.ok()) return SendError(responder, origin);
    auth::Authenticator& authn = *ctx.auth;
    if (access == Access::kPublic ||
        (access == Access::kMetrics && ctx.config.server.metrics_public)) {
      return next(std::move(req), responder, auth::Caller{});
    }
    if (!authn.required()) {
      if (!IsLoopbackHost(req.header("host"))) {
        return SendError(responder,
                         PermissionDenied("without API keys this server answers only requests "
                                          "addressed to a loopback host name")
                             .with_error_code("forbidden_host"));
      }
      // Another node may have created the first key: look now and then, off the loop.
      const Millis now = ctx.clock.now();
      Millis last = last_mode_check->load();
      if (now - last >= 1'000 && last_mode_check->compare_exchange_strong(last, now)) {
        // A full pool skips this look; the next request after a second tries again.
        (void)ctx.blocking->run([&authn] { (void)authn.refresh_required(); });
      }
    }
    const std::string authorization = req.header("authorization");
    if (auto known = authn.cached(authorization)) {
      return Admit(ctx, access, std::move(*known), std::move(req), responder, next);
    }
    auto request = std::make_shared<http::Request>(std::move(req));
    RunOffLoop(ctx, responder, [&ctx, access, request, responder, next, authorization] {
      Result<auth::Caller> caller = ctx.auth->lookup(authorization);
      ctx.loop.post([&ctx, access, request, responder, next, caller = std::move(caller)]() mutable {
        Admit(ctx, access, std::move(caller), std::move(*request), responder, next);
      });
    });
  };
}

}  // namespace sluice
