// GET /v1/reports/costs?month=2026-11&currency=KZT: a month's costs per tenant from the cost
// ledger (api/cost_report.h). The admin sees every tenant, a tenant's key its own (as
// /v1/stats); the month defaults to the current UTC month, the currency to USD.
#include <string>

#include "api/cost_report.h"
#include "api/off_loop.h"
#include "api/responses.h"
#include "api/routes.h"
#include "store/tenant_records.h"

namespace sluice {

void AddReportRoutes(ApiContext& ctx, Router& router) {
  router.add(
      "GET", "/v1/reports/costs",
      [&ctx](http::Request&& req, http::Responder responder, const RouteContext& rc) {
        auto currency = FindCurrency(ctx.config.billing, req.query_param("currency").value_or(""));
        if (!currency.ok()) return SendError(responder, currency.status());
        const std::string month = req.query_param("month").value_or(MonthOf(ctx.clock.now()));
        const bool own_only = ctx.auth && ctx.auth->required() && !rc.caller.admin;
        const std::string tenant = own_only ? rc.tenant() : "";
        RunOffLoop(ctx, responder, [&ctx, responder, month, tenant, c = *currency] {
          // The store checks the month (YYYY-MM) and answers 400 naming it.
          auto ledger = ctx.store.cost_report(month, tenant);
          if (!ledger.ok()) return SendError(responder, ledger.status());
          SendJson(responder, 200, CostReportJson(month, c, *ledger));
        });
      });
}

}  // namespace sluice
