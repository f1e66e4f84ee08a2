// One port served by several loops: run_parallel(n) runs n loops on n threads, each loop
// starts a server on the same port with reuse_port (SO_REUSEPORT), and the kernel spreads
// the incoming connections over their listening sockets. Shard 0 drives everything: it
// binds port 0, hands "listen on that port too" to the other loops with
// run_coroutine_threadsafe, connects as a client, and at the end hands each loop the order
// to close its server.
#pragma once
#include <aio/aio.hpp>
#include <aio/net.hpp>

#include <exception>
#include <future>
#include <ostream>
#include <string>
#include <vector>

namespace reuse_port_servers {

/// What the clients saw and what each loop did.
struct Tally {
  int requests = 0;              ///< connections made, one request on each
  int answered = 0;              ///< replies that echoed their request
  std::vector<int> answered_by;  ///< per shard: the replies that named it
  std::vector<int> served;       ///< per shard: the connections its handler took (counted on its thread)
};

/// The handler: reads one line and answers "shard K: <line>".
inline aio::Task<> answer(aio::StreamReader reader, aio::StreamWriter writer, std::vector<int>& served) {
  const int shard = aio::current_shard();
  std::string request = co_await reader.readline();
  ++served[shard];  // each shard has its own counter, touched only by its thread
  writer.write("shard " + std::to_string(shard) + ": " + request);
  co_await writer.drain();
  writer.close();
  co_await writer.wait_closed();
}

/// Runs on the loop of the shard it was handed to: listens on `port` beside the others.
inline aio::Task<> listen(int port, std::vector<aio::Server>& servers, std::vector<int>& served) {
  aio::StartServerOptions options;
  options.reuse_port = true;
  auto handler = [&served](aio::StreamReader r, aio::StreamWriter w) { return answer(std::move(r), std::move(w), served); };
  servers[aio::current_shard()] = co_await aio::start_server(handler, "127.0.0.1", port, options);
}

/// Runs on the loop of the shard it was handed to: closes its server, on its own thread.
inline aio::Task<> stop_serving(std::vector<aio::Server>& servers) {
  aio::Server server = std::move(servers[aio::current_shard()]);
  server.close();
  co_await server.wait_closed();
}

/// One connection, one request: the shard that answered, or -1 when the reply is wrong.
inline aio::Task<int> ask(int port, int i) {
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
  const std::string request = "request " + std::to_string(i) + "\n";
  writer.write(request);
  std::string reply = co_await reader.readline();
  writer.close();
  co_await writer.wait_closed();
  const std::string prefix = "shard ";
  const auto colon = reply.find(": ");
  if (reply.rfind(prefix, 0) != 0 || colon == std::string::npos || reply.substr(colon + 2) != request) co_return -1;
  co_return std::stoi(reply.substr(prefix.size(), colon - prefix.size()));
}

/// Runs `shards` loops serving one port and connects to it `min_requests` times, then on
/// until every loop has answered at least once (at most `max_requests` in all).
inline Tally run(int shards, int min_requests, int max_requests) {
  Tally tally;
  tally.answered_by.assign(shards, 0);
  tally.served.assign(shards, 0);
  std::vector<aio::Server> servers(shards);  // slot k: touched only by shard k's thread
  aio::run_parallel(shards, [&](int shard) -> aio::Task<> {
    if (shard != 0) co_return;  // its loop keeps running what shard 0 hands it
    co_await listen(0, servers, tally.served);
    const int port = servers[0].port();
    for (int k = 1; k < shards; ++k) {
      std::future<void> listening = aio::run_coroutine_threadsafe(listen(port, servers, tally.served), aio::shard_loop(k));
      co_await aio::wrap_future(std::move(listening));
    }
    auto every_shard_answered = [&] {
      for (int n : tally.answered_by)
        if (n == 0) return false;
      return true;
    };
    std::exception_ptr failure;  // the servers are closed on their own threads whatever happens
    try {
      while (tally.requests < max_requests && (tally.requests < min_requests || !every_shard_answered())) {
        const int shard_that_answered = co_await ask(port, tally.requests++);
        if (shard_that_answered < 0 || shard_that_answered >= shards) continue;
        ++tally.answered;
        ++tally.answered_by[shard_that_answered];
      }
    } catch (...) {
      failure = std::current_exception();
    }
    for (int k = 1; k < shards; ++k) {
      std::future<void> stopped = aio::run_coroutine_threadsafe(stop_serving(servers), aio::shard_loop(k));
      co_await aio::wrap_future(std::move(stopped));
    }
    co_await stop_serving(servers);
    if (failure) std::rethrow_exception(failure);
  });
  return tally;
}

/// The example: two loops, a client connecting until both have answered (at least 100
/// times). The split of the connections over the loops is the kernel's: it varies.
inline int main(std::ostream& out) {
  const int shards = 2;
  Tally tally = run(shards, 100, 10000);
  bool every_loop_served = true;
  for (int n : tally.served) every_loop_served = every_loop_served && n > 0;
  out << (tally.answered == tally.requests ? "every request answered" : "some requests unanswered") << '\n';
  out << (every_loop_served ? "every loop served connections" : "some loop served none") << '\n';
  for (int k = 0; k < shards; ++k) out << "loop " << k << ": " << tally.served[k] << " connections\n";
  return tally.answered == tally.requests && every_loop_served ? 0 : 1;
}

}  // namespace reuse_port_servers
