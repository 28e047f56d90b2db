package org.malloc4j.internal.arena;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.malloc4j.internal.BlockAllocator;

/**
 * A heap arena confined to the thread that created it, like {@link Arena#ofConfined()}: only that thread may
 * allocate, free its segments early or close it ({@link WrongThreadException} otherwise), and only that thread may
 * access its segments. No locks: the owner check is the only guard of the map.
 */
public final class ConfinedHeapArena extends HeapArena {
    private final Thread owner;
    /** {@link #OPEN}, {@link #CLOSED} or {@link #HEAP_CLOSED}. */
    private int state;
    /**
     * The owner while the arena is open, null once it is not: allocate and an early free test this one field
     * against the calling thread (one load and one compare where owner and state took two of each, on a path of a
     * few dozen instructions); {@link #refuse} then says which of the two failed.
     */
    private Thread openOwner;

    /**
     * Opens an arena owned by the calling thread and registers it, so that {@code heap.free(segment)} finds it.
     *
     * @param core the heap the blocks come from
     * @param registry the heap's open arenas
     * @param carve whether small segments are carved from chunks (else every segment is a heap block of its own)
     */
    public ConfinedHeapArena(BlockAllocator core, ArenaRegistry registry, boolean carve) {
        super(core, registry, Arena.ofConfined(), carve);
        this.owner = Thread.currentThread();
        this.openOwner = owner;
        registry.add(this);
    }

    /**
     * Returns a segment of exactly {@code byteSize} bytes, aligned to {@code byteAlignment} and bound to this arena's
     * scope: carved from a chunk when small, else over a heap block of its own. Its contents are not initialized (the
     * JDK's arenas zero theirs).
     *
     * @throws IllegalArgumentException if {@code byteSize} is negative or {@code byteAlignment} is not a power of two
     *         or is more than half the heap's reservation (as the heap's own {@code allocate})
     * @throws org.malloc4j.HeapExhaustedException if the heap cannot hold the block
     * @throws IllegalStateException if the arena or the heap is closed
     * @throws WrongThreadException if the caller is not the thread that created the arena
     */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        if (Thread.currentThread() != openOwner) throw refuse();
        // One test accepts a carved segment's arguments (a negative size or a bad alignment fails it too).
        if (carvesValid(byteSize, byteAlignment)) return segment(carver.allocate(byteSize, byteAlignment), byteSize);
        checkAllocation(byteSize, byteAlignment);
        long block = takeBlock(byteSize, byteAlignment);
        long address = segmentAddress(block, byteAlignment);
        blocks.put(address, block);
        return segment(address, byteSize);
    }

    @Override
    public long release(long address) {
        if (Thread.currentThread() != openOwner) {
            checkOwner();
            throw state == CLOSED ? closedArena(address) : heapIsClosed();
        }
        return forget(address);
    }

    @Override
    public int liveSegments() {
        checkOwner();
        return countLive();
    }

    /** Without the owner's check: a leak report reads the arena from whichever thread asks for it. */
    @Override
    public Holding holding() {
        return look();
    }

    /**
     * Closes the arena: its segments become inaccessible, then its chunks and every block not yet freed go back to
     * the heap, in time proportional to their number.
     *
     * @throws IllegalStateException if the arena is already closed, or a segment of it is in use by a downcall
     *         (the arena is then left open)
     * @throws WrongThreadException if the caller is not the thread that created the arena
     * @throws RuntimeException what a cleanup action attached to the arena threw: the arena is closed and its memory
     *         given back all the same
     */
    @Override
    public void close() {
        checkOwner();
        if (state == CLOSED) throw alreadyClosed(this);
        Throwable failed = closeScope(); // throws, changing nothing, while a segment is held by a downcall
        state = CLOSED;
        openOwner = null;
        registry.remove(this);
        freeAll(failed); // and throws what a cleanup action threw, if one did
    }

    @Override
    void onHeapClosed() {
        if (state == OPEN) state = HEAP_CLOSED;
        openOwner = null;
    }

    /** Why {@link #openOwner} did not match: the wrong thread, or an arena (or heap) that is closed. */
    private RuntimeException refuse() {
        checkOwner();
        return notOpen(state);
    }

    private void checkOwner() {
        if (Thread.currentThread() != owner) {
            throw new WrongThreadException("Attempted access outside owning thread: " + this + " belongs to "
                    + owner + ", not to " + Thread.currentThread());
        }
    }

    @Override
    public String toString() {
        return "confined arena of heap " + core.name() + " (owner " + owner.getName() + ")";
    }
}
