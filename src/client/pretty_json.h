// JSON for people: two-space indentation, keys in their order (Boost.JSON 1.81 prints compact only).
#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace sluice::client {

std::string PrettyJson(const boost::json::value& value);

}  // namespace sluice::client
