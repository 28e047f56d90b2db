package org.malloc4j.cli.replay;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The live blocks ordered by address, to find a new block's neighbours: if the block just below ends after the
 * new one starts, or the block just above starts before the new one ends, they overlap. A treap in primitive
 * arrays whose nodes are the block ids (each id has at most one block), so the checked pass creates no garbage.
 * Invariant: the blocks in the tree never overlap, so checking the two neighbours is enough.
 */
final class AddressTree {
    private static final int NONE = -1;

    private final long[] start;
    private final long[] end;
    private final int[] left;
    private final int[] right;
    private final int[] priority;
    private final boolean[] present;
    private final SplittableRandom random = new SplittableRandom(42);
    private int root = NONE;

    /** @param ids the tree holds ids {@code 0} to {@code ids - 1} */
    AddressTree(int ids) {
        start = new long[ids];
        end = new long[ids];
        left = new int[ids];
        right = new int[ids];
        priority = new int[ids];
        present = new boolean[ids];
        Arrays.fill(left, NONE);
        Arrays.fill(right, NONE);
    }

    /**
     * Adds block {@code id} at {@code [address, address + extent)} unless it overlaps a block already here.
     *
     * @return -1 when added, else the id of a block it overlaps (and it is not added)
     */
    int insert(int id, long address, long extent) {
        long e = address + extent;
        int below = floor(address);
        if (below != NONE && end[below] > address) return below;
        int above = above(address);
        if (above != NONE && start[above] < e) return above;
        start[id] = address;
        end[id] = e;
        left[id] = NONE;
        right[id] = NONE;
        priority[id] = random.nextInt();
        present[id] = true;
        root = insert(root, id);
        return NONE;
    }

    /** Removes block {@code id}; nothing happens when it is not here. */
    void remove(int id) {
        if (!present[id]) return;
        present[id] = false;
        root = remove(root, id);
    }

    /** @return the start address of block {@code id} (valid while it is here) */
    long start(int id) {
        return start[id];
    }

    /** @return the end address (exclusive) of block {@code id} (valid while it is here) */
    long end(int id) {
        return end[id];
    }

    private int insert(int t, int id) {
        if (t == NONE) return id;
        if (start[id] < start[t]) {
            left[t] = insert(left[t], id);
            if (priority[left[t]] > priority[t]) t = rotateRight(t);
        } else {
            right[t] = insert(right[t], id);
            if (priority[right[t]] > priority[t]) t = rotateLeft(t);
        }
        return t;
    }

    private int remove(int t, int id) {
        if (t == id) return merge(left[t], right[t]);
        if (start[id] < start[t]) left[t] = remove(left[t], id);
        else right[t] = remove(right[t], id);
        return t;
    }

    private int merge(int a, int b) {
        if (a == NONE) return b;
        if (b == NONE) return a;
        if (priority[a] > priority[b]) {
            right[a] = merge(right[a], b);
            return a;
        }
        left[b] = merge(a, left[b]);
        return b;
    }

    private int rotateRight(int t) {
        int l = left[t];
        left[t] = right[l];
        right[l] = t;
        return l;
    }

    private int rotateLeft(int t) {
        int r = right[t];
        right[t] = left[r];
        left[r] = t;
        return r;
    }

    /** @return the block with the greatest start at or below {@code address}, or -1 */
    private int floor(long address) {
        int best = NONE;
        for (int t = root; t != NONE; ) {
            if (start[t] <= address) {
                best = t;
                t = right[t];
            } else {
                t = left[t];
            }
        }
        return best;
    }

    /** @return the block with the least start above {@code address}, or -1 */
    private int above(long address) {
        int best = NONE;
        for (int t = root; t != NONE; ) {
            if (start[t] > address) {
                best = t;
                t = left[t];
            } else {
                t = right[t];
            }
        }
        return best;
    }
}
