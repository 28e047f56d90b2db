package org.malloc4j.internal.sites;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Segments with a scope of their own per block, which serves two ends: the heap can make a segment inaccessible
 * when its block is freed (CHECKED mode), and it learns when the program drops every segment of a block it never
 * freed (GC-assisted leak detection, as Netty's leak detector does for its buffers).
 *
 * <p>A scoped segment's arena is shared, so that any thread may use the segment, and reachable only from the
 * segment: the arena is kept alive by the cleanup action it holds, which its own scope holds. The watch keeps a
 * weak reference to close it, and a {@link Cleaner} registered on the scope tells it when the cycle has become
 * unreachable. A watched segment (FAST mode, sampled blocks) uses an automatic arena whose cleanup does the same.
 */
public final class SegmentWatch {
    /** Called, on the cleaner's thread, for a block whose segments became unreachable while it was live. */
    public interface Sink {
        /**
         * @param address the block's program address
         * @param bytes the block's size as its segment had it (the program's bytes)
         * @param record its site record, or null
         * @param identity for a scoped segment, the block's header word when the segment was made (the block's
         *         generation in it), so that a block at the same address since is told apart; 0 when not known
         */
        void unreachable(long address, long bytes, SiteRecord record, long identity);
    }

    private static final class Holder {
        static final Cleaner CLEANER = Cleaner.create();
    }

    private final ConcurrentHashMap<Long, Guard> guards = new ConcurrentHashMap<>();
    private final Sink sink;

    public SegmentWatch(Sink sink) {
        this.sink = sink;
    }

    private static final class Guard {
        final WeakReference<Arena> arena;
        final SiteRecord record;
        final long identity;

        Guard(Arena arena, SiteRecord record, long identity) {
            this.arena = new WeakReference<>(arena);
            this.record = record;
            this.identity = identity;
        }
    }

    /** Keeps the arena reachable from its own scope (see the class comment); does nothing when run. */
    private record KeepAlive(Arena arena) implements Consumer<MemorySegment> {
        @Override
        public void accept(MemorySegment segment) {}
    }

    /**
     * @return a segment of {@code size} bytes at {@code address} whose scope {@link #close} closes; {@code identity}
     *         tells the block apart from a later one at the same address (see {@link Sink#unreachable})
     */
    public MemorySegment scoped(long address, long size, SiteRecord record, long identity) {
        Arena arena = Arena.ofShared();
        MemorySegment segment = MemorySegment.ofAddress(address).reinterpret(size, arena, new KeepAlive(arena));
        Guard guard = new Guard(arena, record, identity);
        guards.put(address, guard);
        Holder.CLEANER.register(segment.scope(), () -> {
            if (guards.remove(address, guard)) sink.unreachable(address, size, guard.record, guard.identity);
        });
        return segment;
    }

    /**
     * @return a segment of {@code size} bytes at {@code address} (a sampled block) that reports the block when it
     *         becomes unreachable while {@code record} is still its live record in {@code sites}
     */
    public MemorySegment watched(long address, long engineAddress, long size, SiteRecord record, SiteRecorder sites) {
        // A realloc in place hands the program a new segment over the same block and record: only the newest
        // segment's cleanup may report the block, or dropping the old segment would report (and reclaim) a block
        // the program still uses through the new one.
        Object token = new Object();
        record.watchedBy(token);
        return MemorySegment.ofAddress(address).reinterpret(size, Arena.ofAuto(), ignored -> {
            if (sites.get(engineAddress) == record && record.claimWatch(token)) {
                sink.unreachable(address, size, record, 0);
            }
        });
    }

    /**
     * Closes every open scope, for a heap that closes with blocks still live: their segments then throw
     * {@link IllegalStateException} instead of reaching memory the heap has given back. A scope that another thread
     * is using at this very moment (a program that races its heap's close) stays open.
     */
    public void closeAll() {
        for (Long address : guards.keySet()) {
            try {
                close(address);
            } catch (IllegalStateException e) {
                guards.remove(address); // in use right now: the program's race with close, not the heap's to settle
            }
        }
    }

    /** @return true when some scoped segment is open (a cheap test before {@link #close}) */
    public boolean isEmpty() {
        return guards.isEmpty();
    }

    /**
     * Closes the scope of the block at {@code address}, if it has one, so that its segments can no longer be
     * accessed. Throws IllegalStateException, keeping the scope, when another thread is using a segment right now.
     */
    public void close(long address) {
        Guard guard = guards.remove(address);
        if (guard == null) return;
        Arena arena = guard.arena.get();
        if (arena == null) return;
        try {
            arena.close();
        } catch (IllegalStateException e) {
            guards.put(address, guard);
            throw e;
        }
    }
}
