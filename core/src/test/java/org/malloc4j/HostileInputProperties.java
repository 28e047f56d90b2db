package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongSupplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;

/**
 * Hostile input at every public entry point of {@link Heap}, in both modes: addresses that are live block starts,
 * interior, just past or before a block, just freed, freed long ago, another heap's, small integers, negative,
 * {@code Long.MIN_VALUE}/{@code MAX_VALUE}, random offsets into the reservation; sizes near 0, near the heap's
 * limit, above the reservation, huge and negative; calloc pairs whose product overflows; alignments that are 0,
 * negative, not powers of two or huge; and a second thread that works on blocks the first one allocated.
 *
 * <p>A model (live address to size and fill byte) checks after every step that a legal call succeeded, that an
 * illegal one threw {@link IllegalArgumentException}, {@link InvalidFreeException} or
 * {@link HeapExhaustedException} (nothing else), that a refused call changed neither {@code liveBytes} nor
 * {@code mallocCount} nor {@code freeCount}, that the figures equal the model's, and that the blocks the step
 * touched (plus one other, and all of them every 256 steps) still hold their pattern. At the end {@link Heap#verify()}
 * is empty and {@code liveBytes} equals the model's sum, which in CHECKED mode is the program's bytes; when the try
 * records allocation sites, {@link Heap#leaks()} then holds exactly the model's blocks.
 *
 * <p>The test never writes outside a live block, and never hands the heap an address that might be a block owned
 * by a step running concurrently: while the second thread works, each thread uses only addresses derived from the
 * blocks it holds (or that can never be a block of this heap).
 *
 * <p>Size: {@code -Dmalloc4j.fuzz.ops=N} sets the total number of operations over all tries of both properties
 * (default 12,000: about 20 s on a busy 2-core machine); a nightly run uses {@code -Dmalloc4j.fuzz.ops=10000000}. Each try is driven by a
 * seed that jqwik generates; a failure names the seed, the step and the call.
 *
 */
class HostileInputProperties {
    /** Total operations over both properties and all their tries. */
    static final long TOTAL_OPS = Long.getLong("malloc4j.fuzz.ops", 12_000);
    static final int TRIES = 16; // per property
    static final long OPS_PER_TRY = Math.max(100, TOTAL_OPS / (2L * TRIES));

    static final boolean TRACE = Boolean.getBoolean("malloc4j.fuzz.trace");
    static final long RESERVE = 64L << 30;
    static final long MAX_LIVE_BYTES = 48L << 20;
    static final int MAX_LIVE_BLOCKS = 2000;

    /** Heap settings the tries vary; {@code siteRate} 0 records no sites, 1 every block's (the recorder's paths too). */
    record Config(long limit, Duration decay, long releaseThreshold, long quarantine, double siteRate) {}

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void fastHeapSurvivesHostileInput(@ForAll("configs") Config config, @ForAll long seed) throws Exception {
        run(HeapMode.FAST, config, seed);
    }

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void checkedHeapSurvivesHostileInput(@ForAll("configs") Config config, @ForAll long seed) throws Exception {
        run(HeapMode.CHECKED, config, seed);
    }

    @Provide
    Arbitrary<Config> configs() {
        Arbitrary<Long> limit = Arbitraries.of(0L, 0L, 12L << 20, 64L << 20); // 0: no limit
        Arbitrary<Duration> decay = Arbitraries.of(Duration.ZERO, Duration.ofSeconds(1), Duration.ofHours(1));
        Arbitrary<Long> threshold = Arbitraries.of(64L << 10, 32L << 20);
        Arbitrary<Long> quarantine = Arbitraries.of(0L, 64L << 10, 16L << 20);
        Arbitrary<Double> siteRate = Arbitraries.of(0.0, 0.0, 0.01, 1.0);
        return Combinators.combine(limit, decay, threshold, quarantine, siteRate).as(Config::new);
    }

    static void run(HeapMode mode, Config config, long seed) throws Exception {
        Heap.Builder b = Heap.builder().mode(mode).jmx(false).reserve(RESERVE).decay(config.decay())
                .releaseThreshold(config.releaseThreshold()).quarantine(config.quarantine())
                .trackSites(config.siteRate());
        if (config.limit() > 0) b.limit(config.limit());
        ExecutorService worker = Executors.newSingleThreadExecutor();
        try (Heap heap = b.build(); Heap other = Heap.builder().jmx(false).reserve(64L << 20).build()) {
            new Run(heap, other, mode, config, seed, worker).execute(OPS_PER_TRY);
        } finally {
            worker.shutdownNow();
        }
    }

    /** What a call must do. */
    enum Expect {
        /** Succeed. */
        OK,
        /** Succeed or throw HeapExhaustedException. */
        MAY_EXHAUST,
        /** Throw HeapExhaustedException. */
        EXHAUST,
        /** Throw IllegalArgumentException (or a subclass). */
        ILLEGAL,
        /** Throw InvalidFreeException. */
        INVALID_FREE,
        /** Throw IllegalArgumentException or HeapExhaustedException. */
        ILLEGAL_OR_EXHAUST
    }

