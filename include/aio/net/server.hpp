// asyncio's start_server: a listening server that runs handler(reader, writer) as a task for
// every connection. Server is a handle (copyable); the server closes when the last one goes.
#pragma once
#include <sys/socket.h>

#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "../core/task.hpp"
#include "sockaddr.hpp"
#include "streams.hpp"

namespace aio {

/// start_server's keyword arguments.
struct StartServerOptions {
  bool reuse_port = false;  ///< SO_REUSEPORT: several servers (processes) share the port
  int backlog = 100;
  SslOption ssl{};
  /// Seconds for a client's TLS handshake (asyncio's 60 when left out): then it is dropped.
  std::optional<double> ssl_handshake_timeout{};
  /// Seconds a closing TLS connection waits for the client's close_notify (asyncio's 30).
  std::optional<double> ssl_shutdown_timeout{};
  std::size_t limit = kDefaultStreamLimit;
  int family = AF_UNSPEC;
  bool reuse_address = true;  ///< SO_REUSEADDR (asyncio's default on Unix)
  bool start_serving = true;  ///< false: accept only once start_serving()/serve_forever() runs
};

/// What start_server calls for each connection: a coroutine taking the connection's streams.
using ClientConnected = std::function<Task<>(StreamReader, StreamWriter)>;

namespace detail {
class ServerState;
/// How Server handles count, apart from the state's other references: the last handle to go
/// stops listening.
struct ServerHandleCount {
  static void add_ref(ServerState& state) noexcept;
  static void release(ServerState& state) noexcept;
};
}  // namespace detail

/// asyncio.Server.
class Server {
 public:
  Server() noexcept = default;
  explicit Server(detail::ServerState* state) noexcept;
  Server(const Server& other) noexcept;
  Server(Server&& other) noexcept;
  Server& operator=(Server other) noexcept;
  ~Server();

  explicit operator bool() const noexcept { return static_cast<bool>(state_); }
  /// The port of the first listening socket (what port 0 picked).
  int port() const;
  /// The addresses the server listens on (a Unix server: its path as host).
  std::vector<SockAddr> sockets() const;
  bool is_serving() const noexcept;
  /// Starts accepting (when created with start_serving = false).
  Task<> start_serving();
  /// Accepts until cancelled (or close()d): then closes the server, waits for it, and raises
  /// CancelledError.
  Task<> serve_forever();
  /// Stops listening; the connections stay open (asyncio 3.12).
  void close();
  /// Waits until the server is closed and its last connection is gone.
  Task<> wait_closed();
  /// Closes (flushing; TLS: with close_notify) / aborts every connection (asyncio 3.13).
  void close_clients();
  void abort_clients();

  /// `async with server:` — aio::with(server, [&](aio::Server& s) -> aio::Task<R> {...}).
  Task<Server&> aenter();
  Task<> aexit(std::exception_ptr error);

 private:
  detail::Ref<detail::ServerState, detail::ServerHandleCount> state_;
};

/// asyncio.start_server: listens on host:port ("" = every interface; port 0 = any free one).
Task<Server> start_server(ClientConnected handler, std::string host, int port, StartServerOptions options = StartServerOptions());
/// asyncio.start_unix_server: listens on a Unix socket path (a stale socket file there is replaced).
Task<Server> start_unix_server(ClientConnected handler, std::string path, StartServerOptions options = StartServerOptions());

}  // namespace aio
