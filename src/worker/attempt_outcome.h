// What an attempt's model answer means for its job: the one place that applies the retry
// rules of DESIGN.md. Pure: the caller passes the time and the jitter, so every branch is
// unit-tested without a clock or a model.
//
//   answer valid for the schema  → done (or review when the task's review rule says so)
//   answer invalid / garbage     → retry while attempts are left, then review (schema) or failed
//   retryable error              → retry with exponential backoff and jitter, Retry-After
//                                  honoured; failed when attempts or budget run out; expired
//                                  when the next try could only start after the deadline
//   non-retryable error          → failed at once, with the provider's message
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/job.h"
#include "gateway/gateway.h"
#include "store/store.h"
#include "worker/prepared_call.h"

namespace sluice {

// base * 2^(attempt-1), capped at max, scaled by (0.5 + jitter01/2): "equal jitter", so the
// delay still grows while simultaneous failures spread out.
Millis BackoffDelay(int attempt, Millis base, Millis max, double jitter01);

// Builds the store write for one finished call of `job` (as claimed: attempt already counted).
// Every provider call of the gateway's walk becomes an attempt record; the last one decides.
AttemptFinish DecideAttempt(const Job& job, const PreparedCall& call, const GatewayResult& result,
                            Millis now, const WorkerConfig& worker, double jitter01);

// The cost ledger's rows (and audit records) of a walk: one per call that reached a provider,
// each `whose` (tenant, job_id, attempt, task_type, actor, prompt_version, pii) with the call's
// own figures and outcome (AttemptFinish::charges, and the sync path's settlement).
std::vector<CallCharge> CallCharges(const CallCharge& whose, const GatewayResult& result);
// Those of `job`'s current attempt, made as `call` prepared it.
std::vector<CallCharge> CallCharges(const Job& job, const PreparedCall& call,
                                    const GatewayResult& result);

// The store write for an attempt that could not even be built (see PrepareCall).
AttemptFinish FailUnrunnable(const Job& job, const Status& why, Millis now);

}  // namespace sluice