    /** A live block as the model knows it. */
    static final class Block {
        final long address, size, usable;
        final byte fill;
        final MemorySegment segment; // non-null when it came from allocate()
        int index = -1; // in Run.order

        Block(long address, long size, long usable, byte fill, MemorySegment segment) {
            this.address = address;
            this.size = size;
            this.usable = usable;
            this.fill = fill;
            this.segment = segment;
        }

        void check(String what) {
            try {
                Blocks.check(address, size, size, fill);
            } catch (AssertionError e) {
                throw new AssertionError(what + ": pattern of " + this + " damaged: " + e.getMessage(), e);
            }
        }

        @Override
        public String toString() {
            return "block " + Blocks.hex(address) + " (" + size + " bytes" + (segment != null ? ", segment" : "") + ")";
        }
    }

    /** What the second thread did with the blocks it was given. */
    record WorkerResult(List<Block> survivors, long mallocs, long frees, long liveDelta, List<Long> freed) {}

    static final class Run {
        private final Heap heap, other;
        private final HeapMode mode;
        private final Config config;
        private final long seed;
        private final ExecutorService worker;
        private final SplittableRandom rnd;
        private final Map<Long, Block> live = new HashMap<>();
        private final List<Block> order = new ArrayList<>();
        private final TreeMap<Long, Block> byAddress = new TreeMap<>();
        private final long[] recentFreed = new long[16];
        private int recentCount;
        private final List<Long> oldFreed = new ArrayList<>();
        private final List<Long> otherBlocks = new ArrayList<>();
        private long liveBytes, mallocs, frees;
        private long step;
        private int fills = 1;
        /** True while the second thread works on blocks taken out of the model. */
        private boolean concurrent;
        private String current = "";

        Run(Heap heap, Heap other, HeapMode mode, Config config, long seed, ExecutorService worker) {
            this.heap = heap;
            this.other = other;
            this.mode = mode;
            this.config = config;
            this.seed = seed;
            this.worker = worker;
            this.rnd = new SplittableRandom(seed);
        }

        private String where() {
            return mode + " " + config + " seed " + seed + " step " + step + (concurrent ? " (concurrent)" : "") + " "
                    + current + ": ";
        }

        void execute(long ops) throws Exception {
            for (int i = 0; i < 8; i++) otherBlocks.add(other.malloc(16L << (i % 8)));
            long nextPhase = 500 + rnd.nextInt(1500);
            while (step < ops) {
                if (step >= nextPhase) {
                    concurrentPhase(Math.min(ops - step, 100 + rnd.nextInt(300)));
                    nextPhase = step + 500 + rnd.nextInt(1500);
                    continue;
                }
                step++;
                long t0 = TRACE ? System.nanoTime() : 0;
                stepOnce();
                if (TRACE) System.out.println("step " + step + " " + (System.nanoTime() - t0) / 1000 + "us " + current);
                checkStats();
                if (step % 256 == 0) checkAll();
                if (step % 2048 == 0) assertThat(heap.verify()).as(where() + "verify").isEmpty();
            }
            checkAll();
            assertThat(heap.verify()).as(where() + "verify at the end").isEmpty();
            assertThat(heap.stats().liveBytes()).as(where() + "liveBytes at the end").isEqualTo(liveBytes);
            if (config.siteRate() > 0) checkLeakReport();
            for (Block b : List.copyOf(order)) {
                b.check(where() + "final");
                heap.free(b.address);
                forget(b);
                frees++;
            }
            checkStats();
            assertThat(heap.stats().liveBytes()).isZero();
            assertThat(heap.verify()).as(where() + "verify after freeing everything").isEmpty();
            for (long p : otherBlocks) other.free(p);
        }

        /**
         * The leak report names only live blocks of the model, each under a site; with every site recorded it
         * attributes all of them (the refused frees and reallocs left the recorder as they found it).
         */
        private void checkLeakReport() {
            LeakReport report = heap.leaks();
            long attributed = 0;
            for (LeakReport.Entry e : report.entries()) {
                attributed += e.blocks();
                assertThat(e.site()).as(where() + "a recorded site").isNotEmpty();
                for (long a : e.addresses()) assertThat(live).as(where() + "reported block 0x%x", a).containsKey(a);
            }
            assertThat(attributed + report.unattributedBlocks()).as(where() + "leak report blocks")
                    .isEqualTo(live.size());
            if (config.siteRate() >= 1) {
                assertThat(report.unattributedBlocks()).as(where() + "unattributed with every site recorded").isZero();
            }
        }

        // ------------------------------------------------------------------ one step

