// The shared engine: the Store contract suite against a real PostgreSQL, plus what only this
// engine promises (several stores on one database at once, migrations safe under concurrent
// starts, notifications, surviving lost connections).
//
// The server is the throwaway cluster of scripts/pg-test-cluster.sh: ctest's fixture `pg`
// starts it and names the file holding its URL in SLUICE_TEST_PG_URL_FILE (or give the URL
// itself in SLUICE_TEST_PG_URL). Every test works in a schema of its own, created here and
// dropped when the test process ends, so tests stay independent and may run in parallel.
#include "store/postgres/pg_session.h"
#include "store/store.h"
#include "store/testing/schema_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/open/open_blob_store.h"
#include "store/postgres/migrations.h"
#include "store/postgres/postgres_blob_store.h"
#include "store/store_contract_test.h"

namespace sluice {
namespace {


std::string BaseUrl() {
  if (const char* url = std::getenv("SLUICE_TEST_PG_URL"); url && *url) return url;
  const char* file = std::getenv("SLUICE_TEST_PG_URL_FILE");
  if (!file || !*file) return "";
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  return url;
}

// `url` with libpq query parameters appended ("options=...", "application_name=...").
std::string WithParams(const std::string& url, const std::string& params) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + params;
}

// The URL whose sessions work in `schema` (it becomes their search_path).
std::string SchemaUrl(const std::string& schema, const std::string& base = BaseUrl()) {
  return WithParams(base, "options=-csearch_path%3D" + schema);
}

// `url` logging in as `role` instead of its own user.
std::string AsRole(const std::string& url, const std::string& role) {
  std::size_t scheme_end = url.find("://") + 3;
  std::size_t at = url.find('@', scheme_end);
  std::size_t userinfo = at == std::string::npos ? scheme_end : at + 1;
  return url.substr(0, scheme_end) + role + "@" + url.substr(userinfo);
}

// A plain libpq session for setting tests up and looking behind the store's back.
class Admin {
 public:
  explicit Admin(const std::string& url = BaseUrl()) : conn_(PQconnectdb(url.c_str())) {
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);  // DROP ... CASCADE chatter
  }
  ~Admin() { PQfinish(conn_); }
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(conn_); }

  // Runs `sql`; the first column of the first row, "" when there is none.
  std::string Query(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    ExecStatusType status = PQresultStatus(result);
    std::string value;
    if (status == PGRES_TUPLES_OK && PQntuples(result) > 0) value = PQgetvalue(result, 0, 0);
    EXPECT_TRUE(status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
        << sql << ": " << PQresultErrorMessage(result);
    PQclear(result);
    return value;
  }
  std::int64_t Count(const std::string& sql) { return std::atoll(Query(sql).c_str()); }

  // Waits up to `timeout_ms` for the next notification on a channel this session LISTENs on:
  // its payload, or nullopt on timeout.
  std::optional<std::string> NextNotification(int timeout_ms = 10'000) {
    for (;;) {
      PQconsumeInput(conn_);
      if (PGnotify* n = PQnotifies(conn_)) {
        std::string payload = n->extra;
        PQfreemem(n);
        return payload;
      }
      pollfd fd{.fd = PQsocket(conn_), .events = POLLIN, .revents = 0};
      if (poll(&fd, 1, timeout_ms) <= 0) return std::nullopt;
    }
  }

 private:
  PGconn* conn_;
};

// Schemas (and roles) this test process made; dropped when it ends.
class Scratch : public testing::Environment {
 public:
  static Scratch& Get() {
    static Scratch* scratch = [] {
      auto* s = new Scratch;
      testing::AddGlobalTestEnvironment(s);  // gtest owns it
      return s;
    }();
    return *scratch;
  }

  // A new, empty schema, owned by `owner` when given.
  std::string NewSchema(const std::string& owner = "") {
    std::lock_guard lock(mu_);
    std::string name = "sluice_t" + std::to_string(getpid()) + "_" + std::to_string(++n_);
    Admin admin;
    EXPECT_TRUE(admin.ok()) << "no PostgreSQL test server (" << admin.error()
                            << "); run through ctest, which starts one";
    admin.Query("CREATE SCHEMA " + name + (owner.empty() ? "" : " AUTHORIZATION " + owner));
    schemas_.push_back(name);
    return name;
  }

  std::string NewRole() {
    std::lock_guard lock(mu_);
    std::string name = "sluice_r" + std::to_string(getpid()) + "_" + std::to_string(++n_);
    Admin().Query("CREATE ROLE " + name + " LOGIN");
    roles_.push_back(name);
    return name;
  }

  void TearDown() override {
    Admin admin;
    if (!admin.ok()) return;
    for (const std::string& schema : schemas_) admin.Query("DROP SCHEMA " + schema + " CASCADE");
    for (const std::string& role : roles_) admin.Query("DROP ROLE " + role);
  }

 private:
  std::mutex mu_;
  int n_ = 0;
  std::vector<std::string> schemas_;
  std::vector<std::string> roles_;
};

Result<std::unique_ptr<Store>> OpenAt(const std::string& url) {
  return Store::Open(StoreOptions{.url = url, .durable = false});
}

// One schema per test directory of the contract suite, the same one on a reopen.
std::string SchemaOfDir(const std::string& dir) {
  static std::mutex mu;
  static std::map<std::string, std::string> schema_of_dir;
  std::lock_guard lock(mu);
  auto it = schema_of_dir.find(dir);
  if (it == schema_of_dir.end()) it = schema_of_dir.emplace(dir, Scratch::Get().NewSchema()).first;
  return it->second;
}

