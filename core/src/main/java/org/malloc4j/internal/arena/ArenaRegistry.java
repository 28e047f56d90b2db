package org.malloc4j.internal.arena;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;
import org.malloc4j.InvalidFreeException;

/**
 * A heap's open arenas, by scope: how {@code heap.free(segment)} tells a segment of one of its arenas (bound to
 * the arena's scope) from a plain heap segment (global scope), and hands it to its arena. Thread-safe.
 *
 * <p>An arena joins when it opens and leaves when it closes; an arena that is never closed stays here, with its
 * blocks, as a JDK arena that is never closed keeps its memory.
 */
public final class ArenaRegistry {
    private final ConcurrentHashMap<MemorySegment.Scope, HeapArena> open = new ConcurrentHashMap<>();

    void add(HeapArena arena) {
        open.put(arena.scope(), arena);
    }

    void remove(HeapArena arena) {
        open.remove(arena.scope(), arena);
    }

    /** @return the number of open arenas */
    public int openArenas() {
        return open.size();
    }

    /**
     * Frees {@code segment} through its arena when it is a segment of an open arena of this heap.
     *
     * @return true when an arena of this heap freed it; false when it is not an arena's segment, and the heap
     *         should free its address itself
     * @throws InvalidFreeException if the segment's scope is closed (its arena freed its memory when it closed), or
     *         if it belongs to an arena of this heap but is not one of its live segments
     * @throws WrongThreadException if its arena is confined to another thread
     */
    public boolean free(MemorySegment segment) {
        MemorySegment.Scope scope = segment.scope();
        HeapArena arena = open.get(scope);
        if (arena != null) {
            arena.free(segment.address());
            return true;
        }
        if (!scope.isAlive()) {
            throw new InvalidFreeException(segment.address(), "0x" + Long.toHexString(segment.address())
                    + " is a segment of a closed arena: closing the arena freed its memory");
        }
        return false;
    }
}