        private void stepOnce() {
            if (live.size() > MAX_LIVE_BLOCKS || liveBytes > MAX_LIVE_BYTES) {
                Block b = pick();
                current = "free(" + b + ") to make room";
                b.check(where());
                call(Expect.OK, () -> {
                    heap.free(b.address);
                    return 0;
                });
                freed(b);
                return;
            }
            int k = rnd.nextInt(100);
            if (k < 20) doMalloc();
            else if (k < 27) doCalloc();
            else if (k < 35) doAligned();
            else if (k < 40) doAllocateSegment();
            else if (k < 51) doRealloc();
            else if (k < 55) doReallocateSegment();
            else if (k < 80) doFree();
            else if (k < 87) doFreeSegment();
            else if (k < 97) doUsable();
            else if (k < 98) {
                current = "trim()";
                heap.trim();
            } else {
                current = "verify()";
                assertThat(heap.verify()).as(where()).isEmpty();
            }
            if (!order.isEmpty()) pick().check(where() + "random check");
        }

        private void doMalloc() {
            long size = size();
            current = "malloc(" + size + ")";
            Long p = call(allocExpect(size), () -> heap.malloc(size));
            if (p != null) admitAllocated(p, size, 16, false);
        }

        private void doCalloc() {
            long count, each;
            int v = rnd.nextInt(10);
            if (v < 6) {
                count = rnd.nextLong(0, 64);
                each = rnd.nextLong(0, 256);
            } else {
                long[][] pairs = {
                    {1L << 32, 1L << 32}, {Long.MAX_VALUE, 2}, {2, Long.MAX_VALUE}, {3, Long.MAX_VALUE / 2},
                    {1L << 31, (1L << 32) + 1}, {0, Long.MAX_VALUE}, {Long.MAX_VALUE, 0}, {Long.MAX_VALUE, 1},
                    {1, RESERVE + 1}, {-1, 8}, {8, -1}, {Long.MIN_VALUE, -1}, {-1, -1}, {1L << 40, 1L << 30},
                    {(1L << 31) - 1, (1L << 32) + 3}, {4096, 4096}, {1L << 12, 1L << 14}
                };
                long[] pair = pairs[rnd.nextInt(pairs.length)];
                count = pair[0];
                each = pair[1];
            }
            current = "calloc(" + count + ", " + each + ")";
            Expect e;
            long bytes = 0;
            if (count < 0 || each < 0 || Math.multiplyHigh(count, each) != 0 || count * each < 0) {
                e = Expect.ILLEGAL;
            } else {
                bytes = count * each;
                e = allocExpect(bytes);
            }
            long n = bytes;
            Long p = call(e, () -> heap.calloc(count, each));
            if (p != null) admitAllocated(p, n, 16, true);
        }

        private void doAligned() {
            long alignment = alignment();
            long size = rnd.nextInt(4) == 0 ? size() : rnd.nextLong(0, 2048);
            current = "alignedAlloc(" + alignment + ", " + size + ")";
            Expect e = alignedExpect(alignment, size);
            Long p = call(e, () -> heap.alignedAlloc(alignment, size));
            if (p != null) {
                Block b = admitAllocated(p, size, alignment, false);
                if (alignment > (1L << 20)) release(b); // huge alignments cost address space: give it back now
            }
        }

        private void doAllocateSegment() {
            long alignment = rnd.nextInt(4) == 0 ? alignment() : 1L << rnd.nextInt(8);
            long size = rnd.nextInt(4) == 0 ? size() : rnd.nextLong(0, 4096);
            current = "allocate(" + size + ", " + alignment + ")";
            Expect e = alignment <= 16 && alignment > 0 && Long.bitCount(alignment) == 1 ? allocExpect(size)
                    : alignedExpect(alignment, size);
            MemorySegment[] out = new MemorySegment[1];
            Long p = call(e, () -> {
                out[0] = heap.allocate(size, alignment);
                return out[0].address();
            });
            if (p != null) {
                assertThat(out[0].byteSize()).as(where() + "segment size").isEqualTo(size);
                Block b = admit(p, size, Math.max(16, alignment), false, out[0]);
                mallocs++;
                if (alignment > (1L << 20)) release(b);
            }
        }

        private void doRealloc() {
            long address = address();
            long size = rnd.nextInt(3) == 0 ? size() : rnd.nextLong(0, 8192);
            current = "realloc(" + Blocks.hex(address) + ", " + size + ")";
            Block b = address == 0 ? null : live.get(address);
            if (size < 0) {
                call(Expect.ILLEGAL, () -> heap.realloc(address, size));
                return;
            }
            if (address == 0) {
                Long p = call(allocExpect(size), () -> heap.realloc(0, size));
                if (p != null) admitAllocated(p, size, 16, false);
                return;
            }
            if (b == null) {
                call(Expect.INVALID_FREE, () -> heap.realloc(address, size));
                return;
            }
            current += " of " + b;
            b.check(where());
            Long p = call(size == 0 ? Expect.OK : allocExpect(size), () -> heap.realloc(address, size));
            if (p == null) {
                b.check(where() + "after a failed realloc");
                assertThat(heap.usableSize(address)).as(where()).isEqualTo(b.usable);
                return;
            }
            if (size == 0) {
                assertThat(p).as(where() + "realloc(p, 0)").isZero();
                freed(b);
                return;
            }
            assertThat(p).as(where()).isNotZero();
            long kept = Math.min(b.size, size);
            Blocks.check(p, b.size, kept, b.fill);
            forget(b);
            if (p != address) {
                mallocs++;
                frees++;
                remember(address);
            } else {
                if (mode == HeapMode.CHECKED) { // moves every block, but for a shrink whose move was refused
                    assertThat(size).as(where() + "CHECKED realloc moves but a shrink").isLessThanOrEqualTo(b.size);
                }
            }
            admit(p, size, 16, false, null);
        }

