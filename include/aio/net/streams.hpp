// asyncio streams: open_connection() gives a StreamReader and a StreamWriter on a TCP (or Unix)
// connection. Readers and writers are cheap handles to the connection's shared state: copy or
// move them freely; the connection closes (after flushing) when the last handle goes.
#pragma once
#include <sys/socket.h>

#include <any>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/detail/task_state.hpp"
#include "../core/task.hpp"
#include "errors.hpp"
#include "sockaddr.hpp"
#include "transport.hpp"

namespace aio {

class SSLContext;  // TLS (<aio/net/tls.hpp>) builds on these streams

/// The `.ssl` option: false or left out = plain TCP (asyncio's meaning); true = the default
/// client context (verifies chain and hostname); or a context.
struct SslOption {
  SslOption() = default;
  SslOption(bool on) : enabled(on) {}  // NOLINT: implicit, as Python's ssl=True
  SslOption(std::shared_ptr<SSLContext> ctx) : enabled(ctx != nullptr), context(std::move(ctx)) {}  // NOLINT
  SslOption(const SSLContext& ctx);  // NOLINT: implicit, as ssl=ctx (defined in tls.cpp)
  bool enabled = false;
  std::shared_ptr<SSLContext> context;
  explicit operator bool() const noexcept { return enabled; }
};

/// asyncio's default buffer limit of stream readers (64 KiB).
inline constexpr std::size_t kDefaultStreamLimit = 64 * 1024;

/// open_connection's keyword arguments. (g++ 12 miscompiles a braced aggregate temporary in a
/// co_await expression — a default `= {}` included: name the options first, or write T().)
struct OpenConnectionOptions {
  SslOption ssl{};
  std::string server_hostname{};  ///< "" = the host (TLS only)
  std::size_t limit = kDefaultStreamLimit;
  int family = AF_UNSPEC;         ///< AF_INET / AF_INET6 to use only that family
  /// Bind to this (host, port) before connecting (port 0: any); OSError when it cannot bind.
  std::optional<SockAddr> local_addr{};
  std::optional<double> happy_eyeballs_delay{};  ///< seconds between staggered attempts (RFC 8305)
  std::optional<int> interleave{};
  /// Seconds for the TLS handshake (asyncio's 60 when left out): then ConnectionAbortedError.
  std::optional<double> ssl_handshake_timeout{};
  /// Seconds close() waits for the peer's close_notify (asyncio's 30 when left out).
  std::optional<double> ssl_shutdown_timeout{};
};

/// StreamWriter::start_tls's keyword arguments.
struct StartTlsOptions {
  std::string server_hostname{};  ///< SNI and the name checked (client side)
  std::optional<double> ssl_handshake_timeout{};  ///< seconds; asyncio's 60 when left out
  std::optional<double> ssl_shutdown_timeout{};   ///< seconds; asyncio's 30 when left out
  std::optional<bool> server_side{};  ///< left out: the context's side (Purpose::CLIENT_AUTH = server)
};

namespace detail {
class StreamState;

/// What co_await reader.read()/readline()/readexactly()/readuntil() suspends on. The bytes wait
/// in the reader's buffer until the awaiting task resumes, so a read that is cancelled (a
/// timeout) loses nothing: the next read gets them.
class [[nodiscard]] StreamReadAwaiter : CancelHook {
 public:
  enum class Mode : std::uint8_t { some, all, exactly, until, line };
  StreamReadAwaiter(StreamState* state, Mode mode, std::ptrdiff_t n, std::string_view separator);
  StreamReadAwaiter(StreamReadAwaiter&& other) noexcept;
  StreamReadAwaiter& operator=(StreamReadAwaiter&&) = delete;
  ~StreamReadAwaiter();

  bool await_ready();
  void await_suspend(std::coroutine_handle<> h);
  std::string await_resume();

 private:
  friend class StreamState;
  static bool on_cancel(CancelHook* hook, std::string_view message);

  StreamState* state_;
  TaskState* task_ = nullptr;
  std::string separator_;
  std::ptrdiff_t n_;
  std::size_t scan_ = 0;  // readuntil: where the separator search goes on
  Mode mode_;
  bool waiting_ = false;
};

/// What co_await writer.drain() suspends on.
class [[nodiscard]] DrainAwaiter : CancelHook {
 public:
  explicit DrainAwaiter(StreamState* state);
  DrainAwaiter(DrainAwaiter&& other) noexcept;
  DrainAwaiter& operator=(DrainAwaiter&&) = delete;
  ~DrainAwaiter();

  bool await_ready() const noexcept;
  void await_suspend(std::coroutine_handle<> h);
  void await_resume();

 private:
  friend class StreamState;
  static bool on_cancel(CancelHook* hook, std::string_view message);
  void unlink() noexcept;

