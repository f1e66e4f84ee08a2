// How values print inside a repr: as Python's repr() would where C++ can.
#pragma once
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>

namespace aio::detail {

std::string type_name(const std::type_info& type);

template <class T>
void write_value(std::ostream& os, const T& v) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    os << '\'' << std::string_view(v) << '\'';
  } else if constexpr (std::is_same_v<T, bool>) {
    os << (v ? "True" : "False");
  } else if constexpr (requires { os << v; }) {
    os << v;
  } else {
    os << '<' << type_name(typeid(T)) << '>';
  }
}

}  // namespace aio::detail
