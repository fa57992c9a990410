#pragma once
// std::visit over several lambdas: std::visit(Overloaded{[](const A&) {...}, ...}, variant).

namespace walrus {

template <class... Fs>
struct Overloaded : Fs... {
    using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace walrus
