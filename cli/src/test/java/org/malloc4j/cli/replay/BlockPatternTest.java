package org.malloc4j.cli.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The block pattern: filled blocks pass, and the first changed byte is found wherever it is. */
class BlockPatternTest {
    private final BlockPattern pattern = new BlockPattern();

    @Test
    void findsAChangedByteAtEveryOffsetForEverySize() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(20_000, 16);
            long p = block.address();
            for (long size : new long[] {0, 1, 7, 8, 9, 15, 16, 17, 31, 4095, 4096, 4097, 12_345}) {
                pattern.fill(42, p, size);
                assertThat(pattern.firstMismatch(42, p, size, size)).as("size %d", size).isEqualTo(-1);
                for (long off = 0; off < size; off += size > 100 ? 97 : 1) {
                    byte b = block.get(ValueLayout.JAVA_BYTE, off);
                    assertThat(b).isEqualTo(BlockPattern.expected(42, size, off));
                    block.set(ValueLayout.JAVA_BYTE, off, (byte) ~b);
                    assertThat(pattern.firstMismatch(42, p, size, size)).as("size %d offset %d", size, off)
                            .isEqualTo(off);
                    block.set(ValueLayout.JAVA_BYTE, off, b);
                }
            }
        }
    }

    @Test
    void checksOnlyTheKeptPrefixAfterAShrink() {
        try (Arena arena = Arena.ofConfined()) {
            long p = arena.allocate(1_000, 16).address();
            pattern.fill(7, p, 1_000);
            for (long kept : new long[] {0, 3, 8, 12, 500, 995, 1_000}) {
                assertThat(pattern.firstMismatch(7, p, 1_000, kept)).isEqualTo(-1);
            }
            AddressSpace.ALL.set(ValueLayout.JAVA_BYTE, p + 600, (byte) 0);
            assertThat(pattern.firstMismatch(7, p, 1_000, 600)).isEqualTo(-1);
            assertThat(pattern.firstMismatch(7, p, 1_000, 601)).isEqualTo(600);
        }
    }

    /**
     * Filling and checking create no object: the checked pass's peak RSS is measured in this JVM, and a few objects a
     * block became new Eden pages in it (realloc-growth's rise read 37 MiB for 9.4 MiB committed when each check
     * of a chunk made two segment slices). Counted by the JVM's per-thread allocation counter, after a warm-up,
     * over 20,000 fills and checks: a single 16-byte object per check would be 320,000 bytes.
     */
    @Test
    void fillingAndCheckingMakeNoGarbage() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (Arena arena = Arena.ofConfined()) {
            long p = arena.allocate(10_000, 16).address();
            long mismatches = 0;
            for (int i = 0; i < 20_000; i++) mismatches += fillAndCheck(p, i);
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 20_000; i++) mismatches += fillAndCheck(p, i);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertThat(mismatches).isEqualTo(-40_000);
            assertThat(allocated).as("bytes allocated by 20,000 fills and checks").isLessThan(20_000);
        }
    }

    private long fillAndCheck(long p, int i) {
        long size = 16 + (i * 997L) % 9_000;
        pattern.fill(i, p, size);
        return pattern.firstMismatch(i, p, size, size);
    }

    @Test
    void blocksOfDifferentIdsDiffer() {
        assertThat(BlockPattern.tag(1)).isNotEqualTo(BlockPattern.tag(2));
        for (int id = 0; id < 100_000; id++) assertThat(BlockPattern.fillByte(id)).isNotZero();
    }
}
