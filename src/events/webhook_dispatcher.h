// Delivers the webhook outbox (store.h, "Webhook outbox"): claims due deliveries under a lease,
// POSTs each signed event to its job's (or batch's) webhook_url, and records every attempt in
// the store (and thereby in the subject's history as a "webhook" / "batch.webhook" event). Many deliveries are in flight at
// once on the HTTP client's own thread; this class's one thread only claims and records.
//
// A delivery ends with a 2xx answer; any other answer, a timeout or a connection failure is
// tried again after a growing, jittered wait (webhook_retry.h) until [webhooks] max_attempts
// or max_age; a target the SSRF guard refuses (webhook_target.h) ends at once, never retried.
//
// The payload, version 1:
//   {"id": "evt_…", "object": "event", "version": 1, "type": "job.done",
//    "created_at": "<the transition's time>", "data": <the job as GET /v1/jobs/{id} shows it,
//    or for batch.* types the batch as GET /v1/batches/{id} shows it>}
// The body is built at the first attempt and stored with it, so every retry sends the same
// bytes (a job that left review before its job.review went out shows its state at that first
// attempt). RULE FOR CHANGING IT: fields may be added within a version; removing or changing
// the meaning of one needs version 2, announced in `version` and kept apart by receivers.
// Headers: Sluice-Event-Id (the same on every attempt: receivers dedup on it, delivery is at
// least once), Sluice-Event-Type, Sluice-Delivery-Attempt, Sluice-Signature
// (webhook_signature.h), Content-Type: application/json.
//
// Receivers: at most per_host_concurrency attempts go to one receiver (host:port of its URL) at
// once, so that a slow receiver cannot hold every slot. A claimed delivery whose receiver is at
// its cap waits here, under its lease, and goes out as that receiver's attempts end; meanwhile
// claims go on for other receivers. A waiting delivery whose lease runs out is dropped (it is
// due again for any node, this one's next claim included). At most max_waiting wait: past that
// claims stop until some go out, so a flood to capped receivers can still delay others, but
// only once it is that deep (the store's claim has no per-receiver filter to do better).
//
// Wake-ups: wake() is called when a commit queued deliveries (Store::set_commit_listener); a
// poll finds what other nodes queued and retries that came due.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/status.h"
#include "core/time.h"
#include "events/webhook_retry.h"
#include "events/webhook_target.h"
#include "gateway/http_client.h"
#include "store/store.h"

namespace sluice {

struct WebhookDispatcherOptions {
  std::string owner;   // lease owner: this node and process
  std::string secret;  // HMAC key; empty: deliveries go out without Sluice-Signature
  WebhookRetryPolicy retry;
  Millis timeout = 10'000;  // per attempt
  int concurrency = 256;    // attempts in flight
  int per_host_concurrency = 8;  // of those, to one receiver (host:port)
  int max_waiting = 1'024;  // claimed deliveries waiting for their receiver's cap (memory bound)
  Millis poll = 1'000;      // safety-net claim poll
  // How long a claim holds before another node may deliver the event; longer than `timeout`
  // so that a live node never loses a delivery it is still making.
  Millis lease = 40'000;
  // stop(): how long the deliveries in flight may take to finish before they are canceled.
  Millis stop_grace = 5'000;
};

// The options of a node's dispatcher: [webhooks] of `config`, the lease outlasting an attempt's
// timeout by a margin, and a stop grace of at most 5 s within [worker] grace (a stopping node
// hands its unfinished deliveries back instead of holding them).
WebhookDispatcherOptions WebhookDispatcherOptionsFor(const Config& config, std::string owner,
                                                     std::string secret);

// The object of a delivery's subject (tenant, id), exactly as the API renders it, as JSON
// text. kNotFound when it is gone.
using WebhookSubjectRenderer =
    std::function<Result<std::string>(const std::string& tenant, const std::string& id)>;
// One renderer per subject (store_rules::WebhookSubjectOf the delivery's type): job.* events
// carry the job as GET /v1/jobs/{id} shows it, batch.* events the batch as
// GET /v1/batches/{id} shows it. Injected, since events does not depend on api.
struct WebhookRenderers {
  WebhookSubjectRenderer job;
  WebhookSubjectRenderer batch;
};

class WebhookDispatcher {
 public:
  // `client` must guard addresses with `policy` (CurlClientOptions::address_guard).
  WebhookDispatcher(Store& store, HttpClient& client, const Clock& clock,
                    const WebhookTargetPolicy& policy, WebhookRenderers render,
                    WebhookDispatcherOptions options);
  ~WebhookDispatcher();
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  void start();
  // Something was queued: claim now. Cheap, any thread.
  void wake();
  // Stops claiming, lets the attempts in flight finish for up to `grace`, records them,
  // cancels the rest and hands their leases back (due at once, for whichever node runs next).
  void stop(Millis grace);
  void stop() { stop(options_.stop_grace); }

  int in_flight() const { return in_flight_.load(); }

 private:
  struct Completed {
    WebhookDelivery delivery;
    std::string payload;
    HttpResponse response;
    Millis started = 0;
    std::string receiver;  // ReceiverOf(url); empty when the URL has none
  };
  struct Waiting {
    WebhookDelivery delivery;
    Millis lease_until = 0;
  };

  void run();
  // Claims as many due deliveries as there are free slots and starts them. True when the
  // claim was full (more may be due).
  bool claim_and_send();
  // Sends `delivery` now, or makes it wait when its receiver is at its cap.
  void dispatch(WebhookDelivery delivery, Millis lease_until);
  // Sends the waiting deliveries whose receiver has a free slot; drops those whose lease ran out.
  void send_waiting();
  bool can_claim() const;
  void send(WebhookDelivery delivery, const std::string& receiver);
  // Records finished attempts; keeps them for the next turn when the store fails.
  void record(std::vector<WebhookAttempt>& pending);
  WebhookAttempt judge(const Completed& c);
  // An attempt that never went out (bad target, missing job): ended with `outcome`.
  WebhookAttempt ended_early(const WebhookDelivery& d, WebhookAttempt::Outcome outcome,
                             const std::string& code, const std::string& message);
  double unit_random();

  Store& store_;
  HttpClient& client_;
  const Clock& clock_;
  const WebhookTargetPolicy& policy_;
  const WebhookRenderers render_;
  const WebhookDispatcherOptions options_;

  std::atomic<int> in_flight_{0};
  std::mt19937_64 rng_;  // the dispatcher thread only

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_;  // in_flight_ dropped to 0 (stop() waits for it)
  bool woken_ = false;                                  // GUARDED_BY(mu_)
  bool stopping_ = false;                               // GUARDED_BY(mu_): no more claims
  bool exiting_ = false;                                // GUARDED_BY(mu_): the thread ends
  std::vector<Completed> completed_;                    // GUARDED_BY(mu_)
  std::unordered_map<std::string, std::uint64_t> calls_;  // event id → handle; GUARDED_BY(mu_)
  std::vector<WebhookAttempt> unrecorded_;              // the dispatcher thread only
  // The dispatcher thread only: attempts in flight by receiver (as of the completions it has
  // taken in), and the deliveries waiting for a slot of their receiver, oldest first.
  std::unordered_map<std::string, int> receiver_in_flight_;
  std::unordered_map<std::string, std::deque<Waiting>> waiting_;
  int waiting_count_ = 0;
  std::thread thread_;
};

}  // namespace sluice
