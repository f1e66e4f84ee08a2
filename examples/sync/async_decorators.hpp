// Seed 002 §4: async decorators, without and with arguments. A decorator is a higher-order
// function: it takes any callable returning aio::Task<R> and gives back one with the same
// signature that runs code around the awaited call.
//
// The wrapper's work is a coroutine *function* taking the callable and the arguments by
// value, so they live in its frame. (A capturing lambda that is itself a coroutine would
// keep only a reference to its closure, which can be gone before the coroutine runs.)
#pragma once
#include <aio/aio.hpp>

#include <ostream>
#include <string>

namespace async_decorators {

// def async_decorator(func):
//     async def wrapper(*args, **kwargs):
//         print("Starting asynchronous operation...")
//         result = await func(*args, **kwargs)
//         print("Asynchronous operation completed: ", result)
//         return result
//     return wrapper
template <class F, class... A>
auto logged_call(std::ostream& out, F func, A... args) -> decltype(func(args...)) {
  out << "Starting asynchronous operation...\n";
  auto result = co_await func(args...);
  out << "Asynchronous operation completed:  " << result << '\n';  // print(a, b): two spaces
  co_return result;
}

template <class F>
auto async_decorator(std::ostream& out, F func) {
  return [&out, func](auto... args) { return logged_call(out, func, args...); };
}

// def async_decorator_with_args(arg1, arg2): def inner_decorator(func): async def wrapper...
template <class F, class... A>
auto logged_call_with(std::ostream& out, std::string arg1, std::string arg2, F func, A... args)
    -> decltype(func(args...)) {
  out << "Starting asynchronous operation with " << arg1 << " and " << arg2 << "...\n";
  auto result = co_await func(args...);
  out << "Asynchronous operation completed:  " << result << '\n';
  co_return result;
}

inline auto async_decorator_with_args(std::ostream& out, std::string arg1, std::string arg2) {
  return [&out, arg1, arg2](auto func) {
    return [&out, arg1, arg2, func](auto... args) { return logged_call_with(out, arg1, arg2, func, args...); };
  };
}

// async def my_function(): await asyncio.sleep(1); print("my_function completed."); return "Hello, world!"
inline aio::Task<std::string> my_function_body(std::ostream& out) {
  co_await aio::sleep(0.1);
  out << "my_function completed.\n";
  co_return "Hello, world!";
}

// The wrapped function's arguments are passed by value, as coroutine arguments should be:
// a reference goes through std::ref (as with std::thread).

/// @async_decorator: asyncio.run(my_function())
inline aio::Task<std::string> decorated(std::ostream& out) {
  auto my_function = async_decorator(out, my_function_body);
  co_return co_await my_function(std::ref(out));
}

/// @async_decorator_with_args("Parameter 1", "Parameter 2"): asyncio.run(my_function())
inline aio::Task<std::string> decorated_with_args(std::ostream& out) {
  auto my_function = async_decorator_with_args(out, "Parameter 1", "Parameter 2")(my_function_body);
  co_return co_await my_function(std::ref(out));
}

}  // namespace async_decorators
