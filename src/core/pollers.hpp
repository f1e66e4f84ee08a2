// Backend factory: the only place that knows which pollers exist.
#pragma once
#include <memory>
#include <string>

#include "aio/core/poller.hpp"

namespace aio::detail {

std::unique_ptr<Poller> make_epoll_poller();
/// The io_uring backend, or null (with the reason in `why`) when this kernel cannot run it.
std::unique_ptr<Poller> make_uring_poller(std::string& why);
/// Resolves automatic/AIO_BACKEND and builds the poller, falling back to epoll (with a
/// debug-level log line) where io_uring cannot be used.
std::unique_ptr<Poller> make_poller(Backend requested);

}  // namespace aio::detail
