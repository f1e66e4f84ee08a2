// aio_bench echo-server PORT [--backend epoll|io_uring]: a TCP echo server on 127.0.0.1:PORT
// written as asyncio code is (start_server, then read/write/drain per connection), for
// ../shared/peers/run.sh echo. Runs until SIGTERM or SIGINT, then exits 0.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <aio/aio.hpp>

#include "bench.hpp"

namespace {

aio::Task<> handle_echo(aio::StreamReader reader, aio::StreamWriter writer) {
  try {
    for (;;) {
      std::string data = co_await reader.read(65536);
      if (data.empty()) break;
      writer.write(std::move(data));
      co_await writer.drain();
    }
  } catch (const aio::ConnectionError&) {  // the client reset the connection: done with it
  }
  writer.close();
}

aio::Task<> serve(int port) {
  aio::StartServerOptions options;
  options.backlog = 4096;
  auto server = co_await aio::start_server(handle_echo, "127.0.0.1", port, options);
  auto& loop = aio::get_running_loop();
  auto main = aio::current_task();
  loop.add_signal_handler(SIGTERM, [main] { main.cancel(); });
  loop.add_signal_handler(SIGINT, [main] { main.cancel(); });
  try {
    co_await server.serve_forever();
  } catch (const aio::CancelledError&) {
  }
}

}  // namespace

AIO_BENCH_WORKLOAD("echo-server", args) {
  if (args.empty()) {
    std::fprintf(stderr, "usage: aio_bench echo-server PORT [--backend epoll|io_uring]\n");
    return 2;
  }
  int port = std::atoi(args[0]);
  aio::RunOptions options;
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    std::string_view value;
    if (a == "--backend" && i + 1 < args.size()) value = args[++i];
    else if (a.starts_with("--backend=")) value = a.substr(10);
    else {
      std::fprintf(stderr, "aio_bench echo-server: unknown argument %s\n", args[i]);
      return 2;
    }
    if (value == "epoll") options.backend = aio::Backend::epoll;
    else if (value == "io_uring") options.backend = aio::Backend::io_uring;
    else {
      std::fprintf(stderr, "aio_bench echo-server: unknown backend %.*s\n", int(value.size()), value.data());
      return 2;
    }
  }
  aio::run(serve(port), options);
  return 0;
}
