// What an aio::Socket (and a DatagramSocket) shares with the operations running on it.
#pragma once
#include <sys/socket.h>
#include <sys/uio.h>

#include <deque>
#include <string>

#include "aio/core/event_loop.hpp"
#include "aio/net/socket.hpp"
#include "registry.hpp"

namespace aio::detail {

/// One low-level operation and everything the kernel may touch while it runs: its buffer,
/// its address, its msghdr. Counted: the awaiter holds one reference, the poller another
/// while it runs.
struct OpBlock : IoOp {
  OpBlock(Kind kind, SocketCore* socket);
  ~OpBlock();
  void add_ref() noexcept { ++refs; }
  void release() noexcept {
    if (--refs == 0) delete this;
  }
  static void on_done(IoOp* op, int result, bool more);

  SocketCore* sock;
  std::uint32_t refs = 1;
  TaskState* task = nullptr;  // the awaiting task, null once it no longer waits
  std::string data;           // bytes to send, or room for bytes received
  std::size_t progress = 0;   // sendall: bytes sent so far
  bool sendall = false;
  bool running = false;       // started on the poller, not finished
  bool finished = false;
  bool cancel_taken = false;  // the cancel hook took the cancellation over
  bool closed = false;        // the socket was closed under it
  int result = 0;
  std::string cancel_message;
  std::string context;        // what a failure says ("Connect call failed ('127.0.0.1', 1)")
  std::span<char> into;       // recv_into: the caller's buffer
  sockaddr_storage address{};
  msghdr header{};
  iovec vec{};
  OpBlock* prev_running = nullptr;
  OpBlock* next_running = nullptr;
};

class SocketCore final : public Closable {
 public:
  SocketCore(int fd, int family, int type) noexcept : fd(fd), family(family), type(type) {}
  ~SocketCore();
  void add_ref() noexcept { ++refs; }
  void release() noexcept {
    if (--refs == 0) delete this;
  }

  /// The loop's poller, bound at the first operation (a socket stays with one loop).
  Poller& poller();
  void link(OpBlock* op) noexcept;
  void unlink(OpBlock* op) noexcept;
  /// Cancels what runs (its waiters get OSError(EBADF)) and closes the descriptor.
  void close() noexcept;
  void shutdown_abort() noexcept override { close(); }

  int fd;
  int family;
  int type;
  std::uint32_t refs = 1;
  EventLoop* loop = nullptr;
  NetRegistry* registry = nullptr;
  OpBlock* running = nullptr;
  bool used_poller = false;
  std::string unread;             // bytes a cancelled recv received (io_uring): the next recv's
  struct Datagram {
    std::string data;
    sockaddr_storage address;
    socklen_t address_length;
  };
  std::deque<Datagram> unreceived;  // likewise for a datagram socket's recv/recvfrom, one by one
  std::deque<std::pair<int, sockaddr_storage>> unaccepted;  // likewise for accept
};

}  // namespace aio::detail
