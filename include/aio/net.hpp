// aio's networking (asyncio §7): streams over TCP and Unix sockets, servers, the low-level
// loop.sock_* calls, UDP, getaddrinfo, TLS — on the epoll and io_uring backends alike.
#pragma once
#include "net/datagram.hpp"
#include "net/dns.hpp"
#include "net/errors.hpp"
#include "net/server.hpp"
#include "net/sockaddr.hpp"
#include "net/socket.hpp"
#include "net/socket_ops.hpp"
#include "net/streams.hpp"
#include "net/tls.hpp"
#include "net/subprocess.hpp"
#include "net/transport.hpp"
