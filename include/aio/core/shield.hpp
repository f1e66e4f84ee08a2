// aio::shield: asyncio.shield — cancelling the waiter does not cancel the work.
#pragma once
#include "event_loop.hpp"

namespace aio {

/// Runs aw as a task and returns a Future mirroring it. Cancelling the future (or the task
/// awaiting it) leaves the inner task running; its outcome is then simply dropped.
template <Awaitable A>
[[nodiscard]] auto shield(A&& aw) {
  auto inner = ensure_future(std::forward<A>(aw));
  using T = typename decltype(inner)::value_type;
  auto outer = Future<T>::create();
  inner.add_done_callback([outer](auto& done) {
    if (outer.cancelled()) {
      if (!done.cancelled()) done.exception();  // seen, so it is not reported as never retrieved
      return;
    }
    if (done.cancelled()) {
      outer.cancel();
    } else if (auto error = done.exception()) {
      outer.set_exception(error);
    } else if constexpr (std::is_void_v<T>) {
      outer.set_result();
    } else {
      outer.set_result(done.result());
    }
  });
  return outer;
}

}  // namespace aio
