// Where aio's diagnostics go ("Task exception was never retrieved", slow steps in
// debug mode). Python logs them through the "asyncio" logger; aio writes
// "LEVEL:aio:message" lines to stderr unless a sink is installed.
#pragma once
#include <functional>
#include <string_view>

namespace aio {

enum class LogLevel { debug, info, warning, error };

using LogSink = std::function<void(LogLevel, std::string_view message)>;

/// Replaces the sink (an empty function restores stderr); returns the previous one.
LogSink set_log_sink(LogSink sink);
void log(LogLevel level, std::string_view message);

}  // namespace aio
