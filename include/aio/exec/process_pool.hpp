// aio::ProcessPoolExecutor: concurrent.futures.ProcessPoolExecutor on forked workers.
//
// Workers are fork()ed on demand (up to max_workers) by submit(), in the submitting thread, as
// Python does; a manager thread dispatches jobs, reads results and reaps workers. Each worker
// runs one job at a time and talks to the parent through a socket pair: the job goes as
// bytes (which function, then its arguments), the result or the exception's what() comes
// back as bytes. What crosses is what aio::wireable_v accepts (aio/exec/wire.hpp):
// trivially copyable values without pointers, std::string, and vectors, pairs and tuples
// of those. The function must be a plain function (or a lambda without captures): the
// worker is a fork of the parent, so its code is at the same address there.
//
// A worker starts with only stdin, stdout, stderr and its socket open (every other
// descriptor is closed: a worker does not keep the parent's listening sockets alive),
// ignores SIGINT (the parent decides), and leaves with _exit(). Its output goes to the
// same stdout (flushed after each job).
#pragma once
#include <sys/types.h>

#include <bit>
#include <cstddef>
#include <exception>
#include <memory>
#include <ranges>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "detail/job.hpp"
#include "detail/map.hpp"
#include "errors.hpp"
#include "wire.hpp"

namespace aio {
namespace detail {

/// Runs in the worker: decodes the function and the arguments, calls, encodes the
/// result (true) or the exception's what() (false).
using ProcessInvoker = bool (*)(std::string_view request, std::string& out) noexcept;

template <class R, class Fn, class... Args>
bool invoke_in_worker(std::string_view request, std::string& out) noexcept {
  try {
    wire::Reader in(request);
    std::array<unsigned char, sizeof(Fn)> fn_bytes;
    in.bytes(fn_bytes.data(), fn_bytes.size());
    Fn fn = std::bit_cast<Fn>(fn_bytes);
    std::tuple<Args...> args{wire::get<Args>(in)...};  // braces: decoded in order
    if constexpr (std::is_void_v<R>) {
      std::apply(fn, std::move(args));
    } else {
      R r = std::apply(fn, std::move(args));
      wire::put<R>(out, r);
    }
    return true;
  } catch (const std::exception& e) {
    out = e.what();
  } catch (...) {
    out = "unknown exception";
  }
  return false;
}

/// A job as the pool's manager thread sees it.
class ProcessWork {
 public:
  virtual ~ProcessWork() = default;
  std::string request;            // invoker address, function bytes, arguments
  ProcessWork* next = nullptr;    // the pool's queue
  virtual bool skip() const noexcept = 0;
  /// The worker answered: ok -> payload is the encoded result, else an exception's what().
  virtual void accept(bool ok, std::string_view payload) noexcept = 0;
  virtual void fail(std::exception_ptr error) noexcept = 0;
  /// Hands the job back to its loop (it may be deleted by the time this returns).
  virtual void done() noexcept = 0;
};

template <class R>
class ProcessJob final : public FutureJob<R>, public ProcessWork {
 public:
  using FutureJob<R>::FutureJob;
  bool skip() const noexcept override { return this->cancelled(); }
  void accept(bool ok, std::string_view payload) noexcept override {
    try {
      if (!ok) throw std::runtime_error(std::string(payload));
      if constexpr (std::is_void_v<R>) {
        this->value_.emplace();
      } else {
        wire::Reader in(payload);
        this->value_.emplace(wire::get<R>(in));
      }
    } catch (...) {
      this->error_ = std::current_exception();
    }
  }
  void fail(std::exception_ptr error) noexcept override { this->error_ = std::move(error); }
  void done() noexcept override { this->finish(); }
};

template <class F>
inline constexpr bool process_callable_v =
    (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>) ||
    (std::is_class_v<F> && std::is_empty_v<F> && std::is_trivially_copyable_v<F>);

}  // namespace detail

/// A pool of forked worker processes (concurrent.futures.ProcessPoolExecutor) for
/// CPU-bound functions. max_workers 0 = the number of cores. A worker that dies (killed,
/// crashed, exited) fails the job it was running with aio::BrokenProcessPool; the pool
/// reaps it and forks a replacement when work is waiting, so later jobs run normally.
/// The destructor shuts down and reaps every worker (no zombies).
class ProcessPoolExecutor {
 public:
  explicit ProcessPoolExecutor(std::size_t max_workers = 0);
  /// shutdown(wait = true).
  ~ProcessPoolExecutor();
  ProcessPoolExecutor(const ProcessPoolExecutor&) = delete;
  ProcessPoolExecutor& operator=(const ProcessPoolExecutor&) = delete;

