// The subjects of webhook events rendered exactly as the API shows them (GET /v1/jobs/{id},
// GET /v1/batches/{id}), for the dispatcher, which does not depend on api
// (events/webhook_dispatcher.h, WebhookRenderers). It joins the two parts, so it lives where
// they are put together.
#pragma once

#include "core/time.h"
#include "events/webhook_dispatcher.h"
#include "store/store.h"

namespace sluice {

// `store` and `clock` must outlive the renderers.
WebhookRenderers ApiWebhookRenderers(Store& store, const Clock& clock);

}  // namespace sluice
