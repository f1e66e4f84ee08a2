#include "socket_transport.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "aio/core/log.hpp"
#include "aio/net/errors.hpp"
#include "aio/net/sockaddr.hpp"

namespace aio::detail {

namespace {
constexpr std::size_t kPipeChunk = 64 * 1024;
constexpr int kLostWritesWarning = 5;  // asyncio's LOG_THRESHOLD_FOR_CONNLOST_WRITES
}  // namespace

SocketTransport::SocketTransport(EventLoop& loop, int fd, bool is_socket)
    : loop_(&loop),
      poller_(&loop.poller()),
      fd_(fd),
      is_socket_(is_socket),
      recv_op_(is_socket ? IoOp::Kind::recv_stream : IoOp::Kind::read, &SocketTransport::on_recv, this),
      send_op_(is_socket ? IoOp::Kind::send : IoOp::Kind::write, &SocketTransport::on_sent, this) {
  recv_op_.fd = send_op_.fd = fd;
  recv_op_.buffer = &SocketTransport::on_buffer;
  recv_op_.deliver = &SocketTransport::on_deliver;
  if (is_socket_) {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      sockname_ = address_info(reinterpret_cast<sockaddr*>(&a), len);
      if (a.ss_family == AF_INET || a.ss_family == AF_INET6) {
        int one = 1;  // as asyncio: no Nagle delay on TCP transports
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      }
    }
    len = sizeof a;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      peername_ = address_info(reinterpret_cast<sockaddr*>(&a), len);
  }
  registry_ = &NetRegistry::of(loop);
  registry_->add(this);
}

SocketTransport::~SocketTransport() {
  if (tracker_) {
    if (!lost_) tracker_->connection_closed(this);
    tracker_->release();
  }
  if (linked()) {  // else the loop may be gone: touch nothing of it
    registry_->remove(this);
    if (fd_ >= 0) poller_->close(fd_);
  } else if (fd_ >= 0) {
    ::close(fd_);
  }
}

void SocketTransport::start(Protocol* protocol) {
  Ref<SocketTransport> keep(this);
  protocol_ = protocol;
  if (protocol_) protocol_->connection_made(*this);
  start_reading();
}

void SocketTransport::set_tracker(ConnectionTracker* tracker) {
  if (tracker) tracker->add_ref();  // (its connection_closed() comes from finish())
  if (tracker_) tracker_->release();
  tracker_ = tracker;
}

// ---------------------------------------------------------------------------------------------
// Reading

void SocketTransport::start_reading() {
  if (paused_ || closing_ || lost_ || fd_ < 0 || read_ != Read::idle) return;
  if (!is_socket_) {
    if (scratch_.size() < kPipeChunk) scratch_.resize(kPipeChunk);
    recv_op_.buf = scratch_.data();
    recv_op_.len = scratch_.size();
  }
  add_ref();  // the operation's
  read_ = Read::running;
  try {
    poller_->start(&recv_op_);
  } catch (...) {
    read_ = Read::idle;
    release();
    throw;
  }
}

void SocketTransport::stop_reading() noexcept {
  if (read_ != Read::running) return;
  if (poller_->cancel(&recv_op_)) {
    read_ = Read::idle;
    release();
  } else {
    read_ = Read::stopping;  // on_recv ends it
  }
}

void SocketTransport::pause_reading() {
  if (closing_ || paused_) return;
  paused_ = true;
  stop_reading();
}

void SocketTransport::resume_reading() {
  if (closing_ || !paused_) return;
  paused_ = false;
  start_reading();
}

std::span<char> SocketTransport::on_buffer(IoOp* op, std::size_t min_size) {
  auto* self = static_cast<Op*>(op)->owner;
  if (self->protocol_ && !self->lost_) return self->protocol_->get_buffer(min_size);
  if (self->scratch_.size() < min_size || self->scratch_.size() < 4096) self->scratch_.resize(std::max<std::size_t>(min_size, 4096));
  return {self->scratch_.data(), self->scratch_.size()};
}

void SocketTransport::on_deliver(IoOp* op, std::span<const char> bytes) {
  auto* self = static_cast<Op*>(op)->owner;
  if (self->protocol_ && !self->lost_) self->protocol_->data_received({bytes.data(), bytes.size()});
}

