#include "aio/net/server.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <sstream>
#include <unordered_set>

#include "aio/core/future.hpp"
#include "aio/core/log.hpp"
#include "aio/core/sleep.hpp"
#include "aio/net/errors.hpp"
#include "aio/net/socket.hpp"
#include "registry.hpp"
#include "socket_transport.hpp"
#include "tls_internal.hpp"
#include "stream_state.hpp"

namespace aio {
namespace detail {

class ServerState final : public ConnectionTracker, public Closable {
 public:
  ServerState(EventLoop& loop, ClientConnected handler, StartServerOptions options)
      : loop_(&loop), handler_(std::move(handler)), options_(std::move(options)) {
    registry_ = &NetRegistry::of(loop);
    registry_->add(this);
  }

  void add_ref() noexcept override { ++refs_; }
  void release() noexcept override {
    if (--refs_ == 0) delete this;
  }
  void add_handle() noexcept {
    ++handles_;
    add_ref();
  }
  void drop_handle() noexcept {
    if (--handles_ == 0) close();  // the last Server handle: stop listening
    release();
  }

  /// Takes over a bound socket and listens on it.
  void add_listener(Socket socket, std::string unix_path = {}) {
    socket.listen(options_.backlog);
    auto l = std::make_unique<Listener>(this);
    l->address = socket.getsockname();
    l->unix_path = std::move(unix_path);
    if (!l->unix_path.empty()) {
      struct stat st {};
      if (::stat(l->unix_path.c_str(), &st) == 0) l->inode = st.st_ino;
    }
    l->fd = socket.detach();
    l->op.fd = l->fd;
    listeners_.push_back(std::move(l));
  }

  void start_serving() {
    if (closed_) throw std::runtime_error("Server is closed");
    if (serving_) return;
    serving_ = true;
    for (auto& l : listeners_) start(*l);
  }
  bool is_serving() const noexcept { return serving_; }
  bool closed() const noexcept { return closed_; }

  void close() noexcept {
    if (closed_) return;
    closed_ = true;
    serving_ = false;
    for (auto& l : listeners_) {
      if (l->running && loop_->poller().cancel(&l->op)) {
        l->running = false;
        release();
      }
      if (l->fd >= 0) {
        // shutdown() stops a listening socket at once (connections are refused from now on),
        // even while io_uring still holds it for the accept whose cancellation is on its way.
        ::shutdown(l->fd, SHUT_RDWR);
        loop_->poller().close(l->fd);
        l->fd = -1;
      }
      if (!l->unix_path.empty()) {  // remove our socket file, not one that replaced it
        struct stat st {};
        if (::stat(l->unix_path.c_str(), &st) == 0 && st.st_ino == l->inode) ::unlink(l->unix_path.c_str());
      }
    }
    registry_->remove(this);
    if (forever_ && !forever_.done()) forever_.cancel();
    check_closed();
  }

  void close_clients() {
    std::vector<Ref<Transport>> all;
    for (Transport* t : clients_) all.emplace_back(topmost(t));
    for (auto& t : all) t->close();
  }
  void abort_clients() {
    std::vector<Ref<Transport>> all(clients_.begin(), clients_.end());
    for (auto& t : all) t->abort();
  }

  Future<> closed_waiter() {
    auto f = Future<>::create(*loop_);
    if (closed_ && clients_.empty() && running_listeners() == 0) f.set_result();
    else closed_waiters_.push_back(f);
    return f;
  }

  void connection_closed(Transport* transport) noexcept override {
    clients_.erase(transport);
    check_closed();
  }

  void shutdown_abort() noexcept override {
    Ref<ServerState> keep(this);
    close();
    abort_clients();
  }

  int port() const { return listeners_.empty() ? 0 : listeners_.front()->address.port; }
  std::vector<SockAddr> sockets() const {
    std::vector<SockAddr> out;
    if (!closed_)
      for (auto& l : listeners_) out.push_back(l->address);
    return out;
  }

  Future<> forever_;

 private:
  struct Listener {
    explicit Listener(ServerState* s) : op(IoOp::Kind::accept_stream, &ServerState::on_accept, this), server(s) {}
    struct Op : IoOp {
      Op(Kind k, DoneFn fn, Listener* l) : IoOp(k, fn), listener(l) {}
      Listener* listener;
    } op;
    ServerState* server;
    int fd = -1;
    bool running = false;
    SockAddr address;
    std::string unix_path;
    ino_t inode = 0;
  };

