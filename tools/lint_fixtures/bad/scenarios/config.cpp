// Fixture: environment reads the lint must flag.
#include <cstdlib>

namespace fixture {

const char* seed() { return std::getenv("FLOE_SEED"); }   // expect: getenv
const char* home() { return getenv("HOME"); }              // expect: getenv
const char* secret() { return secure_getenv("TOKEN"); }   // expect: getenv

}  // namespace fixture
