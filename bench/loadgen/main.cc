// loadgen: an open-loop HTTP/1.1 load generator for loopback benchmarks.
//
//   loadgen --rate 1000 --duration 20 --warmup 2
//           --target direct http://127.0.0.1:9001/v1/chat/completions direct.json
//           --target sluice http://127.0.0.1:8080/v1/chat/completions sluice.json
//
// Each target gets POSTs of its body file at a fixed rate (open loop: request i of a target is
// due at t0 + i/rate whatever happened to the ones before; targets are interleaved, target k
// offset by k/(K*rate)), over keep-alive connections: an idle connection is reused, else a new
// one is opened (up to --max-conns per target), else the request waits for the first connection
// to come free. One thread, epoll, a timerfd with absolute deadlines (ns resolution).
//
// Prints one JSON object: per target, counts, status codes, latency in microseconds measured
// from the first byte written to the last byte of the answer ("latency_us") and from the due
// time ("from_due_us": adds any wait for a connection or for the generator itself), the send lag
// (due -> write), and the values of --watch-header (e.g. X-Sluice-Overhead-Ms) as numbers.
// Requests due during --warmup are sent but left out of the figures.
//
// --closed N: closed loop instead: N keep-alive connections per target, each sending its next
// request as soon as the previous answer is complete, for --duration seconds (throughput at a
// fixed number of clients; --rate is not used; "due" is then the moment of sending).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "latency_summary.h"
#include "response_parser.h"

namespace loadgen {
namespace {

std::int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "loadgen: %s\n", why.c_str());
  std::exit(2);
}

struct Record {
  std::int64_t due = 0;
  std::int64_t sent = 0;   // first byte written; 0: not yet
  std::int64_t done = 0;   // answer complete; 0: not yet
  int status = 0;          // 0: transport error or no answer
  double watched = NAN;    // the watched header as a number, if it came
};

struct Target;

struct Connection {
  int fd = -1;
  Target* target = nullptr;
  bool connected = false;
  int request = -1;            // index into target->records; -1: idle
  std::size_t written = 0;     // bytes of the request written
  bool want_out = false;       // EPOLLOUT registered
  bool closed = false;         // closed, deleted after the current batch of events
  ResponseParser parser;
};

struct Target {
  std::string name, host, path;
  int port = 0;
  std::string request;                     // the whole HTTP request, bytes
  std::vector<Record> records;
  std::vector<Connection*> idle;
  std::deque<int> waiting;                 // due requests with no connection yet
  int open = 0;
  int opened_total = 0;
  int transport_errors = 0;
  std::map<std::string, int> errors;       // reason -> count
};

struct Options {
  double rate = 1000;          // per target, requests/s
  double duration = 20;        // s of sending, warmup included
  double warmup = 2;           // s at the start left out of the figures
  double timeout = 5;          // s to wait for the last answers
  int max_conns = 64;          // per target
  int preconnect = 4;          // per target, opened before t0
  std::string watch_header;    // kept per answer, parsed as a number
  std::vector<std::string> extra_headers;
  int closed = 0;              // > 0: closed loop with this many connections per target
};

