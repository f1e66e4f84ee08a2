// Executor.map for both pools: submit, await in input order, cancel the rest on error.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

#include "../../core/event_loop.hpp"
#include "../../core/task.hpp"
#include "job.hpp"

namespace aio::detail {

/// Runs fn(item) for every item on `executor`, at most `window` submitted at a time
/// (0: all at once), and returns the results in input order.
template <class Executor, class F, class Item>
Task<std::vector<StoredValue<call_result_t<F&, Item>>>> executor_map(Executor& executor, F fn, std::vector<Item> items,
                                                                     std::size_t window) {
  using R = call_result_t<F&, Item>;
  EventLoop& loop = get_running_loop();
  const std::size_t n = items.size();
  if (window == 0) window = n;
  std::vector<Future<R>> futures;
  futures.reserve(n);
  std::vector<StoredValue<R>> results;
  results.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    try {
      while (futures.size() < n && futures.size() < i + window)
        futures.push_back(executor.submit_on(loop, fn, std::move(items[futures.size()])));
      if constexpr (std::is_void_v<R>) {
        co_await futures[i];
        results.emplace_back();
      } else {
        results.push_back(co_await futures[i]);
      }
    } catch (...) {
      for (std::size_t j = i + 1; j < futures.size(); ++j) {
        if (!futures[j].done()) futures[j].cancel();
        else if (!futures[j].cancelled()) (void)futures[j].exception();  // seen: no "never retrieved" log
      }
      throw;
    }
  }
  co_return results;
}

}  // namespace aio::detail
