package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Memory really goes back to the OS: the process's resident set (VmRSS in /proc/self/status) rises when blocks are
 * touched and falls by about as much when they are freed (large blocks), or on {@code trim()} (blocks kept for the
 * decay time). Tolerance: 25% of the amount. No sleeping: decay times are set so that nothing depends on the clock.
 */
class HeapMemoryReturnTest {
    private static final long MiB = 1L << 20;
    private static final double TOLERANCE = 0.25;
    private static final Path STATUS = Path.of("/proc/self/status");

    @BeforeAll
    static void linuxOnly() {
        Assumptions.assumeTrue(Files.isReadable(STATUS), "needs /proc/self/status (Linux)");
    }

    /** @return the resident set size of this process, in bytes */
    static long rss() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    assertThat(parts[1]).isEqualTo("kB");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("no VmRSS line in " + STATUS);
    }

    /** Writes one word in every page, so that the whole block becomes resident. */
    static void touch(long address, long size) {
        for (long off = 0; off < size; off += 4096) {
            Blocks.ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, address + off, off | 1);
        }
    }

    private static void assertAbout(long actual, long expected, String what) {
        assertThat(actual).as("%s: %d MiB, expected about %d MiB", what, actual / MiB, expected / MiB)
                .isBetween((long) (expected * (1 - TOLERANCE)), (long) (expected * (1 + TOLERANCE)));
    }

    @Test
    void freeingALargeBlockGivesItBackAtOnce() {
        long size = 256 * MiB;
        try (Heap heap = Heap.create()) {
            heap.free(heap.malloc(64)); // warm up: metadata pages, thread cache
            long before = rss();
            long p = heap.malloc(size);
            touch(p, size);
            long touched = rss();
            assertAbout(touched - before, size, "RSS rise after touching a 256 MiB block");
            assertThat(heap.stats().committedBytes()).isGreaterThanOrEqualTo(size);

            heap.free(p); // default release threshold 32 MiB: back to the OS now
            long after = rss();
            assertAbout(touched - after, size, "RSS drop after freeing it");
            HeapStats s = heap.stats();
            assertThat(s.committedBytes()).as("committed after free").isLessThan(4 * MiB);
            assertThat(s.retainedBytes()).isLessThan(4 * MiB);
            assertThat(s.purgeCount()).isPositive();
            assertThat(s.peakCommittedBytes()).isGreaterThanOrEqualTo(size);
        }
    }

    /**
     * A program that allocates, touches and frees one huge buffer in a loop: the first free gives it back, the next
     * malloc of that size shows the loop, and from then on the buffer's pages stay resident between frees and
     * mallocs (for the decay time), until {@code trim()}. A decay of ten minutes, so that no run expires here (a loop
     * is one whose turns come within a second), and a release threshold of 8 MiB, so that a 16 MiB buffer is huge
     * and faults in within milliseconds.
     */
    @Test
    void aHugeBlockFreedAndAllocatedInALoopKeepsItsPages() {
        long size = 16 * MiB;
        try (Heap heap = Heap.builder().decay(java.time.Duration.ofMinutes(10)).releaseThreshold(8 * MiB).build()) {
            heap.free(heap.malloc(64));
            long p = heap.malloc(size);
            touch(p, size);
            heap.free(p);
            assertThat(heap.stats().committedBytes()).as("the first free gives it back").isLessThan(4 * MiB);

            p = heap.malloc(size);
            touch(p, size);
            long purges = heap.stats().purgeCount();
            heap.free(p);
            HeapStats kept = heap.stats();
            assertThat(kept.purgeCount()).as("the second free purges nothing").isEqualTo(purges);
            assertThat(kept.retainedBytes()).isGreaterThanOrEqualTo(size);
            long before = rss();
            p = heap.malloc(size);
            touch(p, size);
            // The process's RSS: the JVM's own growth meanwhile (compiled code, new heap regions) counts as well,
            // so the bound is half the block, which a block on new pages (16 MiB faulted in) could not meet
            assertThat(rss() - before).as("the third malloc reuses resident pages").isLessThan(size / 2);
            heap.free(p);

            long held = rss();
            heap.trim();
            assertAbout(held - rss(), size, "RSS drop after trim()");
            assertThat(heap.stats().committedBytes()).isLessThan(4 * MiB);
        }
    }

    @Test
    void shrinkingALargeBlockInPlaceGivesItsTailBackAtOnce() {
        long size = 256 * MiB;
        try (Heap heap = Heap.create()) {
            heap.free(heap.malloc(64));
            long before = rss();
            long p = heap.malloc(size);
            touch(p, size);
            long touched = rss();
            assertThat(heap.realloc(p, MiB)).isEqualTo(p); // shrinks in place
            // The tail is over the release threshold (32 MiB): back to the OS now, as a free of it would be
            assertAbout(touched - rss(), size - MiB, "RSS drop after shrinking a 256 MiB block to 1 MiB");
            assertThat(heap.stats().committedBytes()).isLessThan(4 * MiB);
            // The process's own growth meanwhile (the JIT's code, the collector) is in it too: 13 MB once, with the
            // machine's other core busy, where 8 MiB had been the bound; 255 MiB kept would read far above either
            assertThat(rss() - before).isLessThan(24 * MiB);
            heap.free(p);
        }
    }

    @Test
    void mediumBlocksStayUntilDecayOrTrim() {
        int count = 200;
        long size = MiB;
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).build()) {
            heap.free(heap.malloc(64));
            long before = rss();
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                long p = heap.malloc(size);
                touch(p, size);
                blocks.add(p);
            }
            long touched = rss();
            assertAbout(touched - before, count * size, "RSS rise after touching 200 x 1 MiB");
            long committedLive = heap.stats().committedBytes();
            assertThat(committedLive).isGreaterThanOrEqualTo(count * size);

            for (long p : blocks) heap.free(p);
            long freed = rss();
            assertThat(touched - freed).as("RSS drop right after freeing medium blocks (they wait for decay)")
                    .isLessThan((long) (count * size * TOLERANCE));
            HeapStats kept = heap.stats();
            assertThat(kept.liveBytes()).isZero();
            assertThat(kept.committedBytes()).as("committed while waiting for decay")
                    .isGreaterThanOrEqualTo(count * size);
            assertThat(kept.retainedBytes()).isGreaterThanOrEqualTo(count * size);

            heap.trim();
            long trimmed = rss();
            assertAbout(freed - trimmed, count * size, "RSS drop after trim()");
            HeapStats after = heap.stats();
            assertThat(kept.committedBytes() - after.committedBytes()).as("committed bytes given back by trim()")
                    .isGreaterThanOrEqualTo(count * size);
            assertThat(after.retainedBytes()).isZero();

            // The memory is still usable, and reads as zero after being given back.
            long again = heap.calloc(count, size);
            Blocks.checkZero(again, count * size);
            heap.free(again);
        }
    }

    @Test
    void withZeroDecayCommittedFollowsLive() {
        long size = MiB;
        try (Heap heap = Heap.builder().decay(Duration.ZERO).build()) {
            heap.free(heap.malloc(64));
            long before = rss();
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                long p = heap.malloc(size);
                touch(p, size);
                blocks.add(p);
            }
            long touched = rss();
            assertAbout(touched - before, 100 * size, "RSS rise after touching 100 x 1 MiB");
            for (int i = 0; i < blocks.size(); i += 2) heap.free(blocks.get(i)); // every other: holes, no merging
            HeapStats half = heap.stats();
            assertThat(half.liveBytes()).isEqualTo(50 * size);
            assertThat(half.committedBytes()).as("committed with decay 0")
                    .isBetween(50 * size, 50 * size + MiB);
            assertThat(half.retainedBytes()).isZero();
            long halfRss = rss();
            assertAbout(touched - halfRss, 50 * size, "RSS drop after freeing half");
            for (int i = 1; i < blocks.size(); i += 2) heap.free(blocks.get(i));
            assertThat(heap.stats().committedBytes()).isLessThan(MiB);
            assertAbout(halfRss - rss(), 50 * size, "RSS drop after freeing the rest");
        }
    }

    @Test
    void smallBlocksGoBackOnTrim() {
        long count = 400_000;
        long size = 256; // 100 MiB of small blocks
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).build()) {
            heap.free(heap.malloc(64));
            long before = rss();
            long[] blocks = new long[(int) count];
            for (int i = 0; i < count; i++) {
                blocks[i] = heap.malloc(size);
                Blocks.ALL.set(ValueLayout.JAVA_LONG, blocks[i], i);
            }
            long touched = rss();
            assertAbout(touched - before, count * size, "RSS rise after 400k x 256 B");
            for (long p : blocks) heap.free(p);
            HeapStats freed = heap.stats();
            assertThat(freed.liveBytes()).isZero();
            assertThat(freed.committedBytes()).as("empty slabs wait for decay").isGreaterThanOrEqualTo(count * size);
            long beforeTrim = rss(); // measured here: the frees themselves must not depend on RSS noise
            heap.trim();
            long trimmed = rss();
            assertAbout(beforeTrim - trimmed, count * size, "RSS drop after freeing small blocks and trim()");
            assertThat(heap.stats().committedBytes()).isLessThan(MiB);
        }
    }
    /**
     * {@code close()} gives all the heap's memory back to the OS: live blocks of every kind and free pages kept for the
     * decay time alike, and the reserved range is no longer mapped.
     */
    @Test
    void closingAHeapGivesAllItsMemoryBack() throws IOException {
        Heap heap = Heap.builder().decay(Duration.ofHours(1)).releaseThreshold(1L << 30).jmx(false).build();
        heap.free(heap.malloc(64));
        long before = rss();
        long[] sizes = {256, 3000, 100_000, 300_000, 5 * MiB, 40 * MiB};
        long total = 0;
        long first = 0;
        for (int round = 0; round < 4; round++) {
            for (long size : sizes) {
                long p = heap.malloc(size);
                touch(p, size);
                if (first == 0) first = p;
                total += size;
                if (round == 3) { // a quarter freed: kept committed for the decay time
                    heap.free(p);
                }
            }
        }
        for (int i = 0; i < 20_000; i++) {
            long p = heap.malloc(1000); // small blocks, live at close
            touch(p, 1000);
            total += 1000;
        }
        long touched = rss();
        assertAbout(touched - before, total, "RSS rise after touching the blocks");
        assertThat(heap.stats().retainedBytes()).as("free pages kept for the decay time").isPositive();
        heap.close();
        assertAbout(touched - rss(), total, "RSS drop after close()");
        long gone = first;
        assertThat(Files.readAllLines(Path.of("/proc/self/maps"))).as("a mapping holding the heap's first block")
                .noneMatch(line -> {
                    String[] range = line.substring(0, line.indexOf(' ')).split("-");
                    return Long.parseUnsignedLong(range[0], 16) <= gone && gone < Long.parseUnsignedLong(range[1], 16);
                });
    }
}
