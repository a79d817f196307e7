#include "events/webhook_dispatcher.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <utility>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "core/guarded.h"
#include "events/webhook_signature.h"
#include "store/job_rules.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

namespace {

constexpr int kPayloadVersion = 1;
constexpr std::int64_t kMaxReplyBytes = 4 << 10;

Millis SteadyNow() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Retry-After in seconds as a number of ms; -1 when absent or an HTTP date (not honoured:
// receivers that want a pause answer with seconds).
Millis RetryAfterMs(const std::string& header) {
  long long seconds = 0;
  auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), seconds);
  if (ec != std::errc() || end != header.data() + header.size() || seconds < 0) return -1;
  return static_cast<Millis>(std::min<long long>(seconds, 1'000'000'000) * 1000);
}

const char* TransportCode(TransportError error) {
  switch (error) {
    case TransportError::kNone:
      return "http_error";
    case TransportError::kTimeout:
      return "timeout";
    case TransportError::kConnect:
      return "connect_error";
    case TransportError::kReset:
      return "connection_reset";
    case TransportError::kCanceled:
      return "canceled";
    case TransportError::kRefused:
      return "ssrf_refused";
    case TransportError::kOther:
      return "transport_error";
    case TransportError::kResponseTooLarge:
      return "response_too_large";
  }
  return "transport_error";
}

const char* OutcomeName(WebhookAttempt::Outcome outcome) {
  switch (outcome) {
    case WebhookAttempt::kDelivered:
      return "delivered";
    case WebhookAttempt::kRetry:
      return "retry";
    case WebhookAttempt::kGaveUp:
      return "gave_up";
    case WebhookAttempt::kRefused:
      return "refused";
  }
  return "retry";
}

// The receiver a delivery goes to, for the per-receiver cap: "host:port", lower case, the port
// filled in from the scheme. By port, not only host: two services on one machine are two
// receivers, and one being slow says nothing about the other. Empty for a URL without a host
// (send() refuses it anyway).
std::string ReceiverOf(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->host().empty()) return "";
  std::string host = parsed->host();
  for (char& ch : host) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string port(parsed->port());
  if (port.empty()) port = parsed->scheme_id() == boost::urls::scheme::https ? "443" : "80";
  return host + ":" + port;
}

// The body of a delivery: see the payload rule in the header.
std::string BuildPayload(const WebhookDelivery& d, const std::string& job_json) {
  json::object event;
  event["id"] = d.id;
  event["object"] = "event";
  event["version"] = kPayloadVersion;
  event["type"] = d.type;
  event["created_at"] = FormatRfc3339(d.created_at);
  event["data"] = nullptr;
  // The job's JSON goes in as the renderer wrote it (not reparsed and reserialized).
  std::string text = JsonText(event);
  const std::string tail = "\"data\":null}";
  CHECK(text.ends_with(tail));
  text.resize(text.size() - tail.size());
  return text + "\"data\":" + job_json + "}";
}

}  // namespace

WebhookDispatcherOptions WebhookDispatcherOptionsFor(const Config& config, std::string owner,
                                                     std::string secret) {
  const WebhooksConfig& w = config.webhooks;
  // Longer than an attempt's timeout, so that a live node never loses a delivery it is making.
  constexpr Millis kLeaseMargin = 30'000;
  constexpr Millis kMaxStopGrace = 5'000;
  return WebhookDispatcherOptions{.owner = std::move(owner),
                                  .secret = std::move(secret),
                                  .retry = {.base = w.retry_base,
                                            .max = w.retry_max,
                                            .max_attempts = w.max_attempts,
                                            .max_age = w.max_age},
                                  .timeout = w.timeout,
                                  .concurrency = w.concurrency,
                                  .per_host_concurrency = w.per_host_concurrency,
                                  .lease = w.timeout + kLeaseMargin,
                                  .stop_grace = std::min(config.worker.grace, kMaxStopGrace)};
}

