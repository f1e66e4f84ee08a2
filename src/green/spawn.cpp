// green::spawn / green::await_: the out-of-line parts (the rest is templates in spawn.hpp).
#include "aio/green/spawn.hpp"

#include <stdexcept>

namespace aio::green::detail {

__thread GreenLink* tls_green_link __attribute__((tls_model("initial-exec"))) = nullptr;

void throw_outside_green_task() {
  throw std::runtime_error(
      "aio::green::await_() called outside a green task (use it in a function run by green::spawn or "
      "green::task; coroutines co_await instead)");
}

}  // namespace aio::green::detail
