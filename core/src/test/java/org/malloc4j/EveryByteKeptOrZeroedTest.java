package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every byte of every block, against a model: random malloc, calloc, realloc (grown and shrunk, in place and moved),
 * alignedAlloc, free and trim over every size regime (16 B through the caches, medium one-block slabs, page runs of
 * several MiB, alignments up to 2 MiB), on heaps whose settings drive the page layer's clean and dirty bookkeeping
 * down each of its paths (decay 0, 1 s on a manual clock and 1 h; pages gathered at every peak or bounded; a small
 * reservation and a limit forcing reuse, refusals and last-resort fits; no spare slabs; a low release threshold
 * moving grown blocks by their pages; FAST and CHECKED), on one thread, two platform threads handing blocks to each
 * other, and virtual threads.
 *
 * <p>Each block is written whole, right after it is taken, with a pattern of its identity and each word's offset
 * (every byte nonzero); its kept bytes are checked before each realloc and free; a realloc must keep
 * {@code min(usable, new size)} bytes, and its new tail is written too; every calloc'd block must be zero throughout.
 * So a clean/dirty mistake shows as a calloc handing out another block's bytes, and a move that loses, shifts or mixes
 * pages as a word of the wrong identity or offset. The default run takes a few seconds: {@code
 * -Dmalloc4j.everyByte.seeds=N} runs N seeds a configuration on one thread, N/2 on two and N/3 on virtual threads
 * (default 2), {@code -Dmalloc4j.everyByte.ops=M} M steps a thread (default 220), and {@code
 * -Dmalloc4j.everyByte.seedBase=B} other sequences.
 */
class EveryByteKeptOrZeroedTest {
    private static final long KIB = 1024, MIB = 1024 * KIB;
    private static final int SEEDS = Integer.getInteger("malloc4j.everyByte.seeds", 2);
    private static final int OPS = Integer.getInteger("malloc4j.everyByte.ops", 220);
    /** Added to each seed: a longer hunt may try other sequences than the default run's. */
    private static final long SEED_BASE = Long.getLong("malloc4j.everyByte.seedBase", 0);
    private static final MemorySegment ALL = Blocks.ALL;

    /** A heap configuration; {@code clock} non-null when the heap decays by a manual clock the ops advance. */
    record Config(String name, Supplier<Heap.Builder> builder, ManualClock clock, boolean mayExhaust) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Config> configs() {
        List<Config> list = new ArrayList<>();
        add(list, "decay 0", () -> Heap.builder().decay(Duration.ZERO), false);
        add(list, "decay 1h", () -> Heap.builder().decay(Duration.ofHours(1)), false);
        ManualClock c1 = new ManualClock();
        list.add(new Config("decay 1s manual clock", () -> Heap.builder().decay(Duration.ofSeconds(1)).clock(c1), c1,
                false));
        add(list, "decay 1h gather at every peak",
                () -> Heap.builder().decay(Duration.ofHours(1)).pageGathering(PageGathering.AT_EVERY_PEAK), false);
        ManualClock c2 = new ManualClock();
        list.add(new Config("decay 1s gather bounded spare 0", () -> Heap.builder().decay(Duration.ofSeconds(1))
                .clock(c2).pageGathering(PageGathering.BOUNDED).spareBytes(0), c2, false));
        add(list, "decay 0 gather at every peak spare 0", () -> Heap.builder().decay(Duration.ZERO)
                .pageGathering(PageGathering.AT_EVERY_PEAK).spareBytes(0), false);
        add(list, "release threshold 512 KiB", () -> Heap.builder().decay(Duration.ofHours(1))
                .releaseThreshold(512 * KIB).pageGathering(PageGathering.AT_EVERY_PEAK), false);
        add(list, "reserve 16 MiB", () -> Heap.builder().reserve(16 * MIB).decay(Duration.ofHours(1))
                .pageGathering(PageGathering.AT_EVERY_PEAK), true);
        add(list, "limit 12 MiB spare 0", () -> Heap.builder().limit(12 * MIB).decay(Duration.ofHours(1))
                .spareBytes(0).pageGathering(PageGathering.AT_EVERY_PEAK), true);
        add(list, "limit 12 MiB decay 0", () -> Heap.builder().limit(12 * MIB).decay(Duration.ZERO), true);
        add(list, "CHECKED decay 1h", () -> Heap.builder().mode(HeapMode.CHECKED).decay(Duration.ofHours(1))
                .quarantine(256 * KIB), false);
        add(list, "CHECKED decay 0 gather at every peak", () -> Heap.builder().mode(HeapMode.CHECKED)
                .decay(Duration.ZERO).pageGathering(PageGathering.AT_EVERY_PEAK).quarantine(64 * KIB), false);
        add(list, "CHECKED limit 12 MiB", () -> Heap.builder().mode(HeapMode.CHECKED).limit(12 * MIB)
                .decay(Duration.ofHours(1)).spareBytes(0).quarantine(64 * KIB), true);
        return list.stream();
    }