class Generator {
 public:
  Generator(Options o, std::vector<std::unique_ptr<Target>> targets)
      : o_(std::move(o)), targets_(std::move(targets)) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (epoll_ < 0 || timer_ < 0) Die("epoll/timerfd: " + std::string(strerror(errno)));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the timer
    epoll_ctl(epoll_, EPOLL_CTL_ADD, timer_, &ev);
  }

  void run() {
    if (o_.closed > 0) return run_closed();
    per_target_ = static_cast<std::int64_t>(std::llround(o_.rate * o_.duration));
    preconnect();
    const std::int64_t t0 = NowNs() + 50'000'000;  // 50 ms to settle
    t0_ = t0;
    const double period_ns = 1e9 / o_.rate;
    const std::size_t k = targets_.size();
    for (std::size_t ti = 0; ti < k; ++ti) {
      Target& t = *targets_[ti];
      t.records.resize(static_cast<std::size_t>(per_target_));
      for (std::int64_t i = 0; i < per_target_; ++i) {
        double offset = (static_cast<double>(i) + static_cast<double>(ti) / static_cast<double>(k)) * period_ns;
        t.records[static_cast<std::size_t>(i)].due = t0 + static_cast<std::int64_t>(offset);
      }
    }
    total_ = per_target_ * static_cast<std::int64_t>(k);
    arm(due_of(0));
    const std::int64_t last_due = due_of(total_ - 1);
    const std::int64_t give_up = last_due + static_cast<std::int64_t>(o_.timeout * 1e9);
    epoll_event events[256];
    while (next_ < total_ || outstanding_ > 0) {
      std::int64_t now = NowNs();
      if (next_ >= total_ && now >= give_up) break;
      int wait_ms = next_ >= total_ ? static_cast<int>((give_up - now) / 1'000'000) + 1 : -1;
      int n = epoll_wait(epoll_, events, 256, wait_ms);
      if (n < 0 && errno != EINTR) Die("epoll_wait: " + std::string(strerror(errno)));
      for (int i = 0; i < n; ++i) {
        if (events[i].data.ptr == nullptr) {
          on_timer();
        } else {
          on_event(static_cast<Connection*>(events[i].data.ptr), events[i].events);
        }
      }
      bury();
    }
  }

  // Closed loop: every connection always has one request out until the duration is over.
  void run_closed() {
    o_.preconnect = o_.max_conns = o_.closed;
    preconnect();
    t0_ = NowNs();
    end_ = t0_ + static_cast<std::int64_t>(o_.duration * 1e9);
    for (auto& tp : targets_) {
      std::vector<Connection*> idle;
      idle.swap(tp->idle);
      for (Connection* c : idle) start_next(c);
    }
    const std::int64_t give_up = end_ + static_cast<std::int64_t>(o_.timeout * 1e9);
    epoll_event events[256];
    while (outstanding_ > 0) {
      std::int64_t now = NowNs();
      if (now >= give_up) break;
      int n = epoll_wait(epoll_, events, 256, static_cast<int>((give_up - now) / 1'000'000) + 1);
      if (n < 0 && errno != EINTR) Die("epoll_wait: " + std::string(strerror(errno)));
      for (int i = 0; i < n; ++i) {
        if (events[i].data.ptr != nullptr) on_event(static_cast<Connection*>(events[i].data.ptr), events[i].events);
      }
      bury();
    }
  }

  // Closed loop: a new request, due now, on `c`.
  void start_next(Connection* c) {
    Target& t = *c->target;
    t.records.emplace_back();
    t.records.back().due = NowNs();
    ++outstanding_;
    start(c, static_cast<int>(t.records.size() - 1));
  }

  void report() const {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    const std::int64_t warm_end = t0_ + static_cast<std::int64_t>(o_.warmup * 1e9);
    std::printf("{\"rate\": %.1f, \"closed\": %d, \"duration_s\": %.1f, \"warmup_s\": %.1f, \"loadgen_cpu_s\": %.3f, "
                "\"targets\": [",
                o_.rate, o_.closed, o_.duration, o_.warmup, cpu);
    for (std::size_t ti = 0; ti < targets_.size(); ++ti) {
      const Target& t = *targets_[ti];
      std::vector<double> latency, from_due, lag, watched;
      std::map<int, int> statuses;
      int measured = 0, unanswered = 0;
      std::int64_t first_due = 0, last_done = 0;
      for (const Record& r : t.records) {
        if (r.due < warm_end) continue;
        ++measured;
        if (first_due == 0) first_due = r.due;
        if (r.done == 0) {
          ++unanswered;
          continue;
        }
        last_done = std::max(last_done, r.done);
        ++statuses[r.status];
        if (r.status < 200 || r.status >= 300) continue;
        latency.push_back(static_cast<double>(r.done - r.sent) / 1000.0);
        from_due.push_back(static_cast<double>(r.done - r.due) / 1000.0);
        lag.push_back(static_cast<double>(r.sent - r.due) / 1000.0);
        if (!std::isnan(r.watched)) watched.push_back(r.watched);
      }
      std::ostringstream codes;
      bool first = true;
      for (auto [code, n] : statuses) {
        codes << (first ? "" : ", ") << "\"" << code << "\": " << n;
        first = false;
      }
      std::ostringstream errs;
      first = true;
      for (const auto& [why, n] : t.errors) {
        errs << (first ? "" : ", ") << "\"" << why << "\": " << n;
        first = false;
      }
      double achieved = last_done > first_due ? static_cast<double>(measured - unanswered) * 1e9 /
                                                    static_cast<double>(last_done - first_due)
                                              : 0.0;
      std::printf("%s\n  {\"name\": \"%s\", \"measured\": %d, \"ok\": %zu, \"unanswered\": %d, \"achieved_rate\": %.1f, "
                  "\"statuses\": {%s}, \"errors\": {%s}, \"connections_opened\": %d,\n   \"latency_us\": %s,\n"
                  "   \"from_due_us\": %s,\n   \"send_lag_us\": %s,\n   \"watched\": %s}",
                  ti ? "," : "", t.name.c_str(), measured, latency.size(), unanswered, achieved,
                  codes.str().c_str(), errs.str().c_str(), t.opened_total, SummaryJson(latency).c_str(),
                  SummaryJson(from_due).c_str(), SummaryJson(lag).c_str(), SummaryJson(watched).c_str());
    }
    std::printf("]}\n");
  }

 private:
  std::int64_t due_of(std::int64_t g) const {
    const std::size_t k = targets_.size();
    return targets_[static_cast<std::size_t>(g) % k]->records[static_cast<std::size_t>(g) / k].due;
  }

  void arm(std::int64_t at_ns) {
    itimerspec spec{};
    spec.it_value.tv_sec = at_ns / 1'000'000'000;
    spec.it_value.tv_nsec = at_ns % 1'000'000'000;
    timerfd_settime(timer_, TFD_TIMER_ABSTIME, &spec, nullptr);
  }

  void on_timer() {
    std::uint64_t expirations;
    [[maybe_unused]] auto r = read(timer_, &expirations, sizeof expirations);
    std::int64_t now = NowNs();
    const std::size_t k = targets_.size();
    while (next_ < total_ && due_of(next_) <= now) {
      Target& t = *targets_[static_cast<std::size_t>(next_) % k];
      dispatch(t, static_cast<int>(next_ / static_cast<std::int64_t>(k)));
      ++next_;
      ++outstanding_;
    }
    if (next_ < total_) arm(due_of(next_));
  }

  void dispatch(Target& t, int request) {
    if (!t.idle.empty()) {
      Connection* c = t.idle.back();
      t.idle.pop_back();
      start(c, request);
    } else if (t.open < o_.max_conns) {
      Connection* c = open_connection(t);
      if (c) c->request = request;  // sent once connected
    } else {
      t.waiting.push_back(request);
    }
  }

  Connection* open_connection(Target& t) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) Die("socket: " + std::string(strerror(errno)));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(t.port));
    if (inet_pton(AF_INET, t.host.c_str(), &addr.sin_addr) != 1) Die("not an IPv4 address: " + t.host);
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (rc < 0 && errno != EINPROGRESS) Die("connect " + t.host + ": " + strerror(errno));
    auto* c = new Connection;
    c->fd = fd;
    c->target = &t;
    c->want_out = true;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.ptr = c;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    ++t.open;
    ++t.opened_total;
    return c;
  }

  void preconnect() {
    for (auto& tp : targets_) {
      for (int i = 0; i < o_.preconnect && i < o_.max_conns; ++i) open_connection(*tp);
    }
    const std::int64_t deadline = NowNs() + 5'000'000'000;
    auto all_connected = [&] {
      for (auto& tp : targets_) {
        if (static_cast<int>(tp->idle.size()) < std::min(o_.preconnect, o_.max_conns)) return false;
      }
      return true;
    };
    epoll_event events[64];
    while (!all_connected()) {
      if (NowNs() > deadline) Die("could not open the first connections within 5 s");
      int n = epoll_wait(epoll_, events, 64, 100);
      for (int i = 0; i < n; ++i) {
        if (events[i].data.ptr) on_event(static_cast<Connection*>(events[i].data.ptr), events[i].events);
      }
      bury();
    }
  }

  void set_out(Connection* c, bool want) {
    if (c->want_out == want) return;
    c->want_out = want;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? static_cast<std::uint32_t>(EPOLLOUT) : 0u);
    ev.data.ptr = c;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c->fd, &ev);
  }

  void start(Connection* c, int request) {
    Target& t = *c->target;
    c->request = request;
    c->written = 0;
    c->parser.reset(o_.watch_header);
    t.records[static_cast<std::size_t>(request)].sent = NowNs();
    write_some(c);
  }

  void write_some(Connection* c) {
    const std::string& req = c->target->request;
    while (c->written < req.size()) {
      ssize_t n = write(c->fd, req.data() + c->written, req.size() - c->written);
      if (n > 0) {
        c->written += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EAGAIN) {
        set_out(c, true);
        return;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        return fail(c, std::string("write: ") + strerror(errno));
      }
    }
    set_out(c, false);
  }

  // Any handler below may close `c` (then c->closed; it is deleted after the batch).
  void on_event(Connection* c, std::uint32_t events) {
    if (c->closed) return;
    if (!c->connected) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return fail(c, std::string("connect: ") + strerror(err));
      c->connected = true;
      set_out(c, false);
      if (c->request >= 0) return start(c, c->request);
      return became_idle(c);
    }
    if (events & EPOLLOUT && c->request >= 0 && c->written < c->target->request.size()) write_some(c);
    if (!c->closed && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) read_some(c);
  }

  void read_some(Connection* c) {
    char buf[16384];
    for (;;) {
      ssize_t n = read(c->fd, buf, sizeof buf);
      if (n > 0) {
        if (c->request < 0) return fail(c, "bytes while idle");
        auto state = c->parser.feed(std::string_view(buf, static_cast<std::size_t>(n)));
        if (state == ResponseParser::State::kError) return fail(c, "parse: " + c->parser.error());
        if (state == ResponseParser::State::kDone) answered(c);
        if (c->closed) return;
      } else if (n == 0) {
        return fail(c, "closed by the server mid-request");
      } else if (errno == EAGAIN) {
        return;
      } else if (errno != EINTR) {
        return fail(c, std::string("read: ") + strerror(errno));
      }
    }
  }

  // One answer complete: the connection goes back to work, idles, or closes.
  void answered(Connection* c) {
    Target& t = *c->target;
    Record& r = t.records[static_cast<std::size_t>(c->request)];
    r.done = NowNs();
    r.status = c->parser.status();
    if (const auto& w = c->parser.watched_header()) r.watched = std::strtod(w->c_str(), nullptr);
    c->request = -1;
    --outstanding_;
    if (o_.closed > 0) {
      if (!c->parser.keep_alive()) {
        close_connection(c);
        if (r.done < end_) {
          Connection* fresh = open_connection(t);
          t.records.emplace_back();
          t.records.back().due = NowNs();
          ++outstanding_;
          fresh->request = static_cast<int>(t.records.size() - 1);  // sent once connected
        }
      } else if (r.done < end_) {
        start_next(c);
      } else {
        t.idle.push_back(c);
      }
      return;
    }
    if (!c->parser.keep_alive()) {
      close_connection(c);
      pump_waiting(t);
      return;
    }
    became_idle(c);
  }

  void became_idle(Connection* c) {
    Target& t = *c->target;
    if (!t.waiting.empty()) {
      int next = t.waiting.front();
      t.waiting.pop_front();
      return start(c, next);
    }
    t.idle.push_back(c);
  }

  void pump_waiting(Target& t) {
    while (!t.waiting.empty() && t.open < o_.max_conns) {
      int next = t.waiting.front();
      t.waiting.pop_front();
      Connection* c = open_connection(t);
      c->request = next;
    }
  }

  // A transport failure: the request on `c`, if any, counts as an error (why -> count); an
  // idle connection closed by the server is just dropped.
  void fail(Connection* c, const std::string& why) {
    Target& t = *c->target;
    if (c->request >= 0) {
      ++t.errors[why];
      Record& r = t.records[static_cast<std::size_t>(c->request)];
      r.done = NowNs();
      r.status = 0;
      --outstanding_;
      c->request = -1;
    }
    for (auto it = t.idle.begin(); it != t.idle.end(); ++it) {
      if (*it == c) {
        t.idle.erase(it);
        break;
      }
    }
    close_connection(c);
    pump_waiting(t);
  }

  void close_connection(Connection* c) {
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c->fd, nullptr);
    close(c->fd);
    c->fd = -1;
    c->closed = true;
    --c->target->open;
    graveyard_.push_back(c);
  }

  // Deletes the connections closed during a batch of events: a later event of the same batch
  // may still point at one.
  void bury() {
    for (Connection* c : graveyard_) delete c;
    graveyard_.clear();
  }

  Options o_;
  std::vector<std::unique_ptr<Target>> targets_;
  int epoll_ = -1;
  int timer_ = -1;
  std::int64_t t0_ = 0;
  std::int64_t end_ = 0;          // closed loop: no new request after this
  std::int64_t per_target_ = 0;
  std::int64_t total_ = 0;
  std::int64_t next_ = 0;         // next request to send, interleaved over the targets
  std::int64_t outstanding_ = 0;  // sent or waiting, not answered
  std::vector<Connection*> graveyard_;
};

