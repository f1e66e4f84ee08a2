// Test support for the DNS and connect tests: a DNS server stub on 127.0.0.1 (so no test
// ever queries a real name server), listening sockets, and a real-clock test macro.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <aio/testing.hpp>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <dirent.h>
#include <map>
#include <string>
#include <thread>
#include <vector>

/// A test body run by aio::run on the real clock: for tests where real sockets race timers
/// (the virtual clock of AIO_TEST would jump to the timer before the socket could answer).
#define AIO_REAL_TEST(Suite, Name)                                      \
  static ::aio::Task<> Suite##_##Name##_aio_body();                    \
  TEST(Suite, Name) { ::aio::run(Suite##_##Name##_aio_body()); }       \
  static ::aio::Task<> Suite##_##Name##_aio_body()

namespace aio_test {

/// A UDP DNS server on 127.0.0.1 run by a thread: answers A/AAAA from `records`
/// (name -> numeric addresses) or NXDOMAIN, or answers SERVFAIL to all, or never answers.
class StubDns {
 public:
  enum class Mode { answer, servfail, silent };

  explicit StubDns(Mode mode = Mode::answer, std::map<std::string, std::vector<std::string>> records = {})
      : mode_(mode), records_(std::move(records)) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~StubDns() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  StubDns(const StubDns&) = delete;
  StubDns& operator=(const StubDns&) = delete;

  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
  int queries() const { return queries_.load(); }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      unsigned char q[512];
      sockaddr_storage from{};
      socklen_t fromlen = sizeof from;
      ssize_t n = ::recvfrom(fd_, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &fromlen);
      if (n < 12) continue;
      ++queries_;
      if (mode_ == Mode::silent) continue;
      // The question: labels, then type and class.
      std::size_t i = 12;
      std::string name;
      while (i < static_cast<std::size_t>(n) && q[i] != 0) {
        std::size_t len = q[i++];
        if (!name.empty()) name += '.';
        for (std::size_t k = 0; k < len && i < static_cast<std::size_t>(n); ++k)
          name += static_cast<char>(std::tolower(q[i++]));
      }
      std::size_t question_end = i + 1 + 4;
      if (question_end > static_cast<std::size_t>(n)) continue;
      const int qtype = (q[i + 1] << 8) | q[i + 2];
      std::vector<unsigned char> r(q, q + question_end);
      int rcode = 0;
      std::vector<std::vector<unsigned char>> answers;
      if (mode_ == Mode::servfail) {
        rcode = 2;
      } else if (auto it = records_.find(name); it == records_.end()) {
        rcode = 3;  // NXDOMAIN
      } else {
        for (const auto& text : it->second) {
          unsigned char addr[16];
          int type = 0;
          std::size_t size = 0;
          if (::inet_pton(AF_INET, text.c_str(), addr) == 1) type = 1, size = 4;
          else if (::inet_pton(AF_INET6, text.c_str(), addr) == 1) type = 28, size = 16;
          if (type != qtype) continue;
          std::vector<unsigned char> rr = {0xC0, 0x0C, 0, static_cast<unsigned char>(type), 0, 1, 0, 0, 0, 60, 0,
                                           static_cast<unsigned char>(size)};
          rr.insert(rr.end(), addr, addr + size);
          answers.push_back(std::move(rr));
        }
      }
      r[2] = static_cast<unsigned char>(0x80 | (q[2] & 0x01));  // QR, RD copied
      r[3] = static_cast<unsigned char>(0x80 | rcode);          // RA, rcode
      r[4] = 0, r[5] = 1;
      r[6] = 0, r[7] = static_cast<unsigned char>(answers.size());
      r[8] = r[9] = r[10] = r[11] = 0;
      for (const auto& a : answers) r.insert(r.end(), a.begin(), a.end());
      ::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), fromlen);
    }
  }

  Mode mode_;
  std::map<std::string, std::vector<std::string>> records_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

/// How many file descriptors the process has open (leak checks).
inline int open_fds() {
  int count = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d)) ++count;
    ::closedir(d);
  }
  return count;
}

}  // namespace aio_test
