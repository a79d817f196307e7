// Prompt templates (tasks/prompt.cc): TemplateVariables and RenderTemplate over arbitrary
// template text and variables. The input is a JSON object of variables (a job's text,
// object_id and metadata), a newline, then the template. A template whose variables were all
// well formed renders or names a missing variable, and text without tags renders as itself.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tasks/prompt.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  boost::system::error_code ec;
  boost::json::value vars = boost::json::parse(input.substr(0, newline), ec);
  if (ec || !vars.is_object()) vars = boost::json::object{};
  const std::string_view tmpl = input.substr(newline + 1);
  auto names = sluice::TemplateVariables(tmpl);
  auto rendered = sluice::RenderTemplate(tmpl, vars.as_object());
  if (names.ok() && !rendered.ok() &&
      !rendered.status().message().starts_with("missing template variable")) {
    __builtin_trap();
  }
  if (rendered.ok() && tmpl.find("{{") == std::string_view::npos && *rendered != tmpl) {
    __builtin_trap();
  }
  return 0;
}