        private void doReallocateSegment() {
            long size = rnd.nextInt(3) == 0 ? size() : rnd.nextLong(0, 8192);
            long alignment = rnd.nextInt(4) == 0 ? alignment() : 1L << rnd.nextInt(7);
            // An alignment no block can have is refused first, as one that is no power of two: a block at an address
            // with the alignment resizes in place
            boolean badArguments = size < 0 || alignment <= 0 || Long.bitCount(alignment) != 1
                    || alignment > RESERVE / 2;
            Expect grows = alignment <= 16 ? allocExpect(size) : alignedExpect(alignment, size);
            Block b = null;
            for (int i = 0; i < 4 && !order.isEmpty() && rnd.nextInt(8) != 0; i++) {
                Block c = pick();
                if (c.segment != null) {
                    b = c;
                    break;
                }
            }
            MemorySegment[] out = new MemorySegment[1];
            if (b == null) {
                // A segment that starts at no live block of this heap: a heap segment, or one over a hostile address.
                long address = address();
                if (address != 0 && live.containsKey(address)) return; // a raw block: doFreeSegment's case
                MemorySegment s = rnd.nextInt(4) == 0 ? MemorySegment.ofArray(new byte[16])
                        : MemorySegment.ofAddress(address);
                current = "reallocate(" + s + ", " + size + ", " + alignment + ")";
                Expect e = badArguments ? Expect.ILLEGAL : s.isNative() && address == 0 ? grows : Expect.INVALID_FREE;
                Long p = call(e, () -> {
                    out[0] = heap.reallocate(s, size, alignment);
                    return out[0].address();
                });
                if (p != null) { // reallocate(NULL, n) allocates
                    assertThat(out[0].byteSize()).as(where() + "segment size").isEqualTo(size);
                    Block n = admit(p, size, Math.max(16, alignment), false, out[0]);
                    mallocs++;
                    if (alignment > (1L << 20)) release(n);
                }
                return;
            }
            Block t = b;
            long address = t.address;
            current = "reallocate(segment of " + t + ", " + size + ", " + alignment + ")";
            t.check(where());
            Expect e = badArguments ? Expect.ILLEGAL : size == 0 && alignment <= 16 ? allocExpect(0) : grows;
            Long p = call(e, () -> {
                out[0] = heap.reallocate(t.segment, size, alignment);
                return out[0].address();
            });
            if (p == null) {
                t.check(where() + "after a refused reallocate");
                assertThat(heap.usableSize(address)).as(where()).isEqualTo(t.usable);
                return;
            }
            assertThat(out[0].byteSize()).as(where() + "segment size").isEqualTo(size);
            Blocks.check(p, t.size, Math.min(t.size, size), t.fill);
            forget(t);
            if (p != address) {
                mallocs++;
                frees++;
                remember(address);
            } else {
                // CHECKED moves every block, but for a shrink whose move was refused; a block stays only at an
                // address with the alignment
                if (mode == HeapMode.CHECKED) {
                    assertThat(size).as(where() + "CHECKED reallocate moves but a shrink").isLessThanOrEqualTo(t.size);
                }
                assertThat(p % Math.max(16, alignment)).as(where() + "in place at the alignment").isZero();
            }
            Block n = admit(p, size, Math.max(16, alignment), false, out[0]);
            if (alignment > (1L << 20)) release(n);
        }

        private void doFree() {
            long address = address();
            current = "free(" + Blocks.hex(address) + ")";
            Block b = address == 0 ? null : live.get(address);
            if (address != 0 && b == null) {
                call(Expect.INVALID_FREE, () -> {
                    heap.free(address);
                    return 0;
                });
                return;
            }
            call(Expect.OK, () -> {
                heap.free(address);
                return 0;
            });
            if (b != null) freed(b);
        }

        private void doFreeSegment() {
            int v = rnd.nextInt(10);
            if (v < 5) {
                Block b = null;
                for (int i = 0; i < 4 && !order.isEmpty(); i++) {
                    Block c = pick();
                    if (c.segment != null) {
                        b = c;
                        break;
                    }
                }
                if (b != null) {
                    Block t = b;
                    current = "free(segment of " + t + ")";
                    t.check(where());
                    call(Expect.OK, () -> {
                        heap.free(t.segment);
                        return 0;
                    });
                    freed(t);
                    return;
                }
            }
            if (v == 5) {
                current = "free(a heap segment)";
                call(Expect.INVALID_FREE, () -> {
                    heap.free(MemorySegment.ofArray(new byte[16]));
                    return 0;
                });
                return;
            }
            if (v == 6) {
                current = "free((MemorySegment) null)";
                try {
                    heap.free((MemorySegment) null);
                    throw new AssertionError(where() + "accepted null");
                } catch (NullPointerException expected) {
                    // documented: Objects.requireNonNull
                }
                return;
            }
            long address = address();
            Block b = address == 0 ? null : live.get(address);
            current = "free(MemorySegment.ofAddress(" + Blocks.hex(address) + "))";
            MemorySegment s = MemorySegment.ofAddress(address);
            call(address != 0 && b == null ? Expect.INVALID_FREE : Expect.OK, () -> {
                heap.free(s);
                return 0;
            });
            if (b != null) freed(b);
        }

