// The gevent idea on aio: a plain function runs on its own greenlet stack as a task of the event
// loop, and green::await_() inside it waits for any aio awaitable without blocking the loop.
//
//   auto h = aio::green::spawn([] {
//     aio::green::await_(aio::sleep(1.0));          // the loop runs other tasks meanwhile
//     return aio::green::await_(fetch("x"));        // a lazy Task, a TaskHandle, gather, wait_for...
//   });
//   int n = co_await h;                             // h is an ordinary aio::TaskHandle<int>
//
// How it works: the task is an ordinary aio::Task coroutine (the "driver") that owns a Greenlet.
// The driver switches into the greenlet; await_() leaves a small request on the greenlet's stack
// (a pointer to the awaiter and one function pointer) and switches back; the driver co_awaits
// the awaiter on the greenlet's behalf, so cancellation, timeouts and current_task() work through
// the usual coroutine machinery, then switches back in, and await_resume() runs on the greenlet,
// where the value or exception is wanted. No allocation per await_().
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "aio/core/detail/awaitable.hpp"
#include "aio/core/event_loop.hpp"
#include "aio/core/sleep.hpp"
#include "aio/core/task.hpp"
#include "aio/core/task_handle.hpp"
#include "aio/core/time.hpp"
#include "aio/core/with.hpp"
#include "aio/green/greenlet.hpp"

namespace aio::green {

namespace detail {

// await_() on the greenlet -> the driver: "co_await this for me". Lives on the greenlet's stack.
struct AwaitRequest {
  void* awaiter;
  std::coroutine_handle<> (*suspend)(void* awaiter, std::coroutine_handle<> driver);
  std::exception_ptr error;  // await_suspend threw: raised on the greenlet instead
};

// What await_() needs to reach its driver; lives in the driver's frame. The driver publishes it
// in tls_green_link for exactly as long as its greenlet runs.
struct GreenLink {
  Greenlet* self = nullptr;  // the green task's greenlet
  Greenlet* back = nullptr;  // where the driver runs (the loop's stack), switched to by await_()
  AwaitRequest* request = nullptr;
};

extern __thread GreenLink* tls_green_link __attribute__((tls_model("initial-exec")));

[[noreturn]] void throw_outside_green_task();

// await_suspend's three return forms, as one: the handle to transfer to.
template <class W>
std::coroutine_handle<> suspend_erased(void* p, std::coroutine_handle<> driver) {
  W& w = *static_cast<W*>(p);
  using S = decltype(w.await_suspend(driver));
  if constexpr (std::is_void_v<S>) {
    w.await_suspend(driver);
    return std::noop_coroutine();
  } else if constexpr (std::is_same_v<S, bool>) {
    return w.await_suspend(driver) ? std::coroutine_handle<>(std::noop_coroutine()) : driver;
  } else {
    return w.await_suspend(driver);
  }
}

// The driver's side of a request: only await_suspend runs here; await_ready ran on the greenlet
// before the switch and await_resume runs there after it.
struct ErasedAwaiter {
  AwaitRequest* request;
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> driver) noexcept {
    try {
      return request->suspend(request->awaiter, driver);
    } catch (...) {
      request->error = std::current_exception();
      return driver;  // resume at once: the greenlet raises it
    }
  }
  void await_resume() const noexcept {}
};

// Publishes the link while the greenlet runs (restored even when fn's exception comes out).
class LinkScope {
 public:
  explicit LinkScope(GreenLink* link) noexcept : saved_(tls_green_link) { tls_green_link = link; }
  ~LinkScope() { tls_green_link = saved_; }
  LinkScope(const LinkScope&) = delete;
  LinkScope& operator=(const LinkScope&) = delete;

 private:
  GreenLink* saved_;
};

template <class F>
using green_result_t = std::remove_cvref_t<std::invoke_result_t<F>>;

template <class R>
struct ResultSlot {
  std::optional<R> value;
};
template <>
struct ResultSlot<void> {};

// The driver coroutine: owns fn, the result slot and the greenlet.
template <class R, class F>
Task<R> drive(F fn, Options opts) {
  GreenLink link;
  ResultSlot<R> out;
  // Created here, at the first step, so that its parent is the stack the loop runs on even when
  // spawn() was called from inside another greenlet.
  Greenlet gr(
      [&] {  // fn and out live in this frame, which outlives the greenlet
        if constexpr (std::is_void_v<R>) std::invoke(std::move(fn));
        else out.value.emplace(std::invoke(std::move(fn)));
      },
      getcurrent(), opts);
  link.self = &gr;
  for (;;) {
    Greenlet& here = getcurrent();
    link.back = &here;
    if (gr.parent() != &here) [[unlikely]]
      gr.set_parent(here);  // fn's end (return or exception) comes back here
    {
      LinkScope scope(&link);
      gr.switch_to();  // fn's exception comes out here and fails the task with its type
    }
    if (gr.dead()) break;
    co_await ErasedAwaiter{link.request};
  }
  if constexpr (!std::is_void_v<R>) {
    if (!out.value) throw GreenletExit{};  // fn threw GreenletExit itself: there is no value
    co_return std::move(*out.value);
  }
}

}  // namespace detail

