package org.malloc4j.internal.page;

/**
 * A TLSF index (Masmano et al., 2004) over free page runs: two levels of bitmaps over segregated lists, so
 * that finding a run that fits and inserting or removing one are O(1), whatever the number of runs (O(log runs)
 * for the runs that the treap below holds too).
 *
 * <p>The first level splits run lengths by powers of two, the second splits each power into 16 lists.
 * Lengths below 32 pages get exact lists. The list links live in the {@link PageMap}, out of band.
 *
 * <p>A list above 32 pages holds runs of several lengths, and TLSF's good fit, reading one head a list, can miss a run
 * long enough behind shorter ones in the request's own list. The runs of 32 pages or more are therefore also kept in
 * a treap ordered by length (then page), its links in the PageMap record of each run's second page: the searches
 * that must not miss a run ({@link #findAtLeast}, {@link #largest}) query it in O(log runs) instead of walking the
 * list. Inserting and removing such a run costs O(log runs) more.
 */
final class FreeRunIndex {
    private static final int SL_LOG = 4;
    private static final int SL = 1 << SL_LOG;
    private static final int FL = 32;
    private static final int NONE = -1;
    /** Runs of at least this many pages are in the treap too: from here on a list holds more than one length. */
    static final int TREE_MIN = 2 * SL;

    private final PageMap map;
    private int flBitmap;
    private final int[] slBitmap = new int[FL];
    private final int[] heads = new int[FL * SL];
    private long pages;
    /** The treap's root: the runs of {@link #TREE_MIN} pages or more, ordered by {@link #key}. */
    private int root = NONE;
    /** The two treaps {@link #split} returns. */
    private int splitLow, splitHigh;
    /**
     * Runs visited by the searches that look beyond the lists' heads: {@link #findAtLeast}, {@link #firstFitting} and
     * {@link #largest}, a treap node each (for tests).
     */
    private long walked;

    FreeRunIndex(PageMap map) {
        this.map = map;
        java.util.Arrays.fill(heads, NONE);
    }

    /** @return total pages in runs of this index */
    long pages() {
        return pages;
    }

    /** @return the runs the searches beyond the lists' heads have visited since this index was made (for tests) */
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
        if (length >= TREE_MIN) {
            map.setLeft(page, NONE);
            map.setRight(page, NONE);
            root = insertAt(root, page, key(page, length));
        }
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
        if (length >= TREE_MIN) root = removeAt(root, page, key(page, length));
    }

    /** The treap's order: by length, then by page (so that every key is distinct). */
    private static long key(int page, long length) {
        return length << 32 | page;
    }

    private long key(int page) {
        return key(page, map.length(page));
    }

    /** A node's heap priority: a hash of its page, so that the treap's shape does not follow the order of inserts. */
    private static int priority(int page) {
        int h = (page ^ (page >>> 16)) * 0x85EBCA6B; // MurmurHash3's finaliser: runs often start at evenly spaced pages
        h = (h ^ (h >>> 13)) * 0xC2B2AE35;
        return h ^ (h >>> 16);
    }

    /** @return the treap {@code t} with {@code node} (key {@code k}, no children) added */
    private int insertAt(int t, int node, long k) {
        if (t == NONE) return node;
        if (priority(node) > priority(t)) {
            split(t, k);
            map.setLeft(node, splitLow);
            map.setRight(node, splitHigh);
            return node;
        }
        if (k < key(t)) map.setLeft(t, insertAt(map.left(t), node, k));
        else map.setRight(t, insertAt(map.right(t), node, k));
        return t;
    }

    /** Splits the treap {@code t} into {@link #splitLow} (keys below {@code k}) and {@link #splitHigh} (above). */
    private void split(int t, long k) {
        if (t == NONE) {
            splitLow = splitHigh = NONE;
        } else if (key(t) < k) {
            split(map.right(t), k);
            map.setRight(t, splitLow);
            splitLow = t;
        } else {
            split(map.left(t), k);
            map.setLeft(t, splitHigh);
            splitHigh = t;
        }
    }

    /** @return the treap {@code t}, which holds {@code node} (key {@code k}), without it */
    private int removeAt(int t, int node, long k) {
        if (t == node) return join(map.left(t), map.right(t));
        if (k < key(t)) map.setLeft(t, removeAt(map.left(t), node, k));
        else map.setRight(t, removeAt(map.right(t), node, k));
        return t;
    }

    /** @return the treaps {@code a} and {@code b}, every key of {@code a} below every key of {@code b}, as one */
    private int join(int a, int b) {
        if (a == NONE) return b;
        if (b == NONE) return a;
        if (priority(a) > priority(b)) {
            map.setRight(a, join(map.right(a), b));
            return a;
        }
        map.setLeft(b, join(a, map.left(b)));
        return b;
    }

    /**
     * Checks the treap against the runs it must hold: {@code runs} runs of {@link #TREE_MIN} pages or more, each the
     * start of a run of {@code state}, in key order, every node's priority above its children's. O(runs), for
     * {@link PageHeap#checkInvariants}. @return a description of the first violation, or null
     */
    String checkTree(long runs, int state) {
        treeSeen = 0;
        treeLastKey = -1;
        String problem = checkSubtree(root, Integer.MAX_VALUE, state);
        if (problem == null && treeSeen != runs) problem = "the treap holds " + treeSeen + " runs, not " + runs;
        return problem;
    }

    private long treeSeen, treeLastKey;

    private String checkSubtree(int t, int parentPriority, int state) {
        if (t == NONE) return null;
        if (map.state(t) != state || !map.isRunStart(t) || map.length(t) < TREE_MIN) {
            return "the treap holds page " + t + ", no free run of " + TREE_MIN + " pages or more in its index";
        }
        if (priority(t) > parentPriority) return "the treap's run at page " + t + " is above its parent's priority";
        String problem = checkSubtree(map.left(t), priority(t), state);
        if (problem != null) return problem;
        if (key(t) <= treeLastKey) return "the treap's run at page " + t + " is out of order";
        treeLastKey = key(t);
        treeSeen++;
        return checkSubtree(map.right(t), priority(t), state);
    }

    /** @return the shortest run of the treap of at least {@code n} pages (the lowest page among those), or -1 */
    private int ceiling(long n) {
        int best = NONE;
        for (int t = root; t != NONE; ) {
            walked++;
            if (map.length(t) >= n) {
                best = t;
                t = map.left(t);
            } else {
                t = map.right(t);
            }
        }
        return best;
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
     * finds none, the shortest such run of the treap (below {@link #TREE_MIN} pages the lists are exact, and a good
     * fit misses nothing). O(log runs), for the paths that must not miss a run behind shorter ones in {@code n}'s list.
     */
    int findAtLeast(long n) {
        int run = find(n);
        if (run != NONE || n < TREE_MIN) return run;
        return ceiling(n);
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

    /** @return the length of the longest run: the treap's last node, or the head of the highest (exact) list */
    long largest() {
        if (root == NONE) {
            if (flBitmap == 0) return 0;
            int fl = 31 - Integer.numberOfLeadingZeros(flBitmap);
            int sl = 31 - Integer.numberOfLeadingZeros(slBitmap[fl]);
            return map.length(heads[fl * SL + sl]);
        }
        int t = root;
        for (int r; (r = map.right(t)) != NONE; t = r) walked++;
        walked++;
        return map.length(t);
    }
}
