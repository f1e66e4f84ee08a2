// aio::gather: asyncio.gather — run awaitables concurrently, collect results in order.
#pragma once
#include <iterator>
#include <ranges>
#include <tuple>
#include <variant>
#include <vector>

#include "detail/gather_state.hpp"
#include "event_loop.hpp"
#include "result.hpp"

namespace aio {

/// Tag: gather(aio::return_exceptions, ...) — exceptions become results instead of raising.
struct ReturnExceptions {
  explicit ReturnExceptions() = default;
};
inline constexpr ReturnExceptions return_exceptions{};

namespace detail {

template <class T>
using GatherValue = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class H>
GatherValue<typename H::value_type> gather_value(const H& h) {
  if constexpr (std::is_void_v<typename H::value_type>) {
    h.result();
    return {};
  } else {
    return h.result();
  }
}

template <class H>
Result<typename H::value_type> gather_result(const H& h) {
  if (h.cancelled() || h.state()->peek_error()) return Result<typename H::value_type>(h.state()->take_error());
  return Result<typename H::value_type>(gather_value(h));
}

/// The awaitable gather() returns: co_await it, or ensure_future() it into a task whose
/// cancel() cancels every child.
template <bool ReturnExc, class Children>
class Gathering {
 public:
  explicit Gathering(Children children) : children_(std::move(children)) {}
  /// Children counted into `registered` as they were created (gather over lazy tasks):
  /// registering while each new frame is in cache spares a pass over all of them.
  Gathering(Children children, GatherState* registered) noexcept
      : children_(std::move(children)), registered_(registered) {}
  Gathering(const Gathering& o) : children_(o.children_) {}
  Gathering(Gathering&& o) noexcept : children_(std::move(o.children_)), registered_(std::exchange(o.registered_, nullptr)) {}
  Gathering& operator=(const Gathering&) = delete;
  ~Gathering() {
    if (!registered_) return;
    for_each_child(children_, [&](auto& h) { registered_->abandon_child(*h.state()); });
    registered_->drop();
  }

  /// Appends a task created for this gather, registering on it at once.
  template <class H>
  void adopt_registered(H handle) {
    children_.push_back(std::move(handle));
    registered_->add_child(*children_.back().state());
  }

  auto operator co_await() && { return Awaiter{std::move(children_), take_registered()}; }
  auto operator co_await() & { return Awaiter{children_, take_registered()}; }

 private:
  static constexpr bool is_tuple = requires { std::tuple_size<Children>::value; };
  template <class F>
  static void for_each_child(Children& children, F&& f) {
    if constexpr (is_tuple) std::apply([&](auto&... h) { (f(h), ...); }, children);
    else
      for (auto& h : children) f(h);
  }
  /// The first await takes over the registration; a later one registers anew.
  GatherState* take_registered() noexcept {
    GatherState* s = std::exchange(registered_, nullptr);
    return s ? s : new GatherState(ReturnExc);
  }

  struct Awaiter : CancelHook {
    Children children;
    GatherState* state;

    Awaiter(Children c, GatherState* s) noexcept : CancelHook(&Awaiter::on_cancel), children(std::move(c)), state(s) {}
    Awaiter(const Awaiter&) = delete;
    ~Awaiter() {
      if (state->has_registered())
        for_each_child([&](auto& h) {
          if (h) state->detach_child(*h.state());
        });
      state->drop();
    }
    bool await_ready() {
      if (!state->started()) for_each_child([&](auto& h) { state->add_child(*h.state()); });
      return !state->must_wait();
    }
    void await_suspend(std::coroutine_handle<> h) { state->suspend(h, this); }
    auto await_resume() {
      state->finish_await();
      if constexpr (is_tuple) {
        return std::apply(
            [](auto&... h) {
              if constexpr (ReturnExc) return std::make_tuple(gather_result(h)...);
              else return std::make_tuple(gather_value(h)...);
            },
            children);
      } else {
        using H = typename Children::value_type;
        using Item = std::conditional_t<ReturnExc, Result<typename H::value_type>, GatherValue<typename H::value_type>>;
        std::vector<Item> out;
        out.reserve(children.size());
        for (auto& h : children) {
          if constexpr (ReturnExc) out.push_back(gather_result(h));
          else out.push_back(gather_value(h));
          h = {};  // let the task go while its frame is still in cache
        }
        return out;
      }
    }

