// aio::EventLoop: asyncio's event loop — ready queue, timers, a poller, callbacks.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "detail/awaitable.hpp"
#include "detail/loop_core.hpp"
#include "future.hpp"
#include "handle.hpp"
#include "poller.hpp"
#include "task_handle.hpp"

namespace aio {

/// asyncio.run()'s keyword arguments.
struct RunOptions {
  bool debug = false;                    ///< loop.set_debug(): log slow steps ("Executing ... took")
  Backend backend = Backend::automatic;  ///< epoll or io_uring; AIO_BACKEND overrides automatic
  bool virtual_time = false;             ///< aio::testing: sleeping jumps the clock instead of waiting
};

/// What the loop's exception handler receives (asyncio's context dict).
struct ExceptionContext {
  std::string message;
  std::exception_ptr exception;
  TaskHandle<> task;  ///< may be empty
};

class EventLoop : public detail::LoopCore {
 public:
  using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;

  explicit EventLoop(RunOptions options = {});
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Runs until `aw` is done and returns its result (or rethrows its exception).
  template <class A>
  auto run_until_complete(A&& aw);
  /// Runs until stop() is called.
  void run_forever();
  /// Makes run_forever() return after the current iteration.
  void stop() noexcept { stopping_ = true; }
  /// Cancels what is left and frees the loop's resources; the loop cannot run again.
  void close();
  bool is_running() const noexcept { return running_; }
  bool is_closed() const noexcept { return closed_; }
  /// Monotonic seconds, the clock of call_at() and timeout_at().
  double time() const noexcept { return static_cast<double>(now_ns()) / 1e9; }

  Handle call_soon(std::function<void()> fn);
  /// The only EventLoop call that is safe from another thread: wakes the loop.
  Handle call_soon_threadsafe(std::function<void()> fn);
  template <Delay D>
  TimerHandle call_later(D delay, std::function<void()> fn) {
    return call_at_ns(now_ns() + detail::to_ns(delay), std::move(fn));
  }
  TimerHandle call_at(double when, std::function<void()> fn) {
    return call_at_ns(detail::to_ns(when), std::move(fn));
  }

  template <class T = void>
  Future<T> create_future() {
    return Future<T>::create(*this);
  }
  /// Schedules the coroutine (FIFO with everything else ready), named "Task-N".
  template <class T>
  TaskHandle<T> create_task(Task<T> task) {
    check_open();
    if (!task) throw std::invalid_argument("create_task() needs a coroutine");
    auto h = task.release();
    h.promise().start(*this, h);
    return TaskHandle<T>(&h.promise());
  }
  /// The same with a name ("" means "Task-N"). A separate overload, so that unnamed
  /// tasks do not pay for constructing and moving an empty string.
  template <class T>
  TaskHandle<T> create_task(Task<T> task, std::string name) {
    auto handle = create_task(std::move(task));
    if (!name.empty()) handle.set_name(std::move(name));
    return handle;
  }

  /// asyncio's run_in_executor: fn(args...) on `executor` (a pointer to a ThreadPoolExecutor
  /// or ProcessPoolExecutor; nullptr: the loop's default executor) -> Future<R> of this loop.
  /// Defined by module exec (<aio/exec/run_in_executor.hpp>, included by <aio/aio.hpp>).
  template <class E, class F, class... A>
  auto run_in_executor(E executor, F&& fn, A&&... args);

  void set_debug(bool enabled) noexcept { debug_ = enabled; }
  bool get_debug() const noexcept { return debug_; }
  /// In debug mode, a step longer than this (seconds) is logged.
  double slow_callback_duration = 0.1;

  void set_exception_handler(ExceptionHandler handler) { exception_handler_ = std::move(handler); }
  ExceptionHandler get_exception_handler() const { return exception_handler_; }
  void default_exception_handler(const ExceptionContext& context);
  void call_exception_handler(const ExceptionContext& context) noexcept;

  Poller& poller() noexcept { return *poller_; }

  /// asyncio's low-level socket calls on an aio::Socket: sock_recv(sock, n) -> std::string,
  /// sock_recv_into(sock, span) -> n, sock_sendall(sock, data), sock_connect(sock, address),
  /// sock_accept(sock) -> {Socket, SockAddr}, sock_sendto(sock, data, address),
  /// sock_recvfrom(sock, n) -> {data, SockAddr}. Defined by module net (<aio/net/socket_ops.hpp>).
  template <class S>
  auto sock_recv(S& sock, std::size_t nbytes);
  template <class S, class B>
  auto sock_recv_into(S& sock, B&& buffer);
  template <class S, class D>
  auto sock_sendall(S& sock, D&& data);
  template <class S, class A>
  auto sock_connect(S& sock, A&& address);
  template <class S>
  auto sock_accept(S& sock);
  template <class S, class D, class A>
  auto sock_sendto(S& sock, D&& data, A&& address);
  template <class S>
  auto sock_recvfrom(S& sock, std::size_t bufsize);
  /// Busy-waiting before sleeping: while a hold is taken (module exec takes one per job it
  /// hands to a thread pool whose threads spin), a loop with nothing to do first looks for
  /// call_soon_threadsafe callbacks for up to busy_wait_ns (yielding its core) before it
  /// sleeps in the poller, so a result coming back from a thread needs no kernel wake-up.
  /// Loop thread only.
  void hold_busy_wait() noexcept { ++busy_wait_holds_; }
  void release_busy_wait() noexcept { --busy_wait_holds_; }
  std::int64_t busy_wait_ns = 50000;