WebhookDispatcher::WebhookDispatcher(Store& store, HttpClient& client, const Clock& clock,
                                     const WebhookTargetPolicy& policy,
                                     WebhookRenderers render, WebhookDispatcherOptions options)
    : store_(store),
      client_(client),
      clock_(clock),
      policy_(policy),
      render_(std::move(render)),
      options_(std::move(options)),
      rng_(std::random_device{}()) {}

WebhookDispatcher::~WebhookDispatcher() {
  if (thread_.joinable()) stop(0);
}

void WebhookDispatcher::start() {
  thread_ = std::thread([this] { run(); });
}

void WebhookDispatcher::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

void WebhookDispatcher::stop(Millis grace) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  auto wait_idle = [this](Millis limit) {
    std::unique_lock lock(mu_);
    idle_.wait_for(lock, std::chrono::milliseconds(limit),
                   [this] { return in_flight_.load() == 0; });
  };
  wait_idle(grace);
  std::vector<std::uint64_t> handles;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, handle] : calls_) handles.push_back(handle);
  }
  for (std::uint64_t handle : handles) client_.cancel(handle);
  wait_idle(5'000);
  {
    std::lock_guard lock(mu_);
    exiting_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  // Canceled attempts were not recorded: their events are due at once for whoever runs next.
  if (auto released = store_.release_webhook_leases(options_.owner, clock_.now()); !released.ok()) {
    (void)released;  // their leases run out instead
  }
}

double WebhookDispatcher::unit_random() {
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

void WebhookDispatcher::run() {
  Millis next_poll = 0;
  bool more_due = false;  // the last claim was full: more may be due as soon as a slot frees
  for (;;) {
    std::vector<Completed> done;
    bool claim = false;
    bool exiting = false;
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      const auto poll_at = std::chrono::steady_clock::time_point(std::chrono::milliseconds(next_poll));
      cv_.wait_until(lock, poll_at, [&] {
        return woken_ || exiting_ || !completed_.empty() ||
               (more_due && can_claim());
      });
      done.swap(completed_);
      exiting = exiting_;
      stopping = stopping_;
      claim = !stopping_ && (woken_ || more_due || SteadyNow() >= next_poll);
      woken_ = false;
    }
    // A round that throws is logged and the thread goes on after a pause. What the round did
    // not finish is not lost: a delivery it did not record comes due again when its lease runs
    // out, and is sent again (at-least-once, as for a crash).
    const Status round = RunGuarded("webhooks: a dispatch round", [&] {
      for (const Completed& c : done) {
        if (!c.receiver.empty() && --receiver_in_flight_[c.receiver] <= 0) {
          receiver_in_flight_.erase(c.receiver);
        }
        // A canceled attempt (this node is stopping) is handed back, not counted.
        if (c.response.error == TransportError::kCanceled) continue;
        unrecorded_.push_back(judge(c));
      }
      record(unrecorded_);
      if (exiting) return;
      // A stopping node sends nothing more; its waiting deliveries' leases are handed back.
      if (!stopping) send_waiting();
      if (claim && can_claim()) {
        more_due = claim_and_send();
        next_poll = SteadyNow() + options_.poll;
        record(unrecorded_);  // deliveries that ended before going out (a refused target)
      } else if (SteadyNow() >= next_poll) {
        next_poll = SteadyNow() + options_.poll;
      }
    });
    if (exiting) return;
    if (!round.ok()) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kPauseAfterThrow, [&] { return exiting_; });
    }
  }
}

bool WebhookDispatcher::can_claim() const {
  return in_flight_.load() < options_.concurrency && waiting_count_ < options_.max_waiting;
}

bool WebhookDispatcher::claim_and_send() {
  // Waiting deliveries hold no slot (they are not in flight), so a capped receiver's backlog
  // does not stop claims for others; max_waiting bounds how many this node holds.
  const int free = std::min(options_.concurrency - in_flight_.load(),
                            options_.max_waiting - waiting_count_);
  if (free <= 0) return true;
  const Millis now = clock_.now();
  const Millis lease_until = now + options_.lease;
  auto claimed = store_.claim_webhook_deliveries(WebhookClaim{
      .owner = options_.owner, .now = now, .lease_until = lease_until, .limit = free});
  if (!claimed.ok()) return false;  // the store is away: the poll tries again
  const bool full = static_cast<int>(claimed->size()) == free;
  for (WebhookDelivery& d : *claimed) dispatch(std::move(d), lease_until);
  return full;
}

