// aio::ThreadPoolExecutor: concurrent.futures.ThreadPoolExecutor whose futures are
// awaitable aio::Futures of the submitting thread's event loop.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <ranges>
#include <thread>
#include <vector>

#include "detail/job.hpp"
#include "detail/map.hpp"

namespace aio {

/// ThreadPoolExecutor's keyword arguments.
struct ThreadPoolOptions {
  /// Bound of the queue of jobs waiting for a thread; 0 = unbounded (as in Python). When it
  /// is full, submit() blocks its caller until a thread takes a job; map() never blocks (it
  /// keeps at most max_workers + max_queue jobs submitted at a time).
  std::size_t max_queue = 0;
  /// How long an idle thread keeps looking for the next job (yielding its core) before it
  /// sleeps: a job submitted meanwhile starts without a kernel wake-up, so calls awaited one
  /// after the other (to_thread in a loop) cost a few microseconds instead of tens. 0 turns
  /// it off. The environment variable AIO_EXECUTOR_SPIN_US overrides it for every pool.
  std::chrono::microseconds spin{50};
};

/// A pool of threads running functions (concurrent.futures.ThreadPoolExecutor). Threads
/// start on demand, up to max_workers (0: min(32, cores + 4), as in Python), and stay
/// until shutdown(). submit() may be called from any thread: the returned Future belongs
/// to that thread's event loop and completes there.
class ThreadPoolExecutor {
 public:
  explicit ThreadPoolExecutor(std::size_t max_workers = 0, ThreadPoolOptions options = {});
  /// shutdown(wait = true).
  ~ThreadPoolExecutor();
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;

  /// Runs fn(args...) on a pool thread; the Future (of this thread's event loop, created if
  /// needed as get_event_loop() does) gets its result or its exception, with its type.
  /// fn and args are decay-copied (std::ref to pass a reference). Cancelling the Future
  /// before a thread took the job skips it; a running call runs on, its result dropped.
  /// std::runtime_error after shutdown().
  template <class F, class... A>
    requires std::invocable<std::decay_t<F>, std::decay_t<A>...>
  Future<detail::call_result_t<F, A...>> submit(F&& fn, A&&... args) {
    return submit_on(get_event_loop(), std::forward<F>(fn), std::forward<A>(args)...);
  }

  /// submit() delivering to `loop` (call it on the loop's thread): what run_in_executor uses.
  template <class F, class... A>
    requires std::invocable<std::decay_t<F>, std::decay_t<A>...>
  Future<detail::call_result_t<F, A...>> submit_on(EventLoop& loop, F&& fn, A&&... args) {
    using R = detail::call_result_t<F, A...>;
    auto bound = detail::bind_call(std::forward<F>(fn), std::forward<A>(args)...);
    auto future = Future<R>::create(loop);
    auto link = detail::LoopLink::of(loop);
    auto* job = new detail::ThreadJob<R, decltype(bound)>(future, std::move(bound));
    // The thread spins for the next job: the loop for the result.
    link->track_and_enqueue(job, [this](auto* queued) { enqueue(queued); }, spin_.count() > 0);
    return future;
  }

  /// co_await pool.map(fn, items) -> std::vector<R>: fn(item) for every item on the pool,
  /// results in input order (void gives std::monostate). The first error in input order is
  /// rethrown and the jobs after it are cancelled. The items are copied when map() is called.
  template <class F, std::ranges::input_range Range>
    requires std::invocable<std::decay_t<F>&, std::ranges::range_value_t<Range>>
  auto map(F fn, Range&& items) {
    using Item = std::ranges::range_value_t<Range>;
    std::vector<Item> copy(std::ranges::begin(items), std::ranges::end(items));
    return detail::executor_map(*this, std::move(fn), std::move(copy), map_window());
  }

  /// Stops accepting work. wait: block until every queued and running job is done and
  /// the threads have exited. cancel_futures: drop the queued jobs (their Futures are
  /// cancelled). A later submit() throws std::runtime_error. Idempotent.
  void shutdown(bool wait = true, bool cancel_futures = false);

  std::size_t max_workers() const noexcept { return max_workers_; }
  /// Threads started so far.
  std::size_t threads() const;

  /// Low level: queues a job whose LoopLink is set (takes ownership unless it throws).
  void enqueue(detail::ExecJob* job);

 private:
  void worker_main();
  /// counted_idle: the caller is already counted in spinning_ (it just finished a job).
  detail::ExecJob* next_job(bool counted_idle);
  std::size_t map_window() const noexcept { return max_queue_ ? max_workers_ + max_queue_ : 0; }
  bool on_worker_thread() const;

  std::size_t max_workers_;
  std::size_t max_queue_;
  std::chrono::microseconds spin_;

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable space_ready_;
  detail::ExecJob* head_ = nullptr;  // FIFO of queued jobs
  detail::ExecJob* tail_ = nullptr;
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> spinning_{0};
  std::atomic<bool> stopping_{false};
  std::size_t sleeping_ = 0;
  std::vector<std::thread> threads_;
  std::vector<std::thread::id> thread_ids_;
};

}  // namespace aio
