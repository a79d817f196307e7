#include "tasks/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "tasks/prompt.h"
#include "tasks/test_util.h"

namespace sluice {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using testing::ScratchDir;

// A minimal valid schema and task file, for cases that break one thing at a time.
constexpr const char* kScoreSchema = R"({
  "type": "object",
  "properties": {"label": {"type": "string"}, "confidence": {"type": "number"}},
  "required": ["label", "confidence"],
  "additionalProperties": false
})";

TEST(RegistryTest, LoadsTheBundledTaskTypes) {
  auto reg = TaskRegistry::Load(testing::BundledTasksDir());
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_EQ(reg->names(),
            (std::vector<std::string>{"classify_ticket", "extract_fields", "summarize"}));
  EXPECT_EQ(reg->find("no_such_task"), nullptr);

  const TaskType* classify = reg->find("classify_ticket");
  ASSERT_NE(classify, nullptr);
  EXPECT_EQ(classify->queue, "default");
  EXPECT_EQ(classify->model, "fast");
  EXPECT_EQ(classify->max_attempts, 3);
  EXPECT_EQ(classify->deadline_in, 10 * 60 * 1000);
  EXPECT_FALSE(classify->run_in.has_value());
  EXPECT_FALSE(classify->is_pipeline());
  ASSERT_EQ(classify->versions.size(), 2u);
  EXPECT_EQ(classify->versions[0].id, "v1");
  EXPECT_EQ(classify->current()->id, "v2");
  EXPECT_EQ(classify->find_version("v1"), &classify->versions[0]);
  EXPECT_EQ(classify->find_version("v3"), nullptr);

  const TaskVersion& v2 = *classify->current();
  EXPECT_EQ(v2.schema_name(), "ticket_class_v1");
  ASSERT_TRUE(v2.review.has_value());
  EXPECT_EQ(v2.review->field, "confidence");
  EXPECT_DOUBLE_EQ(v2.review->below, 0.6);
  EXPECT_TRUE(v2.mask_pii);
  EXPECT_EQ(v2.params.at("temperature"), json::value(0));
  EXPECT_EQ(json::parse(v2.params_json), json::value(v2.params));
  for (const char* category : {"double_charge", "missing_transfer", "early_repayment",
                               "card_blocked", "login_problem", "phone_change", "fraud", "other"}) {
    EXPECT_THAT(v2.system, HasSubstr(std::string("- ") + category + ":"));
  }

  EXPECT_EQ(reg->find("summarize")->deadline_in, 30 * 60 * 1000);
  EXPECT_EQ(reg->find("summarize")->current()->schema_name(), "summary_v1");
  EXPECT_EQ(reg->find("extract_fields")->deadline_in, 30 * 60 * 1000);
  EXPECT_EQ(reg->find("extract_fields")->current()->schema_name(), "contract_fields_v1");
}

TEST(RegistryTest, BundledVersionsRenderAndHaveDistinctFingerprints) {
  auto reg = TaskRegistry::Load(testing::BundledTasksDir());
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  std::set<std::string> fingerprints;
  for (const std::string& name : reg->names()) {
    for (const TaskVersion& v : reg->find(name)->versions) {
      RenderInput in;
      in.text = "Списали деньги дважды за одну покупку";
      auto body = BuildChatRequest(v, in);
      ASSERT_TRUE(body.ok()) << name << "/" << v.id << ": " << body.status().ToString();
      std::string user(body->at("messages").as_array().back().at("content").as_string());
      EXPECT_THAT(user, HasSubstr(in.text)) << name << "/" << v.id;
      EXPECT_TRUE(fingerprints.insert(v.fingerprint).second) << name << "/" << v.id;
    }
  }
}

