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
 * list. Inserting and removing such a run costs O(log runs) more, expected over the priorities, which mix the page with
 * a seed drawn per index (no layout of runs can be aimed at them); every walk of the treap is a loop, never a recursion.
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
    /** Mixed into every priority: drawn per index, so that no layout of runs can be built to deepen the treap. */
    private final long seed;
    /**
     * Runs visited by the searches that look beyond the lists' heads: {@link #findAtLeast}, {@link #firstFitting} and
     * {@link #largest}, a treap node each (for tests).
     */
    private long walked;

    FreeRunIndex(PageMap map) {
        this.map = map;
        this.seed = java.util.concurrent.ThreadLocalRandom.current().nextLong();
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
            insertNode(page, key(page, length));
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
        if (length >= TREE_MIN) removeNode(page, key(page, length));
    }

    /** The treap's order: by length, then by page (so that every key is distinct). */
    private static long key(int page, long length) {
        return length << 32 | page;
    }

    private long key(int page) {
        return key(page, map.length(page));
    }

    /**
     * A node's heap priority: its page mixed with this index's {@link #seed} (SplittableRandom's 64-bit finaliser), so
     * that the treap's shape follows neither the order of inserts nor a layout of runs built against a fixed hash.
     */
    private int priority(int page) {
        long z = page + seed;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (int) (z ^ (z >>> 31));
    }

    /** Makes {@code child} the child of {@code parent} on {@code side} ({@link #LEFT} or right), or the root. */
    private void link(int parent, boolean side, int child) {
        if (parent == NONE) root = child;
        else if (side == LEFT) map.setLeft(parent, child);
        else map.setRight(parent, child);
    }

    private static final boolean LEFT = true;

    /**
     * Adds {@code node} (key {@code k}, no children): down from the root to the first node of lower priority, whose
     * subtree is split by {@code k} into {@code node}'s two children. Iterative, as every walk of this treap: its
     * depth, O(log runs) expected, never meets the Java stack.
     */
    private void insertNode(int node, long k) {
        int prio = priority(node);
        int parent = NONE;
        boolean side = LEFT;
        int t = root;
        while (t != NONE && priority(t) >= prio) {
            parent = t;
            side = k < key(t);
            t = side == LEFT ? map.left(t) : map.right(t);
        }
        link(parent, side, node);
        // Split t: keys below k hang, in order, down the right spine of node's left subtree, the others down the
        // left spine of its right subtree.
        int low = node, high = node;
        boolean lowSide = LEFT, highSide = !LEFT;
        while (t != NONE) {
            if (key(t) < k) {
                link(low, lowSide, t);
                low = t;
                lowSide = !LEFT;
                t = map.right(t);
            } else {
                link(high, highSide, t);
                high = t;
                highSide = LEFT;
                t = map.left(t);
            }
        }
        link(low, lowSide, NONE);
        link(high, highSide, NONE);
    }

    /** Removes {@code node} (key {@code k}), which the treap holds: its two subtrees, joined, take its place. */
    private void removeNode(int node, long k) {
        int parent = NONE;
        boolean side = LEFT;
        int t = root;
        while (t != node) {
            parent = t;
            side = k < key(t);
            t = side == LEFT ? map.left(t) : map.right(t);
        }
        // Join: every key of a is below every key of b; the higher priority of the two heads goes up, in turn.
        int a = map.left(node), b = map.right(node);
        while (a != NONE && b != NONE) {
            if (priority(a) > priority(b)) {
                link(parent, side, a);
                parent = a;
                side = !LEFT;
                a = map.right(a);
            } else {
                link(parent, side, b);
                parent = b;
                side = LEFT;
                b = map.left(b);
            }
        }
        link(parent, side, a != NONE ? a : b);
    }

    /**
     * Checks the treap against the runs it must hold: {@code runs} runs of {@link #TREE_MIN} pages or more, each the
     * start of a run of {@code state}, in key order, every node's priority above its children's. O(runs), for
     * {@link PageHeap#checkInvariants}: an in-order walk on a stack of its own. @return a description of the first
     * violation, or null
     */
    String checkTree(long runs, int state) {
        long seen = 0, lastKey = -1;
        int[] stack = new int[64];
        int depth = 0;
        for (int t = root; t != NONE || depth > 0; ) {
            if (t != NONE) {
                if (map.state(t) != state || !map.isRunStart(t) || map.length(t) < TREE_MIN) {
                    return "the treap holds page " + t + ", no free run of " + TREE_MIN + " pages or more in its index";
                }
                for (int c : new int[] {map.left(t), map.right(t)}) {
                    if (c != NONE && priority(c) > priority(t)) {
                        return "the treap's run at page " + c + " is above its parent's priority";
                    }
                }
                if (depth == stack.length) stack = java.util.Arrays.copyOf(stack, depth * 2);
                stack[depth++] = t;
                t = map.left(t);
            } else {
                t = stack[--depth];
                if (key(t) <= lastKey) return "the treap's run at page " + t + " is out of order";
                lastKey = key(t);
                seen++;
                t = map.right(t);
            }
        }
        if (seen != runs) return "the treap holds " + seen + " runs, not " + runs;
        return null;
    }

    /** @return the number of nodes on the treap's longest path from its root, 0 when empty (for tests) */
    int height() {
        int[] stack = new int[64], levels = new int[64];
        int depth = 0, height = 0;
        if (root != NONE) {
            stack[0] = root;
            levels[depth++] = 1;
        }
        while (depth > 0) {
            int t = stack[--depth], level = levels[depth];
            height = Math.max(height, level);
            for (int c : new int[] {map.left(t), map.right(t)}) {
                if (c == NONE) continue;
                if (depth == stack.length) {
                    stack = java.util.Arrays.copyOf(stack, depth * 2);
                    levels = java.util.Arrays.copyOf(levels, depth * 2);
                }
                stack[depth] = c;
                levels[depth++] = level + 1;
            }
        }
        return height;
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
