#include "sim/context.h"

#include <sys/mman.h>
#include <unistd.h>

#include <valgrind/valgrind.h>

#include "sim/assert.h"

namespace sim {
namespace {

size_t page_size() {
    static const auto size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return size;
}

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
        munmap(stack.mapping, stack.mapping_size);
    }
}

Stack StackPool::acquire() {
    if (!free_.empty()) {
        Stack stack = free_.back();
        free_.pop_back();
        unpoison(stack);
        return stack;
    }
    Stack stack;
    stack.usable_size = usable_size_;
    // Colouring: page-aligned stack tops would put the hot top-of-stack lines of every fiber in
    // the same few cache sets, and they would evict each other. Each new stack's top is moved
    // down by a different multiple of 64 bytes (an extra page pays for it).
    stack.color = (created_ * 7 % (page_size() / 64)) * 64;
    ++created_;
    stack.mapping_size = usable_size_ + 2 * page_size();
    void* mapping = mmap(nullptr, stack.mapping_size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    FLOE_ASSERT(mapping != MAP_FAILED, "mmap of a {}-byte fiber stack failed (vm.max_map_count?)",
                stack.mapping_size);
    stack.mapping = static_cast<char*>(mapping);
    // Each stack is two memory mappings once its guard page is protected, so the kernel's
    // vm.max_map_count (65530 by default) bounds the fibers alive at once to about 32,000; a
    // mainnet-shaped run with thousands of blobs in flight reaches it (ARCHITECTURE.md, "How cost
    // grows with the cluster").
    FLOE_ASSERT(mprotect(stack.mapping, page_size(), PROT_NONE) == 0,
                "cannot protect the guard page of fiber stack {} ({} alive): the process has run "
                "out of memory mappings (vm.max_map_count; two per fiber stack)",
                created_, created_ - free_.size());
    FLOE_ASSERT(stack.bottom() >= stack.mapping + page_size(), "stack overlaps its guard page");
    stack.valgrind_id = VALGRIND_STACK_REGISTER(stack.bottom(), stack.top());
    unpoison(stack);
    return stack;
}

void StackPool::release(Stack stack) {
    FLOE_ASSERT(stack.usable_size == usable_size_, "stack returned to the wrong pool");
    free_.push_back(stack);
}

FContext make_context(const Stack& stack, void (*entry)(Transfer)) {
    return boost::context::detail::make_fcontext(stack.top(), stack.usable_size, entry);
}

}  // namespace sim
