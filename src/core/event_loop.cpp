#include "aio/core/event_loop.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <thread>

#include "aio/core/log.hpp"
#include "pollers.hpp"

namespace aio {

namespace {
thread_local EventLoop* tls_running_loop = nullptr;
/// A child of fork() runs no loop, as in asyncio (which compares the pid): the thread that
/// forked (ProcessPoolExecutor::submit from a coroutine, say) may have been running one,
/// and the child only has a copy of it.
[[maybe_unused]] const int reset_after_fork = ::pthread_atfork(nullptr, nullptr, [] {
  tls_running_loop = nullptr;
  detail::tls_loop = nullptr;
  detail::tls_current_task = nullptr;
});
/// asyncio polls for I/O every iteration; polling with a full ready queue only every
/// few iterations (Tokio's event_interval) keeps a syscall off hot ping-pong paths.
constexpr unsigned kIoPollInterval = 61;
/// aio::testing: how long (real time) the loop waits for I/O before jumping its virtual clock.
constexpr std::int64_t kAutojumpThresholdNs = 20'000'000;

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::string_view(v) != "0";
}
}  // namespace

namespace detail {

void CallbackNode::cancel() noexcept {
  if (cancelled_.exchange(true)) return;
  if (armed()) {  // on the timer heap: take it off now rather than when it comes due
    loop_->disarm_timer(this);
    fn_ = nullptr;
    release();
  }
}

void CallbackNode::run_now(Runnable* r) {
  auto* self = static_cast<CallbackNode*>(r);
  if (!self->cancelled()) {
    try {
      self->fn_();
    } catch (...) {
      self->loop_->call_exception_handler({"Exception in callback", std::current_exception(), {}});
    }
  }
  self->release();
}

void CallbackNode::fire_timer(TimerEntry* e) {
  auto* self = static_cast<CallbackNode*>(e);
  self->loop_->schedule(self);
}

LoopCore& thread_loop() { return get_event_loop(); }

}  // namespace detail

EventLoop::EventLoop(RunOptions options) {
  debug_ = options.debug || env_flag("AIO_DEBUG");
  virtual_time = options.virtual_time;
  poller_ = detail::make_poller(options.backend);
}

EventLoop::~EventLoop() {
  if (!closed_ && !running_) close();
  if (detail::tls_loop == this) detail::tls_loop = nullptr;
}

void EventLoop::check_open() const {
  if (closed_) throw std::runtime_error("Event loop is closed");
}

void EventLoop::run_forever() {
  check_open();
  if (running_) throw std::runtime_error("This event loop is already running");
  if (tls_running_loop) throw std::runtime_error("Cannot run the event loop while another loop is running");
  detail::LoopCore* saved = detail::tls_loop;
  detail::tls_loop = this;
  tls_running_loop = this;
  running_ = true;
  struct Restore {
    EventLoop* loop;
    detail::LoopCore* saved;
    ~Restore() {
      loop->running_ = false;
      loop->stopping_ = false;
      tls_running_loop = nullptr;
      // As asyncio's run_forever, which only sets the running loop: having run does not make
      // this loop the thread's loop (a closed one would be handed out by get_event_loop()).
      detail::tls_loop = saved;
    }
  } restore{this, saved};
  for (;;) {
    run_once();
    if (stopping_) break;
  }
}

void EventLoop::run_until_done(detail::FutureState& s) {
  // As asyncio's _run_until_complete_cb, the stop is itself a callback queued behind the
  // done callbacks registered before it: those still run before run_until_complete returns.
  struct StopWhenDone : detail::Completion {
    EventLoop* loop;
    Handle stop;
    explicit StopWhenDone(EventLoop* l) : Completion(&StopWhenDone::on_done), loop(l) {}
    static void on_done(detail::Completion* c, detail::FutureState&) {
      auto* self = static_cast<StopWhenDone*>(c);
      EventLoop* loop = self->loop;
      self->stop = loop->call_soon([loop] { loop->stop(); });
    }
  } stopper(this);
  if (!s.done()) {
    s.add_waiter(&stopper);
    try {
      run_forever();
    } catch (...) {
      s.remove_waiter(&stopper);
      if (stopper.stop) stopper.stop.cancel();
      throw;
    }
    s.remove_waiter(&stopper);
    if (stopper.stop) stopper.stop.cancel();  // stopped early by someone else: no stale stop
  }
  if (!s.done()) throw std::runtime_error("Event loop stopped before Future completed.");
}