TEST(RegistryTest, BundledSchemasAcceptRealisticAnswers) {
  auto reg = TaskRegistry::Load(testing::BundledTasksDir());
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  struct Case {
    const char* schema;
    const char* answer;
  } cases[] = {
      {"ticket_class_v1",
       R"({"category": "double_charge", "urgent": false, "confidence": 0.93,
           "summary": "The customer was charged twice for one purchase."})"},
      {"summary_v1",
       R"({"summary": "The customer asked about a blocked card; it was unblocked.",
           "key_points": ["card blocked after three wrong PINs", "unblocked on the call"],
           "sentiment": "positive"})"},
      {"contract_fields_v1",
       R"({"document_type": "receipt", "contract_number": null, "date": "2026-03-01",
           "parties": ["Coffee Ltd"], "total_amount": 4.5, "currency": "EUR", "email": null,
           "phone": null, "iban": null})"},
  };
  for (const Case& c : cases) {
    const ResponseSchema* schema = reg->find_schema(c.schema);
    ASSERT_NE(schema, nullptr) << c.schema;
    EXPECT_EQ(schema->name, c.schema);
    EXPECT_TRUE(schema->validator.Validate(json::parse(c.answer)).ok())
        << c.schema << ": " << schema->validator.Validate(json::parse(c.answer)).ToString();
  }
  EXPECT_EQ(reg->find_schema("no_such_schema"), nullptr);
}