/// True when the caller runs on the greenlet of a green task (where await_() works).
inline bool in_green_task() noexcept {
  const detail::GreenLink* link = detail::tls_green_link;
  return link != nullptr && link->self == aio::green::detail::tls_ctx.current;
}

/// Inside a green task: waits for `aw` (any aio awaitable: sleep, a TaskHandle, a Future, a lazy
/// Task, gather, wait_for, shield...) while the loop runs other tasks, and returns what
/// `co_await aw` would; its exceptions (CancelledError when the task is cancelled meanwhile,
/// TimeoutError...) are raised here. std::runtime_error anywhere else (a coroutine, a plain
/// greenlet, a callback, no loop).
// Always inlined: a return between two greenlet switches is always mispredicted (the switch
// leaves the return-stack predictor holding the other stack's calls), and await_ is the frame
// that would return right after the switch back in; inlined, a loop of awaits has none.
template <Awaitable A>
[[gnu::always_inline]] inline await_result_t<A> await_(A&& aw) {
  detail::GreenLink* link = detail::tls_green_link;
  if (link == nullptr || link->self != aio::green::detail::tls_ctx.current) [[unlikely]]
    detail::throw_outside_green_task();
  auto&& awaiter = aio::detail::get_awaiter(std::forward<A>(aw));
  using W = std::remove_reference_t<decltype(awaiter)>;
  if (!awaiter.await_ready()) {
    detail::AwaitRequest request{static_cast<void*>(std::addressof(awaiter)), &detail::suspend_erased<W>, {}};
    link->request = &request;
    link->back->switch_to();  // the driver awaits; we are back once the awaiter has resumed it
    if (request.error) [[unlikely]]
      std::rethrow_exception(std::move(request.error));
  }
  return awaiter.await_resume();
}

/// gevent.sleep: await_(aio::sleep(delay)).
template <Delay D>
void sleep(D delay) {
  await_(aio::sleep(delay));
}

/// `async with` for green code: aenter(), body(resource), then aexit() with body's exception (as
/// aio::with does for coroutines), e.g. `green::with(aio::timeout(1.0), [&](aio::Timeout&) {...})`
/// raises TimeoutError when the awaits in the body outlast the deadline.
template <AsyncContextManager M, class F>
decltype(auto) with(M&& mgr, F&& body) {
  decltype(auto) resource = await_(mgr.aenter());
  using R = std::invoke_result_t<F, decltype(resource)>;
  std::exception_ptr error;
  if constexpr (std::is_void_v<R>) {
    try {
      std::invoke(std::forward<F>(body), resource);
    } catch (...) {
      error = std::current_exception();
    }
    await_(mgr.aexit(error));
    if (error) std::rethrow_exception(error);
  } else {
    std::optional<std::conditional_t<std::is_reference_v<R>, std::reference_wrapper<std::remove_reference_t<R>>, R>>
        value;
    try {
      value.emplace(std::invoke(std::forward<F>(body), resource));
    } catch (...) {
      error = std::current_exception();
    }
    await_(mgr.aexit(error));
    if (error) std::rethrow_exception(error);
    return static_cast<R>(std::move(*value));
  }
}

/// A lazy aio::Task that runs fn() on a greenlet of its own when awaited or scheduled:
/// `aio::run(aio::green::task(main))`, or `co_await green::task(fn)` inside a coroutine (fn then
/// runs as part of the awaiting task). fn is called with no arguments and returns R or void.
template <class F>
  requires std::invocable<std::decay_t<F>>
Task<detail::green_result_t<std::decay_t<F>>> task(F&& fn, Options opts = {}) {
  using R = detail::green_result_t<std::decay_t<F>>;
  static_assert(!aio::detail::is_task_v<R>,
                "green::task/spawn take a plain function; schedule a coroutine with aio::create_task");
  return detail::drive<R>(std::decay_t<F>(std::forward<F>(fn)), opts);
}

/// gevent.spawn: fn() runs on its own greenlet stack as a new task of the running loop (FIFO with
/// everything else ready); the handle gives its value or its exception, with its type. Cancelling
/// it raises CancelledError at the await_() it is in. `name` "" means "Task-N".
/// std::runtime_error when no loop runs on this thread.
template <class F>
  requires std::invocable<std::decay_t<F>>
TaskHandle<detail::green_result_t<std::decay_t<F>>> spawn(F&& fn, Options opts = {}, std::string name = {}) {
  return aio::create_task(green::task(std::forward<F>(fn), opts), std::move(name));
}

}  // namespace aio::green
