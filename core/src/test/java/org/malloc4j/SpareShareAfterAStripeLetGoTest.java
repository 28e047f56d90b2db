package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The spare budget is shared by the caches that hold slabs ({@link Heap.Builder#spareBytes}): a stripe that the
 * purger made adopt a dead thread's slabs holds none once {@link Heap#trim()} gave them back, and the one thread left
 * keeps the whole budget again. Before, the stripe counted in the division to the heap's end: the thread alone kept
 * half the budget for good (256 KiB of 512).
 */
class SpareShareAfterAStripeLetGoTest {
    private static final long KiB = 1024, BUDGET = 512 * KiB, BLOCK = 128 * KiB;

    private static List<Long> mallocBudget(Heap heap) {
        List<Long> blocks = new ArrayList<>();
        for (long n = 0; n < BUDGET; n += BLOCK) {
            long p = heap.malloc(BLOCK);
            Blocks.ALL.set(ValueLayout.JAVA_LONG, p + BLOCK - 8, p);
            blocks.add(p);
        }
        return blocks;
    }

    @Test
    void aThreadLeftAloneGetsTheWholeBudgetBackOnceTheStripeThatAdoptedADeadThreadsSlabsHoldsNone()
            throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ZERO).jmx(false).build()) {
            heap.free(heap.malloc(BLOCK)); // this thread's cache holds slabs: it shares the budget
            List<Long> handed = new ArrayList<>();
            Thread worker = Thread.ofPlatform().start(() -> handed.addAll(mallocBudget(heap)));
            worker.join();
            // The purger's pass: the dead worker's cache, its slabs live, is adopted into the first stripe
            Object core = Internals.field(heap, Heap.class, "core");
            Method reap = core.getClass().getDeclaredMethod("reapDeadCaches");
            reap.setAccessible(true);
            reap.invoke(core);
            for (long p : handed) heap.free(p); // the stripe's slabs empty
            heap.trim(); // the stripe gives them back: no cache but this thread's holds a slab
            for (long p : mallocBudget(heap)) heap.free(p);
            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(s.committedBytes()).as("one thread left holding slabs: its whole budget").isEqualTo(BUDGET);
        }
    }
}
