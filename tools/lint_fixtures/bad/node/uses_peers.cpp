// Fixture: a member declared unordered in sim/peers.h, iterated from another directory.
#include "../sim/peers.h"

namespace fixture {

int count_live(const Holder& holder) {
  int n = 0;
  for (int id : holder.peers->live_) n += id;  // expect: unordered-iteration
  return n;
}

}  // namespace fixture
