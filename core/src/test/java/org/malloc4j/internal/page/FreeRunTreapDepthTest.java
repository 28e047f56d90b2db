package org.malloc4j.internal.page;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Comparator;
import org.junit.jupiter.api.Test;

/**
 * The free-run treap's depth against a layout of runs built to follow a fixed hash of their pages. A review on
 * 2026-12-07 found its priorities were MurmurHash3's finaliser of the page, the same for every heap: runs whose lengths
 * rise with that hash (the treap's key is the length first) made one path of every run, so each insert, remove and
 * search walked them all, and the recursive operations could overflow the Java stack.
 */
class FreeRunTreapDepthTest {
    private static final int RUNS = 3000;
    private static final int SPACING = FreeRunIndex.TREE_MIN + RUNS + 1; // the longest run and a page between runs

    /** The priority every index gave a page before the fix. */
    private static int oldPriority(int page) {
        int h = (page ^ (page >>> 16)) * 0x85EBCA6B;
        h = (h ^ (h >>> 13)) * 0xC2B2AE35;
        return h ^ (h >>> 16);
    }

    @Test
    void runsOrderedByTheOldHashStayAtLogarithmicDepth() {
        PageMap map = new PageMap((long) RUNS * SPACING);
        try {
            Integer[] pages = new Integer[RUNS];
            for (int i = 0; i < RUNS; i++) pages[i] = i * SPACING;
            Arrays.sort(pages, Comparator.comparingInt(FreeRunTreapDepthTest::oldPriority));
            FreeRunIndex index = new FreeRunIndex(map);
            int bound = 4 * (32 - Integer.numberOfLeadingZeros(RUNS)); // 48: a random treap of 3000 runs is about 30
            for (int rank = 0; rank < RUNS; rank++) { // the longer the run, the higher its old priority: one path
                long length = FreeRunIndex.TREE_MIN + rank;
                map.tagRun(pages[rank], length, PageMap.FREE_DIRTY);
                index.insert(pages[rank], length);
            }
            assertThat(index.checkTree(RUNS, PageMap.FREE_DIRTY)).isNull();
            assertThat(index.height()).as("treap height after %d adversarial inserts", RUNS).isLessThanOrEqualTo(bound);
            for (int rank = 0; rank < RUNS; rank += 2) index.remove(pages[rank], FreeRunIndex.TREE_MIN + rank);
            assertThat(index.checkTree(RUNS / 2, PageMap.FREE_DIRTY)).isNull();
            assertThat(index.height()).as("treap height after removing every other run").isLessThanOrEqualTo(bound);
            long walked = index.walked();
            assertThat(index.largest()).isEqualTo(FreeRunIndex.TREE_MIN + RUNS - 1);
            assertThat(index.findAtLeast(FreeRunIndex.TREE_MIN + RUNS - 2)).isEqualTo(pages[RUNS - 1]);
            assertThat(index.walked() - walked).as("runs visited by two searches").isLessThanOrEqualTo(2L * bound);
        } finally {
            map.release();
        }
    }
}
