// Fixture: hashing or ordering by address the lint must flag.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace fixture {

struct Node {};

std::map<Node*, int> by_ptr;                          // expect: pointer-order
std::set<const Node*> seen;                           // expect: pointer-order
std::multimap<Node *, int> multi;                     // expect: pointer-order
std::multiset<Node*> bag;                             // expect: pointer-order
std::unordered_map<const Node*, int> hashed;          // expect: pointer-order
std::unordered_set<Node*> hashed_set;                 // expect: pointer-order
std::map<std::pair<int, int>*, int> nested_key;       // expect: pointer-order
std::map<std::unique_ptr<Node>, int> owned;           // expect: pointer-order
std::map<                                             // expect: pointer-order
    Node*, int> split_over_lines;

std::size_t hash_it(Node* p) { return std::hash<Node*>{}(p); }         // expect: pointer-order
bool order_it(Node* a, Node* b) { return std::less<Node*>{}(a, b); }   // expect: pointer-order
std::hash<const Node*> const_hasher;                                   // expect: pointer-order

std::uintptr_t addr1(Node* p) { return reinterpret_cast<std::uintptr_t>(p); }  // expect: pointer-order
std::uintptr_t addr2(Node* p) { return reinterpret_cast<uintptr_t>(p); }       // expect: pointer-order
std::intptr_t addr3(Node* p) { return reinterpret_cast<intptr_t>(p); }         // expect: pointer-order
std::uintptr_t addr4(Node* p) { return (uintptr_t)p; }                         // expect: pointer-order

}  // namespace fixture
