package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Pages given back while other threads reuse them: workers allocate blocks of every kind, fill them, grow some by
 * realloc (moved by the page tables with a decay time of 0) and check every byte before they free them, while another
 * thread trims in a loop and the purger gives pages back; gathering moves free pages into new runs too. A run handed
 * out while it was being given back, or a block's pages moved or purged under it, would read zeros: data lost.
 */
class TrimAndPurgesRacingReuseTest {
    private static final int WORKERS = 2, OPS = 1_500;

    @Test
    void noLiveByteIsLostToATrimOrAPurge() throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ZERO).pageGathering(PageGathering.AT_EVERY_PEAK).jmx(false)
                .build()) {
            race(heap, PageGathering.AT_EVERY_PEAK);
        }
        try (Heap heap = Heap.builder().decay(Duration.ofMillis(1)).releaseThreshold(1 << 20).jmx(false).build()) {
            race(heap, PageGathering.OFF);
        }
    }

    private static void race(Heap heap, PageGathering gathering) throws Exception {
        List<String> lost = new CopyOnWriteArrayList<>();
        AtomicBoolean done = new AtomicBoolean();
        Thread trimmer = Thread.ofPlatform().start(() -> {
            while (!done.get()) heap.trim();
        });
        Thread[] workers = new Thread[WORKERS];
        for (int w = 0; w < WORKERS; w++) {
            int seed = w;
            workers[w] = Thread.ofPlatform().start(() -> work(heap, new SplittableRandom(seed), (byte) (seed + 1), lost));
        }
        for (Thread t : workers) t.join();
        done.set(true);
        trimmer.join();
        assertThat(lost).as("blocks whose bytes changed under them (%s)", gathering).isEmpty();
        assertThat(heap.stats().liveBytes()).isZero();
    }

    private static void work(Heap heap, SplittableRandom random, byte mark, List<String> lost) {
        long[] live = new long[24], size = new long[24];
        long[] sizes = {64, 3000, 40 << 10, 90 << 10, 300 << 10, 1 << 20, 3 << 20};
        for (int op = 0; op < OPS && lost.isEmpty(); op++) {
            int slot = random.nextInt(live.length);
            if (live[slot] != 0) {
                if (!intact(live[slot], size[slot], mark)) lost.add("block of " + size[slot] + " at op " + op);
                if (random.nextInt(4) == 0) { // grow it: a block of 64 KiB or more moves by its page tables
                    long grown = size[slot] * 2 + 4096;
                    long moved = heap.realloc(live[slot], grown);
                    if (!intact(moved, size[slot], mark)) lost.add("block of " + size[slot] + " realloc'd at op " + op);
                    Blocks.ALL.asSlice(moved, grown).fill(mark);
                    live[slot] = moved;
                    size[slot] = grown;
                    continue;
                }
                heap.free(live[slot]);
            }
            size[slot] = sizes[random.nextInt(sizes.length)] + random.nextInt(4096);
            live[slot] = heap.malloc(size[slot]);
            Blocks.ALL.asSlice(live[slot], size[slot]).fill(mark);
        }
        for (int i = 0; i < live.length; i++) {
            if (live[i] == 0) continue;
            if (!intact(live[i], size[i], mark)) lost.add("block of " + size[i] + " at the end");
            heap.free(live[i]);
        }
    }

    private static boolean intact(long address, long size, byte mark) {
        var block = Blocks.ALL.asSlice(address, size);
        for (long off = 0; off < size; off += 512) {
            if (block.get(java.lang.foreign.ValueLayout.JAVA_BYTE, off) != mark) return false;
        }
        return block.get(java.lang.foreign.ValueLayout.JAVA_BYTE, size - 1) == mark;
    }
}
