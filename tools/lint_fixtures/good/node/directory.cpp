// Fixture: unordered containers used only for lookups, ordered iteration, and the
// "sort the keys first" idioms; pointers only as values. None of this may be flagged.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace fixture {

using HostId = std::uint32_t;
struct Host { void poke(); };

class Directory {
 public:
  bool has(HostId id) const { return hosts_.count(id) > 0 || hosts_.contains(id); }
  Host* find(HostId id) {
    auto it = hosts_.find(id);
    return it == hosts_.end() ? nullptr : &it->second;
  }
  Host& at(HostId id) { return hosts_.at(id); }
  Host& get(HostId id) { return hosts_[id]; }

  void visit() {
    for (auto& [id, host] : ordered_) host.poke();
  }

  std::vector<HostId> sorted_ids() const {
    std::vector<HostId> ids;
    for (const auto& [id, host] : hosts_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  std::vector<HostId> sorted_live() const {
    std::vector<HostId> v(live_.begin(), live_.end());
    std::ranges::sort(v);
    return v;
  }

  std::map<HostId, Host> snapshot() const {
    std::map<HostId, Host> copy(hosts_.begin(), hosts_.end());
    return copy;
  }

  void classic(int n) {
    for (int i = 0; i < n; ++i) by_index_[i].poke();
    for (auto& [id, host] : sorted_view(hosts_)) host.poke();
  }

 private:
  std::unordered_map<HostId, Host> hosts_;
  std::unordered_set<HostId> live_;
  std::map<HostId, Host> ordered_;
  std::vector<Host> by_index_;
  std::map<HostId, Host*> host_ptrs_;
  std::unordered_map<std::uint64_t, Host*> by_blob_;
  std::set<HostId> ids_;
  std::hash<HostId> hasher_;
  std::less<> any_less_;
  std::vector<Host*> raw_;
  std::size_t word_ = sizeof(std::uintptr_t) + sizeof(uintptr_t);
  std::function<void(uintptr_t)> callback_;
};

}  // namespace fixture
