package org.malloc4j.internal.page;

/**
 * A TLSF index (Masmano et al., 2004) over free page runs: two levels of bitmaps over segregated lists, so
 * that finding a run that fits and inserting or removing one are O(1), whatever the number of runs.
 *
 * <p>The first level splits run lengths by powers of two, the second splits each power into 16 lists.
 * Lengths below 16 pages get exact lists. The list links live in the {@link PageMap}, out of band.
 */
final class FreeRunIndex {
    private static final int SL_LOG = 4;
    private static final int SL = 1 << SL_LOG;
    private static final int FL = 32;
    private static final int NONE = -1;

    private final PageMap map;
    private int flBitmap;
    private final int[] slBitmap = new int[FL];
    private final int[] heads = new int[FL * SL];
    private long pages;
    /** Runs visited by the walks of {@link #findAtLeast}, {@link #firstFitting} and {@link #largest} (for tests). */
    private long walked;

    FreeRunIndex(PageMap map) {
        this.map = map;
        java.util.Arrays.fill(heads, NONE);
    }

    /** @return total pages in runs of this index */
    long pages() {
        return pages;
    }

    /** @return the runs the O(runs) walks have visited since this index was made (for tests) */
    long walked() {
        return walked;
    }

    private static int listOf(long n) {
        if (n < SL) return (int) n;
        int f = 63 - Long.numberOfLeadingZeros(n);
        int fl = f - SL_LOG + 1;
        int sl = (int) (n >>> (f - SL_LOG)) - SL;
        return fl * SL + sl;
    }

    void insert(int page, long length) {
        int list = listOf(length);
        int head = heads[list];
        map.setNext(page, head);
        map.setPrev(page, NONE);
        if (head != NONE) map.setPrev(head, page);
        heads[list] = page;
        flBitmap |= 1 << (list >>> SL_LOG);
        slBitmap[list >>> SL_LOG] |= 1 << (list & (SL - 1));
        pages += length;
    }

    void remove(int page, long length) {
        int list = listOf(length);
        int next = map.next(page), prev = map.prev(page);
        if (prev != NONE) map.setNext(prev, next);
        else heads[list] = next;
        if (next != NONE) map.setPrev(next, prev);
        if (heads[list] == NONE) {
            int fl = list >>> SL_LOG;
            slBitmap[fl] &= ~(1 << (list & (SL - 1)));
            if (slBitmap[fl] == 0) flBitmap &= ~(1 << fl);
        }
        pages -= length;
    }

    /**
     * Finds a run of at least {@code n} pages, or returns -1. Good fit: the search starts at the list above
     * the one {@code n} maps to, so any run found is big enough; failing that, the head of n's own list is
     * tried, so that a fit is not missed when it is the only one.
     */
    int find(long n) {
        long rounded = n < SL ? n : n + (1L << (63 - Long.numberOfLeadingZeros(n) - SL_LOG)) - 1;
        int list = listOf(rounded);
        int fl = list >>> SL_LOG, sl = list & (SL - 1);
        int bits = fl < FL ? slBitmap[fl] & (-1 << sl) : 0;
        if (bits == 0) {
            int fls = fl + 1 < FL ? flBitmap & (-1 << (fl + 1)) : 0;
            if (fls != 0) {
                fl = Integer.numberOfTrailingZeros(fls);
                bits = slBitmap[fl];
            }
        }
        if (bits != 0) return heads[fl * SL + Integer.numberOfTrailingZeros(bits)];
        int own = heads[listOf(n)];
        return own != NONE && map.length(own) >= n ? own : NONE;
    }

    /**
     * Finds a run of at least {@code n} pages, or returns -1 only when there is none: as {@link #find}, and when that
     * finds none, a walk of {@code n}'s own list, whose runs below {@code n} may stand before one that is long enough.
     * O(1) but for that walk (for a slow path that must see every such run).
     */
    int findAtLeast(long n) {
        int run = find(n);
        if (run != NONE) return run;
        for (int p = heads[listOf(n)]; p != NONE; p = map.next(p)) {
            walked++;
            if (map.length(p) >= n) return p;
        }
        return NONE;
    }

    /** A test of one free run, for {@link #firstFitting}. */
    interface RunTest {
        boolean fits(int run);
    }

    /**
     * Finds a run of at least {@code n} pages that passes {@code test} (an aligned block that fits where the run's
     * start falls), walking every list from {@code n}'s own up: O(runs), for the path that would otherwise refuse
     * the request, never for one that {@link #find} serves.
     */
    int firstFitting(long n, RunTest test) {
        for (int list = listOf(n); list < FL * SL; list++) {
            for (int p = heads[list]; p != NONE; p = map.next(p)) {
                walked++;
                if (map.length(p) >= n && test.fits(p)) return p;
            }
        }
        return NONE;
    }

    /**
     * Finds a run of at most {@code n} pages, among the longest such: the head of {@code n}'s own list when it is
     * short enough, else the head of the highest non-empty list below it (every run there is shorter than
     * {@code n}). Returns -1 when every run is longer. O(1), like {@link #find}.
     */
    int findAtMost(long n) {
        if (n <= 0) return NONE;
        int list = listOf(n);
        int own = heads[list];
        if (own != NONE && map.length(own) <= n) return own;
        int fl = list >>> SL_LOG, sl = list & (SL - 1);
        int bits = slBitmap[fl] & ((1 << sl) - 1);
        if (bits == 0) {
            int fls = flBitmap & ((1 << fl) - 1);
            if (fls == 0) return NONE;
            fl = 31 - Integer.numberOfLeadingZeros(fls);
            bits = slBitmap[fl];
        }
        return heads[fl * SL + 31 - Integer.numberOfLeadingZeros(bits)];
    }

    /** @return the length of the longest run, found by scanning only the highest non-empty list */
    long largest() {
        if (flBitmap == 0) return 0;
        int fl = 31 - Integer.numberOfLeadingZeros(flBitmap);
        int sl = 31 - Integer.numberOfLeadingZeros(slBitmap[fl]);
        long best = 0;
        for (int p = heads[fl * SL + sl]; p != NONE; p = map.next(p)) {
            walked++;
            best = Math.max(best, map.length(p));
        }
        return best;
    }
}
