// Fixture: randomness outside the seeded Rng the lint must flag.
#include <algorithm>
#include <cstdlib>
#include <random>  // expect: random
#include <vector>

namespace fixture {

int roll() { return rand() % 6; }       // expect: random
void reseed() { srand(42); }            // expect: random
void reseed_std() { std::srand(7); }    // expect: random
int roll_std() { return std::rand(); }  // expect: random
long roll_bsd() { return random(); }    // expect: random
double roll48() { return drand48(); }   // expect: random
unsigned roll_arc() { return arc4random(); }              // expect: random
long fill(void* buf) { return getrandom(buf, 8, 0); }     // expect: random

void engines() {
  std::random_device rd;          // expect: random
  std::mt19937 a(1);              // expect: random
  std::mt19937_64 b(1);           // expect: random
  std::minstd_rand c;             // expect: random
  std::default_random_engine d;   // expect: random
  std::ranlux48 e;                // expect: random
  std::knuth_b f;                 // expect: random
}

void distributions() {
  std::uniform_int_distribution<int> d1;               // expect: random
  std::uniform_real_distribution<double> d2;           // expect: random
  std::bernoulli_distribution d3;                      // expect: random
  std::binomial_distribution<int> d4;                  // expect: random
  std::geometric_distribution<int> d5;                 // expect: random
  std::negative_binomial_distribution<int> d6;         // expect: random
  std::poisson_distribution<int> d7;                   // expect: random
  std::exponential_distribution<double> d8;            // expect: random
  std::gamma_distribution<double> d9;                  // expect: random
  std::weibull_distribution<double> d10;               // expect: random
  std::extreme_value_distribution<double> d11;         // expect: random
  std::normal_distribution<double> d12;                // expect: random
  std::lognormal_distribution<double> d13;             // expect: random
  std::chi_squared_distribution<double> d14;           // expect: random
  std::cauchy_distribution<double> d15;                // expect: random
  std::fisher_f_distribution<double> d16;              // expect: random
  std::student_t_distribution<double> d17;             // expect: random
  std::discrete_distribution<int> d18;                 // expect: random
  std::piecewise_constant_distribution<double> d19;    // expect: random
  std::piecewise_linear_distribution<double> d20;      // expect: random
  double x = std::generate_canonical<double, 53>(g);   // expect: random
}

template <class G>
void reorder(std::vector<int>& v, std::vector<int>& out, G& g) {
  std::shuffle(v.begin(), v.end(), g);                                  // expect: random
  std::sample(v.begin(), v.end(), std::back_inserter(out), 2, g);       // expect: random
}

}  // namespace fixture
