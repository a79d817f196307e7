// Maps "METHOD /path/{param}" to handlers. Each resource registers its own routes from its own
// file (jobs_routes.cc, blobs_routes.cc, ...), so there is no giant dispatch switch. Every
// request passes the router's gate first (api/request_gate.h: authentication, origin, rate),
// which tells the handler who is calling.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "auth/caller.h"
#include "http/server.h"

namespace sluice {

using PathParams = std::map<std::string, std::string>;

// Who may call a route.
enum class Access {
  kPublic,   // anyone (health checks, the dashboard's static files)
  kTenant,   // a tenant's key (or anyone, without authentication)
  kAdmin,    // the admin key only
  kMetrics,  // the admin key, or anyone with [server] metrics_public
};

struct RouteContext {
  PathParams params;
  auth::Caller caller;
  const std::string& tenant() const { return caller.tenant; }
};

using RouteHandler = std::function<void(http::Request&&, http::Responder, const RouteContext&)>;
// Decides whether a request may reach its handler: calls `next` with the caller (on an event
// loop thread), or answers the request itself.
using RouteNext = std::function<void(http::Request&&, http::Responder, auth::Caller)>;
using RouteGate = std::function<void(Access, http::Request&&, http::Responder, RouteNext)>;

// One registered route, as docs/API.md names it: "GET /v1/jobs/{id}".
struct RouteInfo {
  std::string method;
  std::string pattern;
  Access access;
};

class Router {
 public:
  // pattern: "/v1/jobs/{id}/cancel"; a {name} segment matches one non-empty path segment.
  void add(std::string method, std::string pattern, RouteHandler handler,
           Access access = Access::kTenant);
  // Without a gate every request is the default tenant, unauthenticated (unit tests).
  void set_gate(RouteGate gate) { gate_ = std::move(gate); }
  // Unknown path → 404; known path, other method → 405.
  void dispatch(http::Request&& request, http::Responder responder) const;
  // Every route, in the order added (a test holds docs/API.md to this list).
  std::vector<RouteInfo> routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    RouteHandler handler;
    Access access;
  };
  std::vector<Route> routes_;
  RouteGate gate_;
};

}  // namespace sluice
