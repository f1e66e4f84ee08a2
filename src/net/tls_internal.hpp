// What the streams and servers call into TLS with.
#pragma once
#include "aio/core/task.hpp"
#include "aio/net/streams.hpp"

namespace aio::detail {

/// A server connection's handshake before its handler runs: false when it failed (logged at
/// debug level, the connection closed), as asyncio never calls the handler then.
Task<bool> tls_server_handshake(StreamWriter writer, SslOption ssl);

}  // namespace aio::detail
