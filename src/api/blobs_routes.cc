// /v1/blobs: large inputs, stored by content (API.md "Large inputs").
#include <boost/json.hpp>

#include "api/responses.h"
#include "api/routes.h"

namespace sluice {

namespace json = boost::json;

void AddBlobRoutes(ApiContext& ctx, Router& router) {
  router.add("POST", "/v1/blobs", [&ctx](http::Request&& req, http::Responder responder, const PathParams&) {
    if (req.body.empty()) return SendError(responder, InvalidArgument("the blob is empty", "body"));
    auto info = ctx.blobs.put(req.body);
    if (!info.ok()) return SendError(responder, info.status());
    SendJson(responder, info->created ? 201 : 200,
             json::object{{"id", info->id}, {"object", "blob"}, {"bytes", info->bytes}});
  });
  router.add("GET", "/v1/blobs/{id}", [&ctx](http::Request&&, http::Responder responder, const PathParams& p) {
    auto content = ctx.blobs.get(p.at("id"));
    if (!content.ok()) return SendError(responder, content.status());
    http::Response r;
    r.content_type = "application/octet-stream";
    r.body = std::move(content).value();
    responder.send(std::move(r));
  });
}

}  // namespace sluice
