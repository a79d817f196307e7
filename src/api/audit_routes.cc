// GET /v1/audit?after=<seq>&limit=&job_id=&action=: the audit log's sealed records, oldest
// first (API.md "Audit log"). A tenant's key sees its tenant's records; the admin sees every
// tenant's, or one with tenant=. Each record is as stored, with its hash as the last member, so
// a client can check the chain itself (store/audit_chain.h).
#include <cstdlib>
#include <string>

#include <boost/json.hpp>

#include "api/off_loop.h"
#include "api/responses.h"
#include "api/routes.h"
#include "store/audit_chain.h"

namespace sluice {

namespace json = boost::json;

namespace {

Result<std::int64_t> IntParam(const http::Request& req, const char* name, std::int64_t min,
                              std::int64_t max, std::int64_t fallback) {
  auto text = req.query_param(name);
  if (!text || text->empty()) return fallback;
  char* end = nullptr;
  const long long n = std::strtoll(text->c_str(), &end, 10);
  if (*end != '\0' || n < min || n > max) {
    return InvalidArgument(std::string(name) + " must be an integer from " + std::to_string(min) +
                               " to " + std::to_string(max),
                           name);
  }
  return n;
}

}  // namespace

void AddAuditRoutes(ApiContext& ctx, Router& router) {
  router.add("GET", "/v1/audit",
             [&ctx](http::Request&& req, http::Responder responder, const RouteContext& rc) {
               AuditFilter filter;
               auto after = IntParam(req, "after", 0, INT64_MAX, 0);
               if (!after.ok()) return SendError(responder, after.status());
               auto limit = IntParam(req, "limit", 1, 1000, 100);
               if (!limit.ok()) return SendError(responder, limit.status());
               filter.after = *after;
               filter.limit = static_cast<int>(*limit);
               filter.job_id = req.query_param("job_id").value_or("");
               filter.action = req.query_param("action").value_or("");
               const bool own_only = ctx.auth && ctx.auth->required() && !rc.caller.admin;
               filter.tenant = own_only ? rc.tenant() : req.query_param("tenant").value_or("");
               RunOffLoop(ctx, responder, [&ctx, responder, filter] {
                 auto records = ctx.store.audit_records(filter);
                 if (!records.ok()) return SendError(responder, records.status());
                 json::array data;
                 data.reserve(records->size());
                 for (const AuditRecord& r : *records) data.push_back(json::parse(AuditLine(r)));
                 const bool full = static_cast<int>(records->size()) == filter.limit;
                 SendJson(responder, 200,
                          json::object{{"object", "list"},
                                       {"data", std::move(data)},
                                       {"next", full ? json::value(records->back().seq)
                                                     : json::value(nullptr)}});
               });
             });
}

}  // namespace sluice