  /// Runs fn(args...) in a worker; the Future belongs to this thread's event loop. An
  /// exception thrown by fn comes back as std::runtime_error carrying its what().
  /// std::runtime_error after shutdown().
  template <class F, class... A>
  Future<detail::call_result_t<F, A...>> submit(F&& fn, A&&... args) {
    return submit_on(get_event_loop(), std::forward<F>(fn), std::forward<A>(args)...);
  }

  /// submit() delivering to `loop` (call it on the loop's thread): what run_in_executor uses.
  template <class F, class... A>
  Future<detail::call_result_t<F, A...>> submit_on(EventLoop& loop, F&& fn, A&&... args) {
    using Fn = std::decay_t<F>;
    using R = detail::call_result_t<F, A...>;
    static_assert(detail::process_callable_v<Fn>,
                  "ProcessPoolExecutor runs plain functions or lambdas without captures");
    static_assert((wireable_v<std::decay_t<A>> && ...),
                  "an argument cannot cross to a worker process (see aio/exec/wire.hpp; "
                  "pass std::string rather than const char*)");
    static_assert(std::is_void_v<R> || wireable_v<R>,
                  "the result cannot cross back from a worker process (see aio/exec/wire.hpp)");
    std::string request;
    wire::put<std::uint64_t>(request, reinterpret_cast<std::uintptr_t>(
                                          &detail::invoke_in_worker<R, Fn, std::decay_t<A>...>));
    Fn f = fn;
    request.append(reinterpret_cast<const char*>(&f), sizeof(Fn));
    (wire::put<std::decay_t<A>>(request, args), ...);
    auto future = Future<R>::create(loop);
    auto link = detail::LoopLink::of(loop);
    auto* job = new detail::ProcessJob<R>(future);
    job->request = std::move(request);
    link->track_and_enqueue(job, [this](auto* queued) { enqueue(queued); });
    return future;
  }

  /// co_await pool.map(fn, items) -> std::vector<R>, in input order; the first error is
  /// rethrown and the jobs after it cancelled. Items are copied when map() is called.
  template <class F, std::ranges::input_range Range>
  auto map(F fn, Range&& items) {
    using Item = std::ranges::range_value_t<Range>;
    std::vector<Item> copy(std::ranges::begin(items), std::ranges::end(items));
    return detail::executor_map(*this, std::move(fn), std::move(copy), 0);
  }

  /// Stops accepting work. wait: block until the queued and running jobs are done and
  /// every worker has exited and been reaped. cancel_futures: drop the queued jobs (their
  /// Futures are cancelled). Idempotent; a later submit() throws std::runtime_error.
  void shutdown(bool wait = true, bool cancel_futures = false);

  std::size_t max_workers() const noexcept { return max_workers_; }
  /// The process ids of the live workers.
  std::vector<pid_t> worker_pids() const;
  /// Jobs submitted and not yet handed to a worker.
  std::size_t queued() const;

  /// Low level: queues a job whose LoopLink is set (takes ownership unless it throws).
  void enqueue(detail::ProcessWork* job);

 private:
  struct State;
  std::size_t max_workers_;
  std::unique_ptr<State> state_;
};

}  // namespace aio