        private void doUsable() {
            long address = address();
            current = "usableSize(" + Blocks.hex(address) + ")";
            Block b = address == 0 ? null : live.get(address);
            Long u = call(b == null ? Expect.INVALID_FREE : Expect.OK, () -> heap.usableSize(address));
            if (u != null) assertThat(u).as(where()).isEqualTo(b.usable);
        }

        // ------------------------------------------------------------------ expectations

        private boolean limited() {
            return config.limit() > 0;
        }

        private Expect allocExpect(long size) {
            if (size < 0) return Expect.ILLEGAL;
            if (size > RESERVE || (limited() && size > config.limit())) return Expect.EXHAUST;
            if (limited() || size > (64L << 20)) return Expect.MAY_EXHAUST;
            return Expect.OK;
        }

        private Expect alignedExpect(long alignment, long size) {
            if (alignment <= 0 || Long.bitCount(alignment) != 1 || size < 0) return Expect.ILLEGAL;
            Expect e = allocExpect(size);
            if (alignment > RESERVE / 2) {
                // FAST refuses the alignment first; CHECKED first sees that no heap can hold the size. Either is fine.
                return e == Expect.EXHAUST || alignment > Long.MAX_VALUE - size - 32 ? Expect.ILLEGAL_OR_EXHAUST
                        : Expect.ILLEGAL;
            }
            if (e == Expect.OK && alignment > (1L << 30)) return Expect.MAY_EXHAUST;
            return e;
        }

        // ------------------------------------------------------------------ generators

        private long size() {
            int k = rnd.nextInt(100);
            if (k < 30) return rnd.nextLong(0, 65);
            if (k < 55) return rnd.nextLong(65, 4097);
            if (k < 67) return rnd.nextInt(4) == 0 ? rnd.nextLong(4097, 256 << 10) : rnd.nextLong(4097, 40_000);
            if (k < 77) {
                long[] edges = {0, 1, 15, 16, 17, 31, 32, 33, 1024, 4095, 4096, 4097, 32767, 32768, 32769,
                    (1 << 20) - 1, 1 << 20, (1 << 20) + 1};
                return edges[rnd.nextInt(edges.length)];
            }
            if (k < 82) {
                long[] negative = {-1, -16, -4096, Long.MIN_VALUE, Long.MIN_VALUE + 1, -rnd.nextLong(1, Long.MAX_VALUE)};
                return negative[rnd.nextInt(negative.length)];
            }
            if (k < 88) {
                long[] huge = {RESERVE + 1, RESERVE + 4096, 1L << 40, (1L << 43) - 1, 1L << 43, 1L << 56, (1L << 56) - 1,
                    1L << 62, Long.MAX_VALUE, Long.MAX_VALUE - 15, Long.MAX_VALUE - 16, Long.MAX_VALUE - 32,
                    Long.MAX_VALUE - 4095, rnd.nextLong(RESERVE + 1, Long.MAX_VALUE)};
                return huge[rnd.nextInt(huge.length)];
            }
            if (k < 95 && limited()) {
                long l = config.limit();
                long[] near = {l - 4096, l - 32, l - 16, l - 1, l, l + 1, l + 4096, l / 2, l / 2 + 1, 2 * l};
                return near[rnd.nextInt(near.length)];
            }
            return rnd.nextInt(8) == 0 ? rnd.nextLong(256 << 10, 2L << 20) : rnd.nextLong(0, 4096);
        }

        private long alignment() {
            int k = rnd.nextInt(100);
            if (k < 55) return 1L << rnd.nextInt(13);
            if (k < 65) return 1L << rnd.nextInt(13, 21);
            if (k < 68) return 1L << rnd.nextInt(21, 31);
            if (k < 70) return 1L << rnd.nextInt(31, 36);
            long[] bad = {0, -1, -16, -4096, Long.MIN_VALUE, 3, 24, 48, 1000, (1L << 20) + 1, Long.MAX_VALUE, 1L << 62,
                1L << 36, 1L << 40, 1L << 63, rnd.nextLong()};
            return bad[rnd.nextInt(bad.length)];
        }

