#include "sim/context.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <valgrind/valgrind.h>

#include "sim/assert.h"

namespace sim {
namespace {

size_t page_size() {
    static const auto size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return size;
}

// Guarded stacks of every pool of the process: each holds two memory mappings.
size_t guarded_stacks_in_process = 0;

size_t round_up(size_t value, size_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

}  // namespace

bool running_under_asan() {
#if defined(FLOE_ASAN)
    return true;
#else
    return false;
#endif
}

size_t effective_stack_size(size_t requested) {
    const size_t scaled = running_under_asan() ? requested * 4 : requested;
    const size_t rounded = round_up(scaled, page_size());
    FLOE_ASSERT(rounded % 16 == 0, "fcontext needs 16-byte aligned stacks");
    return rounded;
}

// A stack handed out must have a clean ASan shadow. A reused stack may keep redzones of the
// previous fiber's frames (a fiber that ends with a context switch never returns through them),
// and a fresh mapping may reuse addresses whose shadow an earlier, unmapped stack left poisoned
// (munmap does not clear it). Instrumented code re-poisons its own frames; uninstrumented
// libraries such as RocksDB would trip over the stale shadow.
void StackPool::unpoison([[maybe_unused]] const Stack& stack) {
#if defined(FLOE_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(stack.bottom(), stack.usable_size + stack.color);
#endif
}

// `usable_size` is already effective (effective_stack_size): scaling it again here gave every
// ASan spawn a pool of its own, 16x the size, whose stacks were never reused (a run's mappings
// grew until mprotect failed at vm.max_map_count).
StackPool::StackPool(size_t usable_size) : usable_size_(usable_size) {
    FLOE_ASSERT(usable_size_ % page_size() == 0, "stack of {} bytes is not whole pages",
                usable_size_);
    FLOE_ASSERT(usable_size_ >= 2 * page_size(), "stack of {} bytes is too small", usable_size_);
}

StackPool::~StackPool() {
    for (Stack& stack : free_) {
        VALGRIND_STACK_DEREGISTER(stack.valgrind_id);
        if (stack.guarded) {
            munmap(stack.mapping, stack.mapping_size);
            --guarded_stacks_in_process;
        } else {
            check_canary(stack);
        }
    }
    for (const auto& [mapping, size] : slabs_) {
        munmap(mapping, size);
    }
}

Stack StackPool::acquire() {
    if (!free_.empty()) {
        Stack stack = free_.back();
        free_.pop_back();
        unpoison(stack);
        return stack;
    }
    Stack stack =
        guarded_stacks_in_process < guarded_stack_budget ? map_guarded() : carve_from_slab();
    stack.valgrind_id = VALGRIND_STACK_REGISTER(stack.bottom(), stack.top());
    unpoison(stack);
    return stack;
}

// Colouring: page-aligned stack tops would put the hot top-of-stack lines of every fiber in the
// same few cache sets, and they would evict each other. Each new stack's top is moved down by a
// different multiple of 64 bytes (an extra page pays for it).
Stack StackPool::map_guarded() {
    Stack stack;
    stack.usable_size = usable_size_;
    stack.color = (created_ * 7 % (page_size() / 64)) * 64;
    ++created_;
    stack.mapping_size = usable_size_ + 2 * page_size();
    void* mapping = mmap(nullptr, stack.mapping_size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    FLOE_ASSERT(mapping != MAP_FAILED, "mmap of a {}-byte fiber stack failed (vm.max_map_count?)",
                stack.mapping_size);
    stack.mapping = static_cast<char*>(mapping);
    FLOE_ASSERT(mprotect(stack.mapping, page_size(), PROT_NONE) == 0,
                "cannot protect the guard page of fiber stack {} ({} alive): the process has run "
                "out of memory mappings (vm.max_map_count; two per guarded stack)",
                created_, created_ - free_.size());
    FLOE_ASSERT(stack.bottom() >= stack.mapping + page_size(), "stack overlaps its guard page");
    ++guarded_stacks_in_process;
    return stack;
}

// Past the budget: one mapping holds `stacks_per_slab` stacks laid out as guarded ones would be,
// but the low page of each is writable and holds the canary.
Stack StackPool::carve_from_slab() {
    if (carved_.empty()) {
        const size_t each = usable_size_ + 2 * page_size();
        const size_t size = each * stacks_per_slab;
        void* mapping = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        FLOE_ASSERT(mapping != MAP_FAILED, "mmap of a {}-byte slab of fiber stacks failed", size);
        slabs_.emplace_back(static_cast<char*>(mapping), size);
        for (size_t i = stacks_per_slab; i-- > 0;) {
            Stack stack;
            stack.guarded = false;
            stack.usable_size = usable_size_;
            stack.mapping = static_cast<char*>(mapping) + i * each;
            stack.mapping_size = each;
            carved_.push_back(stack);
        }
    }
    Stack stack = carved_.back();
    carved_.pop_back();
    stack.color = (created_ * 7 % (page_size() / 64)) * 64;
    ++created_;
    write_canary(stack);
    return stack;
}

namespace {
constexpr unsigned char canary_byte = 0xF1;
}

void StackPool::write_canary(const Stack& stack) {
#if defined(FLOE_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(stack.bottom() - canary_bytes, canary_bytes);
#endif
    std::memset(stack.bottom() - canary_bytes, canary_byte, canary_bytes);
}

// A fiber that ran past its bottom wrote over the canary: a slab stack cannot fault there, so
// the overflow is caught when the stack comes back (or when the pool goes).
void StackPool::check_canary(const Stack& stack) {
    const char* high = stack.bottom();
    const char* low = high - canary_bytes;
    const char* first_bad = std::find_if(
        low, high, [](char c) { return static_cast<unsigned char>(c) != canary_byte; });
    FLOE_ASSERT(first_bad == high,
                "fiber stack overflow: {} bytes of a {}-byte unguarded stack's canary overwritten",
                high - first_bad, stack.usable_size);
}

void StackPool::release(Stack stack) {
    FLOE_ASSERT(stack.usable_size == usable_size_, "stack returned to the wrong pool");
    if (!stack.guarded) {
        check_canary(stack);
    }
    free_.push_back(stack);
}

FContext make_context(const Stack& stack, void (*entry)(Transfer)) {
    return boost::context::detail::make_fcontext(stack.top(), stack.usable_size, entry);
}

}  // namespace sim
