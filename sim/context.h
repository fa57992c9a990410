#pragma once
// Fiber contexts on Boost.Context's raw fcontext, with stacks from a pool.
//
// Why raw fcontext and not boost::context::fiber: Boost 1.74 annotates context switches for ASan
// only in its (40x slower) ucontext backend, and gcc's ASan reports a false stack-buffer-underflow
// when a suspended boost fiber is force-unwound. Owning the switch lets us bracket every jump
// with __sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber and register every stack
// with valgrind, so both tools run clean (toolchain-facts.md §4).
//
// A stack is one mmap: a PROT_NONE guard page at the low end (stacks grow down, so an overflow
// faults instead of corrupting the neighbour) and the usable region above it. That is two memory
// mappings a stack, and Linux allows a process 65,530 (vm.max_map_count): past a budget of
// guarded stacks, new stacks are carved from slabs of many stacks in one mapping, each with a
// canary below its bottom that is checked whenever the stack comes back to the pool.

#include <boost/context/detail/fcontext.hpp>

#include <cstddef>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define FLOE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLOE_ASAN 1
#endif
#endif

#if defined(FLOE_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace sim {

using FContext = boost::context::detail::fcontext_t;
using Transfer = boost::context::detail::transfer_t;

struct Stack {
    char* mapping = nullptr;  // start of the mmap, i.e. the guard page
    size_t mapping_size = 0;
    size_t usable_size = 0;  // bytes between the guard page and the top
    size_t color = 0;        // bytes left unused above the top (see StackPool::acquire)
    unsigned valgrind_id = 0;
    bool guarded = true;  // false: carved from a slab, a canary below `bottom` instead of a guard

    char* top() const { return mapping + mapping_size - color; }
    char* bottom() const { return top() - usable_size; }  // lowest usable byte
};

// Stacks of one size, reused: mmap + mprotect per fiber would dominate spawn cost.
class StackPool {
public:
    // `usable_size` as effective_stack_size gives it (scaled under ASan, whole pages).
    explicit StackPool(size_t usable_size);
    StackPool(const StackPool&) = delete;
    StackPool& operator=(const StackPool&) = delete;
    ~StackPool();

    Stack acquire();
    void release(Stack stack);
    size_t usable_size() const { return usable_size_; }

    // Guarded stacks the process may have at once before stacks come from slabs: 20,000 is
    // 40,000 mappings, leaving the rest of the default 65,530 to RocksDB and the libraries.
    static constexpr size_t guarded_stack_budget = 20'000;
    static constexpr size_t stacks_per_slab = 64;
    static constexpr size_t canary_bytes = 256;

private:
    static void unpoison(const Stack& stack);
    Stack map_guarded();
    Stack carve_from_slab();
    static void write_canary(const Stack& stack);
    static void check_canary(const Stack& stack);
    size_t usable_size_;
    size_t created_ = 0;
    std::vector<Stack> free_;
    std::vector<std::pair<char*, size_t>> slabs_;  // mapping, size
    std::vector<Stack> carved_;                    // slab stacks not handed out yet
};

// Stack sizes are rounded up to whole pages. Under ASan frames are several times larger, so the
// requested size is scaled; the scale is 1 in normal builds.
size_t effective_stack_size(size_t requested);
bool running_under_asan();

FContext make_context(const Stack& stack, void (*entry)(Transfer));

// Inline: these run twice per event, and a call through another translation unit shows up in
// `floe bench kernel`.
inline Transfer jump_context(FContext to, void* data) {
    return boost::context::detail::jump_fcontext(to, data);
}

// ASan fiber-switch annotations; no-ops without ASan.
inline void asan_start_switch([[maybe_unused]] void** fake_stack_save,
                              [[maybe_unused]] const void* bottom, [[maybe_unused]] size_t size) {
#if defined(FLOE_ASAN)
    __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#endif
}

inline void asan_finish_switch([[maybe_unused]] void* fake_stack_save,
                               [[maybe_unused]] const void** bottom_old,
                               [[maybe_unused]] size_t* size_old) {
#if defined(FLOE_ASAN)
    __sanitizer_finish_switch_fiber(fake_stack_save, bottom_old, size_old);
#endif
}

}  // namespace sim
