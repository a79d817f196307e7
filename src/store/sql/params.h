// The parameters of one statement, $1, $2, ... in the order they are added. Values are copied,
// so a Params may be built from temporaries; an engine binds from it (sql/session.h) and keeps
// it alive for as long as the statement's rows are read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/sql/row.h"

namespace sluice::sql {

class Params final : public ValueSink {
 public:
  struct Value {
    enum Kind { kNull, kInteger, kReal, kText, kBytes } kind = kNull;
    std::int64_t integer = 0;
    double real = 0;
    std::string text;  // kText and kBytes
  };

  Params& add(std::string_view value) {
    text(value);
    return *this;
  }
  Params& add(const char* value) { return add(std::string_view(value)); }
  Params& add(const std::string& value) { return add(std::string_view(value)); }
  Params& add(std::int64_t value) {
    integer(value);
    return *this;
  }
  Params& add(int value) { return add(static_cast<std::int64_t>(value)); }
  Params& add(double value) {
    real(value);
    return *this;
  }
  Params& add(const std::optional<std::int64_t>& value) {
    integer(value);
    return *this;
  }
  Params& add_bytes(std::string_view value) {
    bytes(value);
    return *this;
  }
  Params& add_null() {
    null();
    return *this;
  }

  void text(std::string_view value) override {
    values_.push_back({.kind = Value::kText, .text = std::string(value)});
  }
  void bytes(std::string_view value) override {
    values_.push_back({.kind = Value::kBytes, .text = std::string(value)});
  }
  void integer(std::int64_t value) override {
    values_.push_back({.kind = Value::kInteger, .integer = value});
  }
  void real(double value) override { values_.push_back({.kind = Value::kReal, .real = value}); }
  void null() override { values_.push_back({}); }
  using ValueSink::integer;
  using ValueSink::real;

  const std::vector<Value>& values() const { return values_; }

 private:
  std::vector<Value> values_;
};

}  // namespace sluice::sql
