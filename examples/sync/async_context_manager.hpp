// Seed 002 §3: @asynccontextmanager — an AsyncGenerator that yields once, used with aio::with().
#pragma once
#include <aio/aio.hpp>

#include <exception>
#include <ostream>
#include <string>

namespace async_context_manager {

/// @asynccontextmanager
/// async def async_manager():
///     print("Entering async context")
///     try:
///         await asyncio.sleep(1); yield "resource"
///     finally:
///         await asyncio.sleep(1); print("Exiting async context")
/// C++ cannot co_await inside a catch block, so the `finally` part comes after it.
inline aio::AsyncGenerator<std::string> async_manager(std::ostream& out) {
  out << "Entering async context\n";
  std::exception_ptr error;
  try {
    co_await aio::sleep(0.1);  // acquire the resource
    co_yield "resource";
  } catch (...) {
    error = std::current_exception();
  }
  co_await aio::sleep(0.1);  // release it
  out << "Exiting async context\n";
  if (error) std::rethrow_exception(error);
}

/// async with async_manager() as resource: print("Inside async context:", resource)
inline aio::Task<> amain(std::ostream& out) {
  co_await aio::with(async_manager(out), [&](std::string& resource) -> aio::Task<> {
    out << "Inside async context: " << resource << '\n';
    co_return;
  });
}

}  // namespace async_context_manager
