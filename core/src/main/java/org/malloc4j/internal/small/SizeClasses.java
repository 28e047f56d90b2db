package org.malloc4j.internal.small;

/**
 * The size classes served by the thread caches. Small: 16 to 128 bytes in steps of 16, then four classes per
 * doubling up to 1 KiB (jemalloc's spacing) and eight per doubling from 1 KiB to 32 KiB: internal waste under 20% of
 * the block from 128 bytes to 1 KiB, under 12.5% above, and under 16 bytes below 128. The finer steps above 1 KiB are
 * for the sizes programs use just past a power of two (sqlite3's 1032- and 4104-byte pages: 24% and 20% of their
 * blocks were waste with four steps, 10% with eight; its peak committed / peak live went from 1.23 to 1.12). One
 * more class sits just past 1 KiB, at 1056 bytes ({@link #PAST_POWER}): a power of two and a small header
 * (sqlite3's 1032-byte pages, half its live bytes) is a common request, which the next class, 1152, rounded up by 11%
 * (sqlite3's peak committed / peak live 1.103 -> 1.055). Medium:
 * eight classes per doubling from 36 KiB to 256 KiB, whole pages (waste under 12.5%). Every
 * class is a multiple of 16, so every block is 16-byte aligned, and a class that is a multiple of a power of two
 * {@code a <= 4096} gives blocks aligned to {@code a} (slabs start on a page).
 *
 * <p>Each small class has a slab size: a whole number of pages holding at least four blocks, chosen to leave the
 * smallest tail unused, and a smaller first size, for the first slab a cache takes for the class (most programs use
 * many classes for a few blocks each: see {@link LocalHeap#nextSlabPages}). A medium slab is one block, exactly its
 * pages: a freed medium block stays with its thread's
 * cache (as a spare, within the cache's budget of empty slabs, like an empty small slab), so a program
 * that frees and allocates blocks of 32 KiB to 256 KiB in a loop (string and I/O buffers) does so without the page
 * layer's lock; above 256 KiB blocks are page runs.
 */
public final class SizeClasses {
    /** The largest small request: the classes up to it fill slabs of several blocks. */
    public static final int MAX_SMALL = 32 * 1024;
    /** The largest request the thread caches serve; above it blocks are page runs of their own. */
    public static final int MAX_CACHED = 256 * 1024;
    /** Number of classes. */
    public static final int COUNT;
    /** From this size up, eight classes per doubling instead of four. */
    static final int FINE_FROM = 1024;
    /**
     * Up to this power of two, each doubling from {@link #FINE_FROM} also has a class 1/32 past its start: 1056 bytes,
     * for a power of two and a header of up to 32 bytes (a slab of 7 pages holds 27 of them, 2.9% over a 1032-byte
     * request, where the 1152-byte class is 13.4% over). Not above: a class at 2112 bytes (7.3% against 13.8%) cost
     * python3-pymalloc's replay 18% of its speed, measured in one JVM, for six requests of its 96,010 in that range,
     * and slabs of a few pages hold 4-KiB-and-a-bit blocks only with a tail of nearly a block, so such a class costs
     * as much memory a block as the next class does.
     */
    static final int PAST_POWER = 1024;
    /**
     * Above this size a block that realloc grows and moves gets a class of headroom ({@link #grownClassOf}). Not
     * from {@link #FINE_FROM}: below it a move copies little, and with the headroom from 1 KiB gcc-cc1's peak
     * committed / peak live read 1.275 against 1.233 (1.223 from here; the bundled realloc-growth 10-20% faster
     * either way).
     */
    static final int GROWN_FROM = 1536;
    /**
     * Requests up to this size find their class in a table by 16-byte steps; larger ones by 128-byte steps, which
     * resolve every class above it (all multiples of 128).
     */
    private static final int BY_16_MAX = 2 * PAST_POWER;
    /** Max blocks in one slab: the free bitmap is at most 64 words of 64 bits. */
    public static final int MAX_CAPACITY = 4096;
    /** The first medium class (one block a slab). */
    public static final int FIRST_MEDIUM;

    private static final int[] SIZE;
    private static final int[] SLAB_PAGES;
    private static final int[] FIRST_SLAB_PAGES;
    private static final byte[] BY_16 = new byte[BY_16_MAX / 16 + 1];
    private static final byte[] BY_128 = new byte[MAX_SMALL / 128 + 1];
    private static final byte[] BY_4K = new byte[MAX_CACHED / 4096 + 1];
    private static final byte[] GROWN;

    static {
        int[] sizes = new int[128];
        int n = 0;
        for (int s = 16; s <= 128; s += 16) sizes[n++] = s;
        for (int pow = 128; pow < FINE_FROM; pow <<= 1) {
            for (int k = 1; k <= 4; k++) sizes[n++] = pow + k * (pow / 4);
        }
        for (int pow = FINE_FROM; pow < MAX_SMALL; pow <<= 1) {
            if (pow <= PAST_POWER) sizes[n++] = pow + pow / 32;
            for (int k = 1; k <= 8; k++) sizes[n++] = pow + k * (pow / 8);
        }
        for (int pow = MAX_SMALL; pow < MAX_CACHED; pow <<= 1) {
            for (int k = 1; k <= 8; k++) sizes[n++] = pow + k * (pow / 8);
        }
        COUNT = n;
        int firstMedium = 0;
        while (sizes[firstMedium] <= MAX_SMALL) firstMedium++;
        FIRST_MEDIUM = firstMedium;
        SIZE = java.util.Arrays.copyOf(sizes, n);
        SLAB_PAGES = new int[n];
        FIRST_SLAB_PAGES = new int[n];
        int steps = 0;
        for (int c = 0; c < n; c++) {
            SLAB_PAGES[c] = chooseSlabPages(SIZE[c]);
            FIRST_SLAB_PAGES[c] = chooseFirstSlabPages(SIZE[c], SLAB_PAGES[c]);
            int k = 0;
            while ((FIRST_SLAB_PAGES[c] << k) < SLAB_PAGES[c]) k++;
            steps = Math.max(steps, k);
        }
        RAMP_STEPS = steps;
        GROWN = new byte[n];
        for (int g = 0; g < n; g++) {
            int h = g;
            while (h + 1 < firstMedium && SIZE[h] > GROWN_FROM && !onCoarseGrid(SIZE[h])) h++;
            GROWN[g] = (byte) h;
        }
        int c = 0;
        for (int i = 0; i < BY_16.length; i++) {
            while (SIZE[c] < i * 16) c++;
            BY_16[i] = (byte) c;
        }
        c = 0;
        for (int i = 0; i < BY_128.length; i++) {
            while (SIZE[c] < i * 128) c++;
            BY_128[i] = (byte) c;
        }
        c = 0;
        for (int i = 0; i < BY_4K.length; i++) {
            while (SIZE[c] < i * 4096) c++;
            BY_4K[i] = (byte) c;
        }
    }

