package org.malloc4j.bench;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.netty.util.internal.PlatformDependent;
import java.lang.foreign.Arena;
import java.util.Locale;
import org.malloc4j.Heap;
import org.malloc4j.HeapMode;
import org.malloc4j.HeapStats;
import org.malloc4j.anchors.Allocator;
import org.malloc4j.anchors.NativeAllocator;

/**
 * One allocator under test, behind the two calls the benchmarks need, so that every allocator runs the same driver
 * code. A block is named by a slot number (0 to {@code slots - 1}) as well as its address: malloc4j and the native
 * anchors ignore the slot, while Netty and Arena keep the object that owns the block (a {@code ByteBuf}, an
 * {@code Arena}) in the slot, because that object, not the address, is what gives the block back.
 *
 * <p>Each benchmark fork opens exactly one subject, so the calls below are monomorphic there and C2 inlines them.
 * (With {@code -f 0} every subject shares one JVM, the call sites go megamorphic and the figures are worthless.)
 */
public abstract sealed class Subject implements AutoCloseable {
    /** Every name {@link #open} accepts, in the order the benchmarks' {@code allocator} parameter lists them. */
    public static final String[] NAMES = {"malloc4j", "glibc", "jemalloc", "mimalloc", "tcmalloc", "nettyPooled",
            "nettyAdaptive", "arena"};
    /** malloc4j with diagnostics on, accepted by {@link #open} but not run by default: {@code -p allocator=...}. */
    public static final String[] DIAGNOSTIC_NAMES = {"malloc4jChecked", "malloc4jSites", "floor"};

    /** Allocates a block of {@code size} bytes for slot {@code slot}; returns its address (never 0). */
    public abstract long allocate(int slot, long size);

    /** Frees the block at {@code address} held in slot {@code slot}. */
    public abstract void free(int slot, long address);

    /**
     * Resizes the block of {@code oldSize} bytes at {@code address} held in slot {@code slot} to {@code newSize}
     * bytes, keeping its first {@code min(oldSize, newSize)} bytes; returns its address (the block may have moved).
     * malloc4j and the native anchors call their {@code realloc}, Netty a buffer's {@code capacity(newSize)}, and
     * Arena, which cannot resize, does what its user must: a new arena and block, a copy, the old arena closed.
     */
    public abstract long reallocate(int slot, long address, long oldSize, long newSize);

    @Override
    public void close() {}

    /**
     * What the allocator says about its own memory, for a benchmark to print at teardown; null when it says nothing
     * (the native anchors and Arena). Never called on a measured path.
     */
    public String memoryReport() {
        return null;
    }

    /**
     * {@link #open}, then for a Netty pool prints its status and the calling thread's (whether its thread cache is on),
     * which a JMH benchmark's log should show: a benchmark's trial setup.
     */
    public static Subject openTelling(String name, int slots) {
        Subject s = open(name, slots);
        if (name.startsWith("netty")) System.out.println(nettyStatus() + "; " + threadStatus());
        return s;
    }

    /**
     * @param name one of {@link #NAMES}
     * @param slots how many blocks may be live at once
     * @return the subject, ready to use
     * @throws UnavailableException if it cannot run here, saying why (a missing library, a missing environment
     *         variable, Netty without its Unsafe path)
     */
    public static Subject open(String name, int slots) {
        return switch (name) {
            case "malloc4j" -> new Malloc4j(Heap.create());
            // The diagnostics' costs: CHECKED mode, and allocation sites sampled at jemalloc's default rate.
            case "malloc4jChecked" -> new Malloc4j(checkedHeap());
            case "malloc4jSites" -> new Malloc4j(sitesHeap());
            case "glibc" -> nativeAnchor(NativeAllocator.Kind.GLIBC);
            case "jemalloc" -> nativeAnchor(NativeAllocator.Kind.JEMALLOC);
            case "mimalloc" -> nativeAnchor(NativeAllocator.Kind.MIMALLOC);
            case "tcmalloc" -> nativeAnchor(NativeAllocator.Kind.TCMALLOC);
            case "nettyPooled" -> new Netty(checkNetty(name, new PooledByteBufAllocator(true)), slots);
            case "nettyAdaptive" -> new Netty(checkNetty(name, new AdaptiveByteBufAllocator(true, true)), slots);
            case "arena" -> new ConfinedArena(slots);
            case "floor" -> new Floor(slots);
            default -> throw new IllegalArgumentException("unknown allocator '" + name + "': expected one of "
                    + String.join(", ", NAMES) + ", " + String.join(", ", DIAGNOSTIC_NAMES));
        };
    }

    /**
     * A CHECKED heap with the default quarantine, or the capacity in bytes given by the system property
     * {@code malloc4j.bench.quarantine} (pass it with {@code -jvmArgsPrepend -Dmalloc4j.bench.quarantine=4194304}, which keeps the fork's own flags): the
     * quarantine's size decides how cold the blocks that leave it are.
     */
    private static Heap checkedHeap() {
        Heap.Builder b = Heap.builder().mode(HeapMode.CHECKED);
        Long quarantine = Long.getLong("malloc4j.bench.quarantine");
        if (quarantine != null) b.quarantine(quarantine);
        return b.build();
    }

