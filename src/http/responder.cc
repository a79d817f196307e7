// Responder: the handler's side of one request. Every call may come from any thread; the
// answer slot's state is an atomic, and the work itself runs on the connection's strand.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <utility>

#include "http/connection.h"

namespace sluice::http {

namespace asio = boost::asio;

Responder::Impl::~Impl() {
  if (state.load(std::memory_order_acquire) == kDone) return;
  // The last copy went away unanswered (or mid-stream): nothing will ever answer this request.
  // Posted, so that stream chunks queued before the drop still go out first.
  asio::post(conn->strand(), [c = conn] { c->abandon(); });
}

// send() dispatches rather than posts: a handler that answers at once is already running on
// the strand, and then the response is queued without a second trip through the loop.
void Responder::send(Response response) const {
  if (!impl_) return;
  std::uint8_t expected = Impl::kFresh;
  if (!impl_->state.compare_exchange_strong(expected, Impl::kDone)) return;  // answered already
  asio::dispatch(impl_->conn->strand(), [c = impl_->conn, r = std::move(response)]() mutable {
    c->respond(std::move(r));
  });
}

void Responder::abort() const {
  if (!impl_) return;
  if (impl_->state.exchange(Impl::kDone) == Impl::kDone) return;
  asio::post(impl_->conn->strand(), [c = impl_->conn] { c->reset(); });
}

// The stream calls (and abort and drop) post, never dispatch, so that they reach the strand in
// the order they were made even when some are made on the strand and some elsewhere.
void Responder::start_stream(int status, std::string content_type, Headers headers) const {
  if (!impl_) return;
  std::uint8_t expected = Impl::kFresh;
  if (!impl_->state.compare_exchange_strong(expected, Impl::kStreaming)) return;
  asio::post(impl_->conn->strand(), [c = impl_->conn, status, type = std::move(content_type),
                                     h = std::move(headers)]() mutable {
    c->begin_stream(status, std::move(type), std::move(h));
  });
}

void Responder::write(std::string chunk) const {
  if (!impl_ || impl_->state.load(std::memory_order_acquire) != Impl::kStreaming) return;
  asio::post(impl_->conn->strand(), [c = impl_->conn, data = std::move(chunk)]() mutable {
    c->stream_chunk(std::move(data));
  });
}

void Responder::write(std::string chunk, std::function<void()> sent) const {
  if (!impl_ || impl_->state.load(std::memory_order_acquire) != Impl::kStreaming) return;
  asio::post(impl_->conn->strand(), [c = impl_->conn, data = std::move(chunk),
                                     done = std::move(sent)]() mutable {
    c->stream_chunk(std::move(data), std::move(done));
  });
}

void Responder::end() const {
  if (!impl_) return;
  std::uint8_t expected = Impl::kStreaming;
  if (!impl_->state.compare_exchange_strong(expected, Impl::kDone)) return;
  asio::post(impl_->conn->strand(), [c = impl_->conn] { c->finish_stream(); });
}

void Responder::note_caller(std::string caller) const {
  if (!impl_ || !impl_->conn->logs_access()) return;
  // Posted before the answer's completion can be: the strand runs it before the log line.
  asio::post(impl_->conn->strand(), [c = impl_->conn, who = std::move(caller)]() mutable {
    c->set_caller(std::move(who));
  });
}

bool Responder::closed() const {
  return !impl_ || impl_->conn->closed();
}

}  // namespace sluice::http
