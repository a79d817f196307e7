// One HttpClient in front of two engines, chosen per call by the URL's scheme: plain http:// to
// the Asio engine (O(1) per call, on the server's loop), the rest to libcurl (TLS with
// verification, proxies). The Asio engine knows no proxy, so when the environment names one for
// http, http:// goes to libcurl as well, except for hosts that no_proxy exempts.
#include <boost/url/parse.hpp>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "gateway/http_client.h"

namespace sluice {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Env(const char* lower, const char* upper) {
  if (const char* v = std::getenv(lower); v && *v) return v;
  if (const char* v = std::getenv(upper); v && *v) return v;
  return {};
}

// no_proxy as libcurl reads it, minus CIDR ranges: comma-separated names; "*" matches every
// host; "example.com" and ".example.com" match that host and its subdomains.
class NoProxy {
 public:
  explicit NoProxy(std::string_view list) {
    while (!list.empty()) {
      std::size_t comma = list.find(',');
      std::string_view entry = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t')) entry.remove_prefix(1);
      while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t')) entry.remove_suffix(1);
      if (!entry.empty() && entry.front() == '.') entry.remove_prefix(1);
      if (!entry.empty()) entries_.push_back(Lower(entry));
    }
  }

  bool exempts(std::string_view host) const {
    const std::string h = Lower(host);
    for (const std::string& e : entries_) {
      if (e == "*" || h == e) return true;
      if (h.size() > e.size() && h.ends_with(e) && h[h.size() - e.size() - 1] == '.') return true;
    }
    return false;
  }

 private:
  std::vector<std::string> entries_;
};

class RoutingHttpClient final : public HttpClient {
 public:
  RoutingHttpClient(std::unique_ptr<HttpClient> plain, std::unique_ptr<HttpClient> tls)
      : plain_(std::move(plain)),
        tls_(std::move(tls)),
        http_proxy_(!Env("http_proxy", "HTTP_PROXY").empty() || !Env("all_proxy", "ALL_PROXY").empty()),
        no_proxy_(Env("no_proxy", "NO_PROXY")) {
    CHECK(plain_ != nullptr && tls_ != nullptr);
  }

  // A handle is the engine's handle shifted left by one, its low bit naming the engine. Both
  // engines number from 1, so no handle is 0 (callers use 0 for "no call").
  std::uint64_t send(HttpRequest request, Callback done) override {
    const bool plain = GoesPlain(request.url);
    HttpClient& engine = plain ? *plain_ : *tls_;
    const std::uint64_t inner = engine.send(std::move(request), std::move(done));
    return inner << 1 | (plain ? 0u : 1u);
  }

  void cancel(std::uint64_t handle) override {
    HttpClient& engine = (handle & 1) == 0 ? *plain_ : *tls_;
    engine.cancel(handle >> 1);
  }

 private:
  bool GoesPlain(std::string_view url) const {
    auto parsed = boost::urls::parse_uri(url);
    // A URL that does not parse goes to libcurl, which reports it.
    if (!parsed || parsed->scheme_id() != boost::urls::scheme::http) return false;
    return !http_proxy_ || no_proxy_.exempts(parsed->host_address());
  }

  const std::unique_ptr<HttpClient> plain_;
  const std::unique_ptr<HttpClient> tls_;
  const bool http_proxy_;  // the environment names a proxy for http://
  const NoProxy no_proxy_;
};

}  // namespace

std::unique_ptr<HttpClient> NewRoutingHttpClient(std::unique_ptr<HttpClient> plain,
                                                 std::unique_ptr<HttpClient> tls) {
  return std::make_unique<RoutingHttpClient>(std::move(plain), std::move(tls));
}

}  // namespace sluice
