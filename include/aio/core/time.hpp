// Durations as asyncio takes them: any std::chrono::duration, or a double of seconds.
#pragma once
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <stdexcept>

namespace aio {

/// A delay: a std::chrono::duration or a number of seconds.
template <class D>
concept Delay = std::is_arithmetic_v<D> || requires(D d) { std::chrono::duration_cast<std::chrono::nanoseconds>(d); };

namespace detail {

/// Nanoseconds of a delay; NaN is an error as in asyncio, infinities saturate.
template <Delay D>
std::int64_t to_ns(D delay) {
  if constexpr (std::is_arithmetic_v<D>) {
    double seconds = static_cast<double>(delay);
    if (std::isnan(seconds)) throw std::invalid_argument("Invalid delay: NaN (not a number)");
    if (seconds >= 9.2e9) return std::numeric_limits<std::int64_t>::max() / 2;
    if (seconds <= -9.2e9) return -(std::numeric_limits<std::int64_t>::max() / 2);
    return static_cast<std::int64_t>(std::llround(seconds * 1e9));
  } else {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(delay).count();
  }
}

/// Monotonic nanoseconds (CLOCK_MONOTONIC), the base of loop.time().
inline std::int64_t monotonic_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace detail
}  // namespace aio