void SocketTransport::on_recv(IoOp* op, int result, bool more) {
  auto* self = static_cast<Op*>(op)->owner;
  if (more) {  // a chunk, already in the protocol's buffer
    if (self->protocol_ && !self->lost_) self->protocol_->buffer_updated(static_cast<std::size_t>(result));
    return;
  }
  self->read_ = Read::idle;
  if (!self->is_socket_ && result > 0) {  // a pipe's read: hand it over and read on
    if (self->protocol_ && !self->lost_) {
      std::size_t n = static_cast<std::size_t>(result);
      std::span<char> into = self->protocol_->get_buffer(n);
      std::memcpy(into.data(), self->scratch_.data(), n);
      self->protocol_->buffer_updated(n);
    }
    self->start_reading();  // a no-op when paused or closed meanwhile
  } else if (self->lost_) {
    // closed meanwhile: nothing to report
  } else if (result == -ECANCELED) {
    self->start_reading();  // resumed while the cancellation was on its way (a no-op when paused)
  } else if (result == 0) {
    if (!self->closing_) {
      bool keep_open = self->protocol_ && self->protocol_->eof_received();
      if (!keep_open) self->close();
    }
  } else {
    self->fatal_error(-result);
  }
  self->release();  // the operation's reference: may free this
}

// ---------------------------------------------------------------------------------------------
// Writing

bool SocketTransport::lost_write() {
  if (eof_requested_) throw std::runtime_error("Cannot call write() after write_eof()");
  if (!lost_ && !closing_) return false;
  if (++lost_writes_ >= kLostWritesWarning) log(LogLevel::warning, "socket.send() raised exception.");
  return true;
}

void SocketTransport::write(std::string_view data) {
  if (data.empty() || lost_write()) return;
  if (!send_busy_ && queued_.empty()) {  // nothing queued: let the kernel take what it can now
    send_op_.buf = const_cast<char*>(data.data());
    send_op_.len = data.size();
    int r = poller_->try_io(&send_op_);
    if (r >= 0) {
      if (static_cast<std::size_t>(r) == data.size()) return;
      data.remove_prefix(static_cast<std::size_t>(r));
    } else if (r != -EAGAIN && r != -EINTR) {
      fatal_error(-r);
      return;
    }
    sending_.assign(data);
    sent_ = 0;
    send_pending();
  } else {
    queued_.append(data);
  }
  maybe_pause_protocol();
}

void SocketTransport::write(std::string&& data) {
  if (send_busy_ || !queued_.empty() || data.empty()) return write(std::string_view(data));
  if (lost_write()) return;
  send_op_.buf = data.data();
  send_op_.len = data.size();
  int r = poller_->try_io(&send_op_);
  if (r >= 0) {
    if (static_cast<std::size_t>(r) == data.size()) return;
  } else if (r != -EAGAIN && r != -EINTR) {
    fatal_error(-r);
    return;
  }
  // The kernel sends from the caller's bytes (no copy); the caller gets the storage of the
  // last send back, empty, to reuse (sending_ is empty here: nothing was queued or in flight).
  sending_.swap(data);
  data.clear();
  sent_ = r > 0 ? static_cast<std::size_t>(r) : 0;
  send_pending();
  maybe_pause_protocol();
}

void SocketTransport::send_pending() {
  for (;;) {
    send_op_.buf = sending_.data() + sent_;
    send_op_.len = sending_.size() - sent_;
    if (send_busy_) return;
    // (try_io was just done by the callers for the first chunk; io_uring always says EAGAIN)
    add_ref();  // the operation's
    send_busy_ = true;
    try {
      poller_->start(&send_op_);
    } catch (...) {
      send_busy_ = false;
      release();
      throw;
    }
    return;
  }
}

