// doctest's main, alone in its translation unit: it costs ~4 s to compile and never changes.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
