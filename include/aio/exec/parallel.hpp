// aio::run_parallel: n event loops on n threads, one shard of the work each.
//
// When to prefer it over threads in an executor: an executor runs *blocking* functions
// beside one loop; run_parallel runs *coroutines* on several loops, so a server or a
// crawler uses every core while each loop stays single-threaded inside (no locks in the
// coroutines of one shard). Shards share nothing by default: a server on each loop binds
// the same port with reuse_port and the kernel spreads the connections; work crosses
// loops explicitly with run_coroutine_threadsafe(task, aio::shard_loop(k)).
#pragma once
#include <exception>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "../core/event_loop.hpp"
#include "../core/run.hpp"
#include "../core/task.hpp"
#include "../core/task_handle.hpp"

namespace aio {
namespace detail {

/// What the shards of one run_parallel() share.
class ParallelGroup {
 public:
  explicit ParallelGroup(int n);
  ParallelGroup(const ParallelGroup&) = delete;

  int size() const noexcept { return static_cast<int>(slots_.size()); }
  /// Shard `shard` is about to start its body on `loop`: blocks until every shard's loop
  /// exists (so shard_loop() works from the first line of every body).
  void arrive(int shard, EventLoop& loop);
  /// Records the body's task, so that a failing shard can cancel it (loop thread).
  void set_body(int shard, TaskHandle<> body) { slots_[shard].body = std::move(body); }
  /// The body of `shard` ended (error: its exception, null on success). A failure cancels
  /// the other bodies; the last one to end releases every shard's wait_all().
  void body_done(int shard, std::exception_ptr error);
  /// Awaited by each shard after its body: its loop keeps serving hand-offs until every
  /// body is done, so no loop closes while another may still post to it.
  Future<>& all_done(int shard) { return slots_[shard].all_done; }
  EventLoop& loop(int shard) const;

 private:
  struct Slot {
    EventLoop* loop = nullptr;
    Future<> all_done;  // of that shard's loop, touched only there
    TaskHandle<> body;  // idem
  };
  std::vector<Slot> slots_;
  std::latch started_;
  std::mutex mutex_;
  int remaining_;
};

/// The group and shard of this thread while run_parallel() runs it.
struct ShardContext {
  ParallelGroup* group = nullptr;
  int shard = -1;
};
extern thread_local ShardContext tls_shard;

template <class T>
using ShardValue = std::conditional_t<std::is_void_v<T>, int, T>;

template <class T, class F>
Task<T> shard_main(ParallelGroup& group, int shard, F& fn) {
  EventLoop& loop = get_running_loop();
  group.all_done(shard) = loop.create_future<>();
  group.arrive(shard, loop);
  std::optional<ShardValue<T>> value;
  std::exception_ptr error;
  try {
    auto body = loop.create_task(fn(shard));
    group.set_body(shard, body);
    if constexpr (std::is_void_v<T>) {
      co_await body;
    } else {
      value.emplace(co_await body);
    }
  } catch (...) {
    error = std::current_exception();
  }
  group.set_body(shard, {});
  group.body_done(shard, error);
  co_await group.all_done(shard);
  if (error) std::rethrow_exception(error);
  if constexpr (!std::is_void_v<T>) co_return std::move(*value);
}

/// Runs one shard on this thread: its own loop through aio::run().
template <class T, class F>
void run_shard(ParallelGroup& group, int shard, F fn, RunOptions options, std::optional<ShardValue<T>>& out,
               std::exception_ptr& error) {
  ShardContext saved = tls_shard;
  tls_shard = {&group, shard};
  try {
    if constexpr (std::is_void_v<T>) aio::run(shard_main<T>(group, shard, fn), options);
    else out.emplace(aio::run(shard_main<T>(group, shard, fn), options));
  } catch (...) {
    error = std::current_exception();
  }
  tls_shard = saved;
}

/// Runs `job` on a shard thread, then counts `done` down. Shard threads outlive the
/// run_parallel() call and serve later ones: no thread start per call, and the coroutine
/// frames a thread recycles (aio keeps freed frames per thread) stay in use instead of being
/// stranded when the thread exits.
void run_on_shard_thread(std::function<void()> job, std::latch& done);
/// std::runtime_error when a loop runs on this thread.
void check_no_running_loop();
/// The exception run_parallel() throws for the shards' errors (null: none).
std::exception_ptr combine_shard_errors(const std::vector<std::exception_ptr>& errors);

template <class F>
using shard_task_t = std::invoke_result_t<F&, int>;

}  // namespace detail

/// Runs fn(shard) -> aio::Task<T> for shard = 0..n-1, each on its own event loop and thread
/// (shard 0 on the calling thread, which must not be running a loop; the others on threads
/// kept for later calls), and returns the
/// results in shard order (std::vector<T>; nothing for Task<>). Each loop is an aio::run()
/// with `options`: leftovers cancelled, default executor shut down. The loops stay up until
/// every body is done. A body that fails cancels the others; then its exception is thrown
/// (several: aio::ExceptionGroup). SIGINT cancels every shard and throws KeyboardInterrupt.
template <class F>
  requires std::copy_constructible<F> && detail::is_task_v<detail::shard_task_t<F>>
auto run_parallel(int n, F fn, RunOptions options = {}) {
  using T = typename detail::shard_task_t<F>::value_type;
  if (n < 1) throw std::invalid_argument("run_parallel() needs at least one shard");
  detail::check_no_running_loop();
  detail::ParallelGroup group(n);
  std::vector<std::optional<detail::ShardValue<T>>> results(static_cast<std::size_t>(n));
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(n));
  std::latch finished(n - 1);
  for (int shard = 1; shard < n; ++shard) {
    detail::run_on_shard_thread(
        [&group, &results, &errors, shard, fn, options] {
          detail::run_shard<T>(group, shard, fn, options, results[shard], errors[shard]);
        },
        finished);
  }
  detail::run_shard<T>(group, 0, fn, options, results[0], errors[0]);
  finished.wait();
  if (auto error = detail::combine_shard_errors(errors)) std::rethrow_exception(error);
  if constexpr (!std::is_void_v<T>) {
    std::vector<T> out;
    out.reserve(results.size());
    for (auto& r : results) out.push_back(std::move(*r));
    return out;
  }
}

/// The loop of shard k of the run_parallel() this thread belongs to (for
/// run_coroutine_threadsafe hand-offs); std::runtime_error outside run_parallel().
EventLoop& shard_loop(int shard);
/// This thread's shard number in run_parallel(), -1 outside it.
int current_shard() noexcept;
/// How many shards the current run_parallel() has, 0 outside it.
int shard_count() noexcept;

}  // namespace aio