        /** An address for free, realloc, usableSize: sometimes live, mostly not. */
        private long address() {
            int k = rnd.nextInt(100);
            Block b = order.isEmpty() ? null : pick();
            if (k < 40 && b != null) return b.address;
            if (k < 55 && b != null) return interior(b);
            if (k < 62 && b != null) {
                long[] around = {b.address - 16, b.address - 32, b.address - 1, b.address + b.usable,
                    b.address + b.size + 16, b.address + 8};
                return around[rnd.nextInt(around.length)];
            }
            if (k < 70 && recentCount > 0) return recentFreed[rnd.nextInt(Math.min(recentCount, recentFreed.length))];
            if (k < 75 && !oldFreed.isEmpty()) return oldFreed.get(rnd.nextInt(oldFreed.size()));
            if (k < 80) return otherBlocks.get(rnd.nextInt(otherBlocks.size()));
            if (k < 85 && b != null) {
                long off = rnd.nextLong(-(1L << 30), 1L << 30);
                return b.address + (rnd.nextBoolean() ? off & ~15L : off);
            }
            long[] wild = {0, 0, 1, 8, 16, 4096, 0x10000, -1, -16, Long.MIN_VALUE, Long.MAX_VALUE, Long.MAX_VALUE & ~15L,
                rnd.nextLong(), rnd.nextLong() & ~15L, 0x7fff00001230L};
            return wild[rnd.nextInt(wild.length)];
        }

        private long interior(Block b) {
            if (b.usable <= 1) return b.address + 1;
            long off = rnd.nextLong(1, b.usable); // strictly inside [address, address + usable)
            long o = rnd.nextBoolean() ? off & ~15L : off;
            return b.address + (o == 0 ? off : o);
        }

        private Block pick() {
            return order.get(rnd.nextInt(order.size()));
        }

        // ------------------------------------------------------------------ calls and the model

        /**
         * Runs a call that must do what {@code expect} says. On a refusal the figures must not have moved (checked
         * only when no other thread works on the heap). @return its result, or null when it threw as expected
         */
        private Long call(Expect expect, LongSupplier action) {
            HeapStats before = concurrent ? null : heap.countersForTests();
            long result;
            try {
                result = action.getAsLong();
            } catch (HeapExhaustedException e) {
                if (expect != Expect.EXHAUST && expect != Expect.MAY_EXHAUST && expect != Expect.ILLEGAL_OR_EXHAUST) {
                    throw new AssertionError(where() + "expected " + expect + ", got " + e, e);
                }
                unchanged(before);
                return null;
            } catch (InvalidFreeException e) {
                if (expect != Expect.INVALID_FREE && expect != Expect.ILLEGAL && expect != Expect.ILLEGAL_OR_EXHAUST) {
                    throw new AssertionError(where() + "expected " + expect + ", got " + e, e);
                }
                unchanged(before);
                return null;
            } catch (IllegalArgumentException e) {
                if (expect != Expect.ILLEGAL && expect != Expect.ILLEGAL_OR_EXHAUST) {
                    throw new AssertionError(where() + "expected " + expect + ", got " + e, e);
                }
                unchanged(before);
                return null;
            } catch (Throwable t) {
                throw new AssertionError(where() + "expected " + expect + ", got " + t, t);
            }
            if (expect != Expect.OK && expect != Expect.MAY_EXHAUST) {
                throw new AssertionError(where() + "expected " + expect + ", but it returned " + Blocks.hex(result));
            }
            return result;
        }

        private void unchanged(HeapStats before) {
            if (before == null) return;
            HeapStats after = heap.countersForTests();
            assertThat(List.of(after.liveBytes(), after.mallocCount(), after.freeCount()))
                    .as(where() + "liveBytes, mallocCount, freeCount after a refused call")
                    .isEqualTo(List.of(before.liveBytes(), before.mallocCount(), before.freeCount()));
        }

        private Block admitAllocated(long p, long size, long alignment, boolean zeroed) {
            Block b = admit(p, size, Math.max(16, alignment), zeroed, null);
            mallocs++;
            return b;
        }

        private Block admit(long p, long size, long alignment, boolean zeroed, MemorySegment segment) {
            String what = where() + "new block " + Blocks.hex(p) + " of " + size + " bytes";
            assertThat(p).as(what).isNotZero();
            assertThat(p & 15).as("%s: 16-byte alignment", what).isZero();
            assertThat(p & (alignment - 1)).as("%s: %d-byte alignment", what, alignment).isZero();
            assertThat(live).as("%s: already live", what).doesNotContainKey(p);
            long usable = heap.usableSize(p);
            if (mode == HeapMode.CHECKED) assertThat(usable).as("%s: usableSize", what).isEqualTo(size);
            else assertThat(usable).as("%s: usableSize", what).isGreaterThanOrEqualTo(size);
            long extent = Math.max(usable, 1);
            Map.Entry<Long, Block> below = byAddress.floorEntry(p);
            if (below != null && below.getKey() + Math.max(below.getValue().usable, 1) > p) {
                throw new AssertionError(what + " overlaps " + below.getValue());
            }
            Map.Entry<Long, Block> above = byAddress.ceilingEntry(p);
            if (above != null && p + extent > above.getKey()) {
                throw new AssertionError(what + " overlaps " + above.getValue());
            }
            if (size > (64L << 20)) {
                // A block this big (calloc of a large product, no limit) is only checked for its alignment and
                // freed by the caller's next steps; touching every page would commit gigabytes.
                zeroed = false;
            }
            if (zeroed) Blocks.checkZero(p, size);
            byte fill = Blocks.patternOf(fills++);
            Blocks.fill(p, size, fill);
            Block b = new Block(p, size, usable, fill, segment);
            if (TRACE) System.out.println("  + " + b + " usable " + usable);
            add(b);
            return b;
        }

