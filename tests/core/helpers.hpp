// Shared helpers of the core tests: capture logs, exception-handler calls and reprs.
#pragma once
#include <aio/testing.hpp>

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

/// ASSERT_* for coroutine bodies: records the failure and co_returns (ASSERT_* would `return`).
#define CO_ASSERT_TRUE(cond)                               \
  do {                                                     \
    if (!(cond)) {                                         \
      ADD_FAILURE() << "Assertion failed: " #cond;         \
      co_return;                                           \
    }                                                      \
  } while (0)
#define CO_ASSERT_EQ(a, b)     \
  do {                         \
    EXPECT_EQ(a, b);           \
    if (!((a) == (b))) co_return; \
  } while (0)

namespace aio_test {

/// What `os << x` prints.
template <class T>
std::string repr(const T& x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

/// Python's repr() of a list: "[1, 'A', std::domain_error('x')]".
template <class Range>
std::string list_repr(const Range& items) {
  std::ostringstream os;
  os << '[';
  bool first = true;
  for (const auto& item : items) {
    if (!first) os << ", ";
    first = false;
    os << item;
  }
  os << ']';
  return os.str();
}

/// Collects aio's log lines for as long as it lives.
class LogCapture {
 public:
  LogCapture() {
    previous_ = aio::set_log_sink([this](aio::LogLevel level, std::string_view message) {
      lines.emplace_back(message);
      levels.push_back(level);
    });
  }
  ~LogCapture() { aio::set_log_sink(std::move(previous_)); }
  LogCapture(const LogCapture&) = delete;

  std::vector<std::string> lines;
  std::vector<aio::LogLevel> levels;

 private:
  aio::LogSink previous_;
};

/// One call of the loop's exception handler, flattened to strings.
struct HandlerCall {
  std::string message;
  std::string exception;  // describe(ctx.exception)
  std::string task;       // repr of ctx.task, "" when empty
};

/// Installs an exception handler on `loop` that records every call.
inline void capture_exceptions(aio::EventLoop& loop, std::vector<HandlerCall>& calls) {
  loop.set_exception_handler([&calls](aio::EventLoop&, const aio::ExceptionContext& ctx) {
    calls.push_back({ctx.message, aio::describe(ctx.exception), ctx.task ? repr(ctx.task) : std::string()});
  });
}

/// Returns v after `delay` seconds, noting "done <v>" in *out when given.
inline aio::Task<int> value_after(double delay, int v, std::vector<std::string>* out = nullptr) {
  co_await aio::sleep(delay);
  if (out) out->push_back("done " + std::to_string(v));
  co_return v;
}

/// Returns v after `delay` seconds.
inline aio::Task<std::string> text_after(double delay, std::string v) {
  co_await aio::sleep(delay);
  co_return v;
}

/// Throws std::runtime_error(what) after `delay` seconds.
inline aio::Task<int> fail_after(double delay, std::string what = "failed") {
  co_await aio::sleep(delay);
  throw std::runtime_error(what);
}

/// Runs fn on a new thread and waits for it: a thread starts with no event loop of its own.
template <class F>
void on_fresh_thread(F fn) {
  std::thread t(std::move(fn));
  t.join();
}

}  // namespace aio_test