void EventLoop::run_once() {
  std::int64_t timeout_ns = -1;
  if (!ready.empty() || stopping_ || threadsafe_pending_.load(std::memory_order_acquire) ||
      interrupt_requested_.load(std::memory_order_relaxed)) {
    timeout_ns = 0;
  } else if (!timers.empty()) {
    timeout_ns = std::max<std::int64_t>(0, timers.top()->deadline_ns - now_ns());
  }
  bool polled = false;
  if (virtual_time && timeout_ns > 0) {
    // Nothing can happen before the next timer but I/O. Like Trio's autojump clock, give
    // real I/O a real moment (a reply on loopback may still be in flight) and jump the
    // clock only when none came.
    if (poller_->watched() > 0 && poller_->poll(kAutojumpThresholdNs) > 0) polled = true;
    else virtual_now_ns = timers.top()->deadline_ns;
    timeout_ns = 0;
  }
  if (polled) {
    ticks_since_io_ = 0;
  } else if (timeout_ns != 0) {
    ticks_since_io_ = 0;
    if (busy_wait_holds_ == 0 || !busy_wait(timeout_ns)) poller_->poll(timeout_ns);
  } else if (ready.empty() || ++ticks_since_io_ >= kIoPollInterval) {  // the counter first: no
    ticks_since_io_ = 0;                                                 // virtual call per step
    if (poller_->watched() > 0) poller_->poll(0);
  }
  // A plain load first: a locked exchange on every iteration costs more than the whole step.
  if (interrupt_requested_.load(std::memory_order_relaxed) &&
      interrupt_requested_.exchange(false, std::memory_order_relaxed) && interrupt_target_)
    interrupt_target_.cancel();
  if (threadsafe_pending_.load(std::memory_order_acquire)) drain_threadsafe();
  if (!timers.empty()) fire_due_timers();
  run_ready_batch();
}

bool EventLoop::busy_wait(std::int64_t timeout_ns) {
  std::int64_t limit = timeout_ns >= 0 ? std::min(timeout_ns, busy_wait_ns) : busy_wait_ns;
  std::int64_t deadline = detail::monotonic_ns() + limit;
  for (unsigned i = 1;; ++i) {
    if (threadsafe_pending_.load(std::memory_order_acquire) || interrupt_requested_.load(std::memory_order_relaxed))
      return true;
    std::this_thread::yield();
    if (i % 16 == 0) {
      if (poller_->watched() > 0 && poller_->poll(0) > 0) return true;
      if (detail::monotonic_ns() >= deadline) return false;
    }
  }
}

void EventLoop::fire_due_timers() {
  if (timers.empty()) return;
  std::int64_t now = now_ns();
  while (!timers.empty() && timers.top()->deadline_ns <= now) {
    detail::TimerEntry* e = timers.top();
    timers.disarm(e);
    e->fire(e);
  }
}

// Inlined into the loop: one call per step is most of what a step costs in a ping-pong.
[[gnu::always_inline]] inline void EventLoop::run_entry(detail::ReadyQueue::Entry e) {
  if (e.is_task()) static_cast<detail::TaskState*>(e.link())->step();
  else e.runnable()->run(e.runnable());
}

void EventLoop::run_ready_batch() {
  const detail::ReadyLink* last = ready.back();
  if (!last) return;
  while (detail::ReadyQueue::Entry e = ready.pop()) {
    const bool end = e.link() == last;
    if (!debug_) {
      run_entry(e);
    } else {
      // A step that blocks the loop is the classic mistake (time.sleep in a coroutine): say so.
      TaskHandle<> task;
      if (e.is_task()) task = TaskHandle<>(static_cast<detail::TaskState*>(e.link()));
      std::int64_t started = detail::monotonic_ns();
      run_entry(e);
      double took = static_cast<double>(detail::monotonic_ns() - started) / 1e9;
      if (took >= slow_callback_duration) {
        std::ostringstream text;
        text << "Executing ";
        if (task) text << task;
        else text << "<Handle>";
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.3f", took);
        text << " took " << seconds << " seconds";
        log(LogLevel::warning, text.str());
      }
    }
    if (end) break;
  }
}

void EventLoop::drain_threadsafe() {
  if (!threadsafe_pending_.load(std::memory_order_acquire)) return;
  std::vector<detail::CallbackNode*> nodes;
  {
    std::lock_guard lock(threadsafe_mutex_);
    nodes.swap(threadsafe_queue_);
    threadsafe_pending_.store(false, std::memory_order_relaxed);
  }
  for (auto* node : nodes) schedule(node);
}

Handle EventLoop::call_soon(std::function<void()> fn) {
  check_open();
  auto* node = new detail::CallbackNode(*this, std::move(fn));
  schedule(node);
  return Handle(node);
}

