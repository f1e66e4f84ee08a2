// aio::Socket: a non-blocking socket (Python's socket object, as asyncio's low-level loop.sock_*
// calls use it). A move-only handle that closes its descriptor when it goes; close() wakes the
// operations waiting on it with OSError(EBADF).
#pragma once
#include <sys/socket.h>

#include <coroutine>
#include <cstddef>
#include <string>
#include <string_view>

#include "../core/detail/task_state.hpp"
#include "sockaddr.hpp"

namespace aio {

namespace detail {
class SocketCore;
struct OpBlock;
}  // namespace detail

class Socket {
 public:
  /// No socket.
  Socket() noexcept = default;
  /// socket(family, type, proto), non-blocking and close-on-exec.
  explicit Socket(int family, int type = SOCK_STREAM, int proto = 0);
  /// Takes over an existing descriptor (made non-blocking).
  static Socket adopt(int fd);

  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();

  explicit operator bool() const noexcept { return core_ != nullptr; }
  int fileno() const noexcept;
  int family() const noexcept;
  int type() const noexcept;

  void bind(const SockAddr& address);
  void bind(const SocketAddress& address);
  /// A Unix socket's path ("" or a leading '\0': the abstract namespace).
  void bind_unix(const std::string& path);
  void listen(int backlog = 128);
  void setsockopt(int level, int option, int value);
  int getsockopt(int level, int option) const;
  /// (host, port) of an IPv4/IPv6 socket; a Unix socket's path as host (port 0).
  SockAddr getsockname() const;
  SockAddr getpeername() const;
  void shutdown(int how);
  /// Closes the socket; operations waiting on it fail with OSError(EBADF).
  void close();
  /// Gives the descriptor up without closing it.
  int detach();

  detail::SocketCore* core() const noexcept { return core_; }

 private:
  explicit Socket(detail::SocketCore* core) noexcept : core_(core) {}
  detail::SocketCore* core_ = nullptr;
};

namespace detail {

/// The mechanics every low-level socket operation shares (see docs/writing-awaitables.md):
/// tried at once (epoll's try_io), else started on the poller; a cancel stops it, or — when
/// the kernel must report first (io_uring) — takes the cancellation over and raises
/// CancelledError when it does (bytes or a connection that arrived meanwhile are kept for the
/// next call on that socket). The operation's memory is its own, so a frame destroyed while
/// waiting leaves nothing the kernel could still write to.
class SockOpBase : CancelHook {
 public:
  SockOpBase(SockOpBase&& other) noexcept;
  SockOpBase& operator=(SockOpBase&&) = delete;
  ~SockOpBase();

 protected:
  explicit SockOpBase(OpBlock* op) noexcept;
  bool ready();
  void suspend(std::coroutine_handle<> h);
  /// The result (>= 0), or throws: CancelledError, OSError(EBADF) when closed, the OS error.
  int resume();
  OpBlock* op_;

 private:
  static bool on_cancel(CancelHook* hook, std::string_view message);
};

template <class R, R (*Finish)(OpBlock*, int)>
class [[nodiscard]] SockAwaiter : SockOpBase {
 public:
  explicit SockAwaiter(OpBlock* op) noexcept : SockOpBase(op) {}
  bool await_ready() { return ready(); }
  void await_suspend(std::coroutine_handle<> h) { suspend(h); }
  R await_resume() {
    int result = resume();
    return Finish(op_, result);
  }
};

std::string finish_recv(OpBlock* op, int result);
std::size_t finish_count(OpBlock* op, int result);
std::size_t finish_recv_into(OpBlock* op, int result);
void finish_void(OpBlock* op, int result);
std::pair<Socket, SockAddr> finish_accept(OpBlock* op, int result);
std::pair<std::string, SockAddr> finish_recvfrom(OpBlock* op, int result);

}  // namespace detail
}  // namespace aio
