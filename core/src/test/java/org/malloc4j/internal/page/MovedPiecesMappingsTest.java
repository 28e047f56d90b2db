package org.malloc4j.internal.page;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.malloc4j.Heap;
import org.malloc4j.PageGathering;
import org.malloc4j.internal.os.Memory;
import org.malloc4j.internal.os.Os;

/**
 * Pages moved into a run ({@link PageHeap#gather}) are a kernel mapping each; where they are moved away again (a
 * relocated block, a gathered dirty run) their old place is filed clean without a purge, so nothing mapped fresh pages
 * over it: the pieces stayed mappings of their own until the heap closed, and a heap whose every page was free and
 * given back still held one mapping a piece, and runs purged one by one left mappings apart where the kernel could
 * not merge them with their neighbours'. {@link PageHeap#trim()} joins them again.
 */
class MovedPiecesMappingsTest {
    private static final int PAGES = 1 << 12; // 16 MiB of address space

    @Test
    void trimJoinsTheMappingsOfPiecesMovedAwayAgain() throws IOException {
        long base = Os.reserve((long) PAGES << 12, 1L << 22);
        PageHeap heap = new PageHeap(base, PAGES, Long.MAX_VALUE, Long.MAX_VALUE / 4, 16L << 12);
        heap.lock().lock();
        try {
            heap.pageGathering(PageGathering.AT_EVERY_PEAK);
            long[] runs = PageHeapTest.residentDirtyRunsBetweenUsedOnes(heap);
            long pieces = heap.allocateBlock(32, 4096, 32 * 4096) & ~PageHeap.FRESH;
            assertThat(heap.gatherCounts()).containsExactly(32, PageHeap.GATHER_RUNS);
            assertThat(mappingsIn(base, PAGES)).as("a mapping a moved piece").isGreaterThan(PageHeap.GATHER_RUNS);
            long first = Memory.getLong(pieces);
            assertThat(first).as("a freed run's bytes, moved in").isNotZero();
            long moved = heap.relocate(heap.pageOf(pieces), 64, 64 * 4096); // the pieces move away again
            assertThat(moved & PageHeap.MOVED).as("moved").isNotZero();
            assertThat(Memory.getLong(moved & ~PageHeap.MOVED)).as("the first piece's bytes").isEqualTo(first);
            heap.free(heap.pageOf(moved & ~PageHeap.MOVED));
            for (int i = 1; i < runs.length; i += 2) heap.free(heap.pageOf(runs[i]));
            heap.lock().unlock();
            try {
                heap.trim();
            } finally {
                heap.lock().lock();
            }
            assertThat(heap.committedPages()).isZero();
            assertThat(mappingsIn(base, PAGES)).as("every page free and given back: one mapping again").isEqualTo(1);
            assertThat(heap.checkInvariants()).isNull();
        } finally {
            heap.lock().unlock();
            heap.release();
            Os.unmap(base, (long) PAGES << 12);
        }
        assertThat(mappingsIn(base, PAGES)).as("none after the reservation is unmapped").isZero();
    }

    /**
     * The same through the heap: blocks that grow by realloc move their pages ({@code decay(ZERO)}: every run of 64 KiB
     * or more), guards allocated after each keep them from growing in place; once all is freed and trimmed, the
     * heap's range is one mapping again.
     */
    @Test
    void aTrimmedHeapWhoseBlocksMovedIsOneMappingAgain() throws IOException {
        long lo = Long.MAX_VALUE, hi = 0;
        try (Heap heap = Heap.builder().decay(Duration.ZERO).build()) {
            List<Long> blocks = new ArrayList<>();
            long block = heap.malloc(128 << 10);
            for (int i = 1; i <= 40; i++) {
                Memory.putLong(block, i);
                block = heap.realloc(block, (128L << 10) + i * (64L << 10));
                assertThat(Memory.getLong(block)).isEqualTo(i);
                long guard = heap.malloc(64 << 10);
                Memory.putLong(guard, -i);
                blocks.add(guard);
                lo = Math.min(lo, Math.min(block, guard));
                hi = Math.max(hi, block + (128L << 10) + i * (64L << 10));
            }
            blocks.add(block);
            for (long b : blocks) heap.free(b);
            heap.trim();
            assertThat(heap.stats().committedBytes()).isZero();
            assertThat(mappingsIn(lo, hi)).as("every page free and given back: one mapping again").isEqualTo(1);
        }
        assertThat(mappingsIn(lo, hi)).as("none after close").isZero();
    }

    /** @return the lines of /proc/self/maps that overlap {@code [base, base + pages pages)} */
    private static long mappingsIn(long base, int pages) throws IOException {
        return mappingsIn(base, base + ((long) pages << 12));
    }

    /** @return the lines of /proc/self/maps that overlap {@code [base, end)} */
    private static long mappingsIn(long base, long end) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(line -> {
            String[] range = line.substring(0, line.indexOf(' ')).split("-");
            return Long.parseUnsignedLong(range[1], 16) > base && Long.parseUnsignedLong(range[0], 16) < end;
        }).count();
    }
}