std::unique_ptr<Target> ParseTarget(const std::string& name, const std::string& url, const std::string& body_file,
                                    const Options& o) {
  auto t = std::make_unique<Target>();
  t->name = name;
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) Die("only http:// URLs: " + url);
  std::string rest = url.substr(scheme.size());
  std::size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  t->path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) Die("URL needs a port: " + url);
  t->host = hostport.substr(0, colon);
  t->port = std::atoi(hostport.c_str() + colon + 1);
  std::ifstream in(body_file, std::ios::binary);
  if (!in) Die("cannot read " + body_file);
  std::stringstream body;
  body << in.rdbuf();
  std::string b = body.str();
  std::ostringstream req;
  req << "POST " << t->path << " HTTP/1.1\r\nHost: " << hostport << "\r\nContent-Type: application/json\r\n"
      << "Content-Length: " << b.size() << "\r\n";
  for (const auto& h : o.extra_headers) req << h << "\r\n";
  req << "\r\n" << b;
  t->request = req.str();
  return t;
}

void Usage() {
  std::fprintf(stderr,
               "usage: loadgen [--rate R] [--duration S] [--warmup S] [--timeout S] [--max-conns N]\n"
               "               [--preconnect N] [--watch-header NAME] [--header 'K: V']... [--closed N]\n"
               "               --target NAME http://HOST:PORT/PATH BODY.json [--target ...]\n");
  std::exit(2);
}

}  // namespace
}  // namespace loadgen

