// Fair share between the tenants of one queue (API.md "Fairness"): weighted round-robin over the
// queue's slots, by stride scheduling with a virtual time. Pure logic, so its rules are tested
// apart from the store and the scheduler's thread.
//
// Each tenant has a pass: the virtual time up to which it has been served. Starting one job costs
// a tenant kStrideUnit / weight, so per unit of virtual time a tenant of weight 3 starts three
// jobs where one of weight 1 starts one. Each slot goes to the due tenant with the lowest pass
// (ties by id), so over time every tenant's share of the started jobs is proportional to its
// weight, whatever the depth of anyone's backlog: one tenant's flood of 100 000 jobs is one
// tenant, and another tenant's first job waits for at most its share's worth of the flood's
// starts (with weights 1:1, one; with 3:1 against it, three).
//
// Aging, precisely:
// - Across tenants: a due tenant's pass stands still while it waits and everyone else's grows
//   with each job they start, so the longer it waits the surer it is next: between two starts
//   of a due tenant of weight w, another due tenant of weight v starts at most v / w + 1 jobs
//   (once any debt of the waiting one is paid). No tenant starves.
// - No banked credit: the queue's virtual time V is the lowest pass among the tenants that were
//   due at the latest split (it never goes back). A tenant that becomes due (new, or back after
//   being idle) joins at max(its own pass, V): time spent idle is not credit it can spend later
//   in a burst that would shut the others out, and a tenant that was served ahead of its share
//   keeps owing until V catches up (as CFS's min_vruntime, for the same reason).
// - Within a tenant the store's claim order stays: highest priority first, then oldest due. A
//   tenant's low-priority job waits only behind its own tenant's higher-priority work.
//
// Shares are per node (each scheduler keeps its own passes): nodes of a cluster each split their
// own slots fairly, so the cluster's starts are fair too, give or take one split per node.
//
// Not thread-safe: the scheduler's thread owns one FairShare per queue.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace sluice {

struct DueTenant {
  std::string tenant;
  int weight = 1;  // below 1 counts as 1: a misconfigured weight must not stop a tenant
};

struct TenantGrant {
  std::string tenant;
  int slots = 0;
};

class FairShare {
 public:
  // The cost of one start at weight 1. Divisible by every weight up to 16, so common weights
  // cost exact integers.
  static constexpr std::int64_t kStrideUnit = 720'720;

  // Splits `slots` between the `due` tenants (each listed once): the tenants that get slots,
  // each with how many, in the order their first slot fell to them. Marks `due` as the tenants
  // that are due now (those joining join at V). Charges nobody: call Charge with what each
  // tenant actually started, so that slots a tenant could not use cost it nothing and can be
  // split again between the others. With 0 slots it only marks `due`.
  std::vector<TenantGrant> Split(int slots, const std::vector<DueTenant>& due);

  // `tenant` started `started` jobs at `weight` (a tenant not known yet joins at V first).
  void Charge(const std::string& tenant, int weight, int started);

  // For tests and metrics: the tenant's pass, or -1 when it is not tracked.
  std::int64_t pass_of(const std::string& tenant) const;
  std::int64_t virtual_time() const { return virtual_time_; }
  // Tenants whose pass is kept (due ones, and idle ones still ahead of V).
  std::size_t tracked() const { return pass_.size(); }

 private:
  static std::int64_t Stride(int weight);
  // Moves V up to the lowest pass of the tenants due at the latest split.
  void Advance();
  // Passes are relative: once V is this large, V is subtracted from all, so they never overflow.
  static constexpr std::int64_t kRebaseAt = std::int64_t{1} << 52;

  std::int64_t virtual_time_ = 0;
  std::map<std::string, std::int64_t> pass_;
  std::set<std::string> due_;  // the tenants of the latest Split
};

}  // namespace sluice
