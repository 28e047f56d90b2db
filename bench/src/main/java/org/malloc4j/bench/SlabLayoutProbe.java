package org.malloc4j.bench;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.malloc4j.Heap;
import org.malloc4j.anchors.Allocator;
import org.malloc4j.anchors.Allocators;

/**
 * A design experiment, not a benchmark of malloc4j: how fast can a Java small-object heap be, depending on how it
 * finds and keeps its metadata? Three single-thread designs, each reduced to its fast path and the slow path that
 * feeds it (no statistics, no sampling, no remote frees, no giving memory back), run the same two loops as malloc4j's
 * {@link Heap} and the native allocators through FFM:
 *
 * <ul>
 *   <li>{@code objects}: malloc4j's shape. A slab object per 16 KiB run with its free bitmap, a two-level directory
 *       from page to slab, a current slab per class and a FIFO queue of slabs with free blocks; malloc takes the
 *       current slab's lowest free block, free finds the slab through the directory and sets its bit.</li>
 *   <li>{@code headers}: the same policy with the metadata in native memory at an address computed from the block's
 *       (4 MiB segments, 64 KiB slabs, a 1 KiB header each holding the bitmap: mimalloc's segment headers), read
 *       and written through one {@code MemorySegment} over all memory.</li>
 *   <li>{@code stacks}: tcmalloc's shape. Per class a LIFO stack of free addresses in a Java {@code long[]}; malloc
 *       pops (or bumps through a new run), free pushes. Every free is still validated, by flat arrays indexed by
 *       arithmetic on the address: a bitmap with a bit per 16-byte granule set where a live block starts (a double
 *       free, an interior pointer or a never-allocated address finds it clear) and a word per page with the owner
 *       and the class.</li>
 *   <li>{@code tiered}: {@code stacks} with what a heap needs behind it ({@link TieredStacks}): bounded stacks
 *       exchanging batches with per-slab bitmaps, requested sizes ({@code -Dprobe.slack=slab|granule|none}) and
 *       exact counters ({@code -Dprobe.counters=false} drops them).</li>
 * </ul>
 *
 * <p>Workloads: {@code larson} (1000 slots; free a random slot, malloc 16-1024 B into it, write its first and last 8
 * bytes) and {@code pairN} (malloc N bytes, write its ends, free it). Each round runs 20 million operations
 * (larson) or 50 million pairs; the line per round is ns per operation. Run one subject per JVM, so that every call
 * site sees one class:
 * <pre>
 * GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 TCMALLOC_SKIP_SBRK=true java --enable-native-access=ALL-UNNAMED \
 *     -cp bench/target/malloc4j-bench.jar org.malloc4j.bench.SlabLayoutProbe SUBJECT WORKLOAD [ROUNDS]
 * </pre>
 * SUBJECT: {@code heap}, {@code objects}, {@code headers}, {@code stacks}, {@code tiered}, or a native allocator's
 * name. What it
 * showed: {@code docs/benchmarks.md}, "LarsonBenchmark", 2026-12-05.
 */
public final class SlabLayoutProbe {
    private SlabLayoutProbe() {}

    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /** A subject: malloc and free, nothing else. */
    interface Subject {
        long malloc(long size);

