// What the HTTP handlers work with. Owned by the serve command; handlers hold references only.
#pragma once

#include <memory>
#include <vector>

#include "api/batch_hooks.h"
#include "api/blocking_pool.h"
#include "api/shared_job_reads.h"
#include "api/store_health.h"
#include "auth/authenticator.h"
#include "auth/tenant_quotas.h"
#include "blobs/blob_store.h"
#include "config/config.h"
#include "core/time.h"
#include "events/event_stream.h"
#include "events/job_watch.h"
#include "gateway/gateway.h"
#include "http/event_loop.h"
#include "privacy/pii_masker.h"
#include "scheduler/scheduler.h"
#include "store/group_commit.h"
#include "store/store.h"
#include "tasks/registry.h"
#include "worker/worker.h"

namespace sluice {

// Submissions from many requests share one commit (store/group_commit.h).
using SubmitCommitter = SubmitGroupCommit;

struct ApiContext {
  const Config& config;
  Store& store;
  SubmitCommitter& submitter;
  const TaskRegistry& tasks;
  BlobStore& blobs;
  ModelGateway& gateway;
  Scheduler& scheduler;
  Worker& worker;
  JobWatch& watch;
  http::EventLoop& loop;
  const Clock& clock;
  // Files and batches (files_routes.cc, batches_routes.cc); null: blocking work runs inline.
  BatchHooks* batches = nullptr;
  // The PII rules of [privacy] (privacy/pii_masker.h); null: the built-in rules.
  const privacy::PiiMasker* pii_masker = nullptr;
  // The live event stream (GET /v1/events); null: the route answers 503.
  EventStreamHub* event_stream = nullptr;
  // The store's last known health, for /healthz and /readyz (its pings run on `blocking`).
  // Authentication and the tenants' request quotas (api/request_gate.h); null: every request is
  // the default tenant, unauthenticated, unlimited (unit tests without a gate).
  std::unique_ptr<auth::Authenticator> auth;
  std::unique_ptr<auth::TenantQuotas> quotas;
  // The long-polls' reads of a job, one for all its waiters (api/shared_job_reads.h). Before
  // `blocking`, whose work uses it.
  std::unique_ptr<SharedJobReads> job_reads = std::make_unique<SharedJobReads>(store);
  std::unique_ptr<StoreHealth> store_health =
      std::make_unique<StoreHealth>([&s = store] { return s.ping(); }, clock);
  // Where the handlers' synchronous store and blob calls run (api/off_loop.h): never on a loop
  // thread. Owned here so that `sluice serve` and tests get one without wiring; a test may
  // replace it (a smaller pool) before adding routes. Last, so that it is the first to go:
  // it joins its threads while everything their work uses is still there.
  std::unique_ptr<BlockingPool> blocking = std::make_unique<BlockingPool>();
};

}  // namespace sluice
