// The OpenAI-shaped objects of API.md "Files and batches": the file object and the batch object
// (times in unix seconds, as the OpenAI SDKs expect).
#pragma once

#include <boost/json/object.hpp>

#include "core/batch.h"

namespace sluice {

boost::json::object FileToJson(const StoredFile& file);
boost::json::object BatchToJson(const Batch& batch);

}  // namespace sluice