    private static void add(List<Config> list, String name, Supplier<Heap.Builder> b, boolean mayExhaust) {
        list.add(new Config(name, b, null, mayExhaust));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void oneThread(Config config) {
        for (int seed = 1; seed <= SEEDS; seed++) {
            try (Heap heap = config.builder().get().jmx(false).build()) {
                Worker w = new Worker(heap, config, 1000L * seed + SEED_BASE, null);
                w.run();
                w.freeAll();
                assertThat(heap.verify()).as("%s seed %d", config, seed).isEmpty();
                assertThat(heap.stats().liveBytes()).isZero();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void twoPlatformThreadsHandingBlocksOver(Config config) throws Exception {
        threads(config, false, 2, Math.max(1, SEEDS / 2));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void virtualThreadsHandingBlocksOver(Config config) throws Exception {
        threads(config, true, 3, Math.max(1, SEEDS / 3));
    }

    private static void threads(Config config, boolean virtual, int n, int seeds) throws Exception {
        for (int seed = 1; seed <= seeds; seed++) {
            try (Heap heap = config.builder().get().jmx(false).build()) {
                ConcurrentLinkedQueue<Block> shared = new ConcurrentLinkedQueue<>();
                Worker[] workers = new Worker[n];
                Throwable[] failures = new Throwable[n];
                Thread[] threads = new Thread[n];
                for (int i = 0; i < n; i++) {
                    workers[i] = new Worker(heap, config, 7919L * seed + i + SEED_BASE, shared);
                    int k = i;
                    Runnable r = () -> {
                        try {
                            workers[k].run();
                        } catch (Throwable t) {
                            failures[k] = t;
                        }
                    };
                    threads[i] = virtual ? Thread.ofVirtual().start(r) : Thread.ofPlatform().start(r);
                }
                for (Thread t : threads) t.join();
                for (Throwable t : failures) {
                    if (t != null) throw new AssertionError(config + " seed " + seed + ": " + t.getMessage(), t);
                }
                Worker last = new Worker(heap, config, 0, shared);
                for (Worker w : workers) last.live.addAll(w.live);
                last.freeAll();
                assertThat(heap.verify()).as("%s seed %d", config, seed).isEmpty();
                assertThat(heap.stats().liveBytes()).isZero();
            }
        }
    }

    /** A live block: its address, the bytes asked for, the usable bytes written with its identity's pattern. */
    static final class Block {
        long address, size, usable;
        final long id;

        Block(long id) {
            this.id = id;
        }

        @Override
        public String toString() {
            return "#" + id + "@" + Blocks.hex(address) + "[" + size + "/" + usable + "]";
        }
    }

    private enum Kind { MALLOC, CALLOC, REALLOC, ALIGNED, FREE, FREE_THEN_CALLOC, TRIM, ADVANCE, HAND_OVER }

    static final class Worker {
        private static final AtomicLong IDS = new AtomicLong(1);
        final Heap heap;
        final Config config;
        final Random random;
        final ConcurrentLinkedQueue<Block> shared;
        final List<Block> live = new ArrayList<>();
        final ArrayDeque<String> log = new ArrayDeque<>();
        long liveBytes;

        Worker(Heap heap, Config config, long seed, ConcurrentLinkedQueue<Block> shared) {
            this.heap = heap;
            this.config = config;
            this.random = new Random(seed);
            this.shared = shared;
        }

        void run() {
            for (int step = 0; step < OPS; step++) {
                Kind kind = pickKind();
                try {
                    apply(kind);
                } catch (HeapExhaustedException e) {
                    if (!config.mayExhaust()) throw failure("refused: " + e.getMessage(), e);
                    note("refused");
                } catch (AssertionError e) {
                    throw failure(e.getMessage(), e);
                }
            }
        }

        private AssertionError failure(String what, Throwable cause) {
            return new AssertionError(config + " seed-run, last steps:\n  " + String.join("\n  ", log) + "\n" + what,
                    cause);
        }

        private void note(String s) {
            log.addLast(s);
            if (log.size() > 40) log.removeFirst();
        }

        private Kind pickKind() {
            int r = random.nextInt(100);
            if (liveBytes > 40 * MIB && r < 60) return Kind.FREE;
            if (r < 16) return Kind.MALLOC;
            if (r < 34) return Kind.CALLOC;
            if (r < 52) return Kind.REALLOC;
            if (r < 60) return Kind.ALIGNED;
            if (r < 78) return Kind.FREE;
            if (r < 88) return Kind.FREE_THEN_CALLOC;
            if (r < 91) return Kind.TRIM;
            if (r < 95) return config.clock() != null ? Kind.ADVANCE : Kind.FREE;
            return shared != null ? Kind.HAND_OVER : Kind.CALLOC;
        }

        /** Sizes from 0 to 6 MiB: small through the caches, medium, page runs. */
        private long size() {
            int r = random.nextInt(100);
            if (r < 2) return 0;
            if (r < 30) return 1 + random.nextInt(256);
            if (r < 48) return 257 + random.nextInt(32 * 1024);
            if (r < 68) return 32 * KIB + random.nextInt((int) (224 * KIB + 1));
            if (r < 80) return (256 * KIB + random.nextInt((int) (768 * KIB))) & ~(r < 75 ? 4095L : 0);
            if (r < 96) return (MIB + random.nextInt((int) (3 * MIB))) & ~(r < 90 ? 4095L : 0);
            return 4 * MIB + random.nextInt((int) (2 * MIB));
        }

        private void apply(Kind kind) {
            switch (kind) {
                case MALLOC -> {
                    long size = size();
                    note("malloc(" + size + ")");
                    admit(heap.malloc(size), size, 16, false);
                }
                case CALLOC -> calloc(size());
                case ALIGNED -> {
                    long alignment = 1L << (4 + random.nextInt(18)); // 16 B .. 2 MiB
                    long size = size();
                    note("alignedAlloc(" + alignment + ", " + size + ")");
                    admit(heap.alignedAlloc(alignment, size), size, alignment, false);
                }
                case REALLOC -> realloc();
                case FREE -> {
                    Block b = pick();
                    if (b != null) free(b);
                }
                case FREE_THEN_CALLOC -> {
                    // A calloc of about the size just freed: the freed pages or slot, dirty, come back first.
                    Block b = pick();
                    if (b == null) return;
                    long usable = b.usable;
                    free(b);
                    long size = switch (random.nextInt(4)) {
                        case 0 -> usable;
                        case 1 -> Math.max(0, usable - random.nextInt(64));
                        case 2 -> usable / 2;
                        default -> usable + random.nextInt(8192);
                    };
                    calloc(size);
                }
                case TRIM -> {
                    note("trim()");
                    heap.trim();
                    for (Block b : live) check(b, b.usable);
                }
                case ADVANCE -> {
                    Duration by = Duration.ofMillis(200 + random.nextInt(1500));
                    note("advance(" + by + ")");
                    config.clock().advance(by);
                }
                case HAND_OVER -> {
                    if (random.nextBoolean()) {
                        Block b = pick();
                        if (b != null) {
                            note("hand over " + b);
                            live.remove(b);
                            liveBytes -= b.usable;
                            shared.add(b);
                        }
                    } else {
                        Block b = shared.poll();
                        if (b != null) {
                            note("take " + b);
                            live.add(b);
                            liveBytes += b.usable;
                        }
                    }
                }
            }
        }

        private void calloc(long size) {
            long count = 1 + random.nextInt(4);
            long each = size / count;
            note("calloc(" + count + ", " + each + ")");
            long p = heap.calloc(count, each);
            long nonzero = firstNonzero(p, count * each);
            if (nonzero >= 0) {
                throw new AssertionError("calloc(" + count + ", " + each + ") = " + Blocks.hex(p) + ": byte "
                        + nonzero + " is " + ALL.get(ValueLayout.JAVA_BYTE, p + nonzero) + ", word there 0x"
                        + Long.toHexString(ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, p + (nonzero & ~7L)))
                        + " (" + whose(ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, p + (nonzero & ~7L))) + ")");
            }
            admit(p, count * each, 16, true);
        }

        private void admit(long p, long size, long alignment, boolean zeroed) {
            assertThat(p).isNotZero();
            assertThat(p % alignment).as("aligned to %d", alignment).isZero();
            if (!zeroed && heap.mode() == HeapMode.CHECKED) junkFrom(p, 0, size, "a new block");
            Block b = new Block(IDS.getAndIncrement());
            b.address = p;
            b.size = size;
            b.usable = heap.usableSize(p);
            assertThat(b.usable).isGreaterThanOrEqualTo(size);
            fill(b, 0, b.usable);
            live.add(b);
            liveBytes += b.usable;
            note("  -> " + b + (zeroed ? " zeroed" : ""));
        }

        private void realloc() {
            Block b = pick();
            if (b == null) return;
            long newSize = switch (random.nextInt(5)) {
                case 0 -> b.usable + 1 + random.nextInt(4096); // just past: in place where it can
                case 1 -> b.usable / 2;
                case 2 -> b.usable * 2 + random.nextInt(100);
                case 3 -> Math.max(1, b.usable - 1 - random.nextInt((int) Math.min(b.usable + 1, 1 << 20)));
                default -> size();
            };
            note("realloc(" + b + ", " + newSize + ")");
            check(b, b.usable);
            long q;
            try {
                q = heap.realloc(b.address, newSize);
            } catch (HeapExhaustedException e) {
                check(b, b.usable); // a refused move leaves the block as it was
                throw e;
            }
            if (newSize == 0) {
                assertThat(q).isZero();
                live.remove(b);
                liveBytes -= b.usable;
                return;
            }
            long kept = Math.min(b.usable, newSize);
            long oldUsable = b.usable;
            b.address = q;
            b.size = newSize;
            liveBytes -= oldUsable;
            b.usable = heap.usableSize(q);
            liveBytes += b.usable;
            assertThat(b.usable).isGreaterThanOrEqualTo(newSize);
            note("  -> " + b);
            check(b, kept);
            if (heap.mode() == HeapMode.CHECKED) junkFrom(q, kept, newSize, "a realloc's new tail");
            fill(b, kept, b.usable);
        }

        /** CHECKED mode fills what the program has not written with junk, never old data (docs/safety.md). */
        private void junkFrom(long p, long from, long to, String what) {
            long i = from;
            while (i + 8 <= to && ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, p + i) == 0xA5A5A5A5A5A5A5A5L) i += 8;
            for (; i < to; i++) {
                byte got = ALL.get(ValueLayout.JAVA_BYTE, p + i);
                if (got != (byte) 0xA5) {
                    throw new AssertionError(what + " at " + Blocks.hex(p) + ": byte " + i + " of [" + from + ", " + to
                            + ") is " + got + ", not junk (0xA5)");
                }
            }
        }

        private void free(Block b) {
            note("free(" + b + ")");
            check(b, b.usable);
            live.remove(b);
            liveBytes -= b.usable;
            heap.free(b.address);
        }

        void freeAll() {
            Block b;
            if (shared != null) {
                while ((b = shared.poll()) != null) live.add(b);
            }
            for (Block x : List.copyOf(live)) free(x);
        }

        private Block pick() {
            if (live.isEmpty()) return null;
            return live.get(random.nextInt(live.size()));
        }

        private void check(Block b, long upTo) {
            long bad = mismatch(b, upTo);
            if (bad >= 0) {
                long word = ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, b.address + (bad & ~7L));
                throw new AssertionError(b + ": byte " + bad + " of the " + upTo + " kept is "
                        + ALL.get(ValueLayout.JAVA_BYTE, b.address + bad) + ", word there 0x" + Long.toHexString(word)
                        + " (" + whose(word) + "), expected 0x" + Long.toHexString(pattern(b.id, bad & ~7L)));
            }
        }
    }

    // ------------------------------------------------------------------ the pattern

    private static final long MIX = 0x9E3779B97F4A7C15L;
    private static final long NONZERO = 0x0101010101010101L;

    /** The word at {@code offset} (a multiple of 8) of block {@code id}: every byte nonzero. */
    static long pattern(long id, long offset) {
        return ((id << 40) ^ (offset >>> 3) ^ (id * MIX)) | NONZERO;
    }

    /** @return what a stray word looks like, to name whose bytes a calloc or move handed out */
    static String whose(long word) {
        if (word == 0) return "zero";
        return (word & NONZERO) == NONZERO ? "every byte odd: a block's pattern, it seems" : "not a pattern";
    }

    static void fill(Block b, long from, long to) {
        long p = b.address;
        long off = from & ~7L;
        if (off < from) { // the partial word at from: write its bytes from 'from' on
            long w = pattern(b.id, off);
            for (long i = from; i < Math.min(to, off + 8); i++) {
                ALL.set(ValueLayout.JAVA_BYTE, p + i, byteOf(w, i - off));
            }
            off += 8;
        }
        for (; off + 8 <= to; off += 8) ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, p + off, pattern(b.id, off));
        if (off < to) {
            long w = pattern(b.id, off);
            for (long i = off; i < to; i++) ALL.set(ValueLayout.JAVA_BYTE, p + i, byteOf(w, i - off));
        }
    }

