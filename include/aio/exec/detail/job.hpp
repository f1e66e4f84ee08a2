// How work done on another thread (or process) finds its way back to an event loop.
//
// A job is created on the loop's thread, holding the loop-side Future. Its worker runs it
// and hands it to the loop's LoopLink (LoopLink::finish, any thread); the link batches
// finished jobs and wakes the loop with one call_soon_threadsafe; on the loop's thread
// each job completes its Future and is deleted. Future reference counts are not atomic,
// so the Future is only ever touched on the loop's thread. When the loop closes first,
// its jobs still in flight are detached (their Future dropped, on the loop's thread) and
// deleted by whoever finishes them.
#pragma once
#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "../../core/errors.hpp"
#include "../../core/event_loop.hpp"
#include "../../core/future.hpp"

namespace aio {

class ThreadPoolExecutor;

namespace detail {

class LoopLink;

/// One unit of work whose outcome returns to a loop.
class ExecJob {
 public:
  ExecJob(const ExecJob&) = delete;
  ExecJob& operator=(const ExecJob&) = delete;
  virtual ~ExecJob() = default;

  /// Worker side (thread pools): does the work; the worker then calls finish().
  virtual void run() noexcept {}
  /// True once nobody wants the outcome (the Future was cancelled, the loop closed):
  /// a job that has not started is skipped.
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }
  /// Worker side: hands the job back to its loop (or deletes it when the loop is gone).
  void finish() noexcept;

 protected:
  ExecJob() = default;
  /// Loop side, on the loop's thread: delivers the outcome; the job is deleted afterwards.
  virtual void complete() noexcept = 0;
  /// Loop side, on the loop's thread: the loop closes before the outcome came; drop
  /// every loop-side reference (the worker may still be running the job).
  virtual void detach() noexcept = 0;

  std::atomic<bool> cancelled_{false};

 private:
  friend class LoopLink;
  friend class aio::ThreadPoolExecutor;
  std::shared_ptr<LoopLink> link_;
  ExecJob* prev_ = nullptr;  // the link's in-flight list, then its done list (next_ only)
  ExecJob* next_ = nullptr;
  ExecJob* queue_next_ = nullptr;  // an executor's queue
  bool orphaned_ = false;          // the loop closed first (guarded by the link's mutex)
  bool busy_wait_ = false;         // holds its loop's busy wait (loop thread only)
};

/// Per-loop state of module exec: the jobs in flight, the finished ones waiting for the
/// loop, and the loop's default executor. Created on first use on the loop's thread and
/// shut down by the loop's shutdown hook (run() / close()).
class LoopLink : public std::enable_shared_from_this<LoopLink> {
 public:
  explicit LoopLink(EventLoop& loop) noexcept;
  ~LoopLink();
  LoopLink(const LoopLink&) = delete;

  /// The link of `loop`, created on first use; call it on the loop's thread.
  /// std::runtime_error when the loop is closed.
  static std::shared_ptr<LoopLink> of(EventLoop& loop);

  /// Loop thread: `job` is now in flight for this loop. busy_wait: until its outcome is
  /// back, the loop busy-waits a little before sleeping (EventLoop::hold_busy_wait).
  void track(ExecJob* job, bool busy_wait = false);
  /// Loop thread: undoes track() for a job that could not be queued.
  void untrack(ExecJob* job) noexcept;
  /// Loop thread: track()s `job` and queues it with enqueue(job), which takes ownership
  /// unless it throws; then the job is untracked and deleted, and the error propagates.
  template <class Job, class Enqueue>
  void track_and_enqueue(Job* job, Enqueue&& enqueue, bool busy_wait = false) {
    track(job, busy_wait);
    try {
      std::forward<Enqueue>(enqueue)(job);
    } catch (...) {
      untrack(job);
      delete job;
      throw;
    }
  }
  /// Any thread: the job is done; it completes on the loop's thread.
  void finish(ExecJob* job) noexcept;

