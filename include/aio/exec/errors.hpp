// The exceptions of module exec, as concurrent.futures names them.
#pragma once
#include <stdexcept>

namespace aio {

/// An executor cannot run a job any more (concurrent.futures.BrokenExecutor).
class BrokenExecutor : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The worker process running a job died (was killed, crashed, exited) before it answered
/// (concurrent.futures.process.BrokenProcessPool).
class BrokenProcessPool : public BrokenExecutor {
 public:
  using BrokenExecutor::BrokenExecutor;
};

}  // namespace aio
