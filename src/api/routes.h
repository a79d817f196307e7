// Every resource adds its routes from its own file.
#pragma once

#include "api/api_context.h"
#include "api/router.h"

namespace sluice {

void AddJobRoutes(ApiContext& ctx, Router& router);
void AddBlobRoutes(ApiContext& ctx, Router& router);
void AddModelRoutes(ApiContext& ctx, Router& router);
void AddChatRoutes(ApiContext& ctx, Router& router);
void AddOperationsRoutes(ApiContext& ctx, Router& router);
void AddFileRoutes(ApiContext& ctx, Router& router);
void AddBatchRoutes(ApiContext& ctx, Router& router);
void AddEventRoutes(ApiContext& ctx, Router& router);
// GET /v1/reports/costs (api/reports_routes.cc).
void AddReportRoutes(ApiContext& ctx, Router& router);
// GET /v1/audit (api/audit_routes.cc).
void AddAuditRoutes(ApiContext& ctx, Router& router);
// /v1/admin/...: tenants and keys. Needs ctx.auth.
void AddAdminRoutes(ApiContext& ctx, Router& router);

// All of the above: the router of `sluice serve`.
void AddAllRoutes(ApiContext& ctx, Router& router);

}  // namespace sluice