void SocketTransport::on_sent(IoOp* op, int result, bool) {
  auto* self = static_cast<Op*>(op)->owner;
  self->send_busy_ = false;
  if (self->lost_) {
    // closed meanwhile
  } else if (result < 0) {
    if (result == -EAGAIN || result == -EINTR) self->send_pending();
    else self->fatal_error(-result);
  } else {
    self->sent_ += static_cast<std::size_t>(result);
    // Go on at once while the kernel takes more (epoll); else wait for the next completion.
    for (;;) {
      if (self->sent_ == self->sending_.size()) {
        self->sending_.clear();
        self->sent_ = 0;
        if (self->queued_.empty()) break;
        std::swap(self->sending_, self->queued_);
      }
      self->send_op_.buf = self->sending_.data() + self->sent_;
      self->send_op_.len = self->sending_.size() - self->sent_;
      int r = self->poller_->try_io(&self->send_op_);
      if (r >= 0) {
        self->sent_ += static_cast<std::size_t>(r);
        continue;
      }
      if (r == -EAGAIN || r == -EINTR) {
        self->send_pending();
      } else {
        self->fatal_error(-r);
      }
      break;
    }
    if (!self->lost_) {
      self->maybe_resume_protocol();
      if (!self->send_busy_ && self->sending_.empty() && self->queued_.empty()) self->after_flush();
    }
  }
  self->release();  // the operation's reference: may free this
}

void SocketTransport::after_flush() {
  // A pipe has no half-close: its EOF is closing its write end (asyncio's write pipe transport).
  if (eof_requested_ && !is_socket_) return finish(nullptr);
  if (eof_requested_ && fd_ >= 0) ::shutdown(fd_, SHUT_WR);
  if (closing_) finish(nullptr);
}

void SocketTransport::maybe_pause_protocol() {
  if (!protocol_paused_ && get_write_buffer_size() > high_) {
    protocol_paused_ = true;
    if (protocol_) protocol_->pause_writing();
  }
}

void SocketTransport::maybe_resume_protocol() {
  if (protocol_paused_ && get_write_buffer_size() <= low_) {
    protocol_paused_ = false;
    if (protocol_) protocol_->resume_writing();
  }
}

void SocketTransport::set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) {
  std::size_t h = high ? *high : (low ? 4 * *low : 64 * 1024);
  std::size_t l = low ? *low : h / 4;
  if (h < l) throw std::invalid_argument("high (" + std::to_string(h) + ") must be >= low (" + std::to_string(l) + ") must be >= 0");
  high_ = h;
  low_ = l;
  maybe_pause_protocol();
  maybe_resume_protocol();
}

void SocketTransport::write_eof() {
  if (closing_ || eof_requested_) return;
  eof_requested_ = true;
  if (!is_socket_) closing_ = true;
  if (!send_busy_ && sending_.empty() && queued_.empty()) after_flush();
}

// ---------------------------------------------------------------------------------------------
// Closing

void SocketTransport::close() {
  if (closing_) return;
  closing_ = true;
  stop_reading();
  if (!send_busy_ && sending_.empty() && queued_.empty()) finish(nullptr);
}

void SocketTransport::abort() { finish(nullptr); }

void SocketTransport::shutdown_abort() noexcept { finish(nullptr); }

void SocketTransport::fatal_error(int error) { finish(make_os_error(error)); }

void SocketTransport::finish(std::exception_ptr error) noexcept {
  if (lost_) return;
  Ref<SocketTransport> keep(this);
  lost_ = true;
  closing_ = true;
  stop_reading();
  if (send_busy_ && poller_->cancel(&send_op_)) {
    send_busy_ = false;
    release();
  }
  // A send still in the kernel (io_uring) reads sending_: leave it until on_sent.
  if (!send_busy_) sending_.clear();
  sent_ = 0;
  queued_.clear();
  registry_->remove(this);
  if (fd_ >= 0) {
    poller_->close(fd_);
    fd_ = -1;
  }
  if (tracker_) tracker_->connection_closed(this);
  if (Protocol* p = std::exchange(protocol_, nullptr)) {
    try {
      p->connection_lost(error);
    } catch (...) {
      loop_->call_exception_handler({"Exception in connection_lost()", std::current_exception(), {}});
    }
  }
}

std::any SocketTransport::get_extra_info(std::string_view name) const {
  if (name == "peername") return peername_;
  if (name == "sockname") return sockname_;
  if (name == "socket") return fd_ >= 0 ? std::any(fd_) : std::any();
  return {};
}

}  // namespace aio::detail
