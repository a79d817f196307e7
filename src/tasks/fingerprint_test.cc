#include "tasks/fingerprint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "tasks/registry.h"
#include "tasks/test_util.h"

namespace sluice {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ScratchDir;

TEST(Fnv1a64Test, MatchesTheReferenceVectors) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TaskVersion Sample() {
  TaskVersion v;
  v.id = "v1";
  v.system = "You sort tickets.";
  v.user = "Ticket: {{text}}";
  v.params = json::parse(R"({"temperature": 0})").as_object();
  json::value doc =
      json::parse(R"({"type": "object", "properties": {"confidence": {"type": "number"}}})");
  v.schema = std::make_shared<const ResponseSchema>(
      ResponseSchema{"s_v1", doc, *SchemaValidator::Compile(doc)});
  v.review = ReviewRule{"confidence", 0.6};
  return v;
}

TEST(VersionFingerprintTest, IsPinned) {
  // Fingerprints are stored: this value may never change (see fingerprint.h before editing).
  EXPECT_EQ(VersionFingerprint(Sample()), "f1:aa477b4e64901382");
}

TEST(VersionFingerprintTest, IsStableAndIgnoresTheIdAndItself) {
  TaskVersion a = Sample();
  TaskVersion b = Sample();
  b.id = "v7";
  b.fingerprint = "f1:whatever";
  EXPECT_EQ(VersionFingerprint(a), VersionFingerprint(b));
  EXPECT_EQ(VersionFingerprint(a).substr(0, 3), "f1:");
  EXPECT_EQ(VersionFingerprint(a).size(), 3u + 16u);
}

TEST(VersionFingerprintTest, ChangesWithAnyContent) {
  const std::string base = VersionFingerprint(Sample());
  auto differs = [&](auto edit) {
    TaskVersion v = Sample();
    edit(v);
    return VersionFingerprint(v) != base;
  };
  EXPECT_TRUE(differs([](TaskVersion& v) { v.system += " "; }));
  EXPECT_TRUE(differs([](TaskVersion& v) { v.user = "Ticket:  {{text}}"; }));
  EXPECT_TRUE(differs([](TaskVersion& v) { v.params["temperature"] = 0.1; }));
  EXPECT_TRUE(differs([](TaskVersion& v) { v.params["max_tokens"] = 10; }));
  EXPECT_TRUE(differs([](TaskVersion& v) { v.review->below = 0.5; }));
  EXPECT_TRUE(differs([](TaskVersion& v) { v.review.reset(); }));
  EXPECT_TRUE(differs([](TaskVersion& v) { v.mask_pii = true; }));
  EXPECT_TRUE(differs([](TaskVersion& v) { v.schema = nullptr; }));
  EXPECT_TRUE(differs([](TaskVersion& v) {
    json::value doc =
        json::parse(R"({"type": "object", "properties": {"confidence": {"type": "integer"}}})");
    v.schema = std::make_shared<const ResponseSchema>(
        ResponseSchema{"s_v1", doc, *SchemaValidator::Compile(doc)});
  }));
  // Text moved from one template to the other is a different prompt.
  EXPECT_TRUE(differs([](TaskVersion& v) {
    v.system = "You sort tickets.Ticket: ";
    v.user = "{{text}}";
  }));
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(FingerprintsTest, SameFilesGiveSameFingerprints) {
  auto a = TaskRegistry::Load(testing::BundledTasksDir());
  auto b = TaskRegistry::Load(testing::BundledTasksDir());
  ASSERT_TRUE(a.ok() && b.ok());
  auto fa = Fingerprints(*a);
  EXPECT_EQ(fa, Fingerprints(*b));
  EXPECT_EQ(fa.count("classify_ticket/v1"), 1u);
  EXPECT_EQ(fa.count("classify_ticket/v2"), 1u);
  EXPECT_EQ(fa.size(), 4u);  // classify v1, v2; summarize v1; extract_fields v1
}

TEST(FingerprintsTest, EditingOneVersionChangesOnlyItsFingerprint) {
  ScratchDir dir;
  dir.CopyFrom(testing::BundledTasksDir());
  auto before = TaskRegistry::Load(dir.path());
  ASSERT_TRUE(before.ok()) << before.status().ToString();

  std::string file = dir.path() + "/classify_ticket.toml";
  std::string text = ReadAll(file);
  size_t at = text.find("Ticket:\n{{text}}");  // v1's user template
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 7, "Ticket text:");
  dir.Write("classify_ticket.toml", text);
  auto after = TaskRegistry::Load(dir.path());
  ASSERT_TRUE(after.ok()) << after.status().ToString();

  auto fb = Fingerprints(*before);
  auto fa = Fingerprints(*after);
  EXPECT_NE(fa["classify_ticket/v1"], fb["classify_ticket/v1"]);
  EXPECT_EQ(fa["classify_ticket/v2"], fb["classify_ticket/v2"]);
  EXPECT_EQ(fa["summarize/v1"], fb["summarize/v1"]);

  Status s = CheckFingerprints(*after, fb);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("classify_ticket/v1 was edited after use"));
  EXPECT_THAT(s.message(), Not(HasSubstr("classify_ticket/v2")));
}

TEST(FingerprintsTest, ReformattingASchemaFileIsNotAnEdit) {
  ScratchDir dir;
  dir.CopyFrom(testing::BundledTasksDir());
  auto before = TaskRegistry::Load(dir.path());
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  std::string schema = ReadAll(dir.path() + "/schemas/summary_v1.json");
  dir.Write("schemas/summary_v1.json", json::serialize(json::parse(schema)));
  auto after = TaskRegistry::Load(dir.path());
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(CheckFingerprints(*after, Fingerprints(*before)).ok());
}

TEST(CheckFingerprintsTest, AcceptsMatchingAndNewVersions) {
  auto reg = TaskRegistry::Load(testing::BundledTasksDir());
  ASSERT_TRUE(reg.ok());
  EXPECT_TRUE(CheckFingerprints(*reg, {}).ok());
  EXPECT_TRUE(CheckFingerprints(*reg, Fingerprints(*reg)).ok());
  auto only_v1 = Fingerprints(*reg);
  only_v1.erase("classify_ticket/v2");  // v2 never used yet: fine
  EXPECT_TRUE(CheckFingerprints(*reg, only_v1).ok());
}

TEST(CheckFingerprintsTest, NamesChangedAndVanishedVersions) {
  auto reg = TaskRegistry::Load(testing::BundledTasksDir());
  ASSERT_TRUE(reg.ok());
  auto recorded = Fingerprints(*reg);
  recorded["summarize/v1"] = "f1:0000000000000000";
  recorded["classify_ticket/v0"] = "f1:1111111111111111";
  recorded["retired_task/v1"] = "f1:2222222222222222";
  Status s = CheckFingerprints(*reg, recorded);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("summarize/v1 was edited after use"));
  EXPECT_THAT(s.message(), HasSubstr("classify_ticket/v0 was used but is no longer defined"));
  EXPECT_THAT(s.message(), HasSubstr("retired_task/v1 was used but is no longer defined"));
  EXPECT_THAT(s.message(), Not(HasSubstr("classify_ticket/v1")));
}

}  // namespace
}  // namespace sluice
