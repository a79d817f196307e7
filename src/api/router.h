// Maps "METHOD /path/{param}" to handlers. Each resource registers its own routes from its own
// file (jobs_routes.cc, blobs_routes.cc, ...), so there is no giant dispatch switch.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "http/server.h"

namespace sluice {

using PathParams = std::map<std::string, std::string>;
using RouteHandler = std::function<void(http::Request&&, http::Responder, const PathParams&)>;

class Router {
 public:
  // pattern: "/v1/jobs/{id}/cancel"; a {name} segment matches one non-empty path segment.
  void add(std::string method, std::string pattern, RouteHandler handler);
  // Unknown path → 404; known path, other method → 405.
  void dispatch(http::Request&& request, http::Responder responder) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    RouteHandler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace sluice
