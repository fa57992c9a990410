// Fixture: declarations of unordered containers (not violations by themselves). The names
// declared here are visible to every scanned file, so iterating them anywhere is flagged.
#pragma once
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace fixture {

using PeerSet = std::unordered_set<int>;

class Peers {
 public:
  const std::unordered_map<int, std::string>& table() const { return peers_; }
  bool knows(int id) const { return peers_.count(id) > 0; }
  void dump();

 private:
  std::unordered_map<int, std::string> peers_;
  PeerSet live_;
  std::unordered_multimap<int, int> edges_;
};

}  // namespace fixture
