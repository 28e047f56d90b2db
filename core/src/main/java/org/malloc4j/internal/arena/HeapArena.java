package org.malloc4j.internal.arena;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.malloc4j.HeapExhaustedException;
import org.malloc4j.InvalidFreeException;
import org.malloc4j.internal.BlockAllocator;

/**
 * An {@link Arena} whose segments are blocks of a malloc4j heap: {@link org.malloc4j.Heap#newArena()} and
 * {@link org.malloc4j.Heap#newSharedArena()}. The two kinds differ only in who may call them:
 * {@link ConfinedHeapArena} (the creating thread) and {@link SharedHeapArena} (any thread, under a lock).
 *
 * <p><b>Scope.</b> The arena keeps a JDK arena of the same kind for its scope alone: every segment is bound to
 * that scope, so closing it makes every segment inaccessible (the JDK throws {@link IllegalStateException}) before
 * the blocks go back to the heap. The JDK arena allocates nothing.
 *
 * <p><b>Blocks.</b> A segment does not start at its block: it starts {@code offset = max(16, alignment)} bytes in
 * (the block is {@code max(byteSize, 1) + offset} bytes, aligned to {@code offset}). So the segment's address is
 * never the start of a heap block, and {@code heap.free(segment.address())} or {@code heap.realloc} on it is
 * rejected by the heap's own validation ({@link InvalidFreeException}, "inside the block at ...") instead of
 * freeing a block that the arena would free again when it closes, possibly after it had been reused by someone
 * else. The price is 16 bytes a block (the alignment, above 16). The arena maps each segment's address to its block
 * ({@link AddressMap}): {@code heap.free(segment)} finds the arena by the segment's scope ({@link ArenaRegistry})
 * and frees the block early; {@link #close()} frees what is left, in time proportional to the arena's blocks.
 */
public abstract sealed class HeapArena implements Arena permits ConfinedHeapArena, SharedHeapArena {
    /** The heap the blocks come from. */
    final BlockAllocator core;
    /** Where {@code heap.free(segment)} finds this arena; the arena leaves it when it closes. */
    final ArenaRegistry registry;
    /** The JDK arena that lends its scope to every segment; it never allocates. */
    final Arena inner;
    /**
     * All of memory, in this arena's scope: every segment is a slice of it. Slicing is cheaper than
     * {@code MemorySegment.reinterpret}, which is caller-sensitive (a stack walk each call unless C2 inlines it).
     */
    private final MemorySegment span;
    /** Segment address to block address, for every block allocated and not yet freed. */
    final AddressMap blocks = new AddressMap();

    HeapArena(BlockAllocator core, ArenaRegistry registry, Arena inner) {
        if (core.isClosed()) {
            inner.close();
            throw new IllegalStateException("heap " + core.name() + " is closed");
        }
        this.core = core;
        this.registry = registry;
        this.inner = inner;
        this.span = spanOf(inner);
    }

    @SuppressWarnings("restricted")
    private static MemorySegment spanOf(Arena scope) {
        return MemorySegment.NULL.reinterpret(Long.MAX_VALUE, scope, null);
    }

    @Override
    public final MemorySegment.Scope scope() {
        return inner.scope();
    }

    /**
     * Takes one segment out of this arena before the arena closes, the arena's part of {@code heap.free(segment)}:
     * the arena forgets it, and the caller must free the block returned.
     *
     * @param address the segment's address
     * @return the address of the segment's heap block, which the caller frees
     * @throws InvalidFreeException if {@code address} is not the start of a live segment of this arena
     * @throws WrongThreadException if the arena is confined and the caller is not its owner
     */
    public abstract long release(long address);

    /** Checks the arguments of {@code allocate} as the JDK's arenas do. */
    static void checkAllocation(long byteSize, long byteAlignment) {
        if (byteSize < 0) throw new IllegalArgumentException("byteSize must be non-negative: " + byteSize);
        if (byteAlignment <= 0 || (byteAlignment & (byteAlignment - 1)) != 0) {
            throw new IllegalArgumentException("byteAlignment must be a power of two: " + byteAlignment);
        }
    }

    /** @return how far into its block a segment of this alignment starts: a multiple of the alignment, at least 16 */
    static long offset(long byteAlignment) {
        return Math.max(16, byteAlignment);
    }

    /** Takes a block for a segment of {@code byteSize} bytes that starts {@code offset} bytes into it. */
    final long takeBlock(long byteSize, long offset) {
        if (byteSize > Long.MAX_VALUE - offset - 1) {
            throw new HeapExhaustedException(byteSize, "heap " + core.name() + " cannot allocate " + byteSize
                    + " bytes for an arena");
        }
        long request = Math.max(byteSize, 1) + offset; // at least one byte past the offset: never the next block
        return offset == 16 ? core.malloc(request) : core.alignedAlloc(offset, request);
    }

    /** @return a segment of {@code byteSize} bytes at {@code address}, bound to this arena's scope */
    final MemorySegment segment(long address, long byteSize) {
        return span.asSlice(address, byteSize);
    }

    /** Gives every block still held back to the heap (unless the heap is gone) and empties the map. */
    final void freeAll() {
        if (!core.isClosed()) blocks.forEachValue(core::free);
        blocks.clear();
    }

    final InvalidFreeException notABlock(long address) {
        return new InvalidFreeException(address, "0x" + Long.toHexString(address) + " is not a live segment of "
                + this + ": it was freed already, or it is inside a segment, not at its start");
    }

    final InvalidFreeException closedArena(long address) {
        return new InvalidFreeException(address, "0x" + Long.toHexString(address) + " belongs to " + this
                + ", which is closed: closing it freed all its blocks");
    }

    static IllegalStateException alreadyClosed(HeapArena arena) {
        return new IllegalStateException("Already closed: " + arena);
    }
}
