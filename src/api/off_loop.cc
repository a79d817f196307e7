#include "api/off_loop.h"

#include "api/responses.h"

namespace sluice {

Status PoolBusy() {
  return Unavailable("the server is busy: too many requests wait for the store; retry shortly")
      .with_error_code("server_busy");
}

void RunOffLoop(ApiContext& ctx, const http::Responder& responder, std::function<void()> work) {
  if (!ctx.blocking->run(std::move(work))) SendError(responder, PoolBusy());
}

}  // namespace sluice