  /// Loop thread: the loop's default executor (a ThreadPoolExecutor), created on first use.
  ThreadPoolExecutor& default_executor();
  /// The loop, or null once it closed.
  EventLoop* loop() const noexcept { return loop_.load(std::memory_order_acquire); }

 private:
  void drain() noexcept;
  void on_close() noexcept;

  EventLoop* const key_;  // the registry's key, kept after the loop closed
  std::mutex mutex_;
  std::atomic<EventLoop*> loop_;
  ExecJob* inflight_ = nullptr;
  ExecJob* done_head_ = nullptr;
  ExecJob* done_tail_ = nullptr;
  bool drain_scheduled_ = false;
  std::unique_ptr<ThreadPoolExecutor> default_executor_;
};

inline void ExecJob::finish() noexcept { link_->finish(this); }

template <class T>
using StoredValue = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

/// A job whose outcome completes a Future<R> of the loop. The worker fills value_ or
/// error_ (or neither: skipped, which cancels the Future).
template <class R>
class FutureJob : public ExecJob, private Completion {
 public:
  explicit FutureJob(Future<R> future) : Completion(&FutureJob::on_future_done), future_(std::move(future)) {
    future_.state()->add_waiter(this);
    watching_ = true;
  }
  ~FutureJob() override {
    if (watching_) future_.state()->remove_waiter(this);
  }

 protected:
  void complete() noexcept override {
    if (watching_) {
      future_.state()->remove_waiter(this);
      watching_ = false;
    }
    if (future_.done()) return;  // cancelled meanwhile: the outcome is dropped, as asyncio does
    try {
      if (error_) {
        if (is_cancelled_error(error_)) {
          try {
            std::rethrow_exception(error_);
          } catch (const CancelledError& e) {
            future_.cancel(e.what());
          }
        } else {
          future_.set_exception(error_);
        }
      } else if (value_) {
        if constexpr (std::is_void_v<R>) future_.set_result();
        else future_.set_result(std::move(*value_));
      } else {
        future_.cancel();
      }
    } catch (...) {
      // set_result cannot fail on a pending future; a throwing move constructor can
      static_cast<EventLoop&>(future_.state()->loop())
          .call_exception_handler({"Exception while delivering an executor result", std::current_exception(), {}});
    }
  }
  void detach() noexcept override {
    // Not cancelled: as with asyncio, a job the closed loop no longer waits for still runs.
    if (watching_) {
      future_.state()->remove_waiter(this);
      watching_ = false;
    }
    future_ = {};
  }

  std::optional<StoredValue<R>> value_;  // written by the worker before finish()
  std::exception_ptr error_;

 private:
  static void on_future_done(Completion* c, FutureState& s) {
    auto* self = static_cast<FutureJob*>(c);
    self->watching_ = false;
    if (s.cancelled()) self->cancelled_.store(true, std::memory_order_release);
  }

  Future<R> future_;      // loop thread only
  bool watching_ = false;  // registered as a waiter on future_ (loop thread only)
};

/// The result type of calling decayed F with decayed A..., reference and cv dropped.
template <class F, class... A>
using call_result_t = std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<A>...>>;

/// A function and its arguments (decay-copied, as std::thread does) run on a pool thread.
template <class R, class Fn>
class ThreadJob final : public FutureJob<R> {
 public:
  ThreadJob(Future<R> future, Fn fn) : FutureJob<R>(std::move(future)), fn_(std::move(fn)) {}

  void run() noexcept override {
    if (!this->cancelled()) {
      try {
        if constexpr (std::is_void_v<R>) {
          fn_();
          this->value_.emplace();
        } else {
          this->value_.emplace(fn_());
        }
      } catch (...) {
        this->error_ = std::current_exception();
      }
    }
  }

 private:
  Fn fn_;
};

/// Binds fn and args into one callable that runs them once, moving its copies in.
template <class F, class... A>
auto bind_call(F&& fn, A&&... args) {
  return [fn = std::forward<F>(fn), ... args = std::forward<A>(args)]() mutable -> decltype(auto) {
    return std::invoke(std::move(fn), std::move(args)...);
  };
}

}  // namespace detail
}  // namespace aio
