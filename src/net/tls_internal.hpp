// What the streams and servers call into TLS with.
#pragma once
#include "aio/core/task.hpp"
#include "aio/net/streams.hpp"

namespace aio::detail {

/// asyncio's defaults (seconds): constants.SSL_HANDSHAKE_TIMEOUT, SSL_SHUTDOWN_TIMEOUT.
inline constexpr double kSslHandshakeTimeout = 60.0;
inline constexpr double kSslShutdownTimeout = 30.0;

/// A server connection's handshake before its handler runs: false when it failed (logged at
/// debug level, the connection closed after the alert), as asyncio never calls the handler then.
Task<bool> tls_server_handshake(StreamWriter writer, SslOption ssl, StartTlsOptions options);

/// asyncio's ValueErrors (std::invalid_argument): a timeout given without ssl, or not > 0.
void check_tls_timeouts(const std::optional<double>& handshake, const std::optional<double>& shutdown, bool ssl);

}  // namespace aio::detail
