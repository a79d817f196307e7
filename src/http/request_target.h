// Splits a request target ("/v1/jobs/a%20b?wait=30s&x=1") into its percent-decoded path and
// query pairs. Private to http/.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::http {

// Accepts origin-form ("/path?query") and absolute-form ("http://host/path?query").
// Query pairs are decoded in order, '+' as a space; a key without '=' has an empty value.
// False when the target is not a valid URI reference (answered with 400).
bool DecodeRequestTarget(std::string_view target, std::string& path,
                         std::vector<std::pair<std::string, std::string>>& query);

}  // namespace sluice::http