// The contract suite's factory.
std::unique_ptr<Store> OpenPostgres(const std::string& dir) {
  auto store = OpenAt(SchemaUrl(SchemaOfDir(dir)));
  if (!store.ok()) {
    ADD_FAILURE() << store.status().ToString();
    return nullptr;
  }
  return std::move(store).value();
}

std::int64_t CountPostgres(const std::string& dir, const std::string& sql) {
  Admin admin(SchemaUrl(SchemaOfDir(dir)));
  if (!admin.ok()) return -1;
  return admin.Count(sql);
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest,
                         testing::Values(StoreEngine{"postgres", OpenPostgres, CountPostgres}),
                         StoreEngineName);

Job NewJob(const std::string& id, const std::string& queue = "default") {
  Job job;
  job.id = id;
  job.created_at = kT0;
  job.spec.type = "classify";
  job.spec.queue = queue;
  job.spec.run_at = kT0;
  return job;
}

class PostgresStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(BaseUrl().empty()) << "set SLUICE_TEST_PG_URL_FILE or SLUICE_TEST_PG_URL";
    schema_ = Scratch::Get().NewSchema();
    url_ = SchemaUrl(schema_);
  }

  std::unique_ptr<Store> Open(const std::string& url) {
    auto store = OpenAt(url);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  std::unique_ptr<Store> Open() { return Open(url_); }

  std::string schema_;
  std::string url_;
};

// --- opening ---