    private SizeClasses() {}

    private static int chooseSlabPages(int size) {
        int page = 4096;
        if (size > MAX_SMALL) return size / page; // medium: one block, whole pages
        int min = Math.max(4, (4 * size + page - 1) / page);
        int best = min;
        double bestWaste = 1.0;
        for (int pages = min; pages < 2 * min; pages++) {
            long bytes = (long) pages * page;
            if (bytes / size > MAX_CAPACITY) break;
            double waste = (double) (bytes % size) / bytes;
            if (waste < bestWaste - 1e-9) {
                bestWaste = waste;
                best = pages;
            }
        }
        return best;
    }

    /**
     * The smallest slab of a small class that holds two blocks or more and leaves a tail under an eighth of it; a
     * medium class's one-block slab. Two blocks at least: a slab of one block is how a cache tells a medium slab.
     */
    private static int chooseFirstSlabPages(int size, int standard) {
        if (size > MAX_SMALL) return standard;
        for (int pages = 1; pages < standard; pages++) {
            long bytes = (long) pages << 12;
            if (bytes / size >= 2 && (double) (bytes % size) / bytes < 0.125) return pages;
        }
        return standard;
    }

    /** @return the class of a request of {@code size} bytes, 0 to {@link #MAX_CACHED} */
    public static int classOf(long size) {
        if (size <= BY_16_MAX) return BY_16[(int) (size + 15) >>> 4];
        if (size <= MAX_SMALL) return BY_128[(int) (size + 127) >>> 7];
        return BY_4K[(int) (size + 4095) >>> 12];
    }

    /**
     * @return the class for a block that realloc grows to {@code size} bytes and must move: above
     *         {@link #GROWN_FROM}, where there are eight classes per doubling, the first class at or above
     *         {@link #classOf} that is also on the four-per-doubling grid. A block that grows once usually grows
     *         again (a string appended to, a buffer filled), and one class of headroom halves the moves and copies of
     *         the next growths, at the cost of at most an eighth of the block for blocks that realloc has grown; a
     *         malloc keeps the exact class.
     */
    public static int grownClassOf(long size) {
        return GROWN[classOf(size)];
    }

    /** @return whether {@code size} is a class of the four-per-doubling grid (every size up to 128 is) */
    private static boolean onCoarseGrid(int size) {
        if (size <= 128) return true;
        int pow = Integer.highestOneBit(size - 1);
        return (size - pow) % (pow / 4) == 0;
    }

    /** @return the block size of class {@code c} */
    public static int size(int c) {
        return SIZE[c];
    }

    /** @return pages in a slab of class {@code c} */
    public static int slabPages(int c) {
        return SLAB_PAGES[c];
    }

    /**
     * @return pages in the first slab a cache takes for class {@code c}: at most {@link #slabPages}, as small as
     *         holds two blocks with a tail under an eighth (see {@link LocalHeap#nextSlabPages})
     */
    public static int firstSlabPages(int c) {
        return FIRST_SLAB_PAGES[c];
    }

    /**
     * Slab sizes grow from the first to the standard by doubling: step {@code n} has {@code min(standard, first << n)}
     * pages, and no class needs more than this many steps to reach its standard size (doubling a size whose tail is
     * under an eighth keeps it under an eighth).
     */
    public static final int RAMP_STEPS;

    /** @return pages of a slab of class {@code c} at ramp step {@code n}, 0 to {@link #RAMP_STEPS} */
    public static int slabPagesAt(int c, int n) {
        return Math.min(SLAB_PAGES[c], FIRST_SLAB_PAGES[c] << n);
    }

    /** @return the ramp step of a slab of class {@code c} with {@code pages} pages (inverse of {@link #slabPagesAt}) */
    public static int rampStep(int c, int pages) {
        return pages == SLAB_PAGES[c] ? RAMP_STEPS : Integer.numberOfTrailingZeros(pages / FIRST_SLAB_PAGES[c]);
    }

    /**
     * @return the smallest class holding {@code size} bytes whose blocks are all aligned to {@code alignment}
     *         (a power of two up to 4096), or -1 when no small class does
     */
    public static int alignedClassOf(long size, long alignment) {
        // A medium class (above MAX_SMALL) is a one-block slab of whole pages: its block is page-aligned.
        if (size > MAX_SMALL) return size <= MAX_CACHED && alignment <= 4096 ? classOf(size) : -1;
        for (int c = classOf(size); c < COUNT && SIZE[c] <= MAX_SMALL; c++) { // at most 40 classes: a constant bound
            if (SIZE[c] % alignment == 0) return c;
        }
        return -1;
    }
}
