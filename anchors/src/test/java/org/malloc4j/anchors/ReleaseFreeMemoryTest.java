package org.malloc4j.anchors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every allocator that loads here gives memory back when asked: 64 MiB of 4,000-byte blocks written, freed, then
 * {@link Allocator#releaseFreeMemory}, and the process's resident set falls by at least half of it. (A native
 * allocator keeps freed memory resident until then: glibc, jemalloc, mimalloc and tcmalloc each held all of it.)
 */
class ReleaseFreeMemoryTest {
    private static final int BLOCKS = 16_384, SIZE = 4_000;

    @ParameterizedTest
    @ValueSource(strings = {"malloc4j", "glibc", "jemalloc", "mimalloc", "tcmalloc"})
    void freedMemoryLeavesTheResidentSet(String name) throws IOException {
        Allocator allocator;
        try {
            allocator = Allocators.open(name);
        } catch (IllegalArgumentException e) {
            System.err.println("ReleaseFreeMemoryTest: " + name + " skipped: " + e.getMessage());
            assumeTrue(false, e.getMessage()); // not installed here, or needs its environment variable
            return;
        }
        long rss = rssBytes();
        assumeTrue(rss > 0, "no /proc/self/status here");
        try (allocator) {
            long[] blocks = new long[BLOCKS];
            for (int i = 0; i < BLOCKS; i++) {
                blocks[i] = allocator.malloc(SIZE);
                MemorySegment.ofAddress(blocks[i]).reinterpret(SIZE).fill((byte) 0x5A);
            }
            for (long b : blocks) allocator.free(b);
            long afterFree = rssBytes();
            allocator.releaseFreeMemory();
            long afterRelease = rssBytes();
            assertThat(afterFree - afterRelease).as(name + ": resident bytes given back").isGreaterThan(
                    (long) BLOCKS * SIZE / 2);
        }
    }

    private static long rssBytes() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) return -1;
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
        return -1;
    }
}