Handle EventLoop::call_soon_threadsafe(std::function<void()> fn) {
  check_open();
  auto* node = new detail::CallbackNode(*this, std::move(fn));
  Handle handle(node);
  {
    // Wake up under the lock: the loop cannot take the callback (which may stop, close and
    // destroy it) before this thread is done touching the loop.
    std::lock_guard lock(threadsafe_mutex_);
    threadsafe_queue_.push_back(node);
    threadsafe_pending_.store(true, std::memory_order_release);
    poller_->wakeup();
  }
  return handle;
}

TimerHandle EventLoop::call_at_ns(std::int64_t when_ns, std::function<void()> fn) {
  check_open();
  auto* node = new detail::CallbackNode(*this, std::move(fn));
  arm_timer(node, when_ns);
  return TimerHandle(node);
}

void EventLoop::request_interrupt() noexcept {
  interrupt_requested_.store(true, std::memory_order_relaxed);
  poller_->wakeup();
}

void EventLoop::close() {
  if (running_) throw std::runtime_error("Cannot close a running event loop");
  if (closed_) return;
  // Unlike asyncio, which leaves them to the garbage collector ("Task was destroyed but
  // it is pending!"), pending tasks are cancelled and given a few iterations to unwind,
  // so their destructors and finally-blocks run before the loop goes.
  std::vector<TaskHandle<>> pending;
  for (auto* t = tasks_head; t; t = t->next_unfinished()) pending.emplace_back(t);
  std::reverse(pending.begin(), pending.end());  // oldest first
  for (auto& t : pending) t.cancel();
  pending.clear();
  {
    detail::LoopCore* saved = detail::tls_loop;
    detail::tls_loop = this;
    // I/O operations cancelled by the unwinding tasks finish in the poller (io_uring
    // reports them asynchronously): a few polls let them release what they hold.
    for (int i = 0; i < 100 && (!ready.empty() || threadsafe_pending_.load() || (i < 8 && poller_->watched() > 0)); ++i) {
      if (poller_->watched() > 0) poller_->poll(0);
      drain_threadsafe();
      fire_due_timers();
      run_ready_batch();
    }
    for (auto& hook : shutdown_hooks_) hook();
    shutdown_hooks_.clear();
    detail::tls_loop = saved;
  }
  closed_ = true;
  interrupt_target_ = {};
  timers.drain([](detail::TimerEntry* e) {
    if (detail::CallbackNode::is_timer(e)) static_cast<detail::CallbackNode*>(e)->release();
  });
  while (detail::ReadyQueue::Entry e = ready.pop()) {
    if (e.is_task()) continue;  // detach_all_tasks lets the tasks go
    detail::Runnable* r = e.runnable();
    if (detail::CallbackNode::is_callback(r)) static_cast<detail::CallbackNode*>(r)->release();
    else if (detail::DoneCallback::is_queued_callback(r)) detail::DoneCallback::discard(r);
  }
  drain_threadsafe();
  while (detail::ReadyQueue::Entry e = ready.pop()) static_cast<detail::CallbackNode*>(e.runnable())->release();
  detail::detach_all_tasks(*this);
}

void EventLoop::default_exception_handler(const ExceptionContext& context) {
  std::ostringstream text;
  text << (context.message.empty() ? "Unhandled exception in event loop" : context.message);
  if (context.task) text << "\nfuture: " << context.task;
  if (context.exception && !context.task) text << "\nexception: " << describe(context.exception);
  log(LogLevel::error, text.str());
}

void EventLoop::call_exception_handler(const ExceptionContext& context) noexcept {
  try {
    if (exception_handler_) exception_handler_(*this, context);
    else default_exception_handler(context);
  } catch (...) {
    log(LogLevel::error, "Unhandled error in exception handler: " + describe(std::current_exception()));
  }
}

EventLoop& get_running_loop() {
  if (!tls_running_loop) throw std::runtime_error("no running event loop");
  return *tls_running_loop;
}

EventLoop& new_event_loop() {
  thread_local std::vector<std::unique_ptr<EventLoop>> owned;
  return *owned.emplace_back(std::make_unique<EventLoop>());
}

EventLoop& get_event_loop() {
  if (tls_running_loop) return *tls_running_loop;
  if (!detail::tls_loop) detail::tls_loop = &new_event_loop();
  return static_cast<EventLoop&>(*detail::tls_loop);
}

void set_event_loop(EventLoop& loop) { detail::tls_loop = &loop; }

TaskHandle<> current_task() {
  get_running_loop();
  return detail::tls_current_task ? TaskHandle<>(detail::tls_current_task) : TaskHandle<>();
}

std::vector<TaskHandle<>> all_tasks() {
  std::vector<TaskHandle<>> tasks;
  for (auto* t = get_running_loop().tasks_head; t; t = t->next_unfinished()) tasks.emplace_back(t);
  std::reverse(tasks.begin(), tasks.end());  // the list is newest first; give them in creation order
  return tasks;
}

}  // namespace aio
