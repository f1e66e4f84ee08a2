#include <fcntl.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <stdexcept>

#include "aio/net/errors.hpp"
#include "aio/net/socket_ops.hpp"
#include "socket_core.hpp"

namespace aio {
namespace detail {

// ---------------------------------------------------------------------------------------------
// OpBlock, SocketCore

OpBlock::OpBlock(Kind kind, SocketCore* socket) : IoOp(kind, &OpBlock::on_done), sock(socket) {
  sock->add_ref();
  fd = sock->fd;
}

OpBlock::~OpBlock() { sock->release(); }

namespace {
bool is_datagram_receive(const OpBlock* op) noexcept {
  return op->kind == IoOp::Kind::recvmsg || (op->kind == IoOp::Kind::recv && op->sock->type == SOCK_DGRAM);
}

/// What a finished receive or accept got, kept for the socket's next call when nobody takes it
/// (the caller was cancelled, or its frame is gone): io_uring may complete an operation after
/// its cancellation was asked for.
void keep_result(OpBlock* op) noexcept {
  if (!op->finished || op->result < 0) return;
  if (op->closed) {  // nothing to keep it for
    if (op->kind == IoOp::Kind::accept) ::close(op->result);
    op->result = -ECANCELED;
    return;
  }
  SocketCore& s = *op->sock;
  try {
    if (is_datagram_receive(op)) {
      const socklen_t length = op->kind == IoOp::Kind::recvmsg ? op->header.msg_namelen : 0;
      s.unreceived.push_back({op->data.substr(0, static_cast<std::size_t>(op->result)), op->address, length});
    } else if (op->kind == IoOp::Kind::recv && op->result > 0) {
      s.unread.insert(0, op->data.data(), static_cast<std::size_t>(op->result));
    } else if (op->kind == IoOp::Kind::accept) {
      s.unaccepted.emplace_front(op->result, op->address);
    }
  } catch (...) {
  }
  op->result = -ECANCELED;
}

/// Hands a kept datagram to a receive that starts: true when there was one.
bool take_kept_datagram(OpBlock* op) {
  SocketCore& s = *op->sock;
  if (s.unreceived.empty()) return false;
  SocketCore::Datagram d = std::move(s.unreceived.front());
  s.unreceived.pop_front();
  const std::size_t room = op->kind == IoOp::Kind::recvmsg ? op->vec.iov_len : op->len;
  const std::size_t n = std::min(room, d.data.size());  // truncated, as the kernel truncates
  std::memcpy(op->kind == IoOp::Kind::recvmsg ? op->vec.iov_base : op->buf, d.data.data(), n);
  if (op->kind == IoOp::Kind::recvmsg) {
    op->address = d.address;
    op->header.msg_namelen = d.address_length;
  }
  op->result = static_cast<int>(n);
  return true;
}
}  // namespace

void OpBlock::on_done(IoOp* op, int result, bool) {
  auto* b = static_cast<OpBlock*>(op);
  if (b->sendall && result > 0 && !b->cancel_taken && !b->closed) {
    b->progress += static_cast<std::size_t>(result);
    if (b->progress < b->data.size()) {  // the rest, still as the same operation
      b->buf = b->data.data() + b->progress;
      b->len = b->data.size() - b->progress;
      try {
        b->sock->poller().start(b);
        return;
      } catch (const std::system_error& e) {
        result = -e.code().value();
      }
    } else {
      result = static_cast<int>(b->progress);
    }
  }
  b->running = false;
  b->finished = true;
  b->result = result;
  b->sock->unlink(b);
  if (b->task) b->task->wake();
  else keep_result(b);  // nobody waits for it any more
  b->release();  // the poller's reference
}

SocketCore::~SocketCore() { close(); }

Poller& SocketCore::poller() {
  if (!loop) {
    loop = &get_running_loop();
    registry = &NetRegistry::of(*loop);
    registry->add(this);
  }
  used_poller = true;
  return loop->poller();
}

void SocketCore::link(OpBlock* op) noexcept {
  op->prev_running = nullptr;
  op->next_running = running;
  if (running) running->prev_running = op;
  running = op;
}

void SocketCore::unlink(OpBlock* op) noexcept {
  if (op->prev_running) op->prev_running->next_running = op->next_running;
  else if (running == op) running = op->next_running;
  if (op->next_running) op->next_running->prev_running = op->prev_running;
  op->prev_running = op->next_running = nullptr;
}

void SocketCore::close() noexcept {
  if (fd < 0) return;
  const bool alive = linked();  // else the loop may be gone: only ::close()
  while (OpBlock* op = running) {
    op->closed = true;
    unlink(op);
    if (alive && loop->poller().cancel(op)) {
      op->running = false;
      op->finished = true;
      op->result = -EBADF;
      if (op->task) op->task->wake();
      op->release();
    }  // else its completion (-ECANCELED) comes through on_done
  }
  if (alive) {
    registry->remove(this);
    loop->poller().close(fd);
  } else {
    ::close(fd);
  }
  fd = -1;
  unread.clear();
  unreceived.clear();
  for (auto& [f, a] : unaccepted) ::close(f);
  unaccepted.clear();
}

// ---------------------------------------------------------------------------------------------
// SockOpBase

SockOpBase::SockOpBase(OpBlock* op) noexcept : CancelHook(&SockOpBase::on_cancel), op_(op) {}

SockOpBase::SockOpBase(SockOpBase&& other) noexcept
    : CancelHook(&SockOpBase::on_cancel), op_(std::exchange(other.op_, nullptr)) {}

SockOpBase::~SockOpBase() {
  if (!op_) return;
  if (op_->running) {  // the awaiting frame is destroyed while the operation runs
    op_->task = nullptr;
    if (op_->sock->fd >= 0 && op_->sock->poller().cancel(op_)) {
      op_->running = false;
      op_->sock->unlink(op_);
      op_->release();
    }  // else on_done finishes the orphan
  }
  op_->release();
}

bool SockOpBase::ready() {
  SocketCore& s = *op_->sock;
  auto done = [&](int result) {
    op_->result = result;
    op_->finished = true;
    return true;
  };
  if (s.fd < 0) {
    op_->closed = true;
    return done(-EBADF);
  }
  op_->fd = s.fd;
  if (is_datagram_receive(op_) && take_kept_datagram(op_)) {
    op_->finished = true;
    return true;
  }
  if (op_->kind == IoOp::Kind::recv && !s.unread.empty()) {  // kept from a cancelled recv
    std::size_t n = std::min(op_->len, s.unread.size());
    std::memcpy(op_->buf, s.unread.data(), n);
    s.unread.erase(0, n);
    return done(static_cast<int>(n));
  }
  if (op_->kind == IoOp::Kind::accept && !s.unaccepted.empty()) {
    auto [fd, address] = s.unaccepted.front();
    s.unaccepted.pop_front();
    op_->address = address;
    return done(fd);
  }
  if (op_->sendall && op_->data.empty()) return done(0);
  int r = s.poller().try_io(op_);
  if (op_->sendall && r > 0) {
    op_->progress += static_cast<std::size_t>(r);
    if (op_->progress == op_->data.size()) return done(r);
    op_->buf = op_->data.data() + op_->progress;
    op_->len = op_->data.size() - op_->progress;
    return false;
  }
  if (r == -EAGAIN || r == -EWOULDBLOCK || r == -EINTR) return false;
  return done(r);
}

void SockOpBase::suspend(std::coroutine_handle<> h) {
  TaskState& task = current_task_state();
  SocketCore& s = *op_->sock;
  op_->task = &task;
  op_->add_ref();  // the poller's
  op_->running = true;
  s.link(op_);
  try {
    s.poller().start(op_);
  } catch (...) {
    op_->running = false;
    op_->task = nullptr;
    s.unlink(op_);
    op_->release();
    throw;
  }
  task.suspend(h, this);
}

int SockOpBase::resume() {
  TaskState* task = std::exchange(op_->task, nullptr);
  if (task) {
    try {
      task->throw_if_cancel_pending();
    } catch (...) {
      keep_result(op_);
      throw;
    }
  }
  if (op_->cancel_taken) {
    keep_result(op_);
    throw CancelledError(op_->cancel_message);
  }
  if (op_->result < 0) {
    if (op_->closed) throw OSError(EBADF, "Socket is closed");
    throw_os_error(-op_->result, op_->context);
  }
  return op_->result;
}

bool SockOpBase::on_cancel(CancelHook* hook, std::string_view message) {
  OpBlock* op = static_cast<SockOpBase*>(hook)->op_;
  if (!op->running) return false;  // finished, the task is already woken
  if (op->sock->poller().cancel(op)) {
    op->running = false;
    op->finished = true;
    op->result = -ECANCELED;
    op->sock->unlink(op);
    op->task->wake();
    op->release();
    return false;
  }
  op->cancel_taken = true;  // the kernel answers first (io_uring): on_done wakes the task
  op->cancel_message = std::string(message);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Results

std::string finish_recv(OpBlock* op, int result) {
  std::string out = std::move(op->data);
  out.resize(static_cast<std::size_t>(result));
  return out;
}

std::size_t finish_recv_into(OpBlock* op, int result) {
  std::memcpy(op->into.data(), op->data.data(), static_cast<std::size_t>(result));
  return static_cast<std::size_t>(result);
}

std::size_t finish_count(OpBlock*, int result) { return static_cast<std::size_t>(result); }

void finish_void(OpBlock*, int) {}

namespace {
SockAddr to_sockaddr(const sockaddr_storage& a, socklen_t len) {
  std::any info = address_info(reinterpret_cast<const sockaddr*>(&a), len);
  if (auto* inet = std::any_cast<SockAddr>(&info)) return *inet;
  if (auto* path = std::any_cast<std::string>(&info)) return SockAddr{*path, 0};
  return {};
}
}  // namespace

std::pair<Socket, SockAddr> finish_accept(OpBlock* op, int result) {
  Socket s = Socket::adopt(result);
  return {std::move(s), to_sockaddr(op->address, op->addrlen)};
}

std::pair<std::string, SockAddr> finish_recvfrom(OpBlock* op, int result) {
  SockAddr from = to_sockaddr(op->address, op->header.msg_namelen);
  std::string out = std::move(op->data);
  out.resize(static_cast<std::size_t>(result));
  return {std::move(out), std::move(from)};
}

namespace {
OpBlock* make_op(Socket& sock, IoOp::Kind kind) {
  SocketCore* core = sock.core();
  if (!core) throw std::invalid_argument("operation on an empty aio::Socket");
  return new OpBlock(kind, core);
}

std::string describe(const SockAddr& address) {
  std::ostringstream os;
  os << address;
  return os.str();
}

void set_address(OpBlock* op, const SocketAddress& address) {
  std::memcpy(&op->address, &address.storage, address.length);
  op->addr = reinterpret_cast<sockaddr*>(&op->address);
  op->addrlen = address.length;
}
}  // namespace

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Socket

Socket::Socket(int family, int type, int proto) {
  int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd < 0) throw_os_error(errno);
  core_ = new detail::SocketCore(fd, family, type);
}

Socket Socket::adopt(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && !(flags & O_NONBLOCK)) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  int family = 0, type = 0;
  socklen_t len = sizeof family;
  ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len);
  len = sizeof type;
  ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
  return Socket(new detail::SocketCore(fd, family, type));
}