int main(int argc, char** argv) {
  using namespace loadgen;
  Options o;
  std::vector<std::unique_ptr<Target>> targets;
  std::vector<std::array<std::string, 3>> target_args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (a == "--rate") o.rate = std::atof(value().c_str());
    else if (a == "--duration") o.duration = std::atof(value().c_str());
    else if (a == "--warmup") o.warmup = std::atof(value().c_str());
    else if (a == "--timeout") o.timeout = std::atof(value().c_str());
    else if (a == "--max-conns") o.max_conns = std::atoi(value().c_str());
    else if (a == "--preconnect") o.preconnect = std::atoi(value().c_str());
    else if (a == "--watch-header") o.watch_header = value();
    else if (a == "--header") o.extra_headers.push_back(value());
    else if (a == "--closed") o.closed = std::atoi(value().c_str());
    else if (a == "--target") {
      std::string name = value(), url = value(), body = value();
      target_args.push_back({name, url, body});
    } else {
      Usage();
    }
  }
  if (target_args.empty() || o.rate <= 0 || o.duration <= 0 || o.max_conns < 1) Usage();
  for (const auto& [name, url, body] : target_args) targets.push_back(ParseTarget(name, url, body, o));
  // Timer wake-ups within 1 us of the due time, not the default 50 us slack.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
  Generator g(o, std::move(targets));
  g.run();
  g.report();
  return 0;
}
