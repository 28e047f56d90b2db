package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Medium blocks shrunk far below their class in place (their slab's wide slack) by a thread that then ends: its cache,
 * adopted by the purger or a later thread, holds their slabs, and the blocks freed afterwards by another thread
 * (platform or virtual) leave the statistics exact, every committed byte free once all is freed and trimmed.
 */
class MediumShrunkFarByAnEndedThreadTest {
    private static final long LIMIT = 4L << 20;

    @ParameterizedTest(name = "CHECKED {0}, freed by a virtual thread {1}")
    @CsvSource({"false, false", "false, true", "true, false", "true, true"})
    void blocksOfAnEndedThreadFreedElsewhereLeaveExactStats(boolean checked, boolean virtual) throws Exception {
        Heap.Builder b = Heap.builder().limit(LIMIT).decay(Duration.ofHours(1)).spareBytes(0).jmx(false);
        if (checked) b.mode(HeapMode.CHECKED).quarantine(0);
        try (Heap h = b.build()) {
            List<Long> blocks = new ArrayList<>(), filler = new ArrayList<>(), moved = new ArrayList<>();
            Thread owner = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 3; i++) blocks.add(h.malloc(200_000 + i));
                filler.addAll(ShrinkingReallocUnderTheLimitTest.fillToTheLimit(h));
                for (int i = 0; i < 3; i++) {
                    long p = blocks.get(i);
                    try {
                        if (h.realloc(p, 100 + i) != p) moved.add(p); // at the limit: shrunk in place
                    } catch (HeapExhaustedException e) {
                        moved.add(-p);
                    }
                }
            });
            owner.join();
            assertThat(moved).as("blocks that moved, or (negative) were refused").isEmpty();
            long fillerBytes = h.stats().liveBytes() - (100 + 101 + 102);
            h.trim(); // adopts the ended thread's cache
            assertThat(h.stats().liveBytes()).isEqualTo(fillerBytes + 303);
            if (!checked) { // the snapshot's class figures (the HTML report's): the three blocks' sizes asked for
                long blockSize = h.usableSize(blocks.get(0));
                HeapSnapshot.SizeClassUsage usage = h.snapshot().classes().stream()
                        .filter(u -> u.blockSize() == blockSize).findFirst().orElseThrow();
                assertThat(usage.liveBlocks()).isEqualTo(3);
                assertThat(usage.requestedBytes()).isEqualTo(303);
                assertThat(usage.wasteBytes()).isEqualTo(3 * blockSize - 303);
            }
            Thread freer = (virtual ? Thread.ofVirtual() : Thread.ofPlatform()).start(() -> {
                for (long p : blocks) h.free(p);
            });
            freer.join();
            assertThat(h.stats().liveBytes()).isEqualTo(fillerBytes);
            for (long f : filler) h.free(f);
            h.trim();
            HeapStats s = h.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(s.freeBytes()).isEqualTo(s.committedBytes());
            assertThat(h.verify()).isEmpty();
        }
    }
}