TEST_F(PostgresStoreTest, StoreOpenTakesPostgresUrls) {
  for (std::string scheme : {"postgres://", "postgresql://"}) {
    std::string url = scheme + url_.substr(url_.find("://") + 3);
    auto store = Store::Open(StoreOptions{.url = url, .durable = false});
    ASSERT_TRUE(store.ok()) << url << ": " << store.status().ToString();
    EXPECT_FALSE((*store)->exclusive());
    EXPECT_TRUE((*store)->ping().ok());
  }
  EXPECT_EQ(Store::Open(StoreOptions{.url = "mysql://localhost/x"}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(PostgresStoreTest, AnUnreachableServerIsUnavailable) {
  int sock = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int port = ntohs(addr.sin_port);
  close(sock);  // nobody listens there now

  auto store = OpenAt("postgres://postgres@127.0.0.1:" + std::to_string(port) + "/sluice_test");
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << store.status().ToString();
  EXPECT_EQ(OpenAt("postgres://%zz").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PostgresStoreTest, MigrationsAreRecordedAndAppliedOnce) {
  auto first = Open();
  ASSERT_NE(first, nullptr);
  auto second = Open();  // another node on the same database
  ASSERT_NE(second, nullptr);
  Admin admin(url_);
  EXPECT_EQ(admin.Count("SELECT count(*) FROM schema_migrations"),
            static_cast<std::int64_t>(pg::Migrations().size()));
  EXPECT_EQ(admin.Count("SELECT max(version) FROM schema_migrations"),
            pg::Migrations().back().version);
  // Both nodes see one database.
  ASSERT_TRUE(first->submit_jobs(std::vector<Job>{NewJob("job_a")}).ok());
  EXPECT_TRUE(second->get_job(kDefaultTenant, "job_a").ok());
}

TEST_F(PostgresStoreTest, MigrationsMakeTheTablesOfTheColumnTables) {
  ASSERT_NE(Open(), nullptr);
  auto conn = pg::Connection::Open(pg::ConnectionSettings{.url = url_});
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  pg::ConnectionSession session(**conn);
  auto mismatches = sql::SchemaMismatches(session);
  ASSERT_TRUE(mismatches.ok()) << mismatches.status().ToString();
  EXPECT_THAT(*mismatches, testing::IsEmpty());
}

// Jobs stored before migration 7 name their blobs only in their input: the migration records
// those references, so that retention keeps the blobs they need; blobs become the default
// tenant's.
TEST_F(PostgresStoreTest, MigrationSevenRecordsTheBlobsOfJobsStoredBeforeIt) {
  Admin admin(url_);
  admin.Query(
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL "
      "DEFAULT 0)");
  for (const sql::Migration& m : pg::Migrations()) {
    if (m.version >= 7) break;
    admin.Query(m.sql);
    admin.Query("INSERT INTO schema_migrations (version) VALUES (" + std::to_string(m.version) +
                ")");
  }
  const std::string blob = "sha256:" + std::string(64, 'b');
  for (const auto& [id, input] :
       {std::pair<std::string, std::string>{"job_blob", R"({"blob":")" + blob + R"("})"},
        {"job_text", R"({"text":"{\"blob\":\"sha256:x\"}"})"}}) {
    admin.Query(
        "INSERT INTO jobs (id, tenant, type, input, object_id, source, prompt_version, "
        "response_schema, model, params, queue, priority, run_at, max_attempts, "
        "dedup_key, webhook_url, metadata, status, attempt, created_at, cost_usd, "
        "lease_owner, lease_until, due_at) VALUES ('" +
        id + "', 'acme', 'classify', '" + input +
        "', '', '', 'v1', 's1', '', '{}', 'default', 5, 0, 3, '', '', '{}', 4, 1, "
        "0, 0, '', 0, 0)");
  }
  admin.Query("INSERT INTO blobs (id, bytes, content, created_at) VALUES ('" + blob +
              "', 1, 'x', 0)");

  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(*store->blob_referenced("acme", blob));
  EXPECT_FALSE(*store->blob_referenced(kDefaultTenant, blob));
  EXPECT_EQ(admin.Count("SELECT count(*) FROM job_blobs"), 1);
  EXPECT_EQ(admin.Query("SELECT tenant FROM blobs"), kDefaultTenant);
}

TEST_F(PostgresStoreTest, ANewerSchemaIsRefused) {
  ASSERT_NE(Open(), nullptr);
  Admin(url_).Query("INSERT INTO schema_migrations (version) VALUES (1000)");
  auto store = OpenAt(url_);
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status().ToString();
}

TEST_F(PostgresStoreTest, NodesStartingAtOnceMigrateOnce) {
  constexpr int kNodes = 6;
  std::latch start(kNodes);
  std::vector<Status> opened(kNodes);
  std::vector<std::thread> nodes;
  for (int i = 0; i < kNodes; ++i) {
    nodes.emplace_back([&, i] {
      start.arrive_and_wait();
      opened[i] = OpenAt(url_).status();
    });
  }
  for (std::thread& t : nodes) t.join();
  for (const Status& s : opened) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Admin(url_).Count("SELECT count(*) FROM schema_migrations"),
            static_cast<std::int64_t>(pg::Migrations().size()));
}

// --- several nodes on one database ---

TEST_F(PostgresStoreTest, ConcurrentClaimsTakeEveryJobExactlyOnce) {
  constexpr int kJobs = 300;
  constexpr int kNodes = 3;
  constexpr int kWorkersPerNode = 2;
  std::vector<std::unique_ptr<Store>> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(Open());
  std::vector<Job> batch;
  for (int i = 0; i < kJobs; ++i) {
    Job job = NewJob("job_" + std::to_string(1000 + i));
    job.spec.priority = i % 10;
    batch.push_back(job);
  }
  ASSERT_TRUE(nodes[0]->submit_jobs(batch).ok());

  std::mutex mu;
  std::multiset<std::string> claimed;
  std::atomic<int> errors{0};
  std::latch start(kNodes * kWorkersPerNode);
  std::vector<std::thread> workers;
  for (int w = 0; w < kNodes * kWorkersPerNode; ++w) {
    workers.emplace_back([&, w] {
      Store& store = *nodes[w % kNodes];
      std::string owner = "worker-" + std::to_string(w);
      start.arrive_and_wait();
      for (;;) {
        auto jobs = store.claim_jobs(ClaimRequest{
            .queue = "default", .limit = 7, .owner = owner, .now = kT0, .lease_until = kT0 + 1});
        if (!jobs.ok()) {
          ++errors;
          return;
        }
        if (jobs->empty()) return;
        std::lock_guard lock(mu);
        for (const Job& job : *jobs) {
          EXPECT_EQ(job.lease_owner, owner);
          claimed.insert(job.id);
        }
      }
    });
  }
  for (std::thread& t : workers) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kJobs));
  for (const Job& job : batch) EXPECT_EQ(claimed.count(job.id), 1u) << job.id;
  auto stats = nodes[1]->queue_stats();
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->size(), 1u);
  EXPECT_EQ((*stats)[0].by_status[static_cast<int>(JobStatus::kRunning)], kJobs);
  EXPECT_EQ((*stats)[0].by_status[static_cast<int>(JobStatus::kQueued)], 0);
}

TEST_F(PostgresStoreTest, ConcurrentSubmitsWithOneDedupKeyMakeOneJob) {
  constexpr int kNodes = 4;
  std::vector<std::unique_ptr<Store>> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(Open());
  std::latch start(kNodes);
  std::vector<Result<std::vector<SubmitOutcome>>> outcomes(kNodes, Internal("not run"));
  std::vector<std::thread> clients;
  for (int i = 0; i < kNodes; ++i) {
    clients.emplace_back([&, i] {
      Job job = NewJob("job_" + std::to_string(i));
      job.spec.dedup_key = "the-key";
      start.arrive_and_wait();
      outcomes[i] = nodes[i]->submit_jobs(std::vector<Job>{job});
    });
  }
  for (std::thread& t : clients) t.join();
  int created = 0;
  std::set<std::string> ids;
  for (const auto& outcome : outcomes) {
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    ASSERT_EQ(outcome->size(), 1u);
    if (!(*outcome)[0].deduplicated) ++created;
    ids.insert((*outcome)[0].job.id);
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(ids.size(), 1u);  // every caller got the one job
  EXPECT_EQ(Admin(url_).Count("SELECT count(*) FROM jobs"), 1);
}

// A key whose job ended long ago, submitted from several nodes at once: exactly one new job
// takes it, and every caller gets that one.
TEST_F(PostgresStoreTest, ConcurrentSubmitsOfAStaleDedupKeyMakeOneNewJob) {
  constexpr int kNodes = 4;
  constexpr Millis kDay = 24LL * 3600 * 1000;
  std::vector<std::unique_ptr<Store>> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(Open());
  Job old = NewJob("job_old");
  old.spec.dedup_key = "the-key";
  ASSERT_TRUE(nodes[0]->submit_jobs(std::vector<Job>{old}).ok());
  auto claimed = nodes[0]->claim_jobs(ClaimRequest{
      .queue = "default", .limit = 1, .owner = "w", .now = kT0, .lease_until = kT0 + 1000});
  ASSERT_TRUE(claimed.ok() && claimed->size() == 1);
  AttemptFinish done{
      .job_id = "job_old", .attempt = 1, .lease_owner = "w", .now = kT0, .result_json = "{}"};
  ASSERT_TRUE(nodes[0]->finish_attempts(std::span(&done, 1)).ok());

  std::latch start(kNodes);
  std::vector<Result<std::vector<SubmitOutcome>>> outcomes(kNodes, Internal("not run"));
  std::vector<std::thread> clients;
  for (int i = 0; i < kNodes; ++i) {
    clients.emplace_back([&, i] {
      Job job = NewJob("job_" + std::to_string(i));
      job.created_at = kT0 + 40 * kDay;
      job.spec.dedup_key = "the-key";
      start.arrive_and_wait();
      outcomes[i] = nodes[i]->submit_jobs(std::vector<Job>{job});
    });
  }
  for (std::thread& t : clients) t.join();
  int created = 0;
  std::set<std::string> ids;
  for (const auto& outcome : outcomes) {
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    ASSERT_EQ(outcome->size(), 1u);
    if (!(*outcome)[0].deduplicated) ++created;
    ids.insert((*outcome)[0].job.id);
  }
  EXPECT_EQ(created, 1);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_NE(*ids.begin(), "job_old");
  Admin admin(url_);
  EXPECT_EQ(admin.Count("SELECT count(*) FROM jobs"), 2);
  EXPECT_EQ(admin.Count("SELECT count(*) FROM jobs WHERE dedup_key = 'the-key'"), 1);
}

TEST_F(PostgresStoreTest, ADedupWindowOfZeroKeepsKeysForEver) {
  auto opened = Store::Open(StoreOptions{.url = url_, .durable = false, .dedup_window = 0});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Store& store = **opened;
  Job old = NewJob("job_old");
  old.spec.dedup_key = "the-key";
  ASSERT_TRUE(store.submit_jobs(std::vector<Job>{old}).ok());
  ASSERT_TRUE(store.cancel_job(kDefaultTenant, "job_old", kT0).ok());
  Job late = NewJob("job_late");
  late.created_at = kT0 + 365LL * 24 * 3600 * 1000;
  late.spec.dedup_key = "the-key";
  auto outcome = store.submit_jobs(std::vector<Job>{late});
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_TRUE((*outcome)[0].deduplicated);
  EXPECT_EQ((*outcome)[0].job.id, "job_old");
}

// Reservations and settlements of one tenant from several nodes and threads at once: each
// reservation decides under the month's lock, so spend plus live reservations never pass the
// budget, and no two of them wait for each other in a circle (every call succeeds).
TEST_F(PostgresStoreTest, ReservationsFromManyNodesNeverOvershootTheBudget) {
  constexpr int kNodes = 3;
  constexpr int kThreadsPerNode = 4;
  constexpr int kPerThread = 84;     // ~1000 reservations in all
  constexpr double kAmount = 0.125;  // exact in binary, as are all the sums below
  constexpr double kCost = 0.0625;   // what a settled call cost
  constexpr double kBudget = 40;
  std::vector<std::unique_ptr<Store>> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(Open());
  const std::string month = MonthOf(kT0);

  std::atomic<int> reserved{0}, settled{0}, errors{0};
  std::latch start(kNodes * kThreadsPerNode);
  std::vector<std::thread> threads;
  for (int t = 0; t < kNodes * kThreadsPerNode; ++t) {
    threads.emplace_back([&, t] {
      Store& store = *nodes[t % kNodes];
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        BudgetReservation r{.id = "r_" + std::to_string(t) + "_" + std::to_string(i),
                            .tenant = "acme",
                            .month = month,
                            .amount_usd = kAmount,
                            .budget_usd = kBudget,
                            .now = kT0,
                            .expires_at = kT0 + 60'000};
        auto fits = store.reserve_budget(std::span(&r, 1));
        if (!fits.ok()) {
          ++errors;
          ADD_FAILURE() << fits.status().ToString();
          continue;
        }
        if (!(*fits)[0]) continue;
        ++reserved;
        if (i % 2 == 0) {  // half the calls end at once, for less than they reserved
          Status s = store.settle_budget(r.id, kCost);
          if (s.ok()) {
            ++settled;
          } else {
            ++errors;
            ADD_FAILURE() << s.ToString();
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  auto usage = nodes[0]->tenant_usage("acme", month, kT0);
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  EXPECT_DOUBLE_EQ(usage->spent_usd, settled.load() * kCost);
  EXPECT_DOUBLE_EQ(usage->reserved_usd, (reserved.load() - settled.load()) * kAmount);
  EXPECT_LE(usage->spent_usd + usage->reserved_usd, kBudget);
  EXPECT_GT(reserved.load(), static_cast<int>(kBudget / kAmount));  // settlements freed room
  Admin admin(url_);
  EXPECT_EQ(admin.Count("SELECT count(*) FROM budget_reservations"),
            reserved.load() - settled.load());
}

// A finish and a reap racing for the same attempts: each job changes state exactly once.
TEST_F(PostgresStoreTest, FinishAndReapRacingSettleEachJobOnce) {
  constexpr int kJobs = 200;
  auto worker_node = Open();
  auto reaper_node = Open();
  std::vector<Job> batch;
  for (int i = 0; i < kJobs; ++i) batch.push_back(NewJob("job_" + std::to_string(1000 + i)));
  ASSERT_TRUE(worker_node->submit_jobs(batch).ok());
  auto running = worker_node->claim_jobs(ClaimRequest{
      .queue = "default", .limit = kJobs, .owner = "w", .now = kT0, .lease_until = kT0 + 10});
  ASSERT_TRUE(running.ok());
  ASSERT_EQ(running->size(), static_cast<std::size_t>(kJobs));

  std::latch start(2);
  std::set<std::string> finished;
  std::set<std::string> reaped;
  std::thread worker([&] {
    start.arrive_and_wait();
    for (const Job& job : *running) {
      AttemptFinish done{.job_id = job.id,
                         .attempt = job.attempt,
                         .lease_owner = job.lease_owner,
                         .outcome = AttemptOutcome::kDone,
                         .now = kT0 + 20,
                         .result_json = "{}"};
      auto outcome = worker_node->finish_attempts(std::span(&done, 1));
      ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
      if ((*outcome)[0].ok()) finished.insert(job.id);
    }
  });
  std::thread reaper([&] {
    start.arrive_and_wait();
    for (int round = 0; round < 20; ++round) {
      auto jobs = reaper_node->reap_expired_leases(kT0 + 20);
      ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
      for (const Job& job : *jobs) EXPECT_TRUE(reaped.insert(job.id).second) << job.id;
    }
  });
  worker.join();
  reaper.join();

  EXPECT_EQ(finished.size() + reaped.size(), static_cast<std::size_t>(kJobs));
  for (const std::string& id : finished) EXPECT_EQ(reaped.count(id), 0u) << id;
  auto stats = reaper_node->queue_stats();
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->size(), 1u);
  EXPECT_EQ((*stats)[0].by_status[static_cast<int>(JobStatus::kDone)],
            static_cast<std::int64_t>(finished.size()));
  EXPECT_EQ((*stats)[0].by_status[static_cast<int>(JobStatus::kQueued)],
            static_cast<std::int64_t>(reaped.size()));
  EXPECT_EQ((*stats)[0].by_status[static_cast<int>(JobStatus::kRunning)], 0);
}

// --- notifications ---

TEST_F(PostgresStoreTest, NewWorkNotifiesItsQueueOnCommit) {
  auto store = Open();
  Admin listener(url_);
  listener.Query("LISTEN sluice_jobs");
  // Notifications are per database: tests running in parallel notify too. Queue names of
  // this test's own tell its notifications apart.
  const std::string q1 = schema_ + "_q1";
  const std::string q2 = schema_ + "_q2";
  auto next = [&]() -> std::optional<std::string> {
    for (;;) {
      std::optional<std::string> queue = listener.NextNotification();
      if (!queue || queue->starts_with(schema_ + "_")) return queue;
    }
  };

  Job first = NewJob("job_1", q1);
  first.spec.dedup_key = "k";
  ASSERT_TRUE(store->submit_jobs(std::vector<Job>{first}).ok());
  EXPECT_EQ(next(), q1);

  // A submit that creates nothing wakes nobody: the next notification is the next real one.
  Job duplicate = NewJob("job_2", q1);
  duplicate.spec.dedup_key = "k";
  auto outcome = store->submit_jobs(std::vector<Job>{duplicate});
  ASSERT_TRUE(outcome.ok());
  ASSERT_TRUE((*outcome)[0].deduplicated);
  ASSERT_TRUE(store->submit_jobs(std::vector<Job>{NewJob("job_3", q2)}).ok());
  EXPECT_EQ(next(), q2);

  // A stopping node's released jobs are due at once: their queue hears of them.
  auto claimed = store->claim_jobs(ClaimRequest{
      .queue = q1, .limit = 1, .owner = "leaving", .now = kT0, .lease_until = kT0 + 100});
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  ASSERT_EQ(store->release_leases("leaving", kT0 + 1).value(), 1);
  EXPECT_EQ(next(), q1);
}

// A node's wake handler hears work committed by another node, and goes on hearing it after its
// listening session was lost.
TEST_F(PostgresStoreTest, AWakeHandlerHearsSubmitsOfOtherNodes) {
  std::string app = "sluice_wake_" + schema_;
  auto idle_node = Open(WithParams(url_, "application_name=" + app));
  auto busy_node = Open();
  ASSERT_NE(idle_node, nullptr);
  ASSERT_NE(busy_node, nullptr);
  // Notifications are per database: queue names of this test's own tell its wake-ups apart.
  const std::string queue = schema_ + "_q";
  std::mutex mu;
  std::condition_variable heard_cv;
  int heard = 0;
  idle_node->set_wake_handler([&](const std::string& q) {
    if (q != queue) return;
    std::lock_guard lock(mu);
    ++heard;
    heard_cv.notify_all();
  });
  int submitted = 0;
  // The listener connects in the background: a submit committed before its LISTEN is not
  // heard, so submit until one is (each wait ends as soon as the wake-up arrives).
  auto submit_until_heard = [&] {
    for (int round = 0; round < 100; ++round) {
      ++submitted;
      Job job = NewJob("job_" + std::to_string(submitted), queue);
      EXPECT_TRUE(busy_node->submit_jobs(std::vector<Job>{job}).ok());
      std::unique_lock lock(mu);
      int before = heard;
      if (heard_cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return heard > before; }) ||
          heard > 0) {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(submit_until_heard()) << "no wake-up after " << submitted << " submits";

  // The listening session dies, as in a server restart: the listener connects again.
  Admin admin;
  EXPECT_GE(admin.Count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = '" + app + "' AND query LIKE 'LISTEN%'"),
            1);
  {
    std::lock_guard lock(mu);
    heard = 0;
  }
  EXPECT_TRUE(submit_until_heard()) << "no wake-up after the listening session was lost";

  // An empty handler stops the calls: nothing is heard after it returns.
  idle_node->set_wake_handler(nullptr);
  {
    std::lock_guard lock(mu);
    heard = 0;
  }
  ASSERT_TRUE(busy_node->submit_jobs(std::vector<Job>{NewJob("job_last", queue)}).ok());
  ASSERT_TRUE(busy_node->ping().ok());
  std::lock_guard lock(mu);
  EXPECT_EQ(heard, 0);
}

// A queue's cluster-wide cap holds whatever several nodes claim at once: the jobs running on all
// of them together never exceed it, and every job still runs.
TEST_F(PostgresStoreTest, ConcurrentClaimsNeverExceedTheClusterMax) {
  constexpr int kJobs = 120;
  constexpr int kNodes = 3;
  constexpr int kWorkersPerNode = 2;
  constexpr int kClusterMax = 5;
  std::vector<std::unique_ptr<Store>> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(Open());
  std::vector<Job> batch;
  for (int i = 0; i < kJobs; ++i) batch.push_back(NewJob("job_" + std::to_string(1000 + i)));
  ASSERT_TRUE(nodes[0]->submit_jobs(batch).ok());

  // `running` rises after a claim committed and falls before its finish commits, so it never
  // counts more jobs than the database does: any overshoot it sees is a real one.
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::atomic<int> finished{0};
  std::atomic<int> errors{0};
  std::latch start(kNodes * kWorkersPerNode);
  std::vector<std::thread> workers;
  for (int w = 0; w < kNodes * kWorkersPerNode; ++w) {
    workers.emplace_back([&, w] {
      Store& store = *nodes[w % kNodes];
      std::string owner = "worker-" + std::to_string(w);
      start.arrive_and_wait();
      while (finished.load() < kJobs && errors.load() == 0) {
        auto jobs = store.claim_jobs(ClaimRequest{.queue = "default",
                                                  .limit = 3,
                                                  .owner = owner,
                                                  .now = kT0,
                                                  .lease_until = kT0 + 1'000'000,
                                                  .cluster_max = kClusterMax});
        if (!jobs.ok()) {
          ADD_FAILURE() << jobs.status().ToString();
          ++errors;
          return;
        }
        int now_running = running += static_cast<int>(jobs->size());
        int seen = peak.load();
        while (now_running > seen && !peak.compare_exchange_weak(seen, now_running)) {
        }
        for (const Job& job : *jobs) {
          --running;
          AttemptFinish done{.job_id = job.id,
                             .attempt = job.attempt,
                             .lease_owner = owner,
                             .outcome = AttemptOutcome::kDone,
                             .now = kT0 + 1,
                             .result_json = "{}"};
          auto outcome = store.finish_attempts(std::span(&done, 1));
          if (!outcome.ok() || !(*outcome)[0].ok()) {
            ADD_FAILURE() << "finish of " << job.id << " failed";
            ++errors;
            return;
          }
          ++finished;
        }
      }
    });
  }
  for (std::thread& t : workers) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(finished.load(), kJobs);
  EXPECT_LE(peak.load(), kClusterMax);
  EXPECT_GT(peak.load(), 1);  // the nodes did overlap: the cap, not chance, kept them under it

  // With the cap reached, a claim takes nothing, and only what is left under it otherwise.
  ASSERT_TRUE(nodes[0]->submit_jobs(std::vector<Job>{NewJob("job_x1"), NewJob("job_x2"),
                                                     NewJob("job_x3")}).ok());
  auto first = nodes[1]->claim_jobs(ClaimRequest{.queue = "default", .limit = 10, .owner = "a",
                                                 .now = kT0, .lease_until = kT0 + 10,
                                                 .cluster_max = 2});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->size(), 2u);
  auto second = nodes[2]->claim_jobs(ClaimRequest{.queue = "default", .limit = 10, .owner = "b",
                                                  .now = kT0, .lease_until = kT0 + 10,
                                                  .cluster_max = 2});
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->empty());
  auto uncapped = nodes[2]->claim_jobs(ClaimRequest{.queue = "default", .limit = 10, .owner = "b",
                                                    .now = kT0, .lease_until = kT0 + 10});
  ASSERT_TRUE(uncapped.ok());
  EXPECT_EQ(uncapped->size(), 1u);
}

// --- connections ---

TEST_F(PostgresStoreTest, LostConnectionsAreReplacedWithoutFailingACall) {
  std::string app = "sluice_test_" + schema_;
  auto store = Open(WithParams(url_, "application_name=" + app));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->submit_jobs(std::vector<Job>{NewJob("job_a")}).ok());
  Admin admin;
  // Every connection the store holds dies, as in a server restart.
  EXPECT_GE(admin.Count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = '" +
                        app + "'"),
            1);
  EXPECT_TRUE(store->get_job(kDefaultTenant, "job_a").ok());
  admin.Query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
              app + "'");
  auto claimed = store->claim_jobs(
      ClaimRequest{.queue = "default", .limit = 1, .owner = "w", .now = kT0, .lease_until = kT0});
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  EXPECT_EQ(claimed->size(), 1u);
}

TEST_F(PostgresStoreTest, AnOutageIsUnavailableAndLosesNoAcknowledgedJob) {
  std::string role = Scratch::Get().NewRole();
  std::string schema = Scratch::Get().NewSchema(role);
  std::string url = AsRole(SchemaUrl(schema), role);
  auto store = Open(url);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->submit_jobs(std::vector<Job>{NewJob("job_before")}).ok());

  // The server refuses the store: its sessions end and new ones cannot log in.
  Admin admin;
  admin.Query("ALTER ROLE " + role + " NOLOGIN");
  admin.Query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + role +
              "'");
  EXPECT_EQ(store->ping().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->get_job(kDefaultTenant, "job_before").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->submit_jobs(std::vector<Job>{NewJob("job_during")}).status().code(),
            StatusCode::kUnavailable);

  admin.Query("ALTER ROLE " + role + " LOGIN");
  EXPECT_TRUE(store->ping().ok());
  EXPECT_EQ(store->get_job(kDefaultTenant, "job_before").value().status, JobStatus::kQueued);
  EXPECT_EQ(store->get_job(kDefaultTenant, "job_during").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->submit_jobs(std::vector<Job>{NewJob("job_after")}).ok());
}

// --- text ---

TEST_F(PostgresStoreTest, BytesPostgresCannotStoreBecomeReplacementCharacters) {
  auto store = Open();
  ASSERT_TRUE(store->submit_jobs(std::vector<Job>{NewJob("job_a")}).ok());
  auto running = store->claim_jobs(
      ClaimRequest{.queue = "default", .limit = 1, .owner = "w", .now = kT0, .lease_until = kT0});
  ASSERT_TRUE(running.ok());
  ASSERT_EQ(running->size(), 1u);
  AttemptFinish failed{.job_id = "job_a",
                       .attempt = 1,
                       .lease_owner = "w",
                       .outcome = AttemptOutcome::kFailed,
                       .now = kT0 + 1,
                       .error = JobError{"bad", std::string("a\xff"
                                                            "b\0c",
                                                            5)}};
  auto outcome = store->finish_attempts(std::span(&failed, 1));
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_TRUE((*outcome)[0].ok());
  Job job = store->get_job(kDefaultTenant, "job_a").value();
  ASSERT_TRUE(job.error.has_value());
  EXPECT_EQ(job.error->message,
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c");
}


// --- blobs ---

class PostgresBlobStoreTest : public PostgresStoreTest {
 protected:
  std::unique_ptr<BlobStore> OpenBlobs() {
    auto blobs = OpenBlobStore(StoreOptions{.url = url_, .durable = false}, clock_);
    EXPECT_TRUE(blobs.ok()) << blobs.status().ToString();
    return blobs.ok() ? std::move(blobs).value() : nullptr;
  }
  FakeClock clock_{kT0};
};

TEST_F(PostgresBlobStoreTest, RoundTripIsSharedByEveryNode) {
  auto node1 = OpenBlobs();
  auto node2 = OpenBlobs();
  ASSERT_NE(node1, nullptr);
  ASSERT_NE(node2, nullptr);
  EXPECT_NE(dynamic_cast<PostgresBlobStore*>(node1.get()), nullptr);
  auto info = node1->put(kDefaultTenant, "hello");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->id, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_EQ(info->bytes, 5);
  EXPECT_TRUE(info->created);
  EXPECT_TRUE(*node2->exists(kDefaultTenant, info->id));
  auto content = node2->get(kDefaultTenant, info->id);
  ASSERT_TRUE(content.ok()) << content.status().ToString();
  EXPECT_EQ(*content, "hello");
  Admin admin(url_);
  EXPECT_EQ(admin.Count("SELECT count(*) FROM blobs"), 1);
  EXPECT_EQ(admin.Count("SELECT created_at FROM blobs"), kT0);
}

TEST_F(PostgresBlobStoreTest, AnOutageIsUnavailableNotMissing) {
  std::string role = Scratch::Get().NewRole();
  std::string schema = Scratch::Get().NewSchema(role);
  auto opened = OpenBlobStore(StoreOptions{.url = AsRole(SchemaUrl(schema), role), .durable = false}, clock_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<BlobStore> blobs = std::move(opened).value();
  auto info = blobs->put(kDefaultTenant, "kept through the outage");
  ASSERT_TRUE(info.ok());

  Admin admin;
  admin.Query("ALTER ROLE " + role + " NOLOGIN");
  admin.Query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + role + "'");
  // A submit that names this blob must hear "try again" (503), not "no such blob" (400).
  EXPECT_EQ(blobs->exists(kDefaultTenant, info->id).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(blobs->get(kDefaultTenant, info->id).status().code(), StatusCode::kUnavailable);

  admin.Query("ALTER ROLE " + role + " LOGIN");
  EXPECT_TRUE(*blobs->exists(kDefaultTenant, info->id));
}

TEST_F(PostgresBlobStoreTest, PutIsIdempotent) {
  auto node1 = OpenBlobs();
  auto node2 = OpenBlobs();
  ASSERT_NE(node1, nullptr);
  ASSERT_NE(node2, nullptr);
  auto first = node1->put(kDefaultTenant, "same bytes");
  auto again = node2->put(kDefaultTenant, "same bytes");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(first->created);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(again->bytes, first->bytes);
  EXPECT_EQ(Admin(url_).Count("SELECT count(*) FROM blobs"), 1);
}

TEST_F(PostgresBlobStoreTest, UnknownIsNotFoundAndABadIdIsInvalid) {
  auto blobs = OpenBlobs();
  ASSERT_NE(blobs, nullptr);
  const std::string unknown = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(blobs->get(kDefaultTenant, unknown).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(*blobs->exists(kDefaultTenant, unknown));
  EXPECT_EQ(blobs->get(kDefaultTenant, "sha256:../../etc/passwd").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(blobs->get(kDefaultTenant, "sha256:" + std::string(64, 'A')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(*blobs->exists(kDefaultTenant, "nope"));
}

TEST_F(PostgresBlobStoreTest, BinaryContentKeepsEveryByte) {
  auto blobs = OpenBlobs();
  ASSERT_NE(blobs, nullptr);
  std::string content;
  for (int round = 0; round < 4; ++round) {
    for (int b = 0; b < 256; ++b) content.push_back(static_cast<char>(b));  // NULs, high bytes, backslashes
  }
  auto info = blobs->put(kDefaultTenant, content);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->bytes, 1024);
  EXPECT_EQ(info->id, BlobStore::IdOf(content));
  auto back = blobs->get(kDefaultTenant, info->id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->size(), content.size());
  EXPECT_EQ(*back, content);
  EXPECT_EQ(Admin(url_).Count("SELECT octet_length(content) FROM blobs"), 1024);
}

TEST_F(PostgresBlobStoreTest, TheSameBytesOfTwoTenantsAreTwoBlobs) {
  auto blobs = OpenBlobs();
  ASSERT_NE(blobs, nullptr);
  auto a = blobs->put("acme", "same bytes");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  // Tenant b never put it: a's id is unknown to b, exactly as any unknown id.
  EXPECT_EQ(blobs->get("globex", a->id).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(*blobs->exists("globex", a->id));
  EXPECT_FALSE(*blobs->renew("globex", a->id));

  auto b = blobs->put("globex", "same bytes");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->id, a->id);
  EXPECT_TRUE(b->created);  // a row of its own, not a's
  EXPECT_EQ(*blobs->get("acme", a->id), "same bytes");
  EXPECT_EQ(*blobs->get("globex", b->id), "same bytes");
  EXPECT_EQ(Admin(url_).Count("SELECT count(*) FROM blobs"), 2);

  // Removing one tenant's blob leaves the other's.
  EXPECT_TRUE(*blobs->remove("acme", a->id, kT0 + 1));
  EXPECT_EQ(blobs->get("acme", a->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*blobs->get("globex", b->id), "same bytes");
}

TEST_F(PostgresBlobStoreTest, ListsOldBlobsInKeyOrderByPage) {
  auto blobs = OpenBlobs();
  ASSERT_NE(blobs, nullptr);
  std::vector<BlobKey> old;
  for (std::string tenant : {"zeta", "default", "acme"}) {
    for (std::string content : {"one", "two", "three"}) {
      auto info = blobs->put(tenant, content + tenant);
      ASSERT_TRUE(info.ok()) << info.status().ToString();
      old.push_back({tenant, info->id});
    }
  }
  clock_.advance(10);
  ASSERT_TRUE(blobs->put("acme", "fresh").ok());  // not old: never listed
  std::sort(old.begin(), old.end());

  std::vector<BlobKey> listed;
  BlobKey after;
  for (int page = 0; page < 10; ++page) {
    auto keys = blobs->list_older(kT0 + 5, after, 2);
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    EXPECT_LE(keys->size(), 2u);
    if (keys->empty()) break;
    listed.insert(listed.end(), keys->begin(), keys->end());
    after = keys->back();
  }
  EXPECT_EQ(listed, old);
}

TEST_F(PostgresBlobStoreTest, RemoveTakesOnlyABlobStillOlderThanTheCut) {
  auto blobs = OpenBlobs();
  ASSERT_NE(blobs, nullptr);
  auto info = blobs->put("acme", "aging");
  ASSERT_TRUE(info.ok());
  clock_.advance(100);
  const Millis cut = kT0 + 50;
  // A submit renewed it after the listing: remove keeps it.
  ASSERT_TRUE(*blobs->renew("acme", info->id));
  EXPECT_FALSE(*blobs->remove("acme", info->id, cut));
  EXPECT_EQ(Admin(url_).Count("SELECT created_at FROM blobs"), kT0 + 100);
  // A put of the same bytes renews it as well, and sends no content.
  clock_.advance(100);
  EXPECT_FALSE(blobs->put("acme", "aging")->created);
  EXPECT_EQ(Admin(url_).Count("SELECT created_at FROM blobs"), kT0 + 200);
  // An age never goes back, whatever another node's clock says.
  clock_.set(kT0);
  ASSERT_TRUE(*blobs->renew("acme", info->id));
  EXPECT_EQ(Admin(url_).Count("SELECT created_at FROM blobs"), kT0 + 200);

  EXPECT_FALSE(*blobs->remove("acme", info->id, kT0 + 200));
  EXPECT_TRUE(*blobs->remove("acme", info->id, kT0 + 201));
  EXPECT_FALSE(*blobs->exists("acme", info->id));
  EXPECT_FALSE(*blobs->renew("acme", info->id));
  EXPECT_FALSE(*blobs->remove("acme", info->id, kT0 + 201));  // gone already
}

TEST_F(PostgresBlobStoreTest, AnEmbeddedStoreKeepsBlobsInFiles) {
  std::string dir = testing::TempDir() + "sluice-blobs-" + std::to_string(getpid());
  auto blobs = OpenBlobStore(StoreOptions{.data_dir = dir}, clock_);
  ASSERT_TRUE(blobs.ok()) << blobs.status().ToString();
  EXPECT_EQ(dynamic_cast<PostgresBlobStore*>(blobs->get()), nullptr);
  auto info = (*blobs)->put(kDefaultTenant, "local");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(*(*blobs)->get(kDefaultTenant, info->id), "local");
  EXPECT_EQ(OpenBlobStore(StoreOptions{.url = "mysql://x"}, clock_).status().code(),
            StatusCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice
