package org.malloc4j.internal.arena;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.ReentrantLock;
import org.malloc4j.internal.BlockAllocator;

/**
 * A heap arena that any thread may use, like {@link Arena#ofShared()}. One lock guards the carver, the map and the
 * state; the heap calls for segments of their own (malloc and free) run outside it, a new chunk's inside.
 *
 * <p>Why each step is safe against a concurrent {@link #close()}: {@code allocate} adds its block under the lock
 * only if the arena is still open (otherwise it gives the block back and throws), so {@code close}, which sets
 * {@code state} under the same lock, sees every block added before and none after; a segment made after
 * {@code close} closed the JDK scope is refused by the JDK ({@link IllegalStateException}), and its block has been
 * freed by {@code close}. {@code close} closes the JDK scope first, which waits for every thread to stop accessing
 * the segments (the JDK's handshake), then frees the blocks: no thread can touch a freed block through a segment.
 */
public final class SharedHeapArena extends HeapArena {
    private final ReentrantLock lock = new ReentrantLock();
    /**
     * {@link #OPEN}, {@link #CLOSED} or {@link #HEAP_CLOSED}; written under {@link #lock}, read without it only by
     * {@code allocate}'s early refusal of a closed arena.
     */
    private volatile int state;

    /**
     * Opens a shared arena and registers it, so that {@code heap.free(segment)} finds it.
     *
     * @param core the heap the blocks come from
     * @param registry the heap's open arenas
     * @param carve whether small segments are carved from chunks (else every segment is a heap block of its own)
     */
    public SharedHeapArena(BlockAllocator core, ArenaRegistry registry, boolean carve) {
        super(core, registry, Arena.ofShared(), carve);
        registry.add(this);
    }

    /**
     * Returns a segment of exactly {@code byteSize} bytes, aligned to {@code byteAlignment} and bound to this arena's
     * scope: carved from a chunk when small, else over a heap block of its own; thread-safe. Its contents are not
     * initialized.
     *
     * @throws IllegalArgumentException if {@code byteSize} is negative or {@code byteAlignment} is not a power of two
     *         or is more than half the heap's reservation (as the heap's own {@code allocate})
     * @throws org.malloc4j.HeapExhaustedException if the heap cannot hold the block
     * @throws IllegalStateException if the arena or the heap is closed
     */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        checkAllocation(byteSize, byteAlignment);
        if (carves(byteSize, byteAlignment)) {
            long address;
            lock.lock();
            try {
                if (state != OPEN) throw notOpen(state);
                address = carver.allocate(byteSize, byteAlignment);
            } finally {
                lock.unlock();
            }
            return segment(address, byteSize);
        }
        int before = state; // a closed arena takes no block (and throws no HeapExhaustedException for one)
        if (before != OPEN) throw notOpen(before);
        long block = takeBlock(byteSize, byteAlignment);
        long address = segmentAddress(block, byteAlignment);
        int seen;
        lock.lock();
        try {
            seen = state;
            if (seen == OPEN) blocks.put(address, block);
        } finally {
            lock.unlock();
        }
        if (seen != OPEN) {
            if (seen == CLOSED) core.freeArenaBlock(block);
            throw notOpen(seen);
        }
        return segment(address, byteSize);
    }

    @Override
    public long release(long address) {
        lock.lock();
        try {
            if (state != OPEN) throw state == CLOSED ? closedArena(address) : heapIsClosed();
            return forget(address);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int liveSegments() {
        lock.lock();
        try {
            // Closed: none, though close() may still be freeing them outside the lock (and the carver's arrays are
            // then half emptied)
            if (state == CLOSED) return 0;
            return countLive();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Holding holding() {
        lock.lock();
        try {
            return look(); // closed: its blocks are being freed, each found freed (or counted, if not yet)
        } finally {
            lock.unlock();
        }
    }

    /**
     * Closes the arena from any thread: its segments become inaccessible to every thread, then its chunks and every
     * block not yet freed go back to the heap, in time proportional to their number.
     *
     * @throws IllegalStateException if the arena is already closed, or a segment of it is in use by a downcall
     *         (the arena is then left open)
     * @throws RuntimeException what a cleanup action attached to the arena threw: the arena is closed and its memory
     *         given back all the same
     */
    @Override
    public void close() {
        Throwable failed;
        lock.lock();
        try {
            if (state == CLOSED) throw alreadyClosed(this);
            failed = closeScope(); // throws, changing nothing, while a segment is held by a downcall
            state = CLOSED;
        } finally {
            lock.unlock();
        }
        // Nothing changes the map once the state is CLOSED: free the blocks outside the lock.
        registry.remove(this);
        freeAll(failed); // and throws what a cleanup action threw, if one did
    }

    @Override
    void onHeapClosed() {
        lock.lock();
        try {
            if (state == OPEN) state = HEAP_CLOSED;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "shared arena of heap " + core.name();
    }
}