    /** @return the first offset below {@code upTo} whose byte is not the pattern's, or -1 */
    static long mismatch(Block b, long upTo) {
        long p = b.address;
        long off = 0;
        for (; off + 8 <= upTo; off += 8) {
            if (ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, p + off) != pattern(b.id, off)) {
                long w = pattern(b.id, off);
                for (long i = off; i < off + 8; i++) {
                    if (ALL.get(ValueLayout.JAVA_BYTE, p + i) != byteOf(w, i - off)) return i;
                }
            }
        }
        long w = pattern(b.id, off);
        for (long i = off; i < upTo; i++) {
            if (ALL.get(ValueLayout.JAVA_BYTE, p + i) != byteOf(w, i - off)) return i;
        }
        return -1;
    }

    /** Byte {@code i} of a word as it lies in memory (little-endian, as ValueLayout's native order is here). */
    private static byte byteOf(long word, long i) {
        return (byte) (word >>> (8 * i));
    }

    static long firstNonzero(long p, long n) {
        long off = 0;
        for (; off + 8 <= n; off += 8) {
            if (ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, p + off) != 0) break;
        }
        for (; off < n; off++) {
            if (ALL.get(ValueLayout.JAVA_BYTE, p + off) != 0) return off;
        }
        return -1;
    }
}
