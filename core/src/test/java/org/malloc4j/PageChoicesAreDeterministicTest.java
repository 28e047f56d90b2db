package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The page layer's choices follow the sequence of calls alone: the free-run treap's priorities mix in a seed drawn per
 * heap, which shapes the treap but must not change which run a search returns. Two heaps given the same calls (page
 * runs of many lengths, aligned ones, frees leaving runs of equal lengths) end with the same runs at the same offsets
 * (the replay's {@code --decay 0} peak figures are documented as deterministic).
 */
class PageChoicesAreDeterministicTest {
    @Test
    void twoHeapsGivenTheSameCallsEndWithTheSameRuns() {
        List<HeapSnapshot.Run> first = replay(), second = replay();
        assertThat(second).isEqualTo(first);
    }

    private static List<HeapSnapshot.Run> replay() {
        Random r = new Random(42);
        try (Heap h = Heap.builder().decay(Duration.ofHours(1)).spareBytes(0).jmx(false).build()) {
            List<Long> live = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                if (live.size() < 50 || r.nextInt(5) < 3) {
                    long pages = 32 + (r.nextBoolean() ? r.nextInt(4) : r.nextInt(200));
                    long size = pages * 4096 - r.nextInt(100);
                    live.add(r.nextInt(8) == 0 ? h.alignedAlloc(1L << (13 + r.nextInt(6)), size) : h.malloc(size));
                } else {
                    h.free(live.remove(r.nextInt(live.size())));
                }
            }
            return h.snapshot().runs();
        }
    }
}