TEST(RegistryTest, MissingDirIsNotFound) {
  auto reg = TaskRegistry::Load("/nonexistent/sluice/tasks");
  ASSERT_FALSE(reg.ok());
  EXPECT_EQ(reg.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(reg.status().message(), HasSubstr("/nonexistent/sluice/tasks"));
}

TEST(RegistryTest, EmptyDirLoadsNoTaskTypes) {
  ScratchDir dir;
  auto reg = TaskRegistry::Load(dir.path());
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_TRUE(reg->names().empty());
}

TEST(RegistryTest, MinimalTaskGetsDefaults) {
  ScratchDir dir;
  dir.Write("echo.toml", "name = \"echo\"\n[[version]]\nid = \"v1\"\nuser = \"{{text}}\"\n");
  auto reg = TaskRegistry::Load(dir.path());
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  const TaskType* echo = reg->find("echo");
  ASSERT_NE(echo, nullptr);
  EXPECT_EQ(echo->queue, "default");
  EXPECT_EQ(echo->max_attempts, 3);
  EXPECT_FALSE(echo->deadline_in.has_value());
  EXPECT_EQ(echo->model, "");
  const TaskVersion& v = *echo->current();
  EXPECT_EQ(v.schema, nullptr);
  EXPECT_EQ(v.schema_name(), "");
  EXPECT_EQ(v.system, "");
  EXPECT_TRUE(v.params.empty());
  EXPECT_EQ(v.params_json, "{}");
  EXPECT_FALSE(v.review.has_value());
  EXPECT_FALSE(v.mask_pii);
  EXPECT_FALSE(v.fingerprint.empty());
}

TEST(RegistryTest, ParamsKeepTomlTypes) {
  ScratchDir dir;
  dir.Write("p.toml", R"(name = "p"
[[version]]
id = "v1"
user = "{{text}}"
params = {temperature = 0.5, max_tokens = 300, stop = ["\n\n"], logit_bias = {"50256" = -100}, seed = 7, top_p = 1.0, logprobs = false}
)");
  auto reg = TaskRegistry::Load(dir.path());
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  const json::object& p = reg->find("p")->current()->params;
  EXPECT_EQ(p.at("temperature"), json::value(0.5));
  EXPECT_TRUE(p.at("max_tokens").is_int64());
  EXPECT_EQ(p.at("max_tokens"), json::value(300));
  EXPECT_EQ(p.at("stop"), json::parse(R"(["\n\n"])"));
  EXPECT_EQ(p.at("logit_bias"), json::parse(R"({"50256": -100})"));
  EXPECT_EQ(p.at("logprobs"), json::value(false));
}

TEST(RegistryTest, PipelineNamesPlainTaskTypes) {
  ScratchDir dir;
  dir.Write("a.toml", "name = \"a\"\n[[version]]\nid = \"v1\"\nuser = \"{{text}}\"\n");
  dir.Write("b.toml", "name = \"b\"\n[[version]]\nid = \"v1\"\nuser = \"{{text}}\"\n");
  dir.Write("ab.toml", "name = \"ab\"\nsteps = [\"a\", \"b\"]\n");
  auto reg = TaskRegistry::Load(dir.path());
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  const TaskType* ab = reg->find("ab");
  ASSERT_NE(ab, nullptr);
  EXPECT_TRUE(ab->is_pipeline());
  EXPECT_EQ(ab->steps, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ab->current(), nullptr);
}

// One malformed tasks dir: the file that breaks it, and what the error must say.
struct BadCase {
  const char* label;
  const char* file;  // relative to the tasks dir
  const char* text;
  std::vector<const char*> expected;  // substrings of the message
  const char* other_file = nullptr;   // a second file the case needs, if any
  const char* other_text = nullptr;
};

class RegistryErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(RegistryErrorTest, NamesTheFileAndTheKey) {
  const BadCase& c = GetParam();
  ScratchDir dir;
  dir.Write("schemas/score_v1.json", kScoreSchema);
  dir.Write("good.toml", "name = \"good\"\n[[version]]\nid = \"v1\"\nuser = \"{{text}}\"\n");
  dir.Write(c.file, c.text);
  if (c.other_file != nullptr) dir.Write(c.other_file, c.other_text);
  auto reg = TaskRegistry::Load(dir.path());
  ASSERT_FALSE(reg.ok()) << c.label;
  EXPECT_EQ(reg.status().code(), StatusCode::kInvalidArgument) << c.label;
  EXPECT_THAT(reg.status().message(), HasSubstr(dir.path() + "/" + c.file)) << c.label;
  for (const char* part : c.expected) {
    EXPECT_THAT(reg.status().message(), HasSubstr(part)) << c.label;
  }
}

INSTANTIATE_TEST_SUITE_P(
    MalformedFiles, RegistryErrorTest,
    ::testing::Values(
        BadCase{"missing name",
                "bad.toml",
                "queue = \"default\"\n[[version]]\nid = \"v1\"\nuser = \"x\"\n",
                {"name: missing"}},
        BadCase{"name differs from file",
                "bad.toml",
                "name = \"other\"\n[[version]]\nid = \"v1\"\nuser = \"x\"\n",
                {"bad.toml:1: name:", "must equal the file name 'bad'"}},
        BadCase{"reserved name",
                "chat.toml",
                "name = \"chat\"\n[[version]]\nid = \"v1\"\nuser = \"x\"\n",
                {"name:", "reserved"}},
        BadCase{"no versions",
                "bad.toml",
                "name = \"bad\"\nqueue = \"default\"\n",
                {"version: no versions"}},
        BadCase{"version not an array of tables",
                "bad.toml",
                "name = \"bad\"\nversion = \"v1\"\n",
                {"bad.toml:2: version:", "array of tables"}},
        BadCase{"duplicate version id",
                "bad.toml",
                "name = \"bad\"\n[[version]]\nid = \"v1\"\nuser = \"a\"\n[[version]]\nid = "
                "\"v1\"\nuser = \"b\"\n",
                {"bad.toml:6: version[2].id:", "duplicate version id 'v1' (also version[1])"}},
        BadCase{"version without id",
                "bad.toml",
                "name = \"bad\"\n[[version]]\nuser = \"a\"\n",
                {"version[1].id: missing"}},
        BadCase{"invalid version id",
                "bad.toml",
                "name = \"bad\"\n[[version]]\nid = \"v/1\"\nuser = \"a\"\n",
                {"version[1].id:", "not a valid id"}},
        BadCase{"version without user",
                "bad.toml",
                "name = \"bad\"\n[[version]]\nid = \"v1\"\nsystem = \"s\"\n",
                {"version[1].user: missing"}},
        BadCase{"unknown schema",
                "bad.toml",
                "name = \"bad\"\n[[version]]\nid = \"v1\"\nuser = \"x\"\nschema = \"nope_v1\"\n",
                {"bad.toml:5: version[1].schema:", "unknown schema 'nope_v1'"}},
        BadCase{"bad duration",
                "bad.toml",
                "name = \"bad\"\ndeadline_in = \"ten minutes\"\n[[version]]\nid = \"v1\"\nuser = "
                "\"x\"\n",
                {"bad.toml:2: deadline_in:"}},
        BadCase{"duration not a string",
                "bad.toml",
                "name = \"bad\"\nrun_in = 30\n[[version]]\nid = \"v1\"\nuser = \"x\"\n",
                {"run_in:", "duration"}},
        BadCase{"zero deadline",
                "bad.toml",
                "name = \"bad\"\ndeadline_in = \"0s\"\n[[version]]\nid = \"v1\"\nuser = \"x\"\n",
                {"deadline_in:", "longer than zero"}},
        BadCase{"unknown top-level key",
                "bad.toml",
                "name = \"bad\"\nqueeu = \"urgent\"\n[[version]]\nid = \"v1\"\nuser = \"x\"\n",
                {"bad.toml:2: queeu: unknown key"}},
        BadCase{"unknown version key",
                "bad.toml",
                "name = \"bad\"\n[[version]]\nid = \"v1\"\nuser = \"x\"\ntemprature = 0\n",
                {"bad.toml:5: version[1].temprature: unknown key"}},
        BadCase{"unknown review key",
                "bad.toml",
                "name = \"bad\"\n[[version]]\nid = \"v1\"\nuser = \"x\"\nschema = \"score_v1\"\n"
                "review = {field = \"confidence\", below = 0.5, above = 0.9}\n",
                {"version[1].review.above: unknown key"}},
        BadCase{"wrong type",
                "bad.toml",
                "name = \"bad\"\nmax_attempts = \"3\"\n[[version]]\nid = \"v1\"\nuser = \"x\"\n",
                {"max_attempts:", "integer from 1 to 100"}},
        BadCase{"max_attempts out of range",
                "bad.toml",
                "name = \"bad\"\nmax_attempts = 0\n[[version]]\nid = \"v1\"\nuser = \"x\"\n",
                {"max_attempts:"}},
        BadCase{"mask_pii not a bool",
                "bad.toml",
                "name = \"bad\"\n[[version]]\nid = \"v1\"\nuser = \"x\"\nmask_pii = \"yes\"\n",
                {"version[1].mask_pii:", "true or false"}},
        BadCase{"not TOML",
                "bad.toml",
                "name = \"bad\"\n[[version]\nid = 1\n",
                {"bad.toml:2:", "not valid TOML"}},
        BadCase{"unclosed tag",
                "bad.toml",
                "name = \"bad\"\n[[version]]\nid = \"v1\"\nuser = \"{{text\"\n",
                {"bad.toml:4: version[1].user:", "unclosed"}},
        BadCase{"unknown variable",
                "bad.toml",
                "name = \"bad\"\n[[version]]\nid = \"v1\"\nuser = \"{{txt}}\"\n",
                {"version[1].user:", "{{txt}}"}},
        BadCase{
            "reserved param",
            "bad.toml",
            "name = \"bad\"\n[[version]]\nid = \"v1\"\nuser = \"x\"\nparams = {model = \"gpt\"}\n",
            {"version[1].params.model:"}},
        BadCase{"review without schema",
                "bad.toml",
                "name = \"bad\"\n[[version]]\nid = \"v1\"\nuser = \"x\"\nreview = {field = "
                "\"confidence\", below = 0.5}\n",
                {"version[1].review:", "needs a schema"}},
        BadCase{"review on a field the schema lacks",
                "bad.toml",
                "name = \"bad\"\n[[version]]\nid = \"v1\"\nuser = \"x\"\nschema = \"score_v1\"\n"
                "review = {field = \"certainty\", below = 0.5}\n",
                {"version[1].review.field:", "no property 'certainty'"}},
        BadCase{"review without below",
                "bad.toml",
                "name = \"bad\"\n[[version]]\nid = \"v1\"\nuser = \"x\"\nschema = \"score_v1\"\n"
                "review = {field = \"confidence\"}\n",
                {"version[1].review.below: missing"}},
        BadCase{"schema not JSON",
                "schemas/broken_v1.json",
                "{\n  \"type\": \"object\",\n  \"properties\": {,}\n}\n",
                {"broken_v1.json:3:", "not valid JSON"}},
        BadCase{"schema not an object", "schemas/broken_v1.json", "[1, 2]", {"must be an object"}},
        BadCase{"schema invalid",
                "schemas/broken_v1.json",
                R"({"type": "object", "required": 7})",
                {"invalid JSON Schema"}},
        BadCase{"unknown pipeline step",
                "bad.toml",
                "name = \"bad\"\nsteps = [\"good\", \"missing\"]\n",
                {"steps: unknown task type 'missing'"}},
        BadCase{"nested pipeline",
                "bad.toml",
                "name = \"bad\"\nsteps = [\"inner\"]\n",
                {"'inner' is itself a pipeline"},
                "inner.toml",
                "name = \"inner\"\nsteps = [\"good\"]\n"},
        BadCase{"steps and versions",
                "bad.toml",
                "name = \"bad\"\nsteps = [\"good\"]\n[[version]]\nid = \"v1\"\nuser = \"x\"\n",
                {"steps:", "not both"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      std::string name;
      for (char c : std::string(info.param.label))
        name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name;
    });

}  // namespace
}  // namespace sluice
