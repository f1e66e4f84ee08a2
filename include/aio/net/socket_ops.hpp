// asyncio's low-level socket calls: loop.sock_recv / sock_recv_into / sock_sendall /
// sock_connect / sock_accept / sock_sendto / sock_recvfrom on an aio::Socket, as free
// functions (aio::sock_recv(sock, n)) and as the EventLoop members asyncio code spells
// (co_await loop.sock_recv(sock, n)). Each is cancellable and takes timeouts (wait_for).
#pragma once
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "../core/event_loop.hpp"
#include "socket.hpp"

namespace aio {

/// Up to nbytes, as soon as there are any ("" at EOF).
detail::SockAwaiter<std::string, &detail::finish_recv> sock_recv(Socket& sock, std::size_t nbytes);
/// Into `buffer`: how many bytes came.
detail::SockAwaiter<std::size_t, &detail::finish_recv_into> sock_recv_into(Socket& sock, std::span<char> buffer);
/// All of `data` (cancelled midway, part of it may have gone).
detail::SockAwaiter<void, &detail::finish_void> sock_sendall(Socket& sock, std::string_view data);
detail::SockAwaiter<void, &detail::finish_void> sock_connect(Socket& sock, const SockAddr& address);
detail::SockAwaiter<void, &detail::finish_void> sock_connect(Socket& sock, const SocketAddress& address);
/// A Unix socket's path.
detail::SockAwaiter<void, &detail::finish_void> sock_connect(Socket& sock, const std::filesystem::path& path);
/// The next connection and its peer's address.
detail::SockAwaiter<std::pair<Socket, SockAddr>, &detail::finish_accept> sock_accept(Socket& sock);
detail::SockAwaiter<std::size_t, &detail::finish_count> sock_sendto(Socket& sock, std::string_view data,
                                                                    const SockAddr& address);
detail::SockAwaiter<std::pair<std::string, SockAddr>, &detail::finish_recvfrom> sock_recvfrom(Socket& sock,
                                                                                             std::size_t bufsize);

template <class S>
auto EventLoop::sock_recv(S& sock, std::size_t nbytes) {
  return aio::sock_recv(sock, nbytes);
}
template <class S, class B>
auto EventLoop::sock_recv_into(S& sock, B&& buffer) {
  return aio::sock_recv_into(sock, std::span<char>(buffer));
}
template <class S, class D>
auto EventLoop::sock_sendall(S& sock, D&& data) {
  return aio::sock_sendall(sock, std::string_view(data));
}
template <class S, class A>
auto EventLoop::sock_connect(S& sock, A&& address) {
  return aio::sock_connect(sock, std::forward<A>(address));
}
template <class S>
auto EventLoop::sock_accept(S& sock) {
  return aio::sock_accept(sock);
}
template <class S, class D, class A>
auto EventLoop::sock_sendto(S& sock, D&& data, A&& address) {
  return aio::sock_sendto(sock, std::string_view(data), std::forward<A>(address));
}
template <class S>
auto EventLoop::sock_recvfrom(S& sock, std::size_t bufsize) {
  return aio::sock_recvfrom(sock, bufsize);
}

}  // namespace aio
