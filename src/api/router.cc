#include "api/router.h"

namespace sluice {

namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool Match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
           PathParams& params) {
  if (pattern.size() != path.size()) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const std::string& p = pattern[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      params[p.substr(1, p.size() - 2)] = path[i];
    } else if (p != path[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

void Router::add(std::string method, std::string pattern, RouteHandler handler, Access access) {
  std::vector<std::string> segments = Split(pattern);
  routes_.push_back(
      {std::move(method), std::move(pattern), std::move(segments), std::move(handler), access});
}

std::vector<RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const Route& r : routes_) out.push_back({r.method, r.pattern, r.access});
  return out;
}

void Router::dispatch(http::Request&& request, http::Responder responder) const {
  std::vector<std::string> path = Split(request.path);
  bool path_known = false;
  for (const Route& route : routes_) {
    PathParams params;
    if (!Match(route.segments, path, params)) continue;
    path_known = true;
    if (route.method != request.method) continue;
    if (!gate_) {
      route.handler(std::move(request), std::move(responder), RouteContext{std::move(params), {}});
      return;
    }
    // Routes live as long as the router, which outlives every request it dispatches.
    gate_(route.access, std::move(request), std::move(responder),
          [&route, params = std::move(params)](http::Request&& req, http::Responder res,
                                               auth::Caller caller) mutable {
            res.note_caller(caller.tenant);
            route.handler(std::move(req), std::move(res),
                          RouteContext{std::move(params), std::move(caller)});
          });
    return;
  }
  if (path_known) {
    http::Response r = http::ErrorResponse(
        Status(StatusCode::kInvalidArgument, "method " + request.method + " is not allowed here")
            .with_error_code("method_not_allowed"));
    r.status = 405;
    responder.send(std::move(r));
    return;
  }
  responder.send(http::ErrorResponse(NotFound("no such endpoint: " + request.path)));
}

}  // namespace sluice