    /**
     * A heap that samples allocation sites at jemalloc's default rate, 1/1000 (one stack per 512 KiB allocated on
     * average), or at the rate given by the system property {@code malloc4j.bench.siteRate} (passed as above): a rate
     * so low that no sample falls in a run shows what tracking costs without the stacks.
     */
    private static Heap sitesHeap() {
        return Heap.builder().trackSites(Double.parseDouble(System.getProperty("malloc4j.bench.siteRate", "0.001")))
                .build();
    }

    /** @return null if {@code name} can run here, else the reason it cannot */
    public static String unavailableReason(String name) {
        try (Subject s = open(name, 1)) {
            long a = s.allocate(0, 64);
            Blocks.write(a, 64);
            s.free(0, a);
            return null;
        } catch (UnavailableException e) {
            return e.getMessage();
        }
    }

    /** Netty's state as the benchmarks see it: whether its Unsafe path and no-cleaner direct buffers are on. */
    public static String nettyStatus() {
        return String.format(Locale.ROOT,
                "netty: PlatformDependent.hasUnsafe()=%s, useDirectBufferNoCleaner()=%s, directBufferPreferred()=%s%s",
                PlatformDependent.hasUnsafe(), PlatformDependent.useDirectBufferNoCleaner(),
                PlatformDependent.directBufferPreferred(),
                PlatformDependent.hasUnsafe() ? "" : " (Unsafe off because: "
                        + PlatformDependent.getUnsafeUnavailabilityCause() + ")");
    }

    /**
     * Whether Netty will recycle its {@code ByteBuf} objects on the calling thread (only on a thread that cleans up
     * its fast thread-locals, such as {@link NettyThreadExecutor}'s).
     */
    public static String threadStatus() {
        Thread t = Thread.currentThread();
        return "benchmark thread " + t.getName() + " (" + t.getClass().getSimpleName() + "): Netty recycles ByteBufs here: "
                + FastThreadLocalThread.currentThreadWillCleanupFastThreadLocals();
    }

