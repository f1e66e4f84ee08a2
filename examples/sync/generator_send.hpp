// Seed 002 §2: coroutines as generators driven by send() — the lock-free producer/consumer
// (#1) and grep (#2).
#pragma once
#include <aio/aio.hpp>

#include <ostream>
#include <string>

namespace generator_send {

/// def consumer(): r = ''; while True: n = yield r; if not n: return; print(...); r = 'OK'
inline aio::Coroutine<std::string, int> consumer(std::ostream& out) {
  std::string r;
  for (;;) {
    int n = co_yield r;
    if (!n) co_return;
    out << "[CONSUMER] Consuming " << n << "...\n";
    r = "OK";
  }
}

inline void produce(aio::Coroutine<std::string, int>& c, std::ostream& out) {
  c.next();  // c.send(None): start the generator
  int n = 0;
  while (n < 5) {
    n = n + 1;
    out << "[PRODUCER] Producing " << n << "...\n";
    std::string r = *c.send(n);
    out << "[PRODUCER] Consumer return: " << r << '\n';
  }
  c.close();
}

/// def grep(pattern): while True: line = (yield); if pattern in line: print(line)
inline aio::Coroutine<int, std::string> grep(std::string pattern, std::ostream& out) {
  for (;;) {
    std::string line = co_yield 0;  // a bare `yield`: the value sent back is what matters
    if (line.find(pattern) != std::string::npos) out << line << '\n';
  }
}

inline void producer_consumer(std::ostream& out) {
  auto c = consumer(out);
  produce(c, out);
}

inline void grep_demo(std::ostream& out) {
  auto search = grep("coroutine", out);
  search.next();  // start the coroutine
  search.send("I love you");
  search.send("I love coroutine instead!");  // output: I love coroutine instead!
  search.close();
}

}  // namespace generator_send
