// The greenlet example from the seed: two functions hand control to each other explicitly.
// Prints 1, 3, 2, 4 (one per line), exactly like the Python original.
//
//   from greenlet import greenlet
//   def func1(): print(1); gr2.switch(); print(2); gr2.switch()
//   def func2(): print(3); gr1.switch(); print(4)
//   gr1 = greenlet(func1); gr2 = greenlet(func2); gr1.switch()
#include <aio/green.hpp>

#include <cstdio>

int main() {
  aio::green::Greenlet* gr1 = nullptr;
  aio::green::Greenlet* gr2 = nullptr;

  aio::green::Greenlet g1([&] {
    std::puts("1");    // step 2
    gr2->switch_to();  // step 3: run func2
    std::puts("2");    // step 6
    gr2->switch_to();  // step 7: resume func2 where it left off
  });
  aio::green::Greenlet g2([&] {
    std::puts("3");    // step 4
    gr1->switch_to();  // step 5: resume func1 where it left off
    std::puts("4");    // step 8; func2 ends, so control returns to main
  });
  gr1 = &g1;
  gr2 = &g2;

  gr1->switch_to();  // step 1: run func1
  // g1 is still suspended after "2"; its destructor unwinds it, as Python's GC would.
  return 0;
}
