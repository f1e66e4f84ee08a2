#include "aio/core/log.hpp"

#include <cstdio>
#include <mutex>
#include <string>

namespace aio {
namespace {
std::mutex sink_mutex;
LogSink& sink() {
  static LogSink installed;
  return installed;
}
const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "DEBUG";
    case LogLevel::info: return "INFO";
    case LogLevel::warning: return "WARNING";
    case LogLevel::error: return "ERROR";
  }
  return "?";
}
}  // namespace

LogSink set_log_sink(LogSink new_sink) {
  std::lock_guard lock(sink_mutex);
  std::swap(sink(), new_sink);
  return new_sink;
}

void log(LogLevel level, std::string_view message) {
  LogSink current;
  {
    std::lock_guard lock(sink_mutex);
    current = sink();
  }
  if (current) return current(level, message);
  if (level == LogLevel::debug) return;
  std::string line = std::string(level_name(level)) + ":aio:" + std::string(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace aio
