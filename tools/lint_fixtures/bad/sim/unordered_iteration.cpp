// Fixture: iteration over unordered containers the lint must flag.
#include <algorithm>
#include <ranges>
#include <vector>

#include "peers.h"

namespace fixture {

struct State {
  Peers peers_;
};

void Peers::dump() {
  for (auto& [k, v] : peers_) {}                    // expect: unordered-iteration
  for (auto& [k, v] : this->peers_) {}              // expect: unordered-iteration
  for (int id : live_) {}                           // expect: unordered-iteration
  for (const auto& e : edges_) {}                   // expect: unordered-iteration
  for (auto& kv : table()) {}                       // expect: unordered-iteration
  for (auto& kv : std::as_const(peers_)) {}         // expect: unordered-iteration
  for (int k : peers_ | std::views::keys) {}        // expect: unordered-iteration
  auto it = peers_.begin();                         // expect: unordered-iteration
  auto it2 = std::begin(live_);                     // expect: unordered-iteration
  std::vector<int> unsorted;
  for (auto& [k, v] : peers_) unsorted.push_back(k);  // expect: unordered-iteration
}

void local_set() {
  std::unordered_set<int> ids{1, 2, 3};
  for (int id : ids) {}                             // expect: unordered-iteration
}

void through_state(State& state) {
  for (auto& [k, v] : state.peers_.table()) {}      // expect: unordered-iteration
}

}  // namespace fixture
