// Shared by the test suites that compare what a program printed, line by line.
#pragma once
#include <sstream>
#include <string>
#include <vector>

namespace test_util {

/// The lines `out` holds, without their '\n'.
inline std::vector<std::string> lines_of(const std::ostringstream& out) {
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace test_util