Socket::Socket(Socket&& other) noexcept : core_(std::exchange(other.core_, nullptr)) {}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (core_) {
      core_->close();
      core_->release();
    }
    core_ = std::exchange(other.core_, nullptr);
  }
  return *this;
}

Socket::~Socket() {
  if (core_) {
    core_->close();
    core_->release();
  }
}

int Socket::fileno() const noexcept { return core_ ? core_->fd : -1; }
int Socket::family() const noexcept { return core_ ? core_->family : 0; }
int Socket::type() const noexcept { return core_ ? core_->type : 0; }

namespace {
int checked_fd(detail::SocketCore* core) {
  if (!core || core->fd < 0) throw OSError(EBADF, "Bad file descriptor");
  return core->fd;
}
}  // namespace

void Socket::bind(const SocketAddress& address) {
  if (::bind(checked_fd(core_), address.data(), address.size()) < 0) throw_os_error(errno);
}

void Socket::bind(const SockAddr& address) { bind(address.to_socket_address()); }

void Socket::bind_unix(const std::string& path) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  if (path.size() >= sizeof un.sun_path) throw std::invalid_argument("AF_UNIX path too long");
  std::memcpy(un.sun_path, path.data(), path.size());
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path.empty() || path[0] ? 1 : 0));
  if (::bind(checked_fd(core_), reinterpret_cast<sockaddr*>(&un), len) < 0) throw_os_error(errno);
}

