// JSON values as text for people and prompts. Boost.JSON writes doubles in exponent form
// (0.5 -> "5E-1"), which reads badly in an error message and worse inside a prompt; this
// writes compact JSON with every double in its shortest round-trip decimal form ("0.5").
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace sluice {

std::string JsonText(const boost::json::value& value);

}  // namespace sluice