void WebhookDispatcher::dispatch(WebhookDelivery d, Millis lease_until) {
  std::string receiver = ReceiverOf(d.url);
  auto busy = receiver_in_flight_.find(receiver);
  const bool at_cap = !receiver.empty() && busy != receiver_in_flight_.end() &&
                      busy->second >= options_.per_host_concurrency;
  // Behind others of its receiver that wait already, whatever the count: oldest first.
  auto queue = waiting_.find(receiver);
  if (at_cap || (queue != waiting_.end() && !queue->second.empty())) {
    waiting_[receiver].push_back(Waiting{std::move(d), lease_until});
    ++waiting_count_;
    return;
  }
  send(std::move(d), receiver);
}

void WebhookDispatcher::send_waiting() {
  const Millis now = clock_.now();
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    std::deque<Waiting>& queue = it->second;
    while (!queue.empty()) {
      if (queue.front().lease_until <= now) {
        // Due again for anyone (this node's next claim included): sending it now could race
        // another node that claimed it since.
        queue.pop_front();
        --waiting_count_;
        continue;
      }
      auto busy = receiver_in_flight_.find(it->first);
      if (busy != receiver_in_flight_.end() && busy->second >= options_.per_host_concurrency) break;
      WebhookDelivery d = std::move(queue.front().delivery);
      queue.pop_front();
      --waiting_count_;
      send(std::move(d), it->first);
    }
    it = queue.empty() ? waiting_.erase(it) : std::next(it);
  }
}

void WebhookDispatcher::send(WebhookDelivery d, const std::string& receiver) {
  if (Status url = policy_.check_url(d.url); !url.ok()) {
    const bool forbidden = url.error_code() == "ssrf_refused";
    unrecorded_.push_back(ended_early(d, WebhookAttempt::kRefused,
                                      forbidden ? "ssrf_refused" : "invalid_url", url.message()));
    return;
  }
  std::string payload = d.payload;
  if (payload.empty()) {
    const bool batch =
        store_rules::WebhookSubjectOf(d.type) == store_rules::WebhookSubject::kBatch;
    const WebhookSubjectRenderer& render = batch ? render_.batch : render_.job;
    auto subject = render ? render(d.tenant, d.job_id)
                          : Result<std::string>(NotFound("no renderer for " + d.type));
    if (!subject.ok()) {
      if (subject.status().code() == StatusCode::kNotFound) {
        unrecorded_.push_back(ended_early(d, WebhookAttempt::kGaveUp,
                                          batch ? "batch_missing" : "job_missing",
                                          subject.status().message()));
      }
      // Otherwise the store is away: the lease runs out and the event comes due again.
      return;
    }
    payload = BuildPayload(d, *subject);
  }

  HttpRequest request;
  request.url = d.url;
  request.timeout = options_.timeout;
  // Only the status is read: a few KiB of body is plenty, and a receiver must not be able to
  // make this node hold a large (or, once decoded, huge) answer. See judge() for a 2xx past it.
  request.max_response_bytes = kMaxReplyBytes;
  // Nor is the receiver invited to compress it: decoding would be work for nothing.
  request.accept_compressed = false;
  request.headers = {{"Content-Type", "application/json"},
                     {"User-Agent", "Sluice-Webhooks/1"},
                     {"Sluice-Event-Id", d.id},
                     {"Sluice-Event-Type", d.type},
                     {"Sluice-Delivery-Attempt", std::to_string(d.attempts + 1)}};
  if (!options_.secret.empty()) {
    request.headers.emplace_back("Sluice-Signature",
                                 WebhookSignature(options_.secret, clock_.now() / 1000, payload));
  }
  request.body = payload;

  const std::string id = d.id;
  const Millis started = SteadyNow();
  in_flight_.fetch_add(1);
  if (!receiver.empty()) ++receiver_in_flight_[receiver];
  // Held across send(): the callback (on the client's thread, never inside send) finds the
  // handle registered.
  std::lock_guard lock(mu_);
  std::uint64_t handle =
      client_.send(std::move(request), [this, d = std::move(d), payload = std::move(payload),
                                        started, receiver](HttpResponse r) mutable {
        // All under mu_, the notifications too: stop()'s wait for the last one cannot miss
        // it, and once stop() has seen in_flight_ at 0 this callback touches `this` no more
        // (the owner may destroy the dispatcher while the client and its thread live on).
        std::lock_guard lock(mu_);
        calls_.erase(d.id);
        completed_.push_back(Completed{std::move(d), std::move(payload), std::move(r), started,
                                       std::move(receiver)});
        in_flight_.fetch_sub(1);
        cv_.notify_one();
        idle_.notify_all();
      });
  calls_[id] = handle;
}

