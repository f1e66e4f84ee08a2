// aio::getaddrinfo on c-ares: numeric hosts, the hosts file, DNS answers from a stub on
// 127.0.0.1, NXDOMAIN/SERVFAIL/timeouts as DnsError, and cancellation of a pending lookup.
#include <aio/net/dns.hpp>
#include <ares.h>
#include <netdb.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include <aio/testing.hpp>

#include "dns_stub.hpp"

using aio_test::StubDns;

namespace {

using aio::testing::error_from;
using aio::testing::error_of;

std::vector<std::string> hosts_of(const std::vector<aio::AddrInfo>& infos) {
  std::vector<std::string> out;
  for (const auto& i : infos) out.push_back(i.sockaddr.host());
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// A hosts file in the test's temporary directory.
std::string write_hosts(const std::string& text) {
  std::string path = ::testing::TempDir() + "aio_dns_test_hosts_" + std::to_string(::getpid());
  std::ofstream(path) << text;
  return path;
}

std::size_t watched() { return aio::get_running_loop().poller().watched(); }

}  // namespace

TEST(SocketAddress, ParseAndRepr) {
  auto v4 = aio::SocketAddress::parse("127.0.0.1", 80);
  EXPECT_EQ(v4.family(), AF_INET);
  EXPECT_EQ(v4.host(), "127.0.0.1");
  EXPECT_EQ(v4.port(), 80);
  std::ostringstream text;
  text << v4 << ' ' << aio::SocketAddress::parse("[::1]", 443);
  EXPECT_EQ(text.str(), "('127.0.0.1', 80) ('::1', 443, 0, 0)");
  EXPECT_EQ(aio::SocketAddress::parse("::1", 1), aio::SocketAddress::parse("[::1]", 1));
  EXPECT_THROW(aio::SocketAddress::parse("localhost", 1), std::invalid_argument);
}

AIO_TEST(Dns, NumericIPv4IsOneEntryPerSocketType) {
  auto infos = co_await aio::getaddrinfo("127.0.0.1", 8080);
  EXPECT_EQ(infos.size(), 3u);  // stream, datagram, raw: as the C library (and Python) answer
  for (const auto& i : infos) {
    EXPECT_EQ(i.family, AF_INET);
    EXPECT_EQ(i.sockaddr.host(), "127.0.0.1");
    EXPECT_EQ(i.sockaddr.port(), 8080);
  }
  if (infos.size() == 3) {
    EXPECT_EQ(infos[0].type, SOCK_STREAM);
    EXPECT_EQ(infos[0].proto, IPPROTO_TCP);
    EXPECT_EQ(infos[1].type, SOCK_DGRAM);
    EXPECT_EQ(infos[1].proto, IPPROTO_UDP);
    EXPECT_EQ(infos[2].type, SOCK_RAW);
  }
}

AIO_TEST(Dns, NumericIPv6WithType) {
  auto infos = co_await aio::getaddrinfo("::1", 443, {.type = SOCK_STREAM});
  EXPECT_EQ(infos.size(), 1u);
  if (!infos.empty()) {
    EXPECT_EQ(infos[0].family, AF_INET6);
    EXPECT_EQ(infos[0].type, SOCK_STREAM);
    EXPECT_EQ(infos[0].proto, IPPROTO_TCP);
    EXPECT_EQ(infos[0].sockaddr.host(), "::1");
    EXPECT_EQ(infos[0].sockaddr.port(), 443);
  }
}

AIO_REAL_TEST(Dns, NumericHostsNeverReachDns) {
  StubDns dns;
  aio::Resolver resolver({.servers = {dns.server()}});
  auto e = co_await error_of<aio::DnsError>(resolver.getaddrinfo("localhost", 80, {.flags = AI_NUMERICHOST}));
  EXPECT_TRUE(e.has_value());
  if (e) {
    EXPECT_EQ(e->code().value(), ARES_ENONAME) << e->what();
  }
  auto wrong = co_await error_of<aio::DnsError>(resolver.getaddrinfo("127.0.0.1", 80, {.family = AF_INET6}));
  EXPECT_TRUE(wrong.has_value());
  if (wrong) {
    EXPECT_EQ(wrong->code().value(), ARES_EBADFAMILY) << wrong->what();
  }
  auto mapped = co_await resolver.getaddrinfo("127.0.0.1", 80,
                                              {.family = AF_INET6, .type = SOCK_STREAM, .flags = AI_V4MAPPED});
  EXPECT_EQ(hosts_of(mapped), (std::vector<std::string>{"::ffff:127.0.0.1"}));
  auto scoped = co_await resolver.getaddrinfo("fe80::1%lo", 80, {.type = SOCK_STREAM});
  EXPECT_EQ(hosts_of(scoped), (std::vector<std::string>{"fe80::1%lo"}));
  auto bad_scope = co_await error_of<aio::DnsError>(resolver.getaddrinfo("fe80::1%nosuchif0", 80));
  EXPECT_TRUE(bad_scope.has_value());
  auto bad_family = co_await error_of<aio::DnsError>(resolver.getaddrinfo("localhost", 80, {.family = 99}));
  EXPECT_TRUE(bad_family.has_value());
  if (bad_family) {
    EXPECT_EQ(bad_family->code().value(), ARES_EBADFAMILY);
  }
  EXPECT_EQ(dns.queries(), 0);
}

AIO_TEST(Dns, ServiceNamesAndBadPorts) {
  auto infos = co_await aio::getaddrinfo("127.0.0.1", "http", {.type = SOCK_STREAM});
  EXPECT_EQ(infos.size(), 1u);
  if (!infos.empty()) {
    EXPECT_EQ(infos[0].sockaddr.port(), 80);
  }
  auto numeric = co_await aio::getaddrinfo("127.0.0.1", "8443", {.type = SOCK_STREAM});
  if (!numeric.empty()) {
    EXPECT_EQ(numeric[0].sockaddr.port(), 8443);
  }
  auto e = co_await error_of<aio::DnsError>(aio::getaddrinfo("127.0.0.1", "no-such-service-aio"));
  EXPECT_TRUE(e.has_value());
  if (e) {
    EXPECT_EQ(e->code().value(), ARES_ESERVICE);
  }
  EXPECT_THROW((void)aio::getaddrinfo("127.0.0.1", 65536), std::invalid_argument);
  EXPECT_THROW((void)aio::getaddrinfo("127.0.0.1", -1), std::invalid_argument);
}

AIO_TEST(Dns, NoHostIsLoopbackOrWildcard) {
  auto infos = co_await aio::getaddrinfo("", 80, {.type = SOCK_STREAM});
  EXPECT_EQ(hosts_of(infos), (std::vector<std::string>{"::1", "127.0.0.1"}));
  auto passive = co_await aio::getaddrinfo("", 80, {.type = SOCK_STREAM, .flags = AI_PASSIVE});
  EXPECT_EQ(hosts_of(passive), (std::vector<std::string>{"0.0.0.0", "::"}));
  auto v4 = co_await aio::getaddrinfo("", 80, {.family = AF_INET, .type = SOCK_STREAM});
  EXPECT_EQ(hosts_of(v4), (std::vector<std::string>{"127.0.0.1"}));
}

AIO_TEST(Dns, LocalhostComesFromTheSystemHostsFile) {
  auto infos = co_await aio::getaddrinfo("localhost", 8080, {.family = AF_INET, .type = SOCK_STREAM});
  EXPECT_TRUE(contains(hosts_of(infos), "127.0.0.1"));
  for (const auto& i : infos) EXPECT_EQ(i.sockaddr.port(), 8080);
}

AIO_REAL_TEST(Dns, SystemHostsFileIsReadBeforeDns) {
  StubDns dns;  // answers NXDOMAIN to everything: "localhost" must not get that far
  aio::Resolver resolver({.servers = {dns.server()}});
  auto infos = co_await resolver.getaddrinfo("localhost", 80, {.family = AF_INET, .type = SOCK_STREAM});
  EXPECT_TRUE(contains(hosts_of(infos), "127.0.0.1"));
  EXPECT_EQ(dns.queries(), 0);
}

AIO_REAL_TEST(Dns, CustomHostsFile) {
  StubDns dns;
  std::string path = write_hosts(
      "# test hosts\n"
      "10.9.8.7   myhost.test alias.test   # a comment\n"
      "fd00::42   myhost.test\n"
      "10.0.0.1   other.test\n");
  aio::Resolver resolver({.servers = {dns.server()}, .hosts_file = path});
  auto infos = co_await resolver.getaddrinfo("ALIAS.test", 443, {.type = SOCK_STREAM, .flags = AI_CANONNAME});
  EXPECT_EQ(hosts_of(infos), (std::vector<std::string>{"10.9.8.7"}));
  if (!infos.empty()) {
    EXPECT_EQ(infos[0].canonname, "myhost.test");
    EXPECT_EQ(infos[0].sockaddr.port(), 443);
  }
  auto both = co_await resolver.getaddrinfo("myhost.test", 443, {.type = SOCK_STREAM});
  EXPECT_EQ(hosts_of(both), (std::vector<std::string>{"10.9.8.7", "fd00::42"}));
  auto v6 = co_await resolver.getaddrinfo("myhost.test", 443, {.family = AF_INET6, .type = SOCK_STREAM});
  EXPECT_EQ(hosts_of(v6), (std::vector<std::string>{"fd00::42"}));
  EXPECT_EQ(dns.queries(), 0);
  // Not in the file: on to DNS, whose NXDOMAIN is the answer.
  auto e = co_await error_of<aio::DnsError>(resolver.getaddrinfo("absent.test", 80));
  EXPECT_TRUE(e.has_value());
  EXPECT_GE(dns.queries(), 1);
  std::remove(path.c_str());
}

AIO_REAL_TEST(Dns, AnswersFromDnsIPv4AndIPv6) {
  StubDns dns(StubDns::Mode::answer, {{"stub.test", {"10.1.2.3", "fd00::1:2"}}});
  aio::Resolver resolver({.servers = {dns.server()}});
  const auto before = watched();
  auto infos = co_await resolver.getaddrinfo("stub.test", 5000, {.type = SOCK_STREAM});
  auto hosts = hosts_of(infos);
  EXPECT_EQ(infos.size(), 2u);
  EXPECT_TRUE(contains(hosts, "10.1.2.3"));
  EXPECT_TRUE(contains(hosts, "fd00::1:2"));
  for (const auto& i : infos) {
    EXPECT_EQ(i.sockaddr.port(), 5000);
    EXPECT_EQ(i.type, SOCK_STREAM);
    EXPECT_EQ(i.family, i.sockaddr.family());
  }
  auto v4 = co_await resolver.getaddrinfo("stub.test", 1, {.family = AF_INET, .type = SOCK_DGRAM});
  EXPECT_EQ(hosts_of(v4), (std::vector<std::string>{"10.1.2.3"}));
  if (!v4.empty()) {
    EXPECT_EQ(v4[0].proto, IPPROTO_UDP);
  }
  EXPECT_GE(dns.queries(), 2);
  EXPECT_EQ(watched(), before);  // the c-ares sockets are closed and unwatched
}

AIO_REAL_TEST(Dns, LookupDoesNotBlockTheLoop) {
  StubDns dns(StubDns::Mode::answer, {{"stub.test", {"10.1.2.3"}}});
  aio::Resolver resolver({.servers = {dns.server()}});
  int ticks = 0;
  bool resolved = false;
  auto ticker = aio::create_task([](int& t, bool& r) -> aio::Task<> {
    while (!r) {
      ++t;
      co_await aio::sleep(0);
    }
  }(ticks, resolved));
  auto infos = co_await resolver.getaddrinfo("stub.test", 80, {.family = AF_INET, .type = SOCK_STREAM});
  resolved = true;
  co_await ticker;
  EXPECT_EQ(infos.size(), 1u);
  EXPECT_GT(ticks, 0);  // other tasks ran while the lookup waited for its answer
}

AIO_REAL_TEST(Dns, ManyConcurrentLookups) {
  StubDns dns(StubDns::Mode::answer, {{"a.test", {"10.0.0.1"}}, {"b.test", {"10.0.0.2"}}});
  aio::Resolver resolver({.servers = {dns.server()}});
  const auto before = watched();
  std::vector<aio::Task<std::vector<aio::AddrInfo>>> lookups;
  auto one = [](aio::Resolver r, std::string host) -> aio::Task<std::vector<aio::AddrInfo>> {
    co_return co_await r.getaddrinfo(host, 80, {.family = AF_INET, .type = SOCK_STREAM});
  };
  for (int i = 0; i < 40; ++i) lookups.push_back(one(resolver, i % 2 ? "a.test" : "b.test"));
  auto results = co_await aio::gather(std::move(lookups));
  EXPECT_EQ(results.size(), 40u);
  for (std::size_t i = 0; i < results.size(); ++i)
    EXPECT_EQ(hosts_of(results[i]), (std::vector<std::string>{i % 2 ? "10.0.0.1" : "10.0.0.2"}));
  EXPECT_EQ(watched(), before);
}

AIO_REAL_TEST(Dns, UnknownNameIsDnsErrorQuickly) {
  StubDns dns;  // NXDOMAIN
  aio::Resolver resolver({.servers = {dns.server()}});
  const double started = now();
  auto e = co_await error_of<aio::gaierror>(resolver.getaddrinfo("nosuch.test", 80));
  EXPECT_LT(now() - started, 2.0);
  EXPECT_TRUE(e.has_value());
  if (e) {
    EXPECT_EQ(e->code(), std::error_code(ARES_ENOTFOUND, aio::dns_category()));
    EXPECT_EQ(e->host(), "nosuch.test");
    EXPECT_NE(std::string(e->what()).find("Domain name not found"), std::string::npos) << e->what();
    EXPECT_NE(std::string(e->what()).find("nosuch.test"), std::string::npos) << e->what();
    const std::system_error& base = *e;  // gaierror is a std::system_error
    EXPECT_EQ(base.code().category().name(), std::string("c-ares"));
  }
}

AIO_REAL_TEST(Dns, ServfailIsDnsError) {
  StubDns dns(StubDns::Mode::servfail);
  aio::Resolver resolver({.servers = {dns.server()}, .tries = 1});
  auto e = co_await error_of<aio::DnsError>(resolver.getaddrinfo("broken.test", 80, {.family = AF_INET}));
  EXPECT_TRUE(e.has_value());
  if (e) {
    // c-ares 1.18 skips a server that answers SERVFAIL: "Could not contact DNS servers".
    EXPECT_TRUE(e->code().value() == ARES_ESERVFAIL || e->code().value() == ARES_ECONNREFUSED) << e->what();
  }
}

AIO_REAL_TEST(Dns, TimeoutIsDnsErrorFromALoopTimer) {
  StubDns dns(StubDns::Mode::silent);
  aio::Resolver resolver({.servers = {dns.server()}, .timeout = 0.1, .tries = 1});
  const double started = now();
  auto e = co_await error_of<aio::DnsError>(resolver.getaddrinfo("slow.test", 80, {.family = AF_INET}));
  const double took = now() - started;
  EXPECT_TRUE(e.has_value());
  if (e) {
    EXPECT_EQ(e->code().value(), ARES_ETIMEOUT) << e->what();
  }
  EXPECT_GE(took, 0.09);
  EXPECT_LT(took, 3.0);
  EXPECT_GE(dns.queries(), 1);
}

AIO_REAL_TEST(Dns, CancellingAPendingLookupCancelsItsQueries) {
  StubDns dns(StubDns::Mode::silent);
  aio::Resolver resolver({.servers = {dns.server()}, .timeout = 5.0, .tries = 2});
  const auto before = watched();
  const int fds = aio_test::open_fds();
  auto lookup = aio::create_task([](aio::Resolver r) -> aio::Task<std::vector<aio::AddrInfo>> {
    co_return co_await r.getaddrinfo("never.test", 80);
  }(resolver));
  for (int i = 0; i < 200 && dns.queries() == 0; ++i) co_await aio::sleep(0.005);
  EXPECT_GE(dns.queries(), 1);
  EXPECT_GT(watched(), before);  // c-ares' socket is in the loop's poller
  const double started = now();
  lookup.cancel();
  auto e = co_await error_of<aio::CancelledError>(lookup);
  EXPECT_TRUE(e.has_value());
  EXPECT_TRUE(lookup.cancelled());
  EXPECT_LT(now() - started, 1.0);
  EXPECT_EQ(watched(), before);               // unwatched
  EXPECT_EQ(aio_test::open_fds(), fds);       // and closed
}

AIO_REAL_TEST(Dns, WaitForTimesOutALookup) {
  StubDns dns(StubDns::Mode::silent);
  aio::Resolver resolver({.servers = {dns.server()}});
  const auto before = watched();
  const double started = now();
  auto e = co_await error_from<aio::TimeoutError>([&] { return aio::wait_for(resolver.getaddrinfo("never.test", 80), 0.05); });
  EXPECT_TRUE(e.has_value());
  EXPECT_LT(now() - started, 1.0);
  EXPECT_EQ(watched(), before);
}

TEST(Dns, BadResolverOptions) {
  EXPECT_THROW(aio::Resolver({.servers = {"not an address"}}), std::invalid_argument);
  EXPECT_THROW(aio::Resolver({.lookups = "x"}), std::invalid_argument);
  EXPECT_THROW(aio::Resolver({.timeout = 0.0}), std::invalid_argument);
}

TEST(Dns, NeedsARunningLoop) {
  auto awaiter = aio::getaddrinfo("127.0.0.1", 80);
  EXPECT_THROW(awaiter.await_ready(), std::runtime_error);
}
