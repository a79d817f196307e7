// /v1/blobs: large inputs, stored by content (API.md "Large inputs"). Both calls are blocking
// I/O (a file written and fsynced, or a PostgreSQL row), so they run off the event loop.
#include <memory>

#include <boost/json.hpp>

#include "api/off_loop.h"
#include "api/responses.h"
#include "api/routes.h"

namespace sluice {

namespace json = boost::json;

void AddBlobRoutes(ApiContext& ctx, Router& router) {
  router.add("POST", "/v1/blobs", [&ctx](http::Request&& req, http::Responder responder, const RouteContext& rc) {
    if (req.body.empty()) return SendError(responder, InvalidArgument("the blob is empty", "body"));
    // Shared, not copied: the closure may be copied, the body is up to server.max_body.
    auto body = std::make_shared<const std::string>(std::move(req.body));
    RunOffLoop(ctx, responder, [&ctx, tenant = rc.tenant(), body, responder] {
      auto info = ctx.blobs.put(tenant, *body);
      if (!info.ok()) return SendError(responder, info.status());
      SendJson(responder, info->created ? 201 : 200,
               json::object{{"id", info->id}, {"object", "blob"}, {"bytes", info->bytes}});
    });
  });
  router.add("GET", "/v1/blobs/{id}", [&ctx](http::Request&&, http::Responder responder, const RouteContext& rc) {
    RunOffLoop(ctx, responder, [&ctx, tenant = rc.tenant(), id = rc.params.at("id"), responder] {
      auto content = ctx.blobs.get(tenant, id);
      if (!content.ok()) return SendError(responder, content.status());
      http::Response r;
      r.content_type = "application/octet-stream";
      r.body = std::move(content).value();
      responder.send(std::move(r));
    });
  });
}

}  // namespace sluice
