// The bytes that cross to a ProcessPoolExecutor worker and back.
//
// What can cross (aio::wireable_v<T>): trivially copyable types that are not pointers
// (int, double, char, enums, plain structs of those — copied byte for byte, so a struct
// must not hold pointers either), std::string, and std::vector, std::pair and std::tuple
// of what can cross. Everything else (raw pointers, std::map, references, ...) is refused
// at compile time.
#pragma once
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace aio {

template <class T>
inline constexpr bool wireable_v = std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> &&
                                   !std::is_member_pointer_v<T> && !std::is_array_v<T>;
template <class C, class Tr, class A>
inline constexpr bool wireable_v<std::basic_string<C, Tr, A>> = std::is_same_v<C, char>;
template <class T, class A>
inline constexpr bool wireable_v<std::vector<T, A>> = wireable_v<T>;
template <class A, class B>
inline constexpr bool wireable_v<std::pair<A, B>> = wireable_v<A> && wireable_v<B>;
template <class... T>
inline constexpr bool wireable_v<std::tuple<T...>> = (wireable_v<T> && ...);

namespace wire {

/// Reads back what put() wrote; std::runtime_error on a short or malformed message.
class Reader {
 public:
  explicit Reader(std::string_view in) noexcept : in_(in) {}
  void bytes(void* out, std::size_t n) {
    if (in_.size() - pos_ < n) throw std::runtime_error("aio process pool: truncated message");
    if (n) std::memcpy(out, in_.data() + pos_, n);
    pos_ += n;
  }
  std::string_view take(std::size_t n) {
    if (in_.size() - pos_ < n) throw std::runtime_error("aio process pool: truncated message");
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  bool at_end() const noexcept { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

template <class T>
void put(std::string& out, const T& v);
template <class T>
T get(Reader& in);

template <class T>
struct Codec {
  static void put(std::string& out, const T& v) { out.append(reinterpret_cast<const char*>(&v), sizeof(T)); }
  static T get(Reader& in) {
    std::array<unsigned char, sizeof(T)> raw;
    in.bytes(raw.data(), sizeof(T));
    return std::bit_cast<T>(raw);
  }
};
template <class Tr, class A>
struct Codec<std::basic_string<char, Tr, A>> {
  using S = std::basic_string<char, Tr, A>;
  static void put(std::string& out, const S& s) {
    wire::put<std::uint64_t>(out, s.size());
    if (!s.empty()) out.append(s.data(), s.size());
  }
  static S get(Reader& in) {
    auto n = wire::get<std::uint64_t>(in);
    std::string_view s = in.take(n);
    return S(s.data(), s.size());
  }
};
template <class T, class A>
struct Codec<std::vector<T, A>> {
  static constexpr bool raw = std::is_trivially_copyable_v<T> && !std::is_same_v<T, bool>;
  static void put(std::string& out, const std::vector<T, A>& v) {
    wire::put<std::uint64_t>(out, v.size());
    if constexpr (raw) {
      if (!v.empty()) out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
    } else {
      for (const auto& x : v) wire::put<T>(out, x);
    }
  }
  static std::vector<T, A> get(Reader& in) {
    auto n = wire::get<std::uint64_t>(in);
    std::vector<T, A> v;
    if constexpr (raw) {
      std::string_view bytes = in.take(n * sizeof(T));  // checked before allocating
      v.resize(n);
      if (n) std::memcpy(static_cast<void*>(v.data()), bytes.data(), bytes.size());
    } else {
      for (std::uint64_t i = 0; i < n; ++i) v.push_back(wire::get<T>(in));
    }
    return v;
  }
};
template <class X, class Y>
struct Codec<std::pair<X, Y>> {
  static void put(std::string& out, const std::pair<X, Y>& p) {
    wire::put<X>(out, p.first);
    wire::put<Y>(out, p.second);
  }
  static std::pair<X, Y> get(Reader& in) {
    X x = wire::get<X>(in);
    Y y = wire::get<Y>(in);
    return {std::move(x), std::move(y)};
  }
};
template <class... T>
struct Codec<std::tuple<T...>> {
  static void put(std::string& out, const std::tuple<T...>& t) {
    std::apply([&](const T&... x) { (wire::put<T>(out, x), ...); }, t);
  }
  static std::tuple<T...> get(Reader& in) { return std::tuple<T...>{wire::get<T>(in)...}; }  // braces: in order
};

/// Appends v's bytes.
template <class T>
void put(std::string& out, const T& v) {
  static_assert(wireable_v<T>, "this type cannot cross to a worker process (see aio/exec/wire.hpp)");
  Codec<T>::put(out, v);
}
/// Reads a T written by put().
template <class T>
T get(Reader& in) {
  static_assert(wireable_v<T>, "this type cannot cross to a worker process (see aio/exec/wire.hpp)");
  return Codec<T>::get(in);
}

}  // namespace wire
}  // namespace aio