        private void add(Block b) {
            live.put(b.address, b);
            byAddress.put(b.address, b);
            b.index = order.size();
            order.add(b);
            liveBytes += b.size;
        }

        private void forget(Block b) {
            if (TRACE) System.out.println("  - " + b);
            live.remove(b.address);
            byAddress.remove(b.address);
            Block last = order.removeLast();
            if (last != b) {
                order.set(b.index, last);
                last.index = b.index;
            }
            b.index = -1;
            liveBytes -= b.size;
        }

        private void freed(Block b) {
            forget(b);
            frees++;
            remember(b.address);
        }

        private void release(Block b) {
            b.check(where());
            heap.free(b.address);
            freed(b);
        }

        private void remember(long address) {
            long out = recentFreed[recentCount % recentFreed.length];
            if (recentCount >= recentFreed.length) {
                if (oldFreed.size() < 256) oldFreed.add(out);
                else oldFreed.set(rnd.nextInt(256), out);
            }
            recentFreed[recentCount++ % recentFreed.length] = address;
        }

        private void checkStats() {
            HeapStats s = heap.countersForTests();
            String what = where() + "after the step";
            assertThat(s.liveBytes()).as("%s: liveBytes", what).isEqualTo(liveBytes);
            assertThat(s.mallocCount()).as("%s: mallocCount", what).isEqualTo(mallocs);
            assertThat(s.freeCount()).as("%s: freeCount", what).isEqualTo(frees);
            if (limited()) assertThat(s.committedBytes()).as("%s: committed", what).isLessThanOrEqualTo(config.limit());
        }

        private void checkAll() {
            for (Block b : order) b.check(where() + "periodic check");
        }

        // ------------------------------------------------------------------ two threads

        /**
         * Hands up to 32 blocks to the second thread, which checks, frees, reallocates and queries them, allocates
         * a few of its own and tries invalid frees derived from its blocks; meanwhile this thread goes on with its
         * own blocks only. Then both join, and the model takes what the second thread reports.
         */
        private void concurrentPhase(long steps) throws Exception {
            List<Block> given = new ArrayList<>();
            for (int i = 0; i < 32 && !order.isEmpty(); i++) {
                Block b = pick();
                forget(b); // out of the model while the other thread owns it
                liveBytes += b.size; // still live
                given.add(b);
            }
            long workerSeed = rnd.nextLong();
            int firstFill = fills;
            fills += 1000;
            concurrent = true;
            Future<WorkerResult> f = worker.submit(() -> work(given, workerSeed, firstFill));
            try {
                for (long i = 0; i < steps; i++) {
                    step++;
                    concurrentStep();
                }
            } finally {
                WorkerResult r;
                try {
                    r = f.get();
                } catch (ExecutionException e) {
                    concurrent = false;
                    if (e.getCause() instanceof AssertionError a) throw a;
                    throw new AssertionError(where() + "second thread failed: " + e.getCause(), e.getCause());
                } finally {
                    concurrent = false;
                }
                for (Block b : given) liveBytes -= b.size;
                mallocs += r.mallocs();
                frees += r.frees();
                for (long a : r.freed()) remember(a);
                current = "merging the second thread's blocks";
                for (Block b : r.survivors()) {
                    Map.Entry<Long, Block> below = byAddress.floorEntry(b.address);
                    if (below != null && below.getKey() + Math.max(below.getValue().usable, 1) > b.address) {
                        throw new AssertionError(where() + b + " overlaps " + below.getValue());
                    }
                    Map.Entry<Long, Block> above = byAddress.ceilingEntry(b.address);
                    if (above != null && b.address + Math.max(b.usable, 1) > above.getKey()) {
                        throw new AssertionError(where() + b + " overlaps " + above.getValue());
                    }
                    b.check(where());
                    add(b);
                }
            }
            checkStats();
            checkAll();
        }