void Socket::listen(int backlog) {
  if (::listen(checked_fd(core_), backlog) < 0) throw_os_error(errno);
}

void Socket::setsockopt(int level, int option, int value) {
  if (::setsockopt(checked_fd(core_), level, option, &value, sizeof value) < 0) throw_os_error(errno);
}

int Socket::getsockopt(int level, int option) const {
  int value = 0;
  socklen_t len = sizeof value;
  if (::getsockopt(checked_fd(core_), level, option, &value, &len) < 0) throw_os_error(errno);
  return value;
}

SockAddr Socket::getsockname() const {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (::getsockname(checked_fd(core_), reinterpret_cast<sockaddr*>(&a), &len) < 0) throw_os_error(errno);
  return detail::to_sockaddr(a, len);
}

SockAddr Socket::getpeername() const {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (::getpeername(checked_fd(core_), reinterpret_cast<sockaddr*>(&a), &len) < 0) throw_os_error(errno);
  return detail::to_sockaddr(a, len);
}

void Socket::shutdown(int how) {
  if (::shutdown(checked_fd(core_), how) < 0) throw_os_error(errno);
}

void Socket::close() {
  if (core_) core_->close();
}

int Socket::detach() {
  if (!core_ || core_->fd < 0) return -1;
  detail::SocketCore* core = core_;
  if (core->running) throw std::runtime_error("Socket::detach() while operations run on it");
  if (!core->linked()) return std::exchange(core->fd, -1);
  // The poller knows this descriptor: hand out a duplicate and let the poller close the original.
  int copy = ::fcntl(core->fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) throw_os_error(errno);
  core->close();
  return copy;
}

