// The gate every routed request passes (Router::set_gate): browser forgery guards, then
// authentication (auth/authenticator.h), then the tenant's request rate (auth/tenant_quotas.h).
//
// - A state-changing request (POST, PUT, PATCH, DELETE) with an Origin other than the server's
//   own (http://<Host>) is refused: a web page cannot drive the API from a visitor's browser.
//   JSON routes also insist on Content-Type: application/json (api/responses.h), which no
//   cross-site form can send.
// - Without authentication, a Host that is not a loopback name is refused, so a DNS-rebinding
//   page (evil.example resolving to 127.0.0.1) cannot reach the open server either.
// - A key the node has not looked up within [auth] key_cache is looked up off the event loop;
//   everything else is answered from memory.
#pragma once

#include "api/api_context.h"
#include "api/router.h"

namespace sluice {

// The gate of `sluice serve`'s router. ctx.auth must be set.
RouteGate MakeRequestGate(ApiContext& ctx);

// Whether `host` (a Host header: name or address, optional port) names this machine's loopback.
bool IsLoopbackHost(std::string_view host);

}  // namespace sluice
