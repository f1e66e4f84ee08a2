// The seam between the loop and the kernel: a Poller waits for I/O and timers'
// timeouts. The epoll backend ships with the core; io_uring plugs in behind the
// same interface, so protocols never see which one runs.
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace aio {

/// Which kernel interface the loop uses (uvloop's switch): also AIO_BACKEND=epoll|io_uring.
enum class Backend { automatic, epoll, io_uring };

/// Something told when a watched file descriptor is ready. Intrusive: the watcher
/// owns it; the poller keeps only its address.
struct IoWatcher {
  using ReadyFn = void (*)(IoWatcher*, std::uint32_t events);
  explicit IoWatcher(ReadyFn fn) noexcept : on_ready(fn) {}
  ReadyFn on_ready;
};

/// Readiness bits, the same values as EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP.
namespace io_events {
inline constexpr std::uint32_t readable = 0x001;
inline constexpr std::uint32_t writable = 0x004;
inline constexpr std::uint32_t error = 0x008;
inline constexpr std::uint32_t hangup = 0x010;
}  // namespace io_events

/// One asynchronous operation on a file descriptor: the backend-neutral I/O calls of the
/// seam (epoll runs them as readiness + non-blocking syscalls, io_uring as batched SQEs).
/// Intrusive: the caller owns it and keeps it — and every buffer and address it names —
/// alive and unchanged until it has finished:
///   Poller::try_io(op)  does it now if that needs no waiting (epoll: one non-blocking
///                       syscall) and returns the result; -EAGAIN means "start() it";
///   Poller::start(op)   runs it in the background: poll() reports through `done`;
///   Poller::cancel(op)  stops it: true when it stopped at once (`done` will not run),
///                       false when `done` still comes (io_uring) — with -ECANCELED, or
///                       with the real result when the operation won the race.
/// A one-shot kind finishes with a single done(op, result, false), result >= 0 or -errno.
/// The two streams report every chunk or connection with more = true and finish with
/// more = false: 0 at end of file, -errno, or -ECANCELED once cancelled.
/// An fd given to start() must not also be watch()ed, and must be closed with Poller::close().
struct IoOp {
  enum class Kind : std::uint8_t {
    recv,           ///< recv(fd, buf, len, flags) -> bytes, 0 at EOF
    send,           ///< send(fd, buf, len, flags | MSG_NOSIGNAL) -> bytes (may be fewer than len)
    read,           ///< read(fd, buf, len) (pipes) -> bytes, 0 at EOF
    write,          ///< write(fd, buf, len) (pipes) -> bytes
    recvmsg,        ///< recvmsg(fd, msg, flags) -> bytes (datagrams)
    sendmsg,        ///< sendmsg(fd, msg, flags | MSG_NOSIGNAL) -> bytes
    accept,         ///< accept4(fd, addr, &addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC) -> new fd
    connect,        ///< connect(fd, addr, addrlen) -> 0
    recv_stream,    ///< a stream socket's bytes, chunk after chunk, written into buffer()
    accept_stream,  ///< a listening socket's connections: one new fd (non-blocking) after another
  };
  /// result: bytes, a new fd or 0, else -errno; more: a stream goes on.
  using DoneFn = void (*)(IoOp* op, int result, bool more);
  /// recv_stream: where the next bytes go, a span of at least `min_size` bytes (more is welcome).
  using BufferFn = std::span<char> (*)(IoOp* op, std::size_t min_size);
  /// recv_stream: a chunk the poller received into its own memory, valid during the call only.
  using DeliverFn = void (*)(IoOp* op, std::span<const char> bytes);

  IoOp(Kind k, DoneFn fn) noexcept : kind(k), done(fn) {}
  IoOp(const IoOp&) = delete;
  IoOp& operator=(const IoOp&) = delete;

  Kind kind;
  int fd = -1;
  int flags = 0;               ///< MSG_* flags of recv, send, recvmsg, sendmsg
  void* buf = nullptr;         ///< recv, send, read, write
  std::size_t len = 0;
  ::msghdr* msg = nullptr;     ///< recvmsg, sendmsg
  ::sockaddr* addr = nullptr;  ///< connect: the peer; accept: receives the peer's address (may be null)
  ::socklen_t addrlen = 0;     ///< connect: its size; accept: the room at addr, then the address' size
  DoneFn done;
  BufferFn buffer = nullptr;   ///< recv_stream
  /// recv_stream, optional: takes a chunk that the poller read into memory of its own (io_uring's
  /// provided buffers) in place of a copy into buffer() and done(op, n, true).
  DeliverFn deliver = nullptr;

  // The poller's bookkeeping while the operation runs.
  IoOp* poller_next = nullptr;
  IoOp* poller_prev = nullptr;
  std::uint32_t poller_flags = 0;
  int poller_result = 0;
  /// Started and not finished yet.
  bool running() const noexcept { return poller_flags != 0; }
};

class Poller {
 public:
  virtual ~Poller() = default;
  /// Waits at most timeout_ns (-1: no limit, 0: just look) for I/O, runs the ready
  /// watchers and completed operations and returns how many ran. A wakeup() ends the wait early.
  virtual int poll(std::int64_t timeout_ns) = 0;
  /// Ends a poll() blocked in another thread; async-signal-safe.
  virtual void wakeup() noexcept = 0;
  /// Starts, changes or (events == 0) stops watching fd (level-triggered, on either backend).
  virtual void watch(int fd, std::uint32_t events, IoWatcher* watcher) = 0;
  /// How many descriptors and operations are watched: the loop skips I/O polls while there are none.
  virtual std::size_t watched() const noexcept = 0;
  virtual Backend backend() const noexcept = 0;

  /// The result of `op` if it can be had without waiting, else -EAGAIN (then start() it).
  /// io_uring answers -EAGAIN to everything: it batches instead. Not for the stream kinds.
  virtual int try_io(IoOp* op) noexcept = 0;
  /// Runs `op` in the background; its `done` is called from poll(), never from here.
  virtual void start(IoOp* op) = 0;
  /// Stops a running `op`; see IoOp. A no-op (true) when it is not running.
  virtual bool cancel(IoOp* op) noexcept = 0;
  /// Forgets an fd used with start() (no operation may still run on it) and closes it.
  virtual void close(int fd) noexcept = 0;
};

}  // namespace aio
