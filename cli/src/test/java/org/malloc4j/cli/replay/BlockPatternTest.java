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

    @Test
    void blocksOfDifferentIdsDiffer() {
        assertThat(BlockPattern.tag(1)).isNotEqualTo(BlockPattern.tag(2));
        for (int id = 0; id < 100_000; id++) assertThat(BlockPattern.fillByte(id)).isNotZero();
    }
}
