#include "aio/net/sockaddr.hpp"

#include <sys/un.h>

#include <cstring>
#include <ostream>

namespace aio {

std::ostream& operator<<(std::ostream& os, const SockAddr& address) {
  return os << "('" << address.host << "', " << address.port << ')';
}

namespace detail {

std::any address_info(const sockaddr* address, socklen_t length) {
  if (!address || length < static_cast<socklen_t>(sizeof(sa_family_t))) return {};
  switch (address->sa_family) {
    case AF_INET:
    case AF_INET6:
      return SockAddr::from(SocketAddress::from(address, length));
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(address);
      const std::size_t room = length - offsetof(sockaddr_un, sun_path);
      if (room == 0) return std::string();
      if (un->sun_path[0] == '\0') return std::string(un->sun_path, room);  // abstract namespace
      return std::string(un->sun_path, ::strnlen(un->sun_path, room));
    }
    default:
      return {};
  }
}

}  // namespace detail
}  // namespace aio
