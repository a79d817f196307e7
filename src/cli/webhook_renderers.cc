#include "cli/webhook_renderers.h"

#include <boost/json/serialize.hpp>

#include "api/batch_json.h"
#include "api/job_view.h"
#include "json/json_text.h"

namespace sluice {

WebhookRenderers ApiWebhookRenderers(Store& store, const Clock& clock) {
  return WebhookRenderers{
      .job = [&store, &clock](const std::string& tenant,
                              const std::string& job_id) -> Result<std::string> {
        ASSIGN_OR_RETURN(Job job, store.get_job(tenant, job_id));
        // An ended job is never waiting for a slot: queue_full does not apply.
        return JsonText(JobView(store, job, clock.now(), false));
      },
      .batch = [&store](const std::string& tenant,
                        const std::string& batch_id) -> Result<std::string> {
        ASSIGN_OR_RETURN(Batch batch, store.get_batch(tenant, batch_id));
        return JsonText(BatchToJson(batch));
      }};
}

}  // namespace sluice
