package org.malloc4j.internal.arena;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.stream.LongStream;
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
 * <p><b>Segments.</b> A segment of up to 4 KiB is carved out of a chunk of the heap ({@link ChunkCarver}: 4 KiB
 * doubling to 64 KiB, bump allocation, early frees recycled by size class within the arena), when the arena was
 * opened with carving (FAST heaps: a CHECKED heap gives every segment a block of its own, with its red zones and
 * quarantine). The heap's statistics count the chunks, not the segments in them. A larger or more aligned segment is
 * a heap block of its own, which it does not start: it starts {@code offset = max(16, alignment)} bytes in (the block
 * is {@code max(byteSize, 1) + offset} bytes, aligned to {@code offset}); the arena maps each such segment's address
 * to its block ({@link AddressMap}). Either way a segment's address is never the start of a heap block, so
 * {@code heap.free(segment.address())} or {@code heap.realloc} on it is rejected by the heap's own validation
 * ({@link InvalidFreeException}, "inside the block at ...") instead of freeing memory that the arena would free again
 * when it closes, possibly after it had been reused by someone else. The blocks themselves, chunks and segments'
 * blocks, are held ({@link BlockAllocator#arenaBlock}, {@link BlockAllocator#arenaChunk}): {@code heap.free} of a
 * block's own address is refused too. {@code heap.free(segment)} finds the arena by
 * the segment's scope ({@link ArenaRegistry}) and frees the segment early; {@link #close()} frees what is left, in
 * time proportional to the arena's chunks and own blocks.
 */
public abstract sealed class HeapArena implements Arena permits ConfinedHeapArena, SharedHeapArena {
    /** The arena's states: open; closed; or still open but its heap closed (its memory is gone). */
    static final int OPEN = 0, CLOSED = 1, HEAP_CLOSED = 2;

    /** The heap the blocks come from. */
    final BlockAllocator core;
    /** Where {@code heap.free(segment)} finds this arena; the arena leaves it when it closes. */
    final ArenaRegistry registry;
    /** The JDK arena that lends its scope to every segment; it never allocates. */
    final Arena inner;
    /** {@code inner.scope()}, kept: {@link ArenaRegistry} compares it on every early free. */
    final MemorySegment.Scope scope;
    /**
     * All of memory, in this arena's scope: every segment is a slice of it. Slicing is cheaper than
     * {@code MemorySegment.reinterpret}, which is caller-sensitive (a stack walk each call unless C2 inlines it).
     */
    private final MemorySegment span;
    /** Segment address to block address, for every segment that is a heap block of its own and is not yet freed. */
    final AddressMap blocks = new AddressMap();
    /**
     * Where the small segments are carved from. Never null: an arena whose every segment is a block of its own has a
     * carver that carves nothing ({@link ChunkCarver#carvesValid}), so the paths test no reference.
     */
    final ChunkCarver carver;

    HeapArena(BlockAllocator core, ArenaRegistry registry, Arena inner, boolean carve) {
        if (core.isClosed()) {
            inner.close();
            throw new IllegalStateException("heap " + core.name() + " is closed");
        }
        this.core = core;
        this.registry = registry;
        this.inner = inner;
        this.scope = inner.scope();
        this.span = spanOf(inner);
        this.carver = new ChunkCarver(core, carve);
    }

    @SuppressWarnings("restricted")
    private static MemorySegment spanOf(Arena scope) {
        return MemorySegment.NULL.reinterpret(Long.MAX_VALUE, scope, null);
    }

    @Override
    public final MemorySegment.Scope scope() {
        return scope;
    }

    /**
     * Takes one segment out of this arena before the arena closes, the arena's part of {@code heap.free(segment)}:
     * the arena forgets it, and the caller must free the block returned.
     *
     * @param address the segment's address
     * @return the address of the segment's heap block, which the caller frees, or 0 when the segment was carved
     *         from a chunk (the arena keeps its memory for later segments and frees it when it closes)
     * @throws InvalidFreeException if {@code address} is not the start of a live segment of this arena
     * @throws WrongThreadException if the arena is confined and the caller is not its owner
     */
    public abstract long release(long address);

    /**
     * {@return the number of this arena's live segments: allocated, not freed early, and the arena not closed}
     * For tests and diagnostics: the heap's own statistics count an arena's chunks, not its segments.
     */
    public abstract int liveSegments();

    /**
     * What an arena not closed holds, for a leak report: the program's segments, and the heap blocks behind them,
     * which the heap's own figures count instead (an arena's chunks are blocks of the heap's, not of the program's).
     *
     * @param arena the arena, in words
     * @param segments its live segments
     * @param segmentBytes their bytes: a segment carved from a chunk counts its arena class's size, one that is a
     *        block of its own its size (at least 1 byte in FAST mode)
     * @param blocks the heap blocks it holds: its chunks and its larger segments' blocks
     * @param heldBytes the bytes the heap's live figures count for those blocks ({@link BlockAllocator#heldBytes})
     */
    public record Holding(String arena, long segments, long segmentBytes, long[] blocks, long heldBytes) {}

    /**
     * {@return what this arena holds now, for a leak report} Exact when no other thread uses the arena meanwhile;
     * a confined arena is read from any thread, a racy look that never throws (as the report's other figures are).
     */
    public abstract Holding holding();

    /** {@link #holding()}, the caller guarding the arena when it is shared. */
    final Holding look() {
        LongStream.Builder chunks = LongStream.builder(), taken = LongStream.builder();
        long[] carved = carver.look(chunks);
        long segments = carved[0], bytes = carved[1], held = 0;
        for (long base : chunks.build().toArray()) {
            long size = core.heldBytes(base);
            if (size < 0) continue; // freed meanwhile: the arena is closing
            taken.add(base);
            held += size;
        }
        long[] own = blocks.entries(); // {segment, its block} pairs
        for (int i = 0; i + 1 < own.length; i += 2) {
            long size = core.heldBytes(own[i + 1]);
            if (size < 0) continue;
            taken.add(own[i + 1]);
            held += size;
            segments++;
            bytes += Math.max(0, size - (own[i] - own[i + 1])); // the block less the offset the segment starts at
        }
        return new Holding(toString(), segments, bytes, taken.build().toArray(), held);
    }

    /**
     * @return whether the arguments are valid ({@link #checkAllocation}) and carved from a chunk: the fast path's one
     *         test; when false, the caller checks the arguments, and valid ones make a heap block of their own
     */
    final boolean carvesValid(long byteSize, long byteAlignment) {
        return carver.carvesValid(byteSize, byteAlignment);
    }

    /** @return whether a segment of this size and alignment is carved from a chunk */
    final boolean carves(long byteSize, long byteAlignment) {
        return carver.carves() && ChunkCarver.carves(byteSize, byteAlignment);
    }

    /**
     * The heap is closing: an open arena's later calls throw {@link IllegalStateException}, and its {@code close}
     * only forgets its memory. Checked in the arena's one state test, so neither an allocation nor an early free
     * pays for a look at the heap (a chunk can still have room after the heap unmapped it). The heap's
     * {@code close} must not race with other calls, so a plain write is seen.
     */
    abstract void onHeapClosed();

    /** What a call on an arena that is not open throws: "Already closed", or that the heap is closed. */
    final IllegalStateException notOpen(int state) {
        return state == CLOSED ? alreadyClosed(this) : heapIsClosed();
    }

    final IllegalStateException heapIsClosed() {
        return new IllegalStateException("heap " + core.name() + " is closed");
    }

    /** Segments counted by {@link #liveSegments()}; the caller guards the arena. */
    final int countLive() {
        return blocks.size() + carver.live();
    }

    /**
     * Forgets a segment freed early; the caller guards the arena and checked it is open.
     *
     * @return the heap block to free, or 0 when the segment was carved (its memory stays with the arena)
     * @throws InvalidFreeException if {@code address} is not the start of a live segment of this arena
     */
    final long forget(long address) {
        int result = carver.release(address); // NOT_CARVED from a carver that carves nothing
        if (result == ChunkCarver.FREED) return 0;
        if (result == ChunkCarver.INVALID) throw notABlock(address);
        long block = blocks.remove(address);
        if (block == 0) throw notABlock(address);
        return block;
    }

    /** Checks the arguments of {@code allocate} as the JDK's arenas do. */
    static void checkAllocation(long byteSize, long byteAlignment) {
        if (byteSize < 0) throw new IllegalArgumentException("byteSize must be non-negative: " + byteSize);
        if (byteAlignment <= 0 || (byteAlignment & (byteAlignment - 1)) != 0) {
            throw new IllegalArgumentException("byteAlignment must be a power of two: " + byteAlignment);
        }
    }

    /**
     * @return the block for a segment of {@code byteSize} bytes: the segment starts {@link #segmentAddress} bytes
     *         into it
     */
    final long takeBlock(long byteSize, long byteAlignment) {
        return core.arenaBlock(byteAlignment, byteSize);
    }

    /**
     * @return where the segment of a block from {@link #takeBlock} starts: into its block in FAST mode, so that its
     *         address is no heap block's; at its start in CHECKED mode, whose header marks the block as an arena's
     */
    final long segmentAddress(long block, long byteAlignment) {
        return block + core.arenaOffset(byteAlignment);
    }

    /** @return a segment of {@code byteSize} bytes at {@code address}, bound to this arena's scope */
    final MemorySegment segment(long address, long byteSize) {
        return span.asSlice(address, byteSize);
    }

    /**
     * Closes the JDK scope, the first step of {@code close}. It throws with the scope still open when a segment is
     * held by a downcall: nothing has changed, and that is thrown here. It throws with the scope closed when a cleanup
     * action attached to the arena ({@code segment.reinterpret(size, arena, cleanup)}) failed: every segment is
     * inaccessible already and the JDK will not close the scope again, so the arena must close all the same; that is
     * returned, for {@link #freeAll(Throwable)} to throw once the memory is back.
     *
     * @return what a cleanup action threw, or null
     */
    final Throwable closeScope() {
        try {
            inner.close();
            return null;
        } catch (RuntimeException | Error e) {
            if (scope.isAlive()) throw e;
            return e;
        }
    }

    /**
     * {@link #freeAll()}, then throws {@code failed} (what {@link #closeScope} returned) unless it is null, with what
     * the frees threw suppressed in it.
     */
    final void freeAll(Throwable failed) {
        if (failed == null) {
            freeAll();
            return;
        }
        try {
            freeAll();
        } catch (RuntimeException e) {
            failed.addSuppressed(e);
        }
        if (failed instanceof Error e) throw e;
        throw (RuntimeException) failed;
    }

    /** Gives every chunk and block still held back to the heap (unless the heap is gone) and forgets them. */
    final void freeAll() {
        boolean giveBack = !core.isClosed();
        FreeEach free = new FreeEach();
        if (giveBack) blocks.forEachValue(free.with(core::freeArenaBlock));
        blocks.clear();
        carver.freeAll(giveBack ? free.with(core::freeArenaBlock) : null); // chunks are the arena's blocks too
        free.rethrow();
    }

    final InvalidFreeException notABlock(long address) {
        return new InvalidFreeException(address, "0x" + Long.toHexString(address) + " is not a live segment of "
                + this + ": it was freed already, it is inside a segment, not at its start, or it is not this"
                + " arena's (a segment of another arena or of the heap, reinterpreted into this arena's scope)");
    }

    final InvalidFreeException closedArena(long address) {
        return new InvalidFreeException(address, "0x" + Long.toHexString(address) + " belongs to " + this
                + ", which is closed: closing it freed all its blocks");
    }

    static IllegalStateException alreadyClosed(HeapArena arena) {
        return new IllegalStateException("Already closed: " + arena);
    }
}
