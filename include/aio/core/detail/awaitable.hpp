// Awaitable traits: what co_await on a value gives, and a coroutine around any awaitable.
#pragma once
#include <type_traits>
#include <utility>

namespace aio::detail {

template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (requires { std::forward<A>(a).operator co_await(); }) return std::forward<A>(a).operator co_await();
  else return std::forward<A>(a);
}

}  // namespace aio::detail

namespace aio {

template <class T>
class Task;
template <class T>
class TaskHandle;
template <class T>
class Future;

namespace detail {
template <class T>
inline constexpr bool is_task_v = false;
template <class T>
inline constexpr bool is_task_v<Task<T>> = true;
template <class T>
inline constexpr bool is_task_handle_v = false;
template <class T>
inline constexpr bool is_task_handle_v<TaskHandle<T>> = true;
template <class T>
inline constexpr bool is_future_v = false;
template <class T>
inline constexpr bool is_future_v<Future<T>> = true;
}  // namespace detail

/// Something co_await-able.
template <class A>
concept Awaitable = requires(A&& a) { detail::get_awaiter(std::forward<A>(a)).await_resume(); };

/// What `co_await a` gives for an `A`.
template <class A>
using await_result_t = decltype(detail::get_awaiter(std::declval<A>()).await_resume());

}  // namespace aio
