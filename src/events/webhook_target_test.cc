#include "events/webhook_target.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace sluice {
namespace {

sockaddr_in V4(const char* text) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  EXPECT_EQ(inet_pton(AF_INET, text, &a.sin_addr), 1);
  return a;
}

const sockaddr& Raw(const sockaddr_in& a) {
  return reinterpret_cast<const sockaddr&>(a);
}

TEST(WebhookTargetTest, SubmitAcceptsPublicHttpAndHttpsUrls) {
  WebhookTargetPolicy policy({});
  EXPECT_TRUE(policy.check_url("https://hooks.example.com/sluice").ok());
  EXPECT_TRUE(policy.check_url("http://example.com:8080/x?y=1").ok());
  EXPECT_TRUE(policy.check_url("HTTPS://Example.COM/").ok());
  EXPECT_TRUE(policy.check_url("http://8.8.8.8/").ok());
  EXPECT_TRUE(policy.check_url("http://[2001:4860:4860::8888]/").ok());
}

TEST(WebhookTargetTest, SubmitRefusesWhatTheUrlAloneGivesAway) {
  WebhookTargetPolicy policy({});
  for (const char* url :
       {"http://169.254.169.254/", "http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9/",
        "http://localhost/", "http://LOCALHOST./", "http://api.localhost/", "http://[::1]/",
        "http://[::ffff:127.0.0.1]/", "http://10.0.0.5/", "http://0.0.0.0/", "http://2130706433/",
        "http://[fe80::1]/", "http://100.64.1.1/"}) {
    Status s = policy.check_url(url);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << url;
    EXPECT_EQ(s.field(), "webhook_url") << url;
    EXPECT_EQ(s.error_code(), "ssrf_refused") << url;
  }
  for (const char* url : {"ftp://example.com/", "file:///etc/passwd", "gopher://x/", "not a url",
                          "http://", "http:///path", "https://user:pw@example.com/"}) {
    Status s = policy.check_url(url);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << url;
    EXPECT_EQ(s.field(), "webhook_url") << url;
  }
}

TEST(WebhookTargetTest, AllowHostsLiftTheGuardForTheirHostsOnly) {
  WebhookTargetPolicy policy({"127.0.0.1", "Hooks.Internal", "[::1]"});
  EXPECT_TRUE(policy.check_url("http://127.0.0.1:8080/hook").ok());
  EXPECT_TRUE(policy.check_url("http://hooks.internal/").ok());
  EXPECT_TRUE(policy.check_url("http://[::1]:9/").ok());
  EXPECT_FALSE(policy.check_url("http://127.0.0.2/").ok());
  EXPECT_FALSE(policy.check_url("http://localhost/").ok());

  EXPECT_EQ(policy.check_connect("hooks.internal", Raw(V4("10.1.2.3"))), "");
  // A listed IP literal is trusted whatever name led there.
  EXPECT_EQ(policy.check_connect("other.example", Raw(V4("127.0.0.1"))), "");
  EXPECT_NE(policy.check_connect("other.example", Raw(V4("10.1.2.3"))), "");
}

TEST(WebhookTargetTest, ConnectChecksTheResolvedAddress) {
  WebhookTargetPolicy policy({});
  EXPECT_EQ(policy.check_connect("example.com", Raw(V4("93.184.216.34"))), "");
  // A public-looking name that resolves (or rebinds) to a private address is refused.
  std::string why = policy.check_connect("rebind.example.com", Raw(V4("169.254.169.254")));
  EXPECT_NE(why.find("169.254.169.254"), std::string::npos) << why;
  EXPECT_NE(why.find("link-local"), std::string::npos) << why;
  EXPECT_NE(policy.check_connect("example.com", Raw(V4("127.0.0.1"))), "");
}

TEST(WebhookTargetTest, UrlHostIsLowerCaseWithoutBrackets) {
  EXPECT_EQ(UrlHost("https://Hooks.Example.COM:8443/x"), "hooks.example.com");
  EXPECT_EQ(UrlHost("http://[::1]:80/"), "::1");
  EXPECT_EQ(UrlHost("::"), "");
}

}  // namespace
}  // namespace sluice
