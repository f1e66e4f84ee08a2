// Seed 003: an asynchronous iterator. Python's __aiter__/__anext__ become a next() that
// gives an awaitable std::optional (nullopt = StopAsyncIteration), so `async for` is
//   while (auto item = co_await reader.next()) ...
// — the same loop as over an aio::AsyncGenerator.
#pragma once
#include <aio/aio.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace async_reader {

/// class Reader: async def __anext__(self): val = await self.readline(); if not val: raise StopAsyncIteration
class Reader {
 public:
  explicit Reader(std::vector<std::string> lines) : lines_(std::move(lines)) {}
  aio::Task<std::optional<std::string>> next() {
    co_await aio::sleep(0.01);  // the I/O of reading a line
    if (pos_ == lines_.size()) co_return std::nullopt;
    co_return lines_[pos_++];
  }

 private:
  std::vector<std::string> lines_;
  std::size_t pos_ = 0;
};

/// The same as an async generator: `async def reader(): for line in ...: await ...; yield line`
inline aio::AsyncGenerator<std::string> reader_gen(std::vector<std::string> lines) {
  for (auto& line : lines) {
    co_await aio::sleep(0.01);
    co_yield line;
  }
}

/// async def func(): async for item in Reader(): print(item)
inline aio::Task<> func(std::ostream& out) {
  Reader async_iter({"line 1", "line 2", "line 3"});
  while (auto item = co_await async_iter.next()) out << *item << '\n';
  auto gen = reader_gen({"generated 1", "generated 2"});
  while (auto item = co_await gen.next()) out << *item << '\n';
}

}  // namespace async_reader
