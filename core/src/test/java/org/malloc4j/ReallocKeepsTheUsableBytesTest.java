package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code usableSize} says how many bytes of a block the program may use, and a program may use them all (a buffer that
 * takes its capacity from it, as with C's {@code malloc_usable_size}). A realloc that moves such a block must keep
 * them, up to the new size, as glibc, jemalloc, tcmalloc and mimalloc do (they copy the old block's usable size):
 * until 2026-12-07 a moving realloc copied only the size asked for, and the bytes between it and the usable size were
 * lost, in every transition that copies (small to small, small or medium to a page run, page run to page run, page
 * run to a small class).
 */
class ReallocKeepsTheUsableBytesTest {
    @ParameterizedTest(name = "{0}: {1} (aligned to {2}) -> {3}")
    @CsvSource({
        "small to small, 100, 16, 5000",
        "small to a larger small class, 1100, 16, 1300",
        "aligned small to small, 300, 256, 3000",
        "small to a page run, 30000, 16, 100000",
        "medium to a page run, 40000, 16, 300000",
        "page run to a page run, 300001, 16, 3000000",
        "aligned page run to small, 5000, 8192, 20000",
        "page run shrunk to small, 300001, 16, 1000",
    })
    void aMoveKeepsTheBytesUsableSizeGave(String what, long size, long alignment, long newSize) {
        try (Heap h = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            long p = alignment <= 16 ? h.malloc(size) : h.alignedAlloc(alignment, size);
            long guard = h.malloc(size); // after a page run: it must move to grow
            long usable = h.usableSize(p);
            assertThat(usable).as(what).isGreaterThan(size);
            Blocks.fill(p, usable, (byte) 0x5c); // every byte usableSize gave, as a buffer of that capacity would
            long q = h.realloc(p, newSize);
            assertThat(q).as("%s: a move", what).isNotEqualTo(p);
            Blocks.check(q, usable, Math.min(usable, newSize), (byte) 0x5c);
            h.free(q);
            h.free(guard);
            assertThat(h.stats().liveBytes()).isZero();
        }
    }
}
