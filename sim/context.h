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
// faults instead of corrupting the neighbour) and the usable region above it.

#include <boost/context/detail/fcontext.hpp>

#include <cstddef>
#include <vector>

namespace sim {

using FContext = boost::context::detail::fcontext_t;
using Transfer = boost::context::detail::transfer_t;

struct Stack {
    char* mapping = nullptr;   // start of the mmap, i.e. the guard page
    size_t mapping_size = 0;
    size_t usable_size = 0;    // bytes above the guard page
    unsigned valgrind_id = 0;

    char* bottom() const { return mapping + (mapping_size - usable_size); }  // lowest usable byte
    char* top() const { return mapping + mapping_size; }
};

// Stacks of one size, reused: mmap + mprotect per fiber would dominate spawn cost.
class StackPool {
public:
    explicit StackPool(size_t usable_size);
    StackPool(const StackPool&) = delete;
    StackPool& operator=(const StackPool&) = delete;
    ~StackPool();

    Stack acquire();
    void release(Stack stack);
    size_t usable_size() const { return usable_size_; }
    size_t pooled() const { return free_.size(); }

private:
    size_t usable_size_;
    std::vector<Stack> free_;
};

// Stack sizes are rounded up to whole pages. Under ASan frames are several times larger, so the
// requested size is scaled; the scale is 1 in normal builds.
size_t effective_stack_size(size_t requested);
bool running_under_asan();

FContext make_context(const Stack& stack, void (*entry)(Transfer));
Transfer jump_context(FContext to, void* data);

// ASan fiber-switch annotations; no-ops without ASan.
void asan_start_switch(void** fake_stack_save, const void* bottom, size_t size);
void asan_finish_switch(void* fake_stack_save, const void** bottom_old, size_t* size_old);

}  // namespace sim
