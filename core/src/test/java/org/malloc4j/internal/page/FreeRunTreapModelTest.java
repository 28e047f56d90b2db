package org.malloc4j.internal.page;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The free-run treap's iterative insert and remove against a model: random runs, many of one length, removed in any
 * order (the root, nodes with two children, leaves), checked after every step; two indexes, whose seeds differ, give
 * the same answers to every search, so that the page layer's choices follow the runs alone, not the seed.
 */
class FreeRunTreapModelTest {
    private static final int SLOTS = 400;
    private static final int SPACING = FreeRunIndex.TREE_MIN + 100;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void treapMatchesAModelAndItsSeedChangesNoAnswer(long seed) {
        // two indexes, each over its own map given the same runs
        PageMap map = new PageMap((long) SLOTS * SPACING), twin = new PageMap((long) SLOTS * SPACING);
        try {
            FreeRunIndex a = new FreeRunIndex(map), b = new FreeRunIndex(twin);
            Random r = new Random(seed);
            TreeMap<Long, Integer> model = new TreeMap<>(); // key (length << 32 | page) -> page
            long[] lengths = new long[SLOTS];
            List<Integer> inIndex = new ArrayList<>();
            for (int step = 0; step < 6000; step++) {
                if (inIndex.size() < SLOTS && (inIndex.isEmpty() || r.nextInt(3) != 0)) {
                    int slot;
                    do slot = r.nextInt(SLOTS); while (lengths[slot] != 0);
                    // few distinct lengths: many runs of one length, ordered by page among themselves
                    long length = FreeRunIndex.TREE_MIN + (r.nextInt(4) == 0 ? r.nextInt(100) : r.nextInt(3));
                    int page = slot * SPACING;
                    lengths[slot] = length;
                    map.tagRun(page, length, PageMap.FREE_DIRTY);
                    twin.tagRun(page, length, PageMap.FREE_DIRTY);
                    a.insert(page, length);
                    b.insert(page, length);
                    model.put(length << 32 | page, page);
                    inIndex.add(slot);
                } else {
                    int slot = inIndex.remove(r.nextInt(inIndex.size()));
                    int page = slot * SPACING;
                    a.remove(page, lengths[slot]);
                    b.remove(page, lengths[slot]);
                    model.remove(lengths[slot] << 32 | page);
                    lengths[slot] = 0;
                }
                assertThat(a.checkTree(model.size(), PageMap.FREE_DIRTY)).as("step %d", step).isNull();
                assertThat(b.checkTree(model.size(), PageMap.FREE_DIRTY)).as("step %d", step).isNull();
                long want = model.isEmpty() ? 0 : model.lastKey() >>> 32;
                assertThat(a.largest()).isEqualTo(want);
                assertThat(b.largest()).isEqualTo(want);
                long n = FreeRunIndex.TREE_MIN + r.nextInt(110);
                var ceiling = model.ceilingEntry(n << 32);
                int expected = ceiling == null ? -1 : ceiling.getValue();
                // the treap's search alone, past the lists' good fit
                assertThat(a.findAtLeast(n) >= 0).isEqualTo(expected >= 0);
                assertThat(a.findAtLeast(n)).isEqualTo(b.findAtLeast(n));
                assertThat(a.find(n)).isEqualTo(b.find(n));
            }
            assertThat(a.height()).isLessThan(40);
        } finally {
            map.release();
            twin.release();
        }
    }
}
