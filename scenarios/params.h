#pragma once
// Typed scenario parameters. A scenario declares each parameter with a type, a default and a
// range; `floe run --set key=value` overrides any of them, and a value of the wrong type or out
// of range is a usage error, never a crash. An optional parameter has no value until it is set
// (the cluster-shape parameters every scenario takes: unset, the scenario keeps its own shape).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/time.h"

namespace floe::scenarios {

enum class ParamType : uint8_t { integer, duration, boolean, choice, list };
const char* param_type_name(ParamType type);

struct ParamSpec {
    std::string name;
    ParamType type = ParamType::integer;
    std::string default_value;  // in the same text form `--set` takes
    int64_t min = 0;  // integer: the value; duration: nanoseconds; choice: index; boolean: unused
    int64_t max = 0;
    std::string help;
    std::vector<std::string> choices;  // choice: the words it takes
    // Unset unless given: the scenario keeps its own value (default_value says what it is).
    bool optional = false;
    size_t max_items = 0;  // list: at most this many comma-separated integers in [min, max]

    static ParamSpec integer(std::string name, int64_t value, int64_t min, int64_t max,
                             std::string help);
    static ParamSpec duration(std::string name, sim::Duration value, sim::Duration min,
                              sim::Duration max, std::string help);
    static ParamSpec boolean(std::string name, bool value, std::string help);
    // One of a few words ("off|bounded|unbounded"); `value` must be one of them.
    static ParamSpec choice(std::string name, std::string value, std::vector<std::string> choices,
                            std::string help);
    // A parameter that is unset unless `--set` gives it: the scenario's own value stays.
    static ParamSpec optional_integer(std::string name, std::string default_text, int64_t min,
                                      int64_t max, std::string help);
    static ParamSpec optional_duration(std::string name, std::string default_text,
                                       sim::Duration min, sim::Duration max, std::string help);
    static ParamSpec optional_choice(std::string name, std::string default_text,
                                     std::vector<std::string> choices, std::string help);
    // "1,2,3,3,4": 1..max_items integers, each in [min, max]; always optional.
    static ParamSpec optional_list(std::string name, std::string default_text, int64_t min,
                                   int64_t max, size_t max_items, std::string help);
    std::string range_text() const;
};

// "30s", "500ms", "2m", "1h", "250us", "10ns" (an integer and a unit).
bool parse_duration(std::string_view text, sim::Duration& out);
std::string duration_text(sim::Duration duration);

class Params {
public:
    explicit Params(std::vector<ParamSpec> specs);

    // Applies "key=value". Returns an empty string or a one-line error naming the key, the
    // expected type and the range.
    std::string set(std::string_view assignment);

    int64_t integer(std::string_view name) const;
    sim::Duration duration(std::string_view name) const;
    bool flag(std::string_view name) const;
    const std::string& choice(std::string_view name) const;
    const std::vector<int64_t>& list(std::string_view name) const;
    // Whether an optional parameter was given (a required one always is).
    bool is_set(std::string_view name) const;
    // Whether the scenario declares `name` (shared steps read optional parameters).
    bool has(std::string_view name) const;

    const std::vector<ParamSpec>& specs() const { return specs_; }
    // The overrides in the order given, as "key=value" (for the repro command).
    const std::vector<std::string>& overrides() const { return overrides_; }

private:
    const ParamSpec& spec(std::string_view name, ParamType type) const;
    std::string parse_into(const ParamSpec& spec, std::string_view text, int64_t& value) const;
    std::string parse_list(const ParamSpec& spec, std::string_view text,
                           std::vector<int64_t>& items) const;

    std::vector<ParamSpec> specs_;
    std::map<std::string, int64_t, std::less<>> values_;  // set parameters (not lists)
    std::map<std::string, std::vector<int64_t>, std::less<>> lists_;
    std::vector<std::string> overrides_;
};

}  // namespace floe::scenarios
