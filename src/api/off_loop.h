// Where handlers send their blocking work: every synchronous store or blob call of a route runs
// through here, on ctx.blocking, never on the event-loop thread that parsed the request. The
// answer goes back through the Responder, which posts it to the connection's own strand.
#pragma once

#include <functional>

#include "api/api_context.h"
#include "http/server.h"

namespace sluice {

// The answer of a request whose work the pool refused (its queue is full, or the server is
// stopping): kUnavailable, which SendError answers 503 with Retry-After.
Status PoolBusy();

// Runs `work` on ctx.blocking. When the pool refuses it, `work` is dropped uncalled and
// `responder` gets PoolBusy().
void RunOffLoop(ApiContext& ctx, const http::Responder& responder, std::function<void()> work);

}  // namespace sluice
