#include "api/off_loop.h"

#include "api/responses.h"
#include "core/guarded.h"

namespace sluice {

Status PoolBusy() {
  return Unavailable("the server is busy: too many requests wait for the store; retry shortly")
      .with_error_code("server_busy");
}

void RunOffLoop(ApiContext& ctx, const http::Responder& responder, std::function<void()> work) {
  // A handler that throws (std::bad_alloc, a std::filesystem call) answers 500 instead of
  // leaving its client waiting; the log has what threw, the client only that it failed. When
  // the work answered before it threw, this second answer is ignored (Responder answers once).
  auto guarded = [responder, work = std::move(work)] {
    Status threw = RunGuarded("api: a request's blocking work", work);
    if (!threw.ok()) SendError(responder, Internal("internal error while answering the request"));
  };
  if (!ctx.blocking->run(std::move(guarded))) SendError(responder, PoolBusy());
}

}  // namespace sluice
