package org.malloc4j.internal.arena;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.malloc4j.InvalidFreeException;

/**
 * A heap's open arenas, by scope: how {@code heap.free(segment)} tells a segment of one of its arenas (bound to
 * the arena's scope) from a plain heap segment (global scope), and hands it to its arena. Thread-safe; the lookup
 * takes no lock ({@link ScopeTable}).
 *
 * <p>An arena joins when it opens and leaves when it closes; an arena that is never closed stays here, with its
 * blocks, as a JDK arena that is never closed keeps its memory.
 */
public final class ArenaRegistry {
    private final ScopeTable open = new ScopeTable();
    /**
     * The arena of the last segment freed through the table: a program that frees segments of one arena finds it by
     * one compare, without the table's identity hash (about 5 ns of a 10 ns arena block, measured). A plain field:
     * a racing thread may read an older arena, which fails the compare with its scope (a final field), or a closed
     * one, whose {@code release} then refuses the segment as the table's miss would.
     */
    private HeapArena last;

    /** Makes an empty registry, for a new heap. */
    public ArenaRegistry() {}

    /**
     * Adds an arena that opens, and makes it the one found last: the arena opened most recently is the likeliest to
     * have its segments freed next, and a program of one arena then never takes the table's path at all. That matters
     * beyond the lookup: once the miss path (which writes {@link #last}) has run while C2 profiles a loop of
     * allocations and early frees, C2 compiles the write into the loop and reloads the arena's state for every block
     * (9 ns against 6 in JMH, see docs/benchmarks.md, "Arenas").
     */
    void add(HeapArena arena) {
        open.add(arena.scope(), arena);
        last = arena;
    }

    void remove(HeapArena arena) {
        open.remove(arena.scope());
        if (last == arena) last = null; // let a closed arena go
    }

    /**
     * The heap is closing: every open arena is told ({@link HeapArena#onHeapClosed()}), so that its later calls
     * throw {@link IllegalStateException} instead of handing out, or taking back, memory the heap has unmapped.
     */
    public void heapClosed() {
        for (HeapArena arena : open.arenas()) arena.onHeapClosed();
    }

    /**
     * {@return what each open arena that holds a heap block holds now, for a leak report: an arena never closed}
     */
    public List<HeapArena.Holding> holdings() {
        List<HeapArena.Holding> all = new ArrayList<>();
        for (HeapArena arena : open.arenas()) {
            HeapArena.Holding h = arena.holding();
            if (h.blocks().length > 0) all.add(h);
        }
        return all;
    }

    /**
     * Returns the number of open arenas.
     *
     * @return the number of open arenas
     */
    public int openArenas() {
        return open.size();
    }

    /** @return whether {@code scope} is the scope of an open arena of this heap (whose segments belong to it) */
    public boolean owns(MemorySegment.Scope scope) {
        return arenaOf(scope) != null;
    }

    /** @return the open arena of this heap whose scope is {@code scope}, or null; a table hit becomes {@link #last} */
    private HeapArena arenaOf(MemorySegment.Scope scope) {
        HeapArena arena = last;
        if (arena != null && arena.scope == scope) return arena;
        arena = open.get(scope);
        if (arena != null) last = arena;
        return arena;
    }

    /**
     * The step of {@code heap.free(segment)} that arenas need: when the segment's scope is an open arena of this
     * heap, the arena forgets the segment and its block, if it has one of its own, is freed here (an arena's block
     * is freed as one, {@link org.malloc4j.internal.BlockAllocator#freeArenaBlock}); otherwise the segment's own
     * address is returned, and the caller refuses it when the scope is closed ({@link #closedScope}). Takes the scope and the address rather than the segment, so that the segment does not
     * escape {@code heap.free} when this is not inlined.
     *
     * @param scope the segment's scope
     * @param address the segment's address
     * @return the address of the heap block to free, or 0 for an arena's segment (freed here)
     * @throws InvalidFreeException if the scope is an arena's of this heap but {@code address} is not one of its live
     *         segments
     * @throws WrongThreadException if the arena is confined to another thread
     */
    public long release(MemorySegment.Scope scope, long address) {
        HeapArena arena = arenaOf(scope);
        if (arena != null) {
            long block = arena.release(address); // 0 for a segment carved from a chunk: nothing to free
            if (block != 0) arena.core.freeArenaBlock(block);
            return 0;
        }
        return address;
    }

    /**
     * @return the refusal of a segment whose scope is closed, which is never freed: its memory was freed (on a CHECKED
     *         heap a segment from {@code allocate} has a scope of its own, closed when its block is freed; an arena's
     *         segments share the arena's), and its address may be another block's by now; or the program reinterpreted
     *         the segment into an arena of its own that has closed since, its block still live. {@code live} tells
     *         whether a live block of heap {@code heap} starts at {@code address} now, which the words say, so that
     *         they are true in both cases.
     */
    public static InvalidFreeException closedScope(long address, String heap, boolean live) {
        String hex = "0x" + Long.toHexString(address);
        if (!live) {
            return new InvalidFreeException(address, hex + " is a segment whose scope is closed: its block was already"
                    + " freed (by a free or reallocate of the segment, or when its arena closed); no live block of heap "
                    + heap + " starts there");
        }
        return new InvalidFreeException(address, hex + " is a segment whose scope is closed, and a live block of heap "
                + heap + " starts there, left as it is: either the segment's block was already freed and a new block"
                + " has its address now, or the segment was reinterpreted into an arena that has closed since and the"
                + " block is still its own (free it through its address, or a segment whose scope is alive)");
    }
}