    /** The subject cannot run in this process; the message says why and how to fix it. */
    public static final class UnavailableException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public UnavailableException(String message) {
            super(message);
        }
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.2f MiB", bytes / 1048576.0);
    }

    static String ratio(long a, long b) {
        return b <= 0 ? "no" : String.format(Locale.ROOT, "%.2fx", (double) a / b);
    }

    private static Subject nativeAnchor(NativeAllocator.Kind kind) {
        NativeAllocator.Result r = NativeAllocator.open(kind);
        if (r.allocator() == null) throw new UnavailableException(r.skipReason());
        return new Native(r.allocator());
    }

    private static ByteBufAllocator checkNetty(String name, ByteBufAllocator alloc) {
        if (!PlatformDependent.hasUnsafe()) {
            throw new UnavailableException(name + " skipped: Netty's Unsafe path is off, so its direct buffers have "
                    + "no memory address and it would run crippled: " + nettyStatus()
                    + "; run with " + BenchFlags.NETTY_UNSAFE + " " + BenchFlags.UNSAFE_ALLOW);
        }
        ByteBuf probe = alloc.directBuffer(64, 64);
        try {
            if (!probe.hasMemoryAddress()) {
                throw new UnavailableException(name + " skipped: its direct buffers (" + probe.getClass().getName()
                        + ") have no memory address: " + nettyStatus());
            }
        } finally {
            probe.release();
        }
        return alloc;
    }

    /** malloc4j through its raw-address API: no Java object per block. */
    static final class Malloc4j extends Subject {
        private final Heap heap;

        Malloc4j(Heap heap) {
            this.heap = heap;
        }

        @Override
        public long allocate(int slot, long size) {
            return heap.malloc(size);
        }

        @Override
        public void free(int slot, long address) {
            heap.free(address);
        }

        @Override
        public long reallocate(int slot, long address, long oldSize, long newSize) {
            return heap.realloc(address, newSize);
        }

        @Override
        public String memoryReport() {
            HeapStats st = heap.stats();
            return String.format(Locale.ROOT,
                    "malloc4j: live %s in %d blocks, committed %s (%s live), peak live %s, peak committed %s "
                            + "(%s peak live), mallocs %d, frees %d, thread caches %d",
                    mib(st.liveBytes()), st.liveBlocks(), mib(st.committedBytes()),
                    ratio(st.committedBytes(), st.liveBytes()), mib(st.peakLiveBytes()),
                    mib(st.peakCommittedBytes()), ratio(st.peakCommittedBytes(), st.peakLiveBytes()),
                    st.mallocCount(), st.freeCount(), st.threadCaches());
        }

        /** Gives free pages back to the OS now (the benchmarks call it only at teardown, to report the floor). */
        void trim() {
            heap.trim();
        }

        @Override
        public void close() {
            heap.close();
        }
    }

    /**
     * glibc, jemalloc, mimalloc or tcmalloc through the anchors module's critical FFM downcalls.
     *
     * <p>The anchor is held as its final class, not as the {@link Allocator} interface, so that C2 needs no type check
     * before each call; and a NULL is refused by a call that takes no argument, so that nothing but the returned
     * address has to stay alive across the downcall (which keeps none of the caller's registers). Before, with the
     * interface and a message built from the allocator's name and the size, a tcmalloc 16-byte pair through this
     * subject read 1.14-1.19x the same downcalls made directly, where malloc4j through its subject read 1.13x its
     * direct calls; after, 1.10x ({@link SubjectOverheadProbe}, 2026-12-07): the driver now costs the anchors no more
     * than it costs malloc4j.
     */
    static final class Native extends Subject {
        private final NativeAllocator allocator;

        Native(NativeAllocator allocator) {
            this.allocator = allocator;
        }

        @Override
        public long allocate(int slot, long size) {
            long a = allocator.malloc(size);
            if (a == 0) throw returnedNull();
            return a;
        }

        @Override
        public void free(int slot, long address) {
            allocator.free(address);
        }

        @Override
        public long reallocate(int slot, long address, long oldSize, long newSize) {
            long a = allocator.realloc(address, newSize);
            if (a == 0) throw returnedNull();
            return a;
        }

        /** Out of line: the caller keeps nothing alive for it. */
        private static OutOfMemoryError returnedNull() {
            return new OutOfMemoryError("a native anchor's malloc or realloc returned NULL");
        }
    }

    /** A Netty allocator's direct buffers: {@code directBuffer(size, MAX)}, written at its memory address, released. */
    static final class Netty extends Subject {
        private final ByteBufAllocator alloc;
        private final ByteBuf[] bufs;

        Netty(ByteBufAllocator alloc, int slots) {
            this.alloc = alloc;
            this.bufs = new ByteBuf[slots];
        }

        @Override
        public long allocate(int slot, long size) {
            ByteBuf b = alloc.directBuffer(Math.toIntExact(size), Integer.MAX_VALUE); // no cap, so that it can grow
            bufs[slot] = b;
            return b.memoryAddress();
        }

        @Override
        public void free(int slot, long address) {
            ByteBuf b = bufs[slot];
            bufs[slot] = null;
            b.release();
        }

        @Override
        public long reallocate(int slot, long address, long oldSize, long newSize) {
            ByteBuf b = bufs[slot];
            b.capacity(Math.toIntExact(newSize));
            return b.memoryAddress();
        }

        @Override
        public String memoryReport() {
            if (!(alloc instanceof ByteBufAllocatorMetricProvider p)) return null;
            return alloc.getClass().getSimpleName() + ": used direct memory " + mib(p.metric().usedDirectMemory());
        }
    }

    /**
     * No allocator: every slot has one fixed block of 1 MiB, handed out and "freed" for nothing. What a benchmark
     * measures with it is the driver's own cost (the call, the write of the block, the loop), to subtract from the
     * others' figures when reading what the allocators themselves cost.
     */
    static final class Floor extends Subject {
        private final Arena arena = Arena.ofShared();
        private final long[] blocks;

        Floor(int slots) {
            blocks = new long[slots];
            for (int i = 0; i < slots; i++) blocks[i] = arena.allocate(1 << 20, 4096).address();
        }

        @Override
        public long allocate(int slot, long size) {
            if (size > 1 << 20) throw tooLarge(size); // the driver writes the whole block: past it, the native heap
            return blocks[slot];
        }

        @Override
        public void free(int slot, long address) {}

        @Override
        public long reallocate(int slot, long address, long oldSize, long newSize) {
            if (newSize > 1 << 20) throw tooLarge(newSize);
            return address;
        }

        private static UnsupportedOperationException tooLarge(long size) {
            return new UnsupportedOperationException("floor: its blocks are 1 MiB, not " + size + " bytes");
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /**
     * What a plain FFM user does to get {@code free}: one confined arena per block, {@code allocate(size, 16)}
     * (which zeroes the block, as the JDK always does), closed to free it.
     */
    static final class ConfinedArena extends Subject {
        private final Arena[] arenas;

        ConfinedArena(int slots) {
            this.arenas = new Arena[slots];
        }

        @Override
        public long allocate(int slot, long size) {
            Arena a = Arena.ofConfined();
            arenas[slot] = a;
            return a.allocate(size, 16).address();
        }

        @Override
        public void free(int slot, long address) {
            Arena a = arenas[slot];
            arenas[slot] = null;
            a.close();
        }

        @Override
        public long reallocate(int slot, long address, long oldSize, long newSize) {
            Arena old = arenas[slot];
            long a = allocate(slot, newSize);
            Blocks.ALL.asSlice(a, newSize).copyFrom(Blocks.ALL.asSlice(address, Math.min(oldSize, newSize)));
            old.close();
            return a;
        }
    }
}