  ~ServerState() {
    if (linked()) registry_->remove(this);
    for (auto& l : listeners_)
      if (l->fd >= 0) ::close(l->fd);
  }

  /// The transport the connection's streams write to: TLS's over the socket's, when there is TLS.
  static Transport* topmost(Transport* t) noexcept {
    while (auto* above = dynamic_cast<Transport*>(t->get_protocol())) t = above;
    return t;
  }

  std::size_t running_listeners() const {
    return static_cast<std::size_t>(
        std::count_if(listeners_.begin(), listeners_.end(), [](auto& l) { return l->running; }));
  }

  void check_closed() noexcept {
    if (!closed_ || !clients_.empty() || running_listeners() > 0) return;
    auto waiters = std::move(closed_waiters_);
    for (auto& f : waiters)
      if (!f.done()) f.set_result();
  }

  void start(Listener& l) {
    if (l.running || l.fd < 0) return;
    add_ref();  // the operation's
    l.running = true;
    try {
      loop_->poller().start(&l.op);
    } catch (...) {
      l.running = false;
      release();
      throw;
    }
  }

  static void on_accept(IoOp* op, int result, bool more) {
    Listener& l = *static_cast<Listener::Op*>(op)->listener;
    ServerState* self = l.server;
    if (more) {
      if (self->closed_) ::close(result);
      else self->new_connection(result);
      return;
    }
    l.running = false;
    if (self->closed_ || result == -ECANCELED) {
      self->check_closed();
    } else {
      // Out of descriptors or memory: asyncio logs it and accepts again a second later.
      log(LogLevel::error, std::string("socket.accept() out of system resource: ") + std::strerror(-result));
      self->loop_->call_later(1.0, [keep = Ref<ServerState>(self), which = &l] {
        if (!keep->closed_ && keep->serving_) keep->start(*which);
      });
    }
    self->release();  // the operation's reference
  }

  static Task<> run_client(Ref<ServerState> self, StreamReader reader, StreamWriter writer) {
    try {
      if (self->options_.ssl) {
        StartTlsOptions tls;
        tls.ssl_handshake_timeout = self->options_.ssl_handshake_timeout;
        tls.ssl_shutdown_timeout = self->options_.ssl_shutdown_timeout;
        if (!co_await tls_server_handshake(writer, self->options_.ssl, tls)) co_return;
      }
      co_await self->handler_(std::move(reader), std::move(writer));
    } catch (const CancelledError&) {
      throw;
    } catch (...) {
      self->loop_->call_exception_handler(
          {"Unhandled exception in client_connected_cb", std::current_exception(), current_task()});
    }
  }

  void new_connection(int fd) {
    try {
      auto streams = make_streams_on(*loop_, fd, options_.limit, true, this);
      clients_.insert(&streams.second.transport());
      loop_->create_task(run_client(Ref<ServerState>(this), std::move(streams.first), std::move(streams.second)));
    } catch (...) {
      loop_->call_exception_handler({"Error creating a connection", std::current_exception(), {}});
    }
  }

