// Fixture: malformed allow directives. The expectation markers sit in block comments here,
// because anything after "// lint: allow(...)" would be read as the directive's reason.
#include <cstdlib>

namespace fixture {

int a = 0;  /* expect: allow-syntax */ // lint: allow
int b = rand();  /* expect: random, allow-syntax */ // lint: allow(random)
int c = rand();  /* expect: random, allow-syntax */ // lint: allow(randomness) typo in the rule name
int d = rand(); const char* e = std::getenv("X");  // lint: allow(random) seed for a fixture; expect: getenv

}  // namespace fixture
