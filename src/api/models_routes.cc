// GET /v1/models: the configured aliases, OpenAI-shaped, plus the built-in `local`.
#include <boost/json.hpp>

#include "api/responses.h"
#include "api/routes.h"

namespace sluice {

namespace json = boost::json;

void AddModelRoutes(ApiContext& ctx, Router& router) {
  router.add("GET", "/v1/models", [&ctx](http::Request&&, http::Responder responder, const RouteContext&) {
    json::array data;
    auto add = [&](const ModelConfig& m) {
      json::array fallback;
      for (const auto& f : m.fallback) fallback.push_back(json::value(f));
      data.push_back(json::object{{"id", m.alias},
                                  {"object", "model"},
                                  {"created", 0},
                                  {"owned_by", m.provider},
                                  {"model", m.id},
                                  {"provider", m.provider},
                                  {"input_usd_per_mtok", m.input_usd_per_mtok},
                                  {"output_usd_per_mtok", m.output_usd_per_mtok},
                                  {"fallback", std::move(fallback)}});
    };
    for (const auto& m : ctx.config.models) add(m);
    if (!ctx.config.find_model(kLocalAlias)) add(*ctx.gateway.model(kLocalAlias));
    SendJson(responder, 200, json::object{{"object", "list"}, {"data", std::move(data)}});
  });
}

}  // namespace sluice
