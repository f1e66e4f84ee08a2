// Seed 001 §9: a CPU-bound function (the sum of i*i for i < number) over ten numbers, first
// one after the other, then with a process pool (multiprocessing.Pool().map), each sum printed
// in input order. The seed uses 10,000,000 + x for the serial run; sums that large need 128 bits.
#pragma once
#include <aio/aio.hpp>

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

namespace cpu_bound {

using u128 = unsigned __int128;  // trivially copyable: it crosses to a worker process as bytes

/// def cpu_bound(number): return sum(i * i for i in range(number))
inline u128 cpu_bound(long number) {
  u128 sum = 0;
  for (long i = 0; i < number; ++i) sum += static_cast<u128>(i) * static_cast<u128>(i);
  return sum;
}

inline std::string to_string(u128 v) {
  if (v == 0) return "0";
  std::string s;
  for (; v; v /= 10) s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
  return s;
}

inline void calculate_sums(const std::vector<long>& numbers, std::ostream& out) {
  for (long number : numbers) out << to_string(cpu_bound(number)) << '\n';
}

/// with multiprocessing.Pool() as pool: pool.map(cpu_bound, numbers)
inline aio::Task<> find_sums(std::vector<long> numbers, std::ostream& out) {
  aio::ProcessPoolExecutor pool;  // one worker per core
  std::vector<u128> sums = co_await pool.map(cpu_bound, numbers);
  for (u128 s : sums) out << to_string(s) << '\n';
}

inline void main(std::ostream& out, long base = 10000000) {
  std::vector<long> numbers;
  for (long x = 0; x < 10; ++x) numbers.push_back(base + x);

  auto start = std::chrono::steady_clock::now();
  calculate_sums(numbers, out);
  std::chrono::duration<double> serial = std::chrono::steady_clock::now() - start;
  out << "Calculation takes " << serial.count() << " seconds\n";

  start = std::chrono::steady_clock::now();
  aio::run(find_sums(numbers, out));
  std::chrono::duration<double> pooled = std::chrono::steady_clock::now() - start;
  out << "duration : " << pooled.count() << " seconds\n";
}

}  // namespace cpu_bound
