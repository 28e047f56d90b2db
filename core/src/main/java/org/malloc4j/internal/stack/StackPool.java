package org.malloc4j.internal.stack;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A bounded, lock-free pool of idle stack blocks (their addresses): where a virtual thread's stack borrows its
 * block on its outermost push and gives it back on its outermost pop, and where blocks of ended platform threads
 * wait for a new stack.
 *
 * <p>Each slot holds an address or 0, one slot per cache line (so that threads taking and giving blocks in
 * different slots do not share a line). {@link #poll()} and {@link #offer(long)} scan from a slot chosen by the
 * caller's thread id and claim a slot with one compare-and-set. A block is in at most one slot, so the ABA case
 * (a slot emptied and refilled with the same block between a read and a CAS) hands out a block that is idle, which is
 * correct. The CAS is a volatile access; nothing but the address is published through the pool (a stack's
 * contents mean nothing to the next stack).
 */
final class StackPool {
    /** Longs per slot: 64 bytes, one cache line. */
    private static final int STRIDE = 8;

    private final AtomicLongArray slots;
    private final int capacity;

    /** @param capacity the most idle blocks kept; a power of two */
    StackPool(int capacity) {
        if (Integer.bitCount(capacity) != 1) throw new IllegalArgumentException("capacity must be a power of two");
        this.capacity = capacity;
        this.slots = new AtomicLongArray(capacity * STRIDE);
    }

    /** @return the most idle blocks the pool keeps */
    int capacity() {
        return capacity;
    }

    /** @return an idle block's address, now the caller's, or 0 when the pool is empty */
    long poll() {
        int start = start();
        for (int n = 0; n < capacity; n++) {
            int i = ((start + n) & (capacity - 1)) * STRIDE;
            long block = slots.get(i);
            if (block != 0 && slots.compareAndSet(i, block, 0)) return block;
        }
        return 0;
    }

    /** @return true when the pool took {@code block}; false when it is full and the caller keeps it */
    boolean offer(long block) {
        int start = start();
        for (int n = 0; n < capacity; n++) {
            int i = ((start + n) & (capacity - 1)) * STRIDE;
            if (slots.get(i) == 0 && slots.compareAndSet(i, 0, block)) return true;
        }
        return false;
    }

    /** Gives {@code each} the idle blocks now (a racy look). */
    void forEachIdle(java.util.function.LongConsumer each) {
        for (int n = 0; n < capacity; n++) {
            long block = slots.get(n * STRIDE);
            if (block != 0) each.accept(block);
        }
    }

    /** @return the number of idle blocks now (a racy count) */
    int idle() {
        int count = 0;
        for (int n = 0; n < capacity; n++) {
            if (slots.get(n * STRIDE) != 0) count++;
        }
        return count;
    }

    private int start() {
        return (int) Thread.currentThread().threadId() & (capacity - 1);
    }
}
