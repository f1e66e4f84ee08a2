// The exec examples (examples/exec/*.hpp, the seeds' programs in aio), compared line by line
// with what they must print. Timings appear only in the examples' own output: the lines
// that carry one are checked up to the number.
#include <aio/testing.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "exec/cpu_bound.hpp"
#include "exec/executor_kinds.hpp"
#include "exec/multiprocess_coroutines.hpp"
#include "exec/reuse_port_servers.hpp"
#include "exec/show_perf.hpp"
#include "exec/to_thread_requests.hpp"
#include "../output_lines.hpp"

using Lines = std::vector<std::string>;
using test_util::lines_of;

namespace {

/// True when `line` is `prefix` followed by a number (and `suffix`).
bool timing_line(const std::string& line, const std::string& prefix, const std::string& suffix = "") {
  if (line.rfind(prefix, 0) != 0 || line.size() < prefix.size() + suffix.size()) return false;
  if (line.compare(line.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  std::string number = line.substr(prefix.size(), line.size() - prefix.size() - suffix.size());
  char* end = nullptr;
  std::strtod(number.c_str(), &end);
  return !number.empty() && end == number.c_str() + number.size();
}

}  // namespace

TEST(exec_Examples, ShowPerf) {  // seed 002 §6
  std::ostringstream out;
  show_perf::main(out);
  Lines lines = lines_of(out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "********************");
  EXPECT_TRUE(timing_line(lines[1], "c1 Cost: ")) << lines[1];
}

TEST(exec_Examples, ExecutorKinds) {  // seed 003
  std::ostringstream out;
  aio::run(executor_kinds::amain(out));
  EXPECT_EQ(lines_of(out), (Lines{
                               "default executor: func1 ran in a worker thread",
                               "custom thread pool: func1 ran in a worker thread",
                               "custom process pool: func1 ran in a worker process",
                               "requests.get: <html>http://127.0.0.1:5000/</html>",
                           }));
}

TEST(exec_Examples, ToThreadRequests) {  // seed 004
  std::ostringstream out;
  aio::run(to_thread_requests::amain(out));
  Lines lines = lines_of(out);
  ASSERT_EQ(lines.size(), 11u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(lines[i], "Waiting for http://127.0.0.1:5000");
  for (int i = 5; i < 10; ++i) EXPECT_EQ(lines[i], "Get response from http://127.0.0.1:5000 Result: Hello!");
  EXPECT_TRUE(timing_line(lines[10], "Cost time: ")) << lines[10];
}

TEST(exec_Examples, CpuBound) {  // seed 001 §9, with the seed's multiprocessing numbers (10000 + x)
  std::ostringstream out;
  cpu_bound::main(out, 10000);
  const Lines sums = {"333283335000", "333383335000", "333483355001", "333583395005", "333683455014",
                      "333783535030", "333883635055", "333983755091", "334083895140", "334184055204"};
  Lines lines = lines_of(out);
  ASSERT_EQ(lines.size(), 22u);
  EXPECT_EQ(Lines(lines.begin(), lines.begin() + 10), sums);
  EXPECT_TRUE(timing_line(lines[10], "Calculation takes ", " seconds")) << lines[10];
  EXPECT_EQ(Lines(lines.begin() + 11, lines.begin() + 21), sums);  // in input order, unlike the seed's prints
  EXPECT_TRUE(timing_line(lines[21], "duration : ", " seconds")) << lines[21];
  // The serial run's first sum of the seed (10,000,000 numbers) needs 128 bits.
  EXPECT_EQ(cpu_bound::to_string(cpu_bound::cpu_bound(10000000)), "333333283333335000000");
}

TEST(exec_Examples, MultiprocessCoroutines) {  // seed 002 §7
  std::ostringstream out;
  aio::run(multiprocess_coroutines::amain(out));
  Lines lines = lines_of(out);
  ASSERT_EQ(lines.size(), 6u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(lines[i], "process " + std::to_string(i) + ": 100 pages");
  EXPECT_EQ(lines[4], "total: 400 pages");
  EXPECT_TRUE(timing_line(lines[5], "")) << lines[5];
}

TEST(exec_Examples, ReusePortServers) {  // run_parallel: servers on two loops share a port
  std::ostringstream out;
  EXPECT_EQ(reuse_port_servers::main(out), 0);
  Lines lines = lines_of(out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "every request answered");
  EXPECT_EQ(lines[1], "every loop served connections");
  EXPECT_TRUE(timing_line(lines[2], "loop 0: ", " connections")) << lines[2];  // the kernel's split
  EXPECT_TRUE(timing_line(lines[3], "loop 1: ", " connections")) << lines[3];
}