  StreamState* state_;
  TaskState* task_ = nullptr;
  DrainAwaiter* prev_ = nullptr;
  DrainAwaiter* next_ = nullptr;
  bool waiting_ = false;
};
}  // namespace detail

/// asyncio.StreamReader.
class StreamReader {
 public:
  /// A reader fed by hand (feed_data/feed_eof), as asyncio.StreamReader(limit=...).
  explicit StreamReader(std::size_t limit = kDefaultStreamLimit);
  explicit StreamReader(detail::StreamState* state) noexcept;  // takes a reference
  StreamReader(const StreamReader& other) noexcept;
  StreamReader(StreamReader&& other) noexcept;
  StreamReader& operator=(StreamReader other) noexcept;
  ~StreamReader();

  /// Up to n bytes, as soon as there are any; n = -1: everything until EOF; "" at EOF.
  detail::StreamReadAwaiter read(std::ptrdiff_t n = -1);
  /// Through the next "\n" (included); at EOF what is left; std::invalid_argument (Python's
  /// ValueError) past the limit.
  detail::StreamReadAwaiter readline();
  /// Exactly n bytes; IncompleteReadError when EOF comes first.
  detail::StreamReadAwaiter readexactly(std::ptrdiff_t n);
  /// Through `separator` (included); LimitOverrunError past the limit (the data stays),
  /// IncompleteReadError (expected: nullopt) at EOF.
  detail::StreamReadAwaiter readuntil(std::string_view separator = "\n");

  /// EOF was seen and the buffer is empty.
  bool at_eof() const noexcept;
  std::exception_ptr exception() const noexcept;
  void set_exception(std::exception_ptr error);
  void feed_data(std::string_view data);
  void feed_eof();
  std::size_t limit() const noexcept;
  /// Bytes received and not read yet.
  std::size_t buffered() const noexcept;

  detail::StreamState* state() const noexcept { return state_.get(); }

 private:
  detail::Ref<detail::StreamState> state_;
};

/// asyncio.StreamWriter.
class StreamWriter {
 public:
  explicit StreamWriter(detail::StreamState* state) noexcept;  // takes a reference
  StreamWriter(const StreamWriter& other) noexcept;
  StreamWriter(StreamWriter&& other) noexcept;
  StreamWriter& operator=(StreamWriter other) noexcept;
  ~StreamWriter();

  /// Queues bytes (never blocks); pair with drain() for back-pressure.
  void write(std::string_view data);
  void write(std::string&& data);  ///< takes the bytes over when that saves a copy
  void write(const char* data) { write(std::string_view(data)); }
  void writelines(const std::vector<std::string>& lines);
  /// Returns at once below the high-water mark; above it, waits until the buffer drains to
  /// the low-water mark. Raises the connection's error (ConnectionResetError...).
  detail::DrainAwaiter drain();
  bool can_write_eof() const noexcept;
  void write_eof();
  /// Flushes, then closes; wait_closed() waits for the end. Over TLS: close_notify, and the
  /// peer's awaited up to ssl_shutdown_timeout (then wait_closed() raises TimeoutError).
  void close();
  bool is_closing() const noexcept;
  Task<> wait_closed();
  /// "peername"/"sockname" (aio::SockAddr; a path string for Unix sockets), "socket" (fd),
  /// TLS: "sslcontext", "peercert" (aio::PeerCert), "cipher", "version", "alpn_protocol",
  /// "server_hostname", "ssl_object" (the OpenSSL SSL*, as void*); an empty std::any when unknown.
  std::any get_extra_info(std::string_view name) const;
  Transport& transport() const noexcept;
  /// Upgrades the connection to TLS (asyncio's StreamWriter.start_tls): returns once the
  /// handshake is done; SSLError / SSLCertVerificationError when it fails.
  Task<> start_tls(SslOption ssl, StartTlsOptions options = StartTlsOptions());

  detail::StreamState* state() const noexcept { return state_.get(); }

 private:
  detail::Ref<detail::StreamState> state_;
};

/// asyncio.open_connection: connects to host:port (IPv4/IPv6, trying each address; happy
/// eyeballs with .happy_eyeballs_delay). ConnectionRefusedError, OSError (std::system_error)...
Task<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port,
                                                             OpenConnectionOptions options = OpenConnectionOptions());
/// asyncio.open_unix_connection.
Task<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path, OpenConnectionOptions options = OpenConnectionOptions());

namespace detail {
/// Streams on an fd already connected (a socket, or a pipe when !is_socket): what servers,
/// open_connection and subprocess pipes build their readers and writers from.
std::pair<StreamReader, StreamWriter> make_streams(int fd, std::size_t limit, bool is_socket = true);
}  // namespace detail

}  // namespace aio
