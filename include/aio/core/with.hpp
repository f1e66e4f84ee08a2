// aio::with: `async with mgr as resource:` — exit runs on success, error and cancellation.
#pragma once
#include <exception>
#include <type_traits>
#include <utility>

#include <functional>
#include <optional>

#include "detail/awaitable.hpp"
#include "task.hpp"

namespace aio {

/// An async context manager: `Task<T&> aenter()` and `Task<> aexit(std::exception_ptr)`.
/// aexit sees the body's exception (null on success) and may throw a replacement
/// (TaskGroup's ExceptionGroup, Timeout's TimeoutError); the original is rethrown otherwise.
template <class M>
concept AsyncContextManager = requires(M& m, std::exception_ptr e) {
  m.aenter();
  m.aexit(e);
};

template <AsyncContextManager M, class F>
auto with(M&& mgr, F body) -> decltype(body(std::declval<await_result_t<decltype(mgr.aenter())>>())) {
  auto&& resource = co_await mgr.aenter();
  using R = await_result_t<decltype(body(resource))>;
  std::exception_ptr error;
  if constexpr (std::is_void_v<R>) {
    try {
      co_await body(resource);
    } catch (...) {
      error = std::current_exception();
    }
    co_await mgr.aexit(error);
    if (error) std::rethrow_exception(error);
  } else {
    std::optional<std::conditional_t<std::is_reference_v<R>, std::reference_wrapper<std::remove_reference_t<R>>, R>>
        value;
    try {
      value.emplace(co_await body(resource));
    } catch (...) {
      error = std::current_exception();
    }
    co_await mgr.aexit(error);
    if (error) std::rethrow_exception(error);
    co_return std::move(*value);
  }
}

}  // namespace aio
