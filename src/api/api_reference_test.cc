// docs/API.md is the repository's API reference: its "Endpoints" table must name exactly the
// routes `sluice serve` registers, each with the access it really has.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "api/api_test_server.h"
#include "api/routes.h"

namespace sluice {
namespace {

const char* AccessName(Access access) {
  switch (access) {
    case Access::kPublic:
      return "public";
    case Access::kTenant:
      return "tenant";
    case Access::kAdmin:
      return "admin";
    case Access::kMetrics:
      return "metrics";
  }
  return "?";
}

// "GET /v1/jobs/{id}" → access, from the rows "| `GET /v1/jobs/{id}` | tenant | … |" of the
// section "## Endpoints".
std::map<std::string, std::string> DocumentedRoutes(const std::string& markdown) {
  std::map<std::string, std::string> out;
  std::istringstream lines(markdown);
  const std::regex row(R"(^\| `([A-Z]+ /[^`]*)` \| ([a-z]+) \|)");
  bool in_section = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("## ")) in_section = line == "## Endpoints";
    std::smatch m;
    if (in_section && std::regex_search(line, m, row)) {
      EXPECT_TRUE(out.emplace(m[1], m[2]).second) << "documented twice: " << m[1];
    }
  }
  return out;
}

TEST(ApiReferenceTest, EndpointsTableNamesEveryRouteWithItsAccess) {
  std::ifstream file(std::string(SLUICE_SOURCE_DIR) + "/docs/API.md");
  ASSERT_TRUE(file) << "docs/API.md is missing";
  std::stringstream text;
  text << file.rdbuf();
  std::map<std::string, std::string> documented = DocumentedRoutes(text.str());
  ASSERT_FALSE(documented.empty()) << "no rows in docs/API.md's ## Endpoints table";

  testing::ApiTestServer server;
  std::vector<RouteInfo> routes = server.router().routes();
  // The admin routes exist once authentication is configured ([auth]); registering them only
  // names them.
  Router admin;
  AddAdminRoutes(server.ctx(), admin);
  for (RouteInfo& r : admin.routes()) routes.push_back(std::move(r));

  for (const RouteInfo& r : routes) {
    const std::string name = r.method + " " + r.pattern;
    auto it = documented.find(name);
    if (it == documented.end()) {
      ADD_FAILURE() << "docs/API.md does not document " << name;
      continue;
    }
    EXPECT_EQ(it->second, AccessName(r.access)) << name;
    documented.erase(it);
  }
  for (const auto& [name, access] : documented) {
    ADD_FAILURE() << "docs/API.md documents " << name << ", which no route serves";
  }
}

}  // namespace
}  // namespace sluice
