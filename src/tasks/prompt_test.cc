#include "tasks/prompt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sluice {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

json::object Vars(const char* text) {
  return json::parse(text).as_object();
}

TEST(RenderTemplateTest, SubstitutesVariables) {
  auto out = RenderTemplate("Ticket {{object_id}}: {{text}}",
                            Vars(R"({"text": "card blocked", "object_id": "t-1"})"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "Ticket t-1: card blocked");
}

TEST(RenderTemplateTest, AllowsSpacesInsideTags) {
  auto out = RenderTemplate("[{{ text }}] [{{text  }}]", Vars(R"({"text": "x"})"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "[x] [x]");
}

TEST(RenderTemplateTest, FollowsDottedPathsIntoNestedObjects) {
  auto out =
      RenderTemplate("{{metadata.customer.tier}} / {{metadata.channel}}",
                     Vars(R"({"metadata": {"customer": {"tier": "gold"}, "channel": "app"}})"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "gold / app");
}

TEST(RenderTemplateTest, InsertsNonStringsAsJson) {
  auto out = RenderTemplate(
      "{{metadata.n}} {{metadata.x}} {{metadata.ok}} {{metadata.none}} {{metadata.list}} "
      "{{metadata.obj}}",
      Vars(R"({"metadata": {"n": 42, "x": 0.5, "ok": true, "none": null, "list": [1, "a", 2.25],
               "obj": {"k": "v\"q"}}})"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, R"(42 0.5 true null [1,"a",2.25] {"k":"v\"q"})");
}

TEST(RenderTemplateTest, MissingVariableIsNamed) {
  auto out = RenderTemplate("{{text}} for {{metadata.customer}}",
                            Vars(R"({"text": "x", "metadata": {}})"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("'metadata.customer'"));
  EXPECT_EQ(out.status().field(), "metadata.customer");
}

TEST(RenderTemplateTest, MissingTextPointsAtTheInputField) {
  auto out = RenderTemplate("{{text}}", json::object{});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("'text'"));
  EXPECT_EQ(out.status().field(), "input.text");
}

TEST(RenderTemplateTest, PathThroughANonObjectIsMissing) {
  auto out = RenderTemplate("{{metadata.tier.name}}", Vars(R"({"metadata": {"tier": "gold"}})"));
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("'metadata.tier.name'"));
}

TEST(RenderTemplateTest, SingleBracesAreLiteral) {
  auto out = RenderTemplate(R"(Answer like {"category": "fraud"} or {}. Input: {{text}} })",
                            Vars(R"({"text": "t"})"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, R"(Answer like {"category": "fraud"} or {}. Input: t })");
}

TEST(RenderTemplateTest, ValuesAreNotExpandedAgain) {
  auto out = RenderTemplate(
      "A: {{text}} B: {{metadata.m}}",
      Vars(R"({"text": "ignore {{metadata.m}} and {{", "metadata": {"m": "{{text}}"}})"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "A: ignore {{metadata.m}} and {{ B: {{text}}");
}

TEST(RenderTemplateTest, KeepsUnicodeIntact) {
  auto out = RenderTemplate("Обращение «{{text}}» — ok ✅",
                            Vars(R"({"text": "Списали деньги дважды 💳 €12,50"})"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "Обращение «Списали деньги дважды 💳 €12,50» — ok ✅");
}

TEST(RenderTemplateTest, AdjacentTagsAndEdges) {
  auto out = RenderTemplate("{{text}}{{text}}", Vars(R"({"text": "ab"})"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "abab");
  auto empty = RenderTemplate("", json::object{});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST(RenderTemplateTest, MalformedTagsAreErrors) {
  for (const char* tmpl : {"{{text", "x {{ }}", "{{a b}}", "{{.text}}", "{{text.}}",
                           "{{metadata..x}}", "{{{text}}}", "{{te\nxt}}"}) {
    auto out = RenderTemplate(tmpl, Vars(R"({"text": "x"})"));
    EXPECT_FALSE(out.ok()) << tmpl;
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument) << tmpl;
  }
  auto unclosed = RenderTemplate("ok {{text", json::object{});
  EXPECT_THAT(unclosed.status().message(), HasSubstr("unclosed '{{' at offset 3"));
}

TEST(TemplateVariablesTest, ListsVariablesAndRejectsUnknownRoots) {
  auto vars = TemplateVariables("{{text}} {{ object_id }} {{metadata.a.b}}");
  ASSERT_TRUE(vars.ok()) << vars.status().ToString();
  EXPECT_EQ(*vars, (std::vector<std::string>{"text", "object_id", "metadata.a.b"}));
  auto unknown = TemplateVariables("{{text}} {{input.x}}");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("{{input.x}}"));
}

// A version as the registry would build it, without files.
TaskVersion MakeVersion(bool with_schema) {
  TaskVersion v;
  v.id = "v1";
  v.system = "You sort tickets for {{metadata.bank}}.";
  v.user = "Ticket:\n{{text}}";
  v.params = json::parse(R"({"temperature": 0, "max_tokens": 300})").as_object();
  if (with_schema) {
    json::value doc =
        json::parse(R"({"type": "object", "properties": {"category": {"type": "string"}},
                                       "required": ["category"], "additionalProperties": false})");
    auto validator = SchemaValidator::Compile(doc);
    CHECK(validator.ok());
    v.schema = std::make_shared<const ResponseSchema>(ResponseSchema{"ticket_v1", doc, *validator});
  }
  return v;
}

TEST(BuildChatRequestTest, BuildsTheOpenAiBody) {
  RenderInput in;
  in.text = "charged twice";
  in.metadata = Vars(R"({"bank": "Acme"})");
  in.model = "gpt-4o-mini";
  auto body = BuildChatRequest(MakeVersion(true), in);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(json::value(*body), json::parse(R"({
    "model": "gpt-4o-mini",
    "messages": [{"role": "system", "content": "You sort tickets for Acme."},
                 {"role": "user", "content": "Ticket:\ncharged twice"}],
    "temperature": 0,
    "max_tokens": 300,
    "response_format": {"type": "json_schema", "json_schema": {"name": "ticket_v1", "strict": true,
      "schema": {"type": "object", "properties": {"category": {"type": "string"}},
                 "required": ["category"], "additionalProperties": false}}}
  })"));
}

TEST(BuildChatRequestTest, JobParamsOverrideVersionParams) {
  RenderInput in;
  in.text = "t";
  in.metadata = Vars(R"({"bank": "Acme"})");
  in.params = Vars(R"({"temperature": 0.7, "seed": 1})");
  auto body = BuildChatRequest(MakeVersion(false), in);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body->at("temperature"), json::value(0.7));
  EXPECT_EQ(body->at("max_tokens"), json::value(300));
  EXPECT_EQ(body->at("seed"), json::value(1));
}

TEST(BuildChatRequestTest, LeavesOutWhatIsNotThere) {
  TaskVersion v = MakeVersion(false);
  v.system.clear();
  RenderInput in;
  in.text = "t";
  auto body = BuildChatRequest(v, in);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_FALSE(body->contains("model"));
  EXPECT_FALSE(body->contains("response_format"));
  ASSERT_EQ(body->at("messages").as_array().size(), 1u);
  EXPECT_EQ(body->at("messages").as_array()[0].at("role"), "user");
}

TEST(BuildChatRequestTest, JobSchemaOverridesTheVersions) {
  json::value doc = json::parse(R"({"type": "object"})");
  ResponseSchema other{"other_v2", doc, *SchemaValidator::Compile(doc)};
  RenderInput in;
  in.text = "t";
  in.metadata = Vars(R"({"bank": "Acme"})");
  in.schema = &other;
  auto body = BuildChatRequest(MakeVersion(true), in);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  const json::value& js = body->at("response_format").at("json_schema");
  EXPECT_EQ(js.at("name"), "other_v2");
  EXPECT_EQ(js.at("schema"), doc);
}

TEST(BuildChatRequestTest, RejectsReservedJobParams) {
  for (const char* key :
       {"model", "messages", "response_format", "stream", "stream_options", "tools", "tool_choice",
        "parallel_tool_calls", "functions", "function_call", "modalities", "audio", "service_tier",
        "web_search_options", "store", "metadata"}) {
    RenderInput in;
    in.text = "t";
    in.metadata = Vars(R"({"bank": "Acme"})");
    in.params[key] = 1;
    auto body = BuildChatRequest(MakeVersion(false), in);
    ASSERT_FALSE(body.ok()) << key;
    EXPECT_EQ(body.status().field(), std::string("params.") + key);
  }
}

TEST(BuildChatRequestTest, MissingVariableFails) {
  RenderInput in;
  in.text = "t";  // no metadata.bank for the system template
  auto body = BuildChatRequest(MakeVersion(false), in);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().field(), "metadata.bank");
}

TEST(BuildChatRequestTest, ObjectIdIsAVariableOnlyWhenSet) {
  TaskVersion v = MakeVersion(false);
  v.system.clear();
  v.user = "{{object_id}}: {{text}}";
  RenderInput in;
  in.text = "t";
  EXPECT_FALSE(BuildChatRequest(v, in).ok());
  in.object_id = "ticket-1";
  auto body = BuildChatRequest(v, in);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body->at("messages").as_array()[0].at("content"), "ticket-1: t");
}

}  // namespace
}  // namespace sluice
