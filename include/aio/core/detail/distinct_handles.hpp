// Repeated handles collapse: asyncio's wait() and as_completed() take their inputs as a set.
#pragma once
#include <algorithm>
#include <unordered_set>
#include <vector>

namespace aio::detail {

/// Drops every handle whose task or future came earlier in `handles`, keeping the order.
template <class H>
void keep_distinct(std::vector<H>& handles) {
  std::vector<const void*> states;
  states.reserve(handles.size());
  for (const H& h : handles) states.push_back(h.state());
  std::sort(states.begin(), states.end());
  if (std::adjacent_find(states.begin(), states.end()) == states.end()) return;  // the usual case
  std::unordered_set<const void*> seen(handles.size());
  std::erase_if(handles, [&seen](const H& h) { return !seen.insert(h.state()).second; });
}

}  // namespace aio::detail