WebhookAttempt WebhookDispatcher::judge(const Completed& c) {
  const WebhookDelivery& d = c.delivery;
  const HttpResponse& r = c.response;
  const Millis now = clock_.now();
  const int attempt = d.attempts + 1;
  WebhookAttempt a{.id = d.id,
                   .lease_owner = d.lease_owner,
                   .attempt = attempt,
                   .now = now,
                   .payload = c.payload};
  json::object event{{"event_id", d.id},
                     {"event_type", d.type},
                     {"attempt", attempt},
                     {"url", d.url},
                     {"ms", SteadyNow() - c.started}};
  // A reply whose body passed kMaxReplyBytes still told its status (the headers had arrived):
  // a 2xx with a long body is a delivery, not a failure to retry.
  const bool answered = r.error == TransportError::kNone ||
                        (r.error == TransportError::kResponseTooLarge && r.status > 0);
  event["status_code"] = answered ? json::value(r.status) : json::value(nullptr);
  if (answered && r.status >= 200 && r.status < 300) {
    a.outcome = WebhookAttempt::kDelivered;
  } else {
    event["code"] = TransportCode(r.error);
    event["error"] = answered ? "the receiver answered " + std::to_string(r.status) : r.error_message;
    if (r.error == TransportError::kRefused) {
      a.outcome = WebhookAttempt::kRefused;
    } else if (WebhookGivesUp(options_.retry, attempt, now, d.created_at)) {
      a.outcome = WebhookAttempt::kGaveUp;
    } else {
      a.outcome = WebhookAttempt::kRetry;
      a.retry_at = WebhookNextAttemptAt(options_.retry, attempt, now,
                                        answered ? RetryAfterMs(r.retry_after) : -1, unit_random());
      event["next_attempt_at"] = FormatRfc3339(a.retry_at);
    }
  }
  event["outcome"] = OutcomeName(a.outcome);
  a.event_json = JsonText(event);
  return a;
}

WebhookAttempt WebhookDispatcher::ended_early(const WebhookDelivery& d,
                                              WebhookAttempt::Outcome outcome,
                                              const std::string& code, const std::string& message) {
  json::object event{{"event_id", d.id},        {"event_type", d.type}, {"attempt", d.attempts + 1},
                     {"url", d.url},            {"status_code", nullptr}, {"code", code},
                     {"error", message},        {"outcome", OutcomeName(outcome)}};
  return WebhookAttempt{.id = d.id,
                        .lease_owner = d.lease_owner,
                        .attempt = d.attempts + 1,
                        .outcome = outcome,
                        .now = clock_.now(),
                        .event_json = JsonText(event)};
}

void WebhookDispatcher::record(std::vector<WebhookAttempt>& pending) {
  if (pending.empty()) return;
  auto outcomes = store_.record_webhook_attempts(pending);
  // A failing store keeps them for the next turn; should their leases run out first, the
  // events are delivered again and these records find their leases gone (kAborted).
  if (outcomes.ok()) pending.clear();
}

}  // namespace sluice