        /** A step of this thread while the other one works: only its own blocks and never-valid addresses. */
        private void concurrentStep() {
            int k = rnd.nextInt(100);
            if (live.size() > MAX_LIVE_BLOCKS || liveBytes > MAX_LIVE_BYTES) k = 50;
            if (k < 30 || order.isEmpty()) {
                long size = rnd.nextLong(0, 4096);
                current = "malloc(" + size + ")";
                Long p = call(limited() ? Expect.MAY_EXHAUST : Expect.OK, () -> heap.malloc(size));
                if (p != null) admitAllocated(p, size, 16, false);
            } else if (k < 60) {
                Block b = pick();
                current = "free(" + b + ")";
                b.check(where());
                call(Expect.OK, () -> {
                    heap.free(b.address);
                    return 0;
                });
                forget(b);
                frees++; // not remembered: it may belong to the other thread by now
            } else if (k < 75) {
                Block b = pick();
                long size = rnd.nextLong(1, 8192);
                current = "realloc(" + b + ", " + size + ")";
                b.check(where());
                Long p = call(limited() ? Expect.MAY_EXHAUST : Expect.OK, () -> heap.realloc(b.address, size));
                if (p != null) {
                    Blocks.check(p, b.size, Math.min(b.size, size), b.fill);
                    forget(b);
                    if (p != b.address) {
                        mallocs++;
                        frees++;
                    }
                    admit(p, size, 16, false, null);
                }
            } else {
                Block b = pick();
                long bad = switch (rnd.nextInt(5)) {
                    case 0 -> interior(b);
                    case 1 -> b.address + 1;
                    case 2 -> otherBlocks.get(rnd.nextInt(otherBlocks.size()));
                    case 3 -> -rnd.nextLong(1, Long.MAX_VALUE);
                    default -> rnd.nextLong(1, 1 << 20);
                };
                current = "free/usableSize/realloc of never-valid " + Blocks.hex(bad);
                int op = rnd.nextInt(3);
                call(Expect.INVALID_FREE, () -> switch (op) {
                    case 0 -> {
                        heap.free(bad);
                        yield 0;
                    }
                    case 1 -> heap.usableSize(bad);
                    default -> heap.realloc(bad, 64);
                });
            }
        }

        /** The second thread's work on blocks the first one allocated (it holds them, nobody else touches them). */
        private WorkerResult work(List<Block> given, long workerSeed, int firstFill) {
            SplittableRandom r = new SplittableRandom(workerSeed);
            String who = mode + " seed " + seed + " (second thread): ";
            List<Block> held = new ArrayList<>(given);
            List<Long> freedHere = new ArrayList<>();
            long m = 0, fr = 0;
            int fill = firstFill;
            for (int i = 0; i < 200 && !held.isEmpty(); i++) {
                int idx = r.nextInt(held.size());
                Block b = held.get(idx);
                Blocks.check(b.address, b.size, b.size, b.fill);
                int k = r.nextInt(100);
                if (k < 35) {
                    if (b.segment != null && r.nextBoolean()) heap.free(b.segment);
                    else heap.free(b.address);
                    held.set(idx, held.getLast());
                    held.removeLast();
                    freedHere.add(b.address);
                    fr++;
                } else if (k < 55) {
                    long size = r.nextLong(0, 8192);
                    long p;
                    try {
                        p = heap.realloc(b.address, size);
                    } catch (HeapExhaustedException e) {
                        if (!limited()) throw new AssertionError(who + "realloc(" + b + ", " + size + "): " + e, e);
                        continue;
                    }
                    held.set(idx, held.getLast());
                    held.removeLast();
                    if (size == 0) {
                        if (p != 0) throw new AssertionError(who + "realloc(p, 0) returned " + Blocks.hex(p));
                        freedHere.add(b.address);
                        fr++;
                        continue;
                    }
                    Blocks.check(p, b.size, Math.min(b.size, size), b.fill);
                    if (p != b.address) {
                        m++;
                        fr++;
                    }
                    byte pattern = Blocks.patternOf(fill++);
                    Blocks.fill(p, size, pattern);
                    held.add(new Block(p, size, heap.usableSize(p), pattern, null));
                } else if (k < 70) {
                    long u = heap.usableSize(b.address);
                    if (u != b.usable) throw new AssertionError(who + "usableSize of " + b + " is " + u);
                } else if (k < 85) {
                    long size = r.nextLong(0, 2048);
                    long p;
                    try {
                        p = heap.malloc(size);
                    } catch (HeapExhaustedException e) {
                        if (!limited()) throw new AssertionError(who + "malloc(" + size + "): " + e, e);
                        continue;
                    }
                    m++;
                    byte pattern = Blocks.patternOf(fill++);
                    Blocks.fill(p, size, pattern);
                    held.add(new Block(p, size, heap.usableSize(p), pattern, null));
                } else {
                    long bad = r.nextBoolean() ? b.address + r.nextLong(1, Math.max(2, b.usable))
                            : b.address + (r.nextBoolean() ? 8 : 1);
                    if (bad == b.address || bad >= b.address + Math.max(b.usable, 1)) bad = b.address + 1;
                    long target = bad;
                    int op = r.nextInt(3);
                    try {
                        switch (op) {
                            case 0 -> heap.free(target);
                            case 1 -> heap.usableSize(target);
                            default -> heap.realloc(target, 32);
                        }
                        throw new AssertionError(who + "call " + op + " accepted the interior address "
                                + Blocks.hex(target) + " of " + b);
                    } catch (InvalidFreeException expected) {
                        // as it must
                    }
                }
            }
            long delta = 0;
            for (Block b : held) delta += b.size;
            return new WorkerResult(held, m, fr, delta, freedHere);
        }
    }
}