// ---------------------------------------------------------------------------------------------
// loop.sock_*()

detail::SockAwaiter<std::string, &detail::finish_recv> sock_recv(Socket& sock, std::size_t nbytes) {
  auto* op = detail::make_op(sock, IoOp::Kind::recv);
  op->data.resize(nbytes);
  op->buf = op->data.data();
  op->len = nbytes;
  return detail::SockAwaiter<std::string, &detail::finish_recv>(op);
}

detail::SockAwaiter<std::size_t, &detail::finish_recv_into> sock_recv_into(Socket& sock, std::span<char> buffer) {
  auto* op = detail::make_op(sock, IoOp::Kind::recv);
  op->data.resize(buffer.size());  // the kernel writes here, never into the caller's memory late
  op->into = buffer;
  op->buf = op->data.data();
  op->len = buffer.size();
  return detail::SockAwaiter<std::size_t, &detail::finish_recv_into>(op);
}

detail::SockAwaiter<void, &detail::finish_void> sock_sendall(Socket& sock, std::string_view data) {
  auto* op = detail::make_op(sock, IoOp::Kind::send);
  op->data.assign(data);
  op->sendall = true;
  op->buf = op->data.data();
  op->len = op->data.size();
  return detail::SockAwaiter<void, &detail::finish_void>(op);
}

detail::SockAwaiter<void, &detail::finish_void> sock_connect(Socket& sock, const SocketAddress& address) {
  auto* op = detail::make_op(sock, IoOp::Kind::connect);
  detail::set_address(op, address);
  op->context = "Connect call failed " + detail::describe(SockAddr::from(address));
  return detail::SockAwaiter<void, &detail::finish_void>(op);
}

detail::SockAwaiter<void, &detail::finish_void> sock_connect(Socket& sock, const SockAddr& address) {
  return sock_connect(sock, address.to_socket_address());
}

detail::SockAwaiter<void, &detail::finish_void> sock_connect(Socket& sock, const std::filesystem::path& path) {
  auto* op = detail::make_op(sock, IoOp::Kind::connect);
  auto* un = reinterpret_cast<sockaddr_un*>(&op->address);
  const std::string& p = path.native();
  if (p.size() >= sizeof un->sun_path) {
    op->release();
    throw std::invalid_argument("AF_UNIX path too long");
  }
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, p.data(), p.size());
  op->addr = reinterpret_cast<sockaddr*>(&op->address);
  op->addrlen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + p.size() + 1);
  op->context = "Connect call failed '" + p + "'";
  return detail::SockAwaiter<void, &detail::finish_void>(op);
}

detail::SockAwaiter<std::pair<Socket, SockAddr>, &detail::finish_accept> sock_accept(Socket& sock) {
  auto* op = detail::make_op(sock, IoOp::Kind::accept);
  op->addr = reinterpret_cast<sockaddr*>(&op->address);
  op->addrlen = sizeof op->address;
  return detail::SockAwaiter<std::pair<Socket, SockAddr>, &detail::finish_accept>(op);
}

detail::SockAwaiter<std::size_t, &detail::finish_count> sock_sendto(Socket& sock, std::string_view data,
                                                                    const SockAddr& address) {
  SocketAddress to = address.to_socket_address();
  auto* op = detail::make_op(sock, IoOp::Kind::sendmsg);
  op->data.assign(data);
  std::memcpy(&op->address, &to.storage, to.length);
  op->vec = {op->data.data(), op->data.size()};
  op->header.msg_name = &op->address;
  op->header.msg_namelen = to.length;
  op->header.msg_iov = &op->vec;
  op->header.msg_iovlen = 1;
  op->msg = &op->header;
  return detail::SockAwaiter<std::size_t, &detail::finish_count>(op);
}

detail::SockAwaiter<std::pair<std::string, SockAddr>, &detail::finish_recvfrom> sock_recvfrom(Socket& sock,
                                                                                             std::size_t bufsize) {
  auto* op = detail::make_op(sock, IoOp::Kind::recvmsg);
  op->data.resize(bufsize);
  op->vec = {op->data.data(), op->data.size()};
  op->header.msg_name = &op->address;
  op->header.msg_namelen = sizeof op->address;
  op->header.msg_iov = &op->vec;
  op->header.msg_iovlen = 1;
  op->msg = &op->header;
  return detail::SockAwaiter<std::pair<std::string, SockAddr>, &detail::finish_recvfrom>(op);
}

}  // namespace aio
