#include "http/request_target.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace sluice::http {

bool DecodeRequestTarget(std::string_view target, std::string& path,
                         std::vector<std::pair<std::string, std::string>>& query) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) {
    // RFC 9112 3.2.2: a server must accept the absolute form, too (proxies send it).
    if (target.empty() || target.front() == '/') return false;
    parsed = boost::urls::parse_absolute_uri(target);
    if (!parsed) return false;
  }
  const boost::urls::url_view& url = *parsed;
  // Routes match decoded segments: an encoded '/' would turn one segment into two
  // (/v1/jobs/x%2Fcancel is no job id, and must not reach the cancel route).
  const std::string_view encoded = url.encoded_path();
  for (std::size_t at = encoded.find('%'); at != std::string_view::npos;
       at = encoded.find('%', at + 1)) {
    if (encoded.substr(at + 1, 2) == "2F" || encoded.substr(at + 1, 2) == "2f") return false;
  }
  path = url.path();
  if (path.empty()) path.push_back('/');  // not `= "/"`: GCC 12 -Wrestrict false positive
  query.clear();
  if (url.has_query()) {
    for (auto param : url.params()) {
      query.emplace_back(std::move(param.key), std::move(param.value));
    }
  }
  return true;
}

}  // namespace sluice::http
