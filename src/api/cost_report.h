// The body of GET /v1/reports/costs (API.md "Costs report") from a month of the cost ledger
// (store/cost_records.h): per tenant, its totals, by_model and by_task_type, in USD and in the
// asked currency. Pure, so every figure is unit-tested without a server.
//
// Sums are taken over integer nano-USD and turned into USD once per figure, so a tenant's
// cost_usd equals the sum of its calls' costs exactly (cost_nano_usd is there for whoever
// wants the integer). `cost` = cost_usd × usd_rate.
#pragma once

#include <string>

#include <boost/json/object.hpp>

#include "config/config.h"
#include "core/status.h"
#include "store/cost_records.h"

namespace sluice {

struct Currency {
  std::string code = "USD";
  double usd_rate = 1;  // units per USD
};

// The currency asked for ("kzt" is KZT; empty: USD), from [billing] rates. InvalidArgument on
// `currency`, naming the configured codes, for one that has no rate.
Result<Currency> FindCurrency(const BillingConfig& billing, const std::string& asked);

boost::json::object CostReportJson(const std::string& month, const Currency& currency,
                                   const CostLedgerMonth& ledger);

}  // namespace sluice
