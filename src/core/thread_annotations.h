// Clang's thread-safety attributes, so lock rules live in the types and are checked by the
// compiler: a member says which mutex guards it, a function which mutexes it needs held or
// must not hold (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html). CTest's
// gateway.thread_safety runs clang with -Wthread-safety -Werror=thread-safety over the parts
// that use them; GCC builds see empty macros. The lock types they describe are in
// core/mutex.h: libstdc++'s std::mutex carries no annotations, so it cannot be checked.
//
//   GUARDED_BY(mu)         the member may be read or written only with mu held
//   PT_GUARDED_BY(mu)      the pointee of this pointer member, likewise
//   REQUIRES(mu...)        the caller holds mu (a *_locked helper)
//   EXCLUDES(mu...)        the caller must not hold mu (the function takes it)
//   ACQUIRE / RELEASE      the function takes / lets go of the capability
//   TRY_ACQUIRE(ok, mu)    takes it when returning `ok`
//   ASSERT_CAPABILITY(mu)  tells the analysis mu is held from here on (checked at run time
//                          elsewhere, or guaranteed by the caller's structure)
//   CAPABILITY(name)       the class is a lock; SCOPED_CAPABILITY: an RAII holder of one
//   NO_THREAD_SAFETY_ANALYSIS  the function is not checked (say why next to it)
#pragma once

#if defined(__clang__)
#define SLUICE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define SLUICE_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) SLUICE_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY SLUICE_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) SLUICE_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) SLUICE_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) SLUICE_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) SLUICE_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define REQUIRES(...) SLUICE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) SLUICE_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) SLUICE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) SLUICE_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) SLUICE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) SLUICE_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) SLUICE_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) SLUICE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) SLUICE_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) SLUICE_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS SLUICE_THREAD_ANNOTATION(no_thread_safety_analysis)