  EventLoop* loop_;
  NetRegistry* registry_;
  ClientConnected handler_;
  StartServerOptions options_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_set<Transport*> clients_;
  std::vector<Future<>> closed_waiters_;
  std::uint32_t refs_ = 0;
  std::uint32_t handles_ = 0;
  bool serving_ = false;
  bool closed_ = false;
};

namespace {

std::string describe(const SockAddr& a) {
  std::ostringstream os;
  os << a;
  return os.str();
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Server

void detail::ServerHandleCount::add_ref(ServerState& state) noexcept { state.add_handle(); }
void detail::ServerHandleCount::release(ServerState& state) noexcept { state.drop_handle(); }

Server::Server(detail::ServerState* state) noexcept : state_(state) {}
Server::Server(const Server& other) noexcept = default;
Server::Server(Server&& other) noexcept = default;
Server& Server::operator=(Server other) noexcept {
  std::swap(state_, other.state_);
  return *this;
}
Server::~Server() = default;

namespace {
detail::ServerState& checked(const detail::Ref<detail::ServerState, detail::ServerHandleCount>& s) {
  if (!s) throw std::runtime_error("empty aio::Server handle");
  return *s;
}
}  // namespace

int Server::port() const { return checked(state_).port(); }
std::vector<SockAddr> Server::sockets() const { return checked(state_).sockets(); }
bool Server::is_serving() const noexcept { return state_ && state_->is_serving(); }
void Server::close() { checked(state_).close(); }
void Server::close_clients() { checked(state_).close_clients(); }
void Server::abort_clients() { checked(state_).abort_clients(); }

Task<> Server::start_serving() {
  detail::Ref<detail::ServerState> s(&checked(state_));
  s->start_serving();
  co_await sleep(0);
}

Task<> Server::wait_closed() {
  detail::Ref<detail::ServerState> s(&checked(state_));
  auto closed = s->closed_waiter();
  co_await closed;
}

Task<> Server::serve_forever() {
  detail::Ref<detail::ServerState> s(&checked(state_));
  if (s->forever_) throw std::runtime_error("server is already being awaited on serve_forever()");
  if (s->closed()) throw std::runtime_error("server is closed");
  s->start_serving();
  auto forever = Future<>::create(get_running_loop());
  s->forever_ = forever;
  std::optional<CancelledError> cancelled;
  try {
    co_await forever;
  } catch (const CancelledError& e) {
    cancelled = e;
  }
  s->forever_ = {};
  if (cancelled) {
    s->close();
    auto closed = s->closed_waiter();
    co_await closed;
    throw *cancelled;
  }
}

Task<Server&> Server::aenter() { co_return *this; }

Task<> Server::aexit(std::exception_ptr) {
  close();
  co_await wait_closed();
}

// ---------------------------------------------------------------------------------------------
// start_server

Task<Server> start_server(ClientConnected handler, std::string host, int port, StartServerOptions options) {
  if (options.ssl && !options.ssl.context) throw std::invalid_argument("start_server(): .ssl needs a server SSLContext");
  if (port < 0 || port > 65535) throw std::invalid_argument("port must be 0-65535");
  detail::check_tls_timeouts(options.ssl_handshake_timeout, options.ssl_shutdown_timeout, bool(options.ssl));
  GetAddrInfoOptions hints;
  hints.family = options.family;
  hints.type = SOCK_STREAM;
  hints.proto = IPPROTO_TCP;
  hints.flags = AI_PASSIVE;
  std::vector<AddrInfo> addrs = co_await aio::getaddrinfo(host, port, hints);
  EventLoop& loop = get_running_loop();
  auto* state = new detail::ServerState(loop, std::move(handler), options);
  Server server(state);
  std::vector<SocketAddress> done;
  for (const AddrInfo& info : addrs) {
    if (std::find(done.begin(), done.end(), info.sockaddr) != done.end()) continue;
    done.push_back(info.sockaddr);
    Socket sock(info.sockaddr.family(), SOCK_STREAM, IPPROTO_TCP);
    if (options.reuse_address) sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (options.reuse_port) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    // As asyncio: an IPv6 socket listens on IPv6 only, the IPv4 address has its own socket.
    if (info.sockaddr.family() == AF_INET6) sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
    try {
      sock.bind(info.sockaddr);
    } catch (const std::system_error& e) {
      int err = e.code().value();
      throw_os_error(err, "error while attempting to bind on address " + detail::describe(SockAddr::from(info.sockaddr)) +
                              ": " + detail::lower(std::strerror(err)));
    }
    state->add_listener(std::move(sock));
  }
  if (options.start_serving) co_await server.start_serving();
  co_return server;
}

Task<Server> start_unix_server(ClientConnected handler, std::string path, StartServerOptions options) {
  if (options.ssl && !options.ssl.context) throw std::invalid_argument("start_unix_server(): .ssl needs a server SSLContext");
  detail::check_tls_timeouts(options.ssl_handshake_timeout, options.ssl_shutdown_timeout, bool(options.ssl));
  if (!path.empty() && path[0] != '\0') {  // a stale socket file from an earlier run goes
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
  }
  EventLoop& loop = get_running_loop();
  auto* state = new detail::ServerState(loop, std::move(handler), options);
  Server server(state);
  Socket sock(AF_UNIX, SOCK_STREAM);
  sock.bind_unix(path);
  state->add_listener(std::move(sock), !path.empty() && path[0] ? path : std::string());
  if (options.start_serving) co_await server.start_serving();
  co_return server;
}

}  // namespace aio
