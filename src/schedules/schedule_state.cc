#include "schedules/schedule_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

namespace sluice {

namespace json = boost::json;

Status ScheduleState::Load() {
  last_fire_.clear();
  std::ifstream in(path_);
  if (!in) return Status::Ok();
  std::stringstream buf;
  buf << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(buf.str(), ec);
  auto bad = [&] { return InvalidArgument("schedule state " + path_ + " is malformed (move it away to start afresh)"); };
  if (ec || !v.is_object()) return bad();
  const json::value* fires = v.as_object().if_contains("last_fire");
  if (!fires || !fires->is_object()) return bad();
  for (const auto& [name, at] : fires->as_object()) {
    if (!at.is_string()) return bad();
    auto t = ParseRfc3339(at.as_string());
    if (!t.ok()) return bad();
    last_fire_[std::string(name)] = *t;
  }
  return Status::Ok();
}

Status ScheduleState::set_last_fire(const std::string& name, Millis at) {
  last_fire_[name] = at;
  json::object fires;
  for (const auto& [n, t] : last_fire_) fires[n] = FormatRfc3339(t);
  const std::string text = json::serialize(json::object{{"version", 1}, {"last_fire", std::move(fires)}}) + "\n";
  const std::string tmp = path_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable("cannot write " + tmp + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    return Unavailable("cannot write " + path_ + ": " + std::strerror(ok ? errno : err));
  }
  return Status::Ok();
}

}  // namespace sluice
