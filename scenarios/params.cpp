#include "scenarios/params.h"

#include <fmt/format.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>

#include "sim/assert.h"

namespace floe::scenarios {

const char* param_type_name(ParamType type) {
    switch (type) {
        case ParamType::integer: return "integer";
        case ParamType::duration: return "duration";
        case ParamType::boolean: return "boolean";
        case ParamType::choice: return "choice";
        case ParamType::list: return "list";
    }
    FLOE_UNREACHABLE();
}

ParamSpec ParamSpec::integer(std::string name, int64_t value, int64_t min, int64_t max,
                             std::string help) {
    FLOE_ASSERT(min <= value && value <= max, "default of {} out of its range", name);
    return ParamSpec{
        std::move(name), ParamType::integer, std::to_string(value), min, max, std::move(help), {}};
}

ParamSpec ParamSpec::duration(std::string name, sim::Duration value, sim::Duration min,
                              sim::Duration max, std::string help) {
    FLOE_ASSERT(min <= value && value <= max, "default of {} out of its range", name);
    return ParamSpec{std::move(name),
                     ParamType::duration,
                     duration_text(value),
                     min.ns(),
                     max.ns(),
                     std::move(help),
                     {}};
}

ParamSpec ParamSpec::boolean(std::string name, bool value, std::string help) {
    return ParamSpec{
        std::move(name), ParamType::boolean, value ? "true" : "false", 0, 1, std::move(help), {}};
}

ParamSpec ParamSpec::choice(std::string name, std::string value, std::vector<std::string> choices,
                            std::string help) {
    const auto it = std::find(choices.begin(), choices.end(), value);
    FLOE_ASSERT(it != choices.end(), "default of {} is not one of its choices", name);
    const auto last = static_cast<int64_t>(choices.size()) - 1;
    return ParamSpec{std::move(name), ParamType::choice, std::move(value), 0, last,
                     std::move(help), std::move(choices)};
}

ParamSpec ParamSpec::optional_choice(std::string name, std::string default_text,
                                     std::vector<std::string> choices, std::string help) {
    const auto last = static_cast<int64_t>(choices.size()) - 1;
    ParamSpec spec{std::move(name), ParamType::choice, std::move(default_text), 0, last,
                   std::move(help), std::move(choices)};
    spec.optional = true;
    return spec;
}

ParamSpec ParamSpec::optional_integer(std::string name, std::string default_text, int64_t min,
                                      int64_t max, std::string help) {
    ParamSpec spec{std::move(name),
                   ParamType::integer,
                   std::move(default_text),
                   min,
                   max,
                   std::move(help),
                   {}};
    spec.optional = true;
    return spec;
}

ParamSpec ParamSpec::optional_duration(std::string name, std::string default_text,
                                       sim::Duration min, sim::Duration max, std::string help) {
    ParamSpec spec{std::move(name),
                   ParamType::duration,
                   std::move(default_text),
                   min.ns(),
                   max.ns(),
                   std::move(help),
                   {}};
    spec.optional = true;
    return spec;
}

ParamSpec ParamSpec::optional_list(std::string name, std::string default_text, int64_t min,
                                   int64_t max, size_t max_items, std::string help) {
    FLOE_ASSERT(max_items > 0, "list {} takes no item", name);
    ParamSpec spec{
        std::move(name), ParamType::list, std::move(default_text), min, max, std::move(help), {}};
    spec.optional = true;
    spec.max_items = max_items;
    return spec;
}

std::string ParamSpec::range_text() const {
    switch (type) {
        case ParamType::integer: return fmt::format("{}..{}", min, max);
        case ParamType::duration:
            return fmt::format("{}..{}", duration_text(sim::Duration::nanos(min)),
                               duration_text(sim::Duration::nanos(max)));
        case ParamType::boolean: return "true|false";
        case ParamType::choice: return fmt::format("{}", fmt::join(choices, "|"));
        case ParamType::list:
            return fmt::format("1..{} integers in {}..{}, comma-separated", max_items, min, max);
    }
    FLOE_UNREACHABLE();
}

namespace {

bool parse_int(std::string_view text, int64_t& out) {
    if (text.empty()) {
        return false;
    }
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
    return error == std::errc() && end == text.data() + text.size();
}

struct Unit {
    std::string_view suffix;
    int64_t ns;
};
constexpr Unit units[] = {
    {"ns", 1},
    {"us", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

}  // namespace

bool parse_duration(std::string_view text, sim::Duration& out) {
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
        ++digits;
    }
    int64_t count = 0;
    if (digits == 0 || !parse_int(text.substr(0, digits), count)) {
        return false;
    }
    for (const Unit& unit : units) {
        if (text.substr(digits) == unit.suffix) {
            if (count > std::numeric_limits<int64_t>::max() / unit.ns) {
                return false;
            }
            out = sim::Duration::nanos(count * unit.ns);
            return true;
        }
    }
    return false;
}

std::string duration_text(sim::Duration duration) {
    const int64_t ns = duration.ns();
    if (ns == 0) {
        return "0s";
    }
    for (auto it = std::rbegin(units); it != std::rend(units); ++it) {
        if (ns % it->ns == 0) {
            return fmt::format("{}{}", ns / it->ns, it->suffix);
        }
    }
    return fmt::format("{}ns", ns);
}

Params::Params(std::vector<ParamSpec> specs) : specs_(std::move(specs)) {
    std::set<std::string, std::less<>> names;
    for (const ParamSpec& spec : specs_) {
        FLOE_ASSERT(names.insert(spec.name).second, "parameter {} declared twice", spec.name);
        FLOE_ASSERT(spec.optional || spec.type != ParamType::list, "list {} must be optional",
                    spec.name);
        if (spec.optional) {
            continue;  // no value until --set gives one
        }
        int64_t value = 0;
        const std::string error = parse_into(spec, spec.default_value, value);
        FLOE_ASSERT(error.empty(), "bad default of parameter {}: {}", spec.name, error);
        FLOE_ASSERT(!values_.contains(spec.name), "parameter {} declared twice", spec.name);
        values_.emplace(spec.name, value);
    }
}

std::string Params::parse_list(const ParamSpec& spec, std::string_view text,
                               std::vector<int64_t>& items) const {
    const auto bad = [&] {
        return fmt::format("{}={} is not a list of {}", spec.name, text, spec.range_text());
    };
    size_t start = 0;
    while (true) {
        const size_t comma = text.find(',', start);
        const std::string_view item = text.substr(start, comma - start);
        int64_t value = 0;
        if (!parse_int(item, value) || value < spec.min || value > spec.max ||
            items.size() == spec.max_items) {
            return bad();
        }
        items.push_back(value);
        if (comma == std::string_view::npos) {
            return {};
        }
        start = comma + 1;
    }
}

std::string Params::parse_into(const ParamSpec& spec, std::string_view text, int64_t& value) const {
    bool ok = false;
    switch (spec.type) {
        case ParamType::integer: ok = parse_int(text, value); break;
        case ParamType::duration: {
            sim::Duration duration;
            ok = parse_duration(text, duration);
            value = duration.ns();
            break;
        }
        case ParamType::boolean:
            ok = text == "true" || text == "false";
            value = text == "true" ? 1 : 0;
            break;
        case ParamType::choice: {
            const auto it = std::find(spec.choices.begin(), spec.choices.end(), text);
            ok = it != spec.choices.end();
            value = ok ? it - spec.choices.begin() : 0;
            break;
        }
        case ParamType::list: FLOE_UNREACHABLE("list {} parsed as a value", spec.name);
    }
    if (spec.type == ParamType::choice && !ok) {
        return fmt::format("{}={} is not one of {}", spec.name, text, spec.range_text());
    }
    if (!ok || value < spec.min || value > spec.max) {
        return fmt::format("{}={} is not {} {} in {}", spec.name, text,
                           spec.type == ParamType::integer ? "an" : "a", param_type_name(spec.type),
                           spec.range_text());
    }
    return {};
}

std::string Params::set(std::string_view assignment) {
    const size_t eq = assignment.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        return fmt::format("--set takes key=value, got '{}'", assignment);
    }
    const std::string_view key = assignment.substr(0, eq);
    for (const std::string& earlier : overrides_) {
        if (std::string_view(earlier).substr(0, earlier.find('=')) == key) {
            return fmt::format("--set {} given twice ('{}' and '{}')", key, earlier, assignment);
        }
    }
    for (const ParamSpec& spec : specs_) {
        if (spec.name == key) {
            std::string error;
            if (spec.type == ParamType::list) {
                std::vector<int64_t> items;
                error = parse_list(spec, assignment.substr(eq + 1), items);
                if (error.empty()) {
                    lists_[spec.name] = std::move(items);
                }
            } else {
                int64_t value = 0;
                error = parse_into(spec, assignment.substr(eq + 1), value);
                if (error.empty()) {
                    values_[spec.name] = value;
                }
            }
            if (error.empty()) {
                overrides_.emplace_back(assignment);
            }
            return error;
        }
    }
    std::vector<std::string> names;
    for (const ParamSpec& spec : specs_) {
        names.push_back(spec.name);
    }
    return fmt::format(
        "unknown parameter '{}' (this scenario has: {})", key,
        names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")));
}

const ParamSpec& Params::spec(std::string_view name, ParamType type) const {
    for (const ParamSpec& spec : specs_) {
        if (spec.name == name) {
            FLOE_ASSERT(spec.type == type, "parameter {} is a {}, read as a {}", name,
                        param_type_name(spec.type), param_type_name(type));
            return spec;
        }
    }
    FLOE_UNREACHABLE("no parameter {}", name);
}

int64_t Params::integer(std::string_view name) const {
    const auto it = values_.find(spec(name, ParamType::integer).name);
    FLOE_ASSERT(it != values_.end(), "optional parameter {} read while unset", name);
    return it->second;
}

sim::Duration Params::duration(std::string_view name) const {
    const auto it = values_.find(spec(name, ParamType::duration).name);
    FLOE_ASSERT(it != values_.end(), "optional parameter {} read while unset", name);
    return sim::Duration::nanos(it->second);
}

const std::vector<int64_t>& Params::list(std::string_view name) const {
    const auto it = lists_.find(spec(name, ParamType::list).name);
    FLOE_ASSERT(it != lists_.end(), "optional parameter {} read while unset", name);
    return it->second;
}

bool Params::is_set(std::string_view name) const {
    return values_.contains(name) || lists_.contains(name);
}

bool Params::flag(std::string_view name) const {
    return values_.find(spec(name, ParamType::boolean).name)->second != 0;
}

const std::string& Params::choice(std::string_view name) const {
    const ParamSpec& found = spec(name, ParamType::choice);
    const auto it = values_.find(found.name);
    FLOE_ASSERT(it != values_.end(), "optional parameter {} read while unset", name);
    return found.choices[static_cast<size_t>(it->second)];
}

bool Params::has(std::string_view name) const {
    return std::any_of(specs_.begin(), specs_.end(),
                       [&](const ParamSpec& spec) { return spec.name == name; });
}

}  // namespace floe::scenarios