        void free(long address);
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: SlabLayoutProbe heap|objects|headers|stacks|tiered|glibc|jemalloc|mimalloc"
                    + "|tcmalloc larson|pairN [rounds]");
            System.exit(2);
        }
        Subject subject = open(args[0]);
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        if (args[1].equals("larson")) {
            larson(args[0], subject, rounds);
        } else if (args[1].startsWith("pair")) {
            pairs(args[0], subject, Long.parseLong(args[1].substring(4)), rounds);
        } else {
            throw new IllegalArgumentException("workload must be larson or pairN: " + args[1]);
        }
    }

    private static Subject open(String name) {
        return switch (name) {
            case "heap" -> {
                Heap heap = Heap.create();
                yield new Subject() {
                    public long malloc(long size) {
                        return heap.malloc(size);
                    }

                    public void free(long address) {
                        heap.free(address);
                    }
                };
            }
            case "objects" -> new ObjectSlabs();
            case "headers" -> new NativeHeaders();
            case "stacks" -> new FlatStacks();
            case "tiered" -> new TieredStacks();
            default -> {
                Allocator a = Allocators.open(name);
                yield new Subject() {
                    public long malloc(long size) {
                        return a.malloc(size);
                    }

                    public void free(long address) {
                        a.free(address);
                    }
                };
            }
        };
    }

    private static void larson(String name, Subject h, int rounds) {
        int slots = 1000, ops = 1 << 20;
        SplittableRandom r = new SplittableRandom(42);
        int[] slot = new int[ops];
        long[] size = new long[ops];
        for (int i = 0; i < ops; i++) {
            slot[i] = r.nextInt(slots);
            size[i] = 16 + r.nextInt(1009);
        }
        long[] s = new long[slots];
        for (int i = 0; i < slots; i++) s[i] = h.malloc(16 + r.nextInt(1009));
        for (int k = 0; k < rounds; k++) {
            long t0 = System.nanoTime();
            for (int rep = 0; rep < 20; rep++) {
                for (int i = 0; i < ops; i++) {
                    int j = slot[i];
                    h.free(s[j]);
                    long n = size[i];
                    long p = h.malloc(n);
                    ALL.set(JAVA_LONG_UNALIGNED, p, n);
                    ALL.set(JAVA_LONG_UNALIGNED, p + n - 8, n);
                    s[j] = p;
                }
            }
            System.out.printf("%s larson %.2f ns/op%n", name, (System.nanoTime() - t0) / (20.0 * ops));
        }
    }

    private static void pairs(String name, Subject h, long size, int rounds) {
        if (size < 8) throw new IllegalArgumentException("pair size must be 8 or more: " + size);
        int n = 50_000_000;
        for (int k = 0; k < rounds; k++) {
            long t0 = System.nanoTime(), sum = 0;
            for (int i = 0; i < n; i++) {
                long p = h.malloc(size);
                ALL.set(JAVA_LONG_UNALIGNED, p, i);
                ALL.set(JAVA_LONG_UNALIGNED, p + size - 8, i);
                sum += p;
                h.free(p);
            }
            System.out.printf("%s pair%d %.2f ns/op (%d)%n", name, size, (double) (System.nanoTime() - t0) / n,
                    sum & 1);
        }
    }

    // ------------------------------------------------------------------ size classes shared by the three designs

    /** 16-byte steps to 128 B, then four classes per doubling. */
    static int classOf(long size) {
        if (size <= 128) return (int) Math.max(0, (size - 1) >>> 4);
        int lg = 63 - Long.numberOfLeadingZeros(size - 1); // 2^lg < size <= 2^(lg+1)
        int quarter = (int) ((size - 1 - (1L << lg)) >>> (lg - 2));
        return 8 + (lg - 7) * 4 + quarter;
    }

    static final int CLASSES = classOf(1 << 20) + 1;

    static int classSize(int c) {
        if (c < 8) return (c + 1) << 4;
        int lg = 7 + (c - 8) / 4, quarter = (c - 8) % 4;
        return (1 << lg) + ((quarter + 1) << (lg - 2));
    }

    static final int MAX_SIZE = 1 << 14;

    /** @return word {@code w} of the free bitmap of a new slab of {@code capacity} blocks: every block free */
    static long allFree(int capacity, int w) {
        int n = Math.min(64, capacity - (w << 6));
        return n == 64 ? -1L : (1L << n) - 1;
    }

    private static void checkSize(long size) {
        if (size <= 0 || size > MAX_SIZE) throw new IllegalArgumentException("probe sizes are 1 to 16384: " + size);
    }

    // ------------------------------------------------------------------ objects: malloc4j's shape

    /** Slab objects with their bitmaps, found through a two-level directory. */
    static final class ObjectSlabs implements Subject {
        static final int PAGE_SHIFT = 14, CHUNK_SHIFT = 22;
        static final long REGION = 512L << 20;

        static final class Slab {
            long summary, base, blockSize, magic, span, owner;
            int used, capacity, sizeClass;
            boolean current;
            final long[] bits;

            Slab(int words) {
                bits = new long[words];
            }
        }

        private static final Slab EMPTY = new Slab(0);
        private final Slab[] current = new Slab[CLASSES];
        private final Slab[][] queue = new Slab[CLASSES][1024];
        private final int[] head = new int[CLASSES], tail = new int[CLASSES];
        private final Slab[][] directory = new Slab[(int) (REGION >>> CHUNK_SHIFT)][];
        private final long base;
        private final long me = Thread.currentThread().threadId();
        private long next;

        ObjectSlabs() {
            base = Arena.global().allocate(REGION, 1L << CHUNK_SHIFT).address();
            next = base;
            Arrays.fill(current, EMPTY);
        }

        private Slab newSlab(int c) {
            long page = next;
            next += 1L << PAGE_SHIFT;
            int bs = classSize(c), cap = (1 << PAGE_SHIFT) / bs, words = (cap + 63) >>> 6;
            Slab s = new Slab(words);
            s.base = page;
            s.blockSize = bs;
            s.magic = ((1L << 40) + bs - 1) / bs;
            s.span = (long) cap * bs;
            s.owner = me;
            s.capacity = cap;
            s.sizeClass = c;
            for (int w = 0; w < words; w++) {
                s.bits[w] = allFree(cap, w);
                s.summary |= 1L << w;
            }
            long off = page - base;
            int chunk = (int) (off >>> CHUNK_SHIFT);
            if (directory[chunk] == null) directory[chunk] = new Slab[1 << (CHUNK_SHIFT - PAGE_SHIFT)];
            directory[chunk][(int) (off >>> PAGE_SHIFT) & ((1 << (CHUNK_SHIFT - PAGE_SHIFT)) - 1)] = s;
            return s;
        }

        @Override
        public long malloc(long size) {
            checkSize(size);
            int c = classOf(size);
            Slab s = current[c];
            long summary = s.summary;
            if (summary != 0) {
                int w = Long.numberOfTrailingZeros(summary);
                long word = s.bits[w];
                int idx = (w << 6) | Long.numberOfTrailingZeros(word);
                word &= word - 1;
                s.bits[w] = word;
                if (word == 0) s.summary = summary & ~(1L << w);
                s.used++;
                return s.base + idx * s.blockSize;
            }
            s.current = false;
            Slab n = head[c] != tail[c] ? queue[c][head[c]++ & 1023] : newSlab(c);
            n.current = true;
            current[c] = n;
            return malloc(size);
        }

        @Override
        public void free(long p) {
            long off = p - base;
            if (Long.compareUnsigned(off, REGION) >= 0) throw new IllegalArgumentException("not in the heap");
            Slab[] chunk = directory[(int) (off >>> CHUNK_SHIFT)];
            Slab s = chunk == null ? null : chunk[(int) (off >>> PAGE_SHIFT) & ((1 << (CHUNK_SHIFT - PAGE_SHIFT)) - 1)];
            if (s == null) throw new IllegalArgumentException("not a block");
            long rel = p - s.base;
            int idx = (int) ((rel * s.magic) >>> 40);
            if (Long.compareUnsigned(rel, s.span) >= 0 || idx * s.blockSize != rel) {
                throw new IllegalArgumentException("not a block");
            }
            if (s.owner != me) throw new IllegalStateException("another thread's block");
            int w = idx >>> 6;
            long word = s.bits[w], bit = 1L << idx;
            if ((word & bit) != 0) throw new IllegalArgumentException("double free");
            s.bits[w] = word | bit;
            s.summary |= 1L << w;
            if (--s.used == s.capacity - 1 && !s.current) queue[s.sizeClass][tail[s.sizeClass]++ & 1023] = s;
        }
    }

    // ------------------------------------------------------------------ headers: metadata at a computed address

    /** The same policy as {@link ObjectSlabs}, its metadata in native segment headers. */
    static final class NativeHeaders implements Subject {
        static final int SEG_SHIFT = 22, PAGE_SHIFT = 16, META = 1024;
        static final long SEG = 1L << SEG_SHIFT, REGION = 512L << 20;
        static final int SUMMARY = 0, BASE = 8, SIZE = 16, MAGIC = 24, SPAN = 32, OWNER = 40, USED = 48, CAPACITY = 52,
                CURRENT = 56, CLASS = 60, BITS = 64;

        private final long[] current = new long[CLASSES];
        private final long[][] queue = new long[CLASSES][1024];
        private final int[] head = new int[CLASSES], tail = new int[CLASSES];
        private final long me = Thread.currentThread().threadId();
        private final long base;
        private long next;

        NativeHeaders() {
            base = Arena.global().allocate(REGION, SEG).address();
            next = base + (1L << PAGE_SHIFT); // each segment's first slab holds the headers
            long empty = Arena.global().allocate(META, 64).address(); // a summary of 0: no free block
            Arrays.fill(current, empty);
        }

        private static long get(long a) {
            return ALL.get(JAVA_LONG_UNALIGNED, a);
        }

        private static void set(long a, long v) {
            ALL.set(JAVA_LONG_UNALIGNED, a, v);
        }

        private static int getInt(long a) {
            return ALL.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, a);
        }

        private static void setInt(long a, int v) {
            ALL.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, a, v);
        }

        private long newSlab(int c) {
            long page = next;
            next += 1L << PAGE_SHIFT;
            if ((next & (SEG - 1)) == 0) next += 1L << PAGE_SHIFT;
            long seg = page & -SEG, meta = seg + ((page - seg) >>> PAGE_SHIFT) * META;
            int bs = classSize(c), cap = (1 << PAGE_SHIFT) / bs, words = (cap + 63) >>> 6;
            set(meta + BASE, page);
            set(meta + SIZE, bs);
            set(meta + MAGIC, ((1L << 40) + bs - 1) / bs);
            set(meta + SPAN, (long) cap * bs);
            set(meta + OWNER, me);
            setInt(meta + USED, 0);
            setInt(meta + CAPACITY, cap);
            setInt(meta + CLASS, c);
            long summary = 0;
            for (int w = 0; w < words; w++) {
                set(meta + BITS + 8L * w, allFree(cap, w));
                summary |= 1L << w;
            }
            set(meta + SUMMARY, summary);
            return meta;
        }

        @Override
        public long malloc(long size) {
            checkSize(size);
            int c = classOf(size);
            long meta = current[c];
            long summary = get(meta);
            if (summary != 0) {
                int w = Long.numberOfTrailingZeros(summary);
                long at = meta + BITS + ((long) w << 3);
                long word = get(at);
                int idx = (w << 6) | Long.numberOfTrailingZeros(word);
                word &= word - 1;
                set(at, word);
                if (word == 0) set(meta, summary & ~(1L << w));
                setInt(meta + USED, getInt(meta + USED) + 1);
                return get(meta + BASE) + idx * get(meta + SIZE);
            }
            if (getInt(meta + CAPACITY) != 0) setInt(meta + CURRENT, 0);
            long n = head[c] != tail[c] ? queue[c][head[c]++ & 1023] : newSlab(c);
            setInt(n + CURRENT, 1);
            current[c] = n;
            return malloc(size);
        }

        @Override
        public void free(long p) {
            if (Long.compareUnsigned(p - base, REGION) >= 0 || ((p - base) & (SEG - 1)) < (1L << PAGE_SHIFT)) {
                throw new IllegalArgumentException("not in the heap");
            }
            long seg = p & -SEG, meta = seg + ((p - seg) >>> PAGE_SHIFT) * META;
            long rel = p - get(meta + BASE);
            int idx = (int) ((rel * get(meta + MAGIC)) >>> 40);
            if (Long.compareUnsigned(rel, get(meta + SPAN)) >= 0 || idx * get(meta + SIZE) != rel) {
                throw new IllegalArgumentException("not a block");
            }
            if (get(meta + OWNER) != me) throw new IllegalStateException("another thread's block");
            int w = idx >>> 6;
            long at = meta + BITS + ((long) w << 3), word = get(at), bit = 1L << idx;
            if ((word & bit) != 0) throw new IllegalArgumentException("double free");
            set(at, word | bit);
            long summary = get(meta);
            if ((summary & (1L << w)) == 0) set(meta, summary | (1L << w));
            int used = getInt(meta + USED) - 1;
            setInt(meta + USED, used);
            if (used == getInt(meta + CAPACITY) - 1 && getInt(meta + CURRENT) == 0) {
                int c = getInt(meta + CLASS);
                queue[c][tail[c]++ & 1023] = meta;
            }
        }
    }

    // ------------------------------------------------------------------ stacks: tcmalloc's shape, validated frees

    /** Per-class LIFO stacks of free addresses; frees validated by flat arrays indexed by the address. */
    static final class FlatStacks implements Subject {
        static final long REGION = 512L << 20;
        private final long base;
        /** Bit g set: a live block starts at granule g (16 bytes) of the region. */
        private final long[] starts = new long[(int) (REGION >>> 4 >>> 6)];
        /** Per page: owner id << 8 | class + 1; 0 for a page no slab holds. */
        private final int[] pageInfo = new int[(int) (REGION >>> 12)];
        private final long[][] stack = new long[CLASSES][];
        private final int[] top = new int[CLASSES];
        private final long[] bump = new long[CLASSES], bumpEnd = new long[CLASSES];
        private final int me = 1;
        private long next;

        FlatStacks() {
            base = Arena.global().allocate(REGION, 1L << 22).address();
            next = base;
            for (int c = 0; c < CLASSES; c++) stack[c] = new long[256];
        }

        @Override
        public long malloc(long size) {
            checkSize(size);
            int c = classOf(size);
            int t = top[c];
            long p;
            if (t > 0) {
                p = stack[c][t - 1];
                top[c] = t - 1;
            } else {
                p = carve(c);
            }
            long g = (p - base) >>> 4;
            starts[(int) (g >>> 6)] |= 1L << g;
            return p;
        }

        private long carve(int c) {
            int bs = classSize(c);
            if (bump[c] + bs > bumpEnd[c]) {
                int pages = Math.max(4, (4 * bs + 4095) >>> 12);
                long run = next;
                next += (long) pages << 12;
                for (int i = 0; i < pages; i++) pageInfo[(int) ((run - base) >>> 12) + i] = me << 8 | (c + 1);
                bump[c] = run;
                bumpEnd[c] = run + ((long) pages << 12) / bs * bs;
            }
            long p = bump[c];
            bump[c] += bs;
            return p;
        }

        @Override
        public void free(long p) {
            long off = p - base;
            if (Long.compareUnsigned(off, REGION) >= 0) throw new IllegalArgumentException("not in the heap");
            int info = pageInfo[(int) (off >>> 12)];
            long g = off >>> 4;
            int i = (int) (g >>> 6);
            long word = starts[i], bit = 1L << g;
            if ((word & bit) == 0 || info == 0) throw new IllegalArgumentException("not a live block");
            if (info >>> 8 != me) throw new IllegalStateException("another thread's block");
            starts[i] = word & ~bit;
            int c = (info & 0xff) - 1;
            int t = top[c];
            long[] s = stack[c];
            if (t == s.length) stack[c] = s = Arrays.copyOf(s, 2 * t);
            s[t] = p;
            top[c] = t + 1;
        }
    }

    // ------------------------------------------------------------------ tiered: stacks with what a heap needs behind

    /**
     * {@link FlatStacks} with what a heap needs behind its stacks: a class's stack is bounded ({@link #STACK}) and
     * exchanges blocks in batches with per-slab free bitmaps (refills take a slab's lowest free blocks first, so
     * placement stays address-ordered within a slab, and a slab counts its free blocks, so it can be known empty);
     * the requested size of every block (its slack, per slab, found from the page word); exact counters of mallocs,
     * frees and live requested bytes with their peak.
     */
    static final class TieredStacks implements Subject {
        static final long REGION = 512L << 20;
        /** Blocks a class's stack holds at most ({@code -Dprobe.stack=N}, default 64), and half of it, a batch. */
        static final int STACK = Integer.getInteger("probe.stack", 64), BATCH = STACK / 2;

        /**
         * Where requested sizes are kept: {@code -Dprobe.slack=slab} (default), {@code granule}, {@code none}, or
         * {@code mark}: the granule byte is also the live mark (0: no live block starts here; 1 + the slack below
         * 254; 255: live, the slack in the next two bytes), in place of the bitmap of block starts.
         */
        enum Slack { SLAB, GRANULE, NONE, MARK }

        static final Slack SLACK = Slack.valueOf(System.getProperty("probe.slack", "slab").toUpperCase());
        /** {@code -Dprobe.counters=false}: no malloc, free and live counters. */
        static final boolean COUNTERS = !"false".equals(System.getProperty("probe.counters"));
        /** With {@code granule}: a byte per 16-byte granule of the region, the slack of the block starting there. */
        private final byte[] granuleSlack =
                SLACK == Slack.GRANULE || SLACK == Slack.MARK ? new byte[(int) (REGION >>> 4)] : null;

        static final class Slab {
            final long base;
            final int blockSize, capacity;
            final long[] free;
            final char[] slack;
            int freeCount;
            Slab next;
            boolean queued;

            Slab(long base, int sizeClass, int pages) {
                this.base = base;
                this.blockSize = classSize(sizeClass);
                this.capacity = (pages << 12) / blockSize;
                this.free = new long[(capacity + 63) >>> 6];
                for (int w = 0; w < free.length; w++) free[w] = allFree(capacity, w);
                this.slack = new char[capacity];
                this.freeCount = capacity;
            }
        }

        private final long base;
        private final long[] starts = new long[(int) (REGION >>> 4 >>> 6)];
        /** Per page: slab ordinal << 32 | owner << 16 | page index in its slab << 8 | class + 1; 0: no slab. */
        private final long[] pageInfo = new long[(int) (REGION >>> 12)];
        private Slab[] slabs = new Slab[1024];
        private char[][] slackOf = new char[1024][];
        private int slabCount;
        private static final long[] MAGIC = new long[CLASSES];
        private static final int[] SIZE = new int[CLASSES];

        static {
            for (int c = 0; c < CLASSES; c++) {
                SIZE[c] = classSize(c);
                MAGIC[c] = ((1L << 40) + SIZE[c] - 1) / SIZE[c];
            }
        }

        private final long[][] stack = new long[CLASSES][STACK];
        private final int[] top = new int[CLASSES];
        private final Slab[] queueHead = new Slab[CLASSES], queueTail = new Slab[CLASSES];
        private final long me = 1;
        private long next;
        long mallocs, frees, live, peak;

        TieredStacks() {
            base = Arena.global().allocate(REGION, 1L << 22).address();
            next = base;
        }

        /** @return the index of the block at region offset {@code off} in its slab, from the page word */
        private static int blockIndex(long off, long info) {
            long slabOff = ((off >>> 12) - ((info >>> 8) & 0xff)) << 12;
            return (int) (((off - slabOff) * MAGIC[(int) (info & 0xff) - 1]) >>> 40);
        }

        @Override
        public long malloc(long size) {
            checkSize(size);
            int c = classOf(size);
            int t = top[c];
            long p;
            if (t > 0) {
                p = stack[c][t - 1];
                top[c] = t - 1;
            } else {
                p = refill(c);
            }
            long off = p - base, g = off >>> 4;
            if (SLACK != Slack.MARK) starts[(int) (g >>> 6)] |= 1L << g;
            switch (SLACK) {
                case SLAB -> {
                    long info = pageInfo[(int) (off >>> 12)];
                    slackOf[(int) (info >>> 32)][blockIndex(off, info)] = (char) (SIZE[c] - size);
                }
                case GRANULE -> {
                    int slack = SIZE[c] - (int) size;
                    if (slack < 255) {
                        granuleSlack[(int) g] = (byte) slack;
                    } else { // a class this far apart spans 16 granules or more: the next two hold the slack
                        granuleSlack[(int) g] = (byte) 255;
                        granuleSlack[(int) g + 1] = (byte) slack;
                        granuleSlack[(int) g + 2] = (byte) (slack >>> 8);
                    }
                }
                case MARK -> {
                    int slack = SIZE[c] - (int) size;
                    if (slack < 254) {
                        granuleSlack[(int) g] = (byte) (slack + 1);
                    } else {
                        granuleSlack[(int) g] = (byte) 255;
                        granuleSlack[(int) g + 1] = (byte) slack;
                        granuleSlack[(int) g + 2] = (byte) (slack >>> 8);
                    }
                }
                case NONE -> { }
            }
            if (COUNTERS) {
                mallocs++;
                long l = live + size;
                live = l;
                if (l > peak) peak = l;
            }
            return p;
        }

        @Override
        public void free(long p) {
            long off = p - base;
            if (Long.compareUnsigned(off, REGION) >= 0) throw new IllegalArgumentException("not in the heap");
            long info = pageInfo[(int) (off >>> 12)];
            long g = off >>> 4;
            int c = (int) (info & 0xff) - 1;
            int slack;
            if (SLACK == Slack.MARK) {
                int b = granuleSlack[(int) g] & 0xff;
                if (b == 0 || info == 0) throw new IllegalArgumentException("not a live block");
                if (((info >>> 16) & 0xffff) != me) throw new IllegalStateException("another thread's block");
                granuleSlack[(int) g] = 0;
                slack = b < 255 ? b - 1 : (granuleSlack[(int) g + 1] & 0xff) | (granuleSlack[(int) g + 2] & 0xff) << 8;
            } else {
                int i = (int) (g >>> 6);
                long word = starts[i], bit = 1L << g;
                if ((word & bit) == 0 || info == 0) throw new IllegalArgumentException("not a live block");
                if (((info >>> 16) & 0xffff) != me) throw new IllegalStateException("another thread's block");
                starts[i] = word & ~bit;
                slack = slackOf(off, g, info);
            }
            if (COUNTERS) {
                frees++;
                live -= SIZE[c] - slack;
            }
            int t = top[c];
            if (t == STACK) t = flush(c);
            stack[c][t] = p;
            top[c] = t + 1;
        }

        /** @return the slack of the live block at region offset {@code off} (granule {@code g}), per {@link #SLACK} */
        private int slackOf(long off, long g, long info) {
            return switch (SLACK) {
                case SLAB -> slackOf[(int) (info >>> 32)][blockIndex(off, info)];
                case GRANULE -> {
                    int b = granuleSlack[(int) g] & 0xff;
                    yield b < 255 ? b : (granuleSlack[(int) g + 1] & 0xff) | (granuleSlack[(int) g + 2] & 0xff) << 8;
                }
                case NONE, MARK -> 0;
            };
        }

        /** Fills class {@code c}'s empty stack with up to a batch of its slabs' lowest free blocks; returns one. */
        private long refill(int c) {
            long[] st = stack[c];
            int n = 0;
            while (n < BATCH) {
                Slab s = queueHead[c];
                if (s == null) s = newSlab(c);
                while (n < BATCH && s.freeCount > 0) {
                    int w = 0;
                    while (s.free[w] == 0) w++;
                    long word = s.free[w];
                    int idx = (w << 6) | Long.numberOfTrailingZeros(word);
                    s.free[w] = word & (word - 1);
                    s.freeCount--;
                    st[n++] = s.base + (long) idx * s.blockSize;
                }
                if (s.freeCount == 0) {
                    queueHead[c] = s.next;
                    if (s.next == null) queueTail[c] = null;
                    s.next = null;
                    s.queued = false;
                }
            }
            // lowest address on top
            for (int a = 0, b = n - 1; a < b; a++, b--) {
                long x = st[a];
                st[a] = st[b];
                st[b] = x;
            }
            top[c] = n - 1;
            return st[n - 1];
        }

        /** Gives the older half of class {@code c}'s full stack back to its slabs; returns the new top. */
        private int flush(int c) {
            long[] st = stack[c];
            for (int k = 0; k < BATCH; k++) {
                long off = st[k] - base, info = pageInfo[(int) (off >>> 12)];
                Slab s = slabs[(int) (info >>> 32)];
                int idx = blockIndex(off, info);
                s.free[idx >>> 6] |= 1L << idx;
                if (s.freeCount++ == 0 && !s.queued) {
                    s.queued = true;
                    if (queueTail[c] == null) queueHead[c] = s;
                    else queueTail[c].next = s;
                    queueTail[c] = s;
                }
            }
            System.arraycopy(st, BATCH, st, 0, STACK - BATCH);
            return STACK - BATCH;
        }

        private Slab newSlab(int c) {
            int pages = Math.max(4, (4 * SIZE[c] + 4095) >>> 12);
            Slab s = new Slab(next, c, pages);
            if (slabCount == slabs.length) {
                slabs = Arrays.copyOf(slabs, 2 * slabCount);
                slackOf = Arrays.copyOf(slackOf, 2 * slabCount);
            }
            int ordinal = slabCount++;
            slabs[ordinal] = s;
            slackOf[ordinal] = s.slack;
            long first = (next - base) >>> 12;
            for (int k = 0; k < pages; k++) {
                pageInfo[(int) first + k] = (long) ordinal << 32 | me << 16 | (long) k << 8 | (c + 1);
            }
            next += (long) pages << 12;
            s.queued = true;
            if (queueTail[c] == null) queueHead[c] = s;
            else queueTail[c].next = s;
            queueTail[c] = s;
            return s;
        }
    }
}
