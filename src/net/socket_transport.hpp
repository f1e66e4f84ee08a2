// The transport of a connected stream socket (TCP, Unix) or a pipe, on the Poller seam's
// operations: reading is one recv_stream that runs while the protocol wants bytes, writing
// tries the kernel at once (try_io: epoll sends straight from the caller's bytes) and queues
// the rest behind one send operation at a time, with asyncio's high/low water marks.
#pragma once
#include <any>
#include <string>
#include <vector>

#include "aio/core/event_loop.hpp"
#include "aio/net/transport.hpp"
#include "registry.hpp"

namespace aio::detail {

/// Told when a connection's transport is gone (a Server counts its live connections).
class ConnectionTracker {
 public:
  virtual void add_ref() noexcept = 0;
  virtual void release() noexcept = 0;
  virtual void connection_closed(Transport* transport) noexcept = 0;

 protected:
  ~ConnectionTracker() = default;
};

class SocketTransport final : public Transport, public Closable {
 public:
  /// Takes over `fd`: a connected non-blocking stream socket, or one end of a pipe.
  SocketTransport(EventLoop& loop, int fd, bool is_socket = true);

  /// connection_made(), then reading starts.
  void start(Protocol* protocol);
  void set_tracker(ConnectionTracker* tracker);

  void set_protocol(Protocol* protocol) override { protocol_ = protocol; }
  Protocol* get_protocol() const noexcept override { return protocol_; }
  bool is_reading() const noexcept override { return !paused_ && !closing_; }
  void pause_reading() override;
  void resume_reading() override;
  void write(std::string_view data) override;
  void write(std::string&& data) override;
  bool can_write_eof() const noexcept override { return true; }
  void write_eof() override;
  std::size_t get_write_buffer_size() const noexcept override { return sending_.size() - sent_ + queued_.size(); }
  void set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) override;
  std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override { return {low_, high_}; }
  bool is_closing() const noexcept override { return closing_; }
  void close() override;
  void abort() override;
  std::any get_extra_info(std::string_view name) const override;

  EventLoop& loop() const noexcept { return *loop_; }
  int fd() const noexcept { return fd_; }

 private:
  ~SocketTransport() override;
  void shutdown_abort() noexcept override;

  static std::span<char> on_buffer(IoOp* op, std::size_t min_size);
  static void on_deliver(IoOp* op, std::span<const char> bytes);
  static void on_recv(IoOp* op, int result, bool more);
  static void on_sent(IoOp* op, int result, bool more);

  void start_reading();
  void stop_reading() noexcept;
  /// Sends sending_ from sent_: now if the kernel takes it, else through send_op_.
  void send_pending();
  void after_flush();
  void maybe_pause_protocol();
  void maybe_resume_protocol();
  bool lost_write();
  void fatal_error(int error);
  /// The end: operations stopped, fd closed, connection_lost(error) (once).
  void finish(std::exception_ptr error) noexcept;

  EventLoop* loop_;
  NetRegistry* registry_ = nullptr;
  Poller* poller_;
  int fd_;
  bool is_socket_;
  Protocol* protocol_ = nullptr;
  ConnectionTracker* tracker_ = nullptr;
  struct Op : IoOp {
    Op(Kind k, DoneFn fn, SocketTransport* t) noexcept : IoOp(k, fn), owner(t) {}
    SocketTransport* owner;
  };
  Op recv_op_;
  Op send_op_;
  enum class Read : std::uint8_t { idle, running, stopping } read_ = Read::idle;
  bool paused_ = false;
  bool closing_ = false;
  bool lost_ = false;
  bool eof_requested_ = false;
  bool send_busy_ = false;
  bool protocol_paused_ = false;
  int lost_writes_ = 0;
  std::string sending_;  // in the kernel's hands while send_busy_: never reallocated then
  std::size_t sent_ = 0;
  std::string queued_;   // written since
  std::size_t high_ = 64 * 1024;
  std::size_t low_ = 16 * 1024;
  std::vector<char> scratch_;  // bytes nobody wants any more (and a pipe's reads)
  std::any peername_;
  std::any sockname_;
};

}  // namespace aio::detail