    /// asyncio: cancelling the gathering task cancels every child; the gather then ends
    /// with CancelledError once they are done.
    static bool on_cancel(CancelHook* hook, std::string_view message) {
      auto* self = static_cast<Awaiter*>(hook);
      bool any = false;
      self->for_each_child([&](auto& h) { any = h.cancel(message) || any; });
      if (any) self->state->mark_cancel_requested(message);
      return any;
    }

    template <class F>
    void for_each_child(F&& f) {
      Gathering::for_each_child(children, std::forward<F>(f));
    }
  };

  Children children_;
  GatherState* registered_ = nullptr;
};

template <class A>
using handle_of = decltype(ensure_future(std::declval<A>()));

template <bool ReturnExc, class... A>
auto gather_variadic(A&&... aws) {
  using Children = std::tuple<handle_of<A>...>;
  return Gathering<ReturnExc, Children>(Children{ensure_future(std::forward<A>(aws))...});  // braces: scheduled left to right
}

template <bool ReturnExc, class R>
auto gather_range(R&& range) {
  using Elem = std::ranges::range_value_t<std::remove_cvref_t<R>>;
  using H = handle_of<Elem>;
  std::vector<H> children;
  if constexpr (std::ranges::sized_range<R>) children.reserve(std::ranges::size(range));
  if constexpr (std::is_same_v<std::remove_cvref_t<R>, std::vector<H>>) {
    if constexpr (!std::is_lvalue_reference_v<R>) children = std::move(range);
    else children = range;
  } else if constexpr (is_task_v<Elem>) {
    // Lazy tasks are consumed; each new task is registered at once, while its frame is in cache.
    Gathering<ReturnExc, std::vector<H>> gathering(std::move(children), new GatherState(ReturnExc));
    for (auto&& aw : range) gathering.adopt_registered(ensure_future(std::move(aw)));
    return gathering;
  } else {
    for (auto&& aw : range) {
      if constexpr (!std::is_lvalue_reference_v<R> || !std::is_copy_constructible_v<Elem>)
        children.push_back(ensure_future(std::move(aw)));  // an owned range
      else
        children.push_back(ensure_future(aw));
    }
  }
  return Gathering<ReturnExc, std::vector<H>>(std::move(children));
}

template <class A>
concept GatherRange = std::ranges::range<std::remove_cvref_t<A>> && !Awaitable<A>;

}  // namespace detail

/// co_await gather(a, b, c) -> std::tuple<A, B, C> (void results are std::monostate).
/// Lazy Tasks are scheduled at once; the first exception is raised as soon as it happens
/// (the other children go on running); cancelling the gathering task cancels every child.
template <class... A>
  requires(sizeof...(A) > 0 && (Awaitable<A> && ...))
[[nodiscard]] auto gather(A&&... aws) {
  return detail::gather_variadic<false>(std::forward<A>(aws)...);
}
template <class... A>
  requires(Awaitable<A> && ...)
[[nodiscard]] auto gather(ReturnExceptions, A&&... aws) {
  return detail::gather_variadic<true>(std::forward<A>(aws)...);
}
/// co_await gather(range) -> std::vector<T>, in the range's order.
template <detail::GatherRange R>
[[nodiscard]] auto gather(R&& range) {
  return detail::gather_range<false>(std::forward<R>(range));
}
template <detail::GatherRange R>
[[nodiscard]] auto gather(ReturnExceptions, R&& range) {
  return detail::gather_range<true>(std::forward<R>(range));
}

}  // namespace aio