  /// Runs `fn` once when run() or close() shuts the loop down (default executor, etc.).
  void add_shutdown_hook(std::function<void()> fn) { shutdown_hooks_.push_back(std::move(fn)); }
  /// asyncio's add_signal_handler: from now on signal `signum` runs `fn` as a loop callback
  /// (never inside the signal handler). Replaces this loop's earlier handler for signum; a
  /// SIGINT handler takes over from run()'s KeyboardInterrupt. std::invalid_argument for a
  /// signal number out of range, std::runtime_error for one that cannot be caught (SIGKILL,
  /// SIGSTOP). Implemented in src/core/signals.cpp (a self-pipe watched by the poller).
  void add_signal_handler(int signum, std::function<void()> fn);
  /// Removes the handler of `signum`; false when there was none. The signal gets its default
  /// disposition back (SIGINT: what it had before, e.g. run()'s handler). close() removes all.
  bool remove_signal_handler(int signum);
  /// Set by run() while SIGINT should cancel `task` (async-signal-safe flag).
  void interrupt_on_signal(TaskHandle<> task) { interrupt_target_ = std::move(task); }
  void request_interrupt() noexcept;

 private:
  void run_once();
  bool busy_wait(std::int64_t timeout_ns);
  void run_ready_batch();
  static void run_entry(detail::ReadyQueue::Entry e);
  void fire_due_timers();
  void drain_threadsafe();
  void check_open() const;
  TimerHandle call_at_ns(std::int64_t when_ns, std::function<void()> fn);
  void run_until_done(detail::FutureState& s);

  std::unique_ptr<Poller> poller_;
  ExceptionHandler exception_handler_;
  std::vector<std::function<void()>> shutdown_hooks_;
  std::mutex threadsafe_mutex_;
  std::vector<detail::CallbackNode*> threadsafe_queue_;
  std::atomic<bool> threadsafe_pending_{false};
  std::atomic<bool> interrupt_requested_{false};
  TaskHandle<> interrupt_target_;
  unsigned ticks_since_io_ = 0;
  std::uint32_t busy_wait_holds_ = 0;
  bool running_ = false;
  bool stopping_ = false;
  bool closed_ = false;
  bool debug_ = false;
};

/// The loop running on this thread; std::runtime_error when none runs.
EventLoop& get_running_loop();
/// The running loop, else this thread's loop, created on first use (old-style API).
EventLoop& get_event_loop();
/// A new loop owned by this thread (freed at thread exit); not made current.
EventLoop& new_event_loop();
void set_event_loop(EventLoop& loop);

/// Schedules `task` in the running loop (asyncio.create_task).
template <class T>
TaskHandle<T> create_task(Task<T> task) {
  return get_running_loop().create_task(std::move(task));
}
/// The same with a name ("" means "Task-N").
template <class T>
TaskHandle<T> create_task(Task<T> task, std::string name) {
  return get_running_loop().create_task(std::move(task), std::move(name));
}

/// The task running now; empty inside a plain callback; std::runtime_error with no running loop.
TaskHandle<> current_task();
/// Every unfinished task of the running loop.
std::vector<TaskHandle<>> all_tasks();

namespace detail {

/// A coroutine that awaits `aw`: how a gather, a wait or any awaitable becomes a task.
template <class A>
Task<await_result_t<A&>> await_in_task(A aw) {
  co_return co_await aw;
}

/// asyncio.ensure_future on a given loop: tasks and futures pass through, the rest is scheduled.
template <class A>
auto ensure_future_on(EventLoop& loop, A&& aw) {
  using Raw = std::remove_cvref_t<A>;
  if constexpr (is_task_handle_v<Raw> || is_future_v<Raw>) {
    return Raw(std::forward<A>(aw));
  } else if constexpr (is_task_v<Raw>) {
    return loop.create_task(std::move(aw));  // a coroutine object runs once: an lvalue is consumed too
  } else {
    return loop.create_task(await_in_task<Raw>(std::forward<A>(aw)));
  }
}

}  // namespace detail

/// asyncio.ensure_future: a Task is scheduled on the thread's loop (created if needed, the
/// old-style API), TaskHandle and Future pass through, any other awaitable is wrapped in a task.
template <class A>
auto ensure_future(A&& aw) {
  return detail::ensure_future_on(get_event_loop(), std::forward<A>(aw));
}

template <class A>
auto EventLoop::run_until_complete(A&& aw) {
  auto handle = detail::ensure_future_on(*this, std::forward<A>(aw));
  run_until_done(*handle.state());
  return handle.result();
}

}  // namespace aio
