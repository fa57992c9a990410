// floe bench scale's arithmetic: the sizes it runs and the growth it fits.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "tools/bench_scale.h"

using namespace floe::tools;

TEST_CASE("bench scale: sizes grow geometrically from the base to the maximum, both ends in") {
    CHECK(geometric_sizes(10, 100, 3) == std::vector<uint64_t>{10, 32, 100});
    CHECK(geometric_sizes(100, 10'000, 4) == std::vector<uint64_t>{100, 464, 2154, 10'000});
    CHECK(geometric_sizes(5, 6, 4) == std::vector<uint64_t>{5, 6});  // rounded, distinct
    CHECK(geometric_sizes(7, 7, 4) == std::vector<uint64_t>{7});
    CHECK(geometric_sizes(8, 4, 4).empty());
}

TEST_CASE("bench scale: the exponent of y = c x^k is k; the slope of a line is its slope") {
    std::vector<double> x = {10, 20, 40, 80};
    std::vector<double> linear, quadratic, flat;
    for (double v : x) {
        linear.push_back(3 * v);
        quadratic.push_back(0.5 * v * v);
        flat.push_back(7);
    }
    CHECK(growth_exponent(x, linear) == doctest::Approx(1.0));
    CHECK(growth_exponent(x, quadratic) == doctest::Approx(2.0));
    CHECK(growth_exponent(x, flat) == doctest::Approx(0.0));
    CHECK(linear_slope(x, linear) == doctest::Approx(3.0));
    CHECK(growth_exponent({10}, {5}) == 0);         // one point fits nothing
    CHECK(growth_exponent({10, 20}, {0, 5}) == 0);  // a zero cannot be logged: one point left
}

TEST_CASE("bench scale: the full shape's blob points and the linear projection") {
    using floe::tools::ScaleSize;
    // Mainnet's 10,000 blobs from a base of 100: measured at 100 and 300, projected.
    CHECK(full_shape_blob_points(ScaleSize{10, 100, 100}, ScaleSize{100, 1000, 10'000}) ==
          std::vector<uint64_t>{100, 300});
    // A small maximum is measured, not projected: the last point is the maximum itself.
    CHECK(full_shape_blob_points(ScaleSize{5, 13, 20}, ScaleSize{7, 20, 40}) ==
          std::vector<uint64_t>{20, 40});
    CHECK(full_shape_blob_points(ScaleSize{5, 13, 20}, ScaleSize{7, 20, 20}) ==
          std::vector<uint64_t>{20});
    CHECK(project_linear(100, 5, 300, 21, 10'000) == doctest::Approx(797));
    CHECK(project_linear(100, 900, 300, 1100, 100) == doctest::Approx(900));
}
