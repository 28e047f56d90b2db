package org.malloc4j.internal.os;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * {@link Memory#zero}, {@link Memory#fill} and {@link Memory#wordsEqual} on both sides of the sizes where they change
 * method (the JDK's fill below {@link Memory#COPY_FROM}, template copies from it, several of them past the template's
 * 16 KiB), at addresses of every alignment.
 */
class MemoryTest {
    private static final long[] SIZES = {0, 1, 9, 63, 64, 511, 512, 513, 519, 4096, 16_384, 16_385, 65_543};
    private static final MemorySegment TEMPLATE = Memory.template((byte) 0xE3);

    @Test
    void fillAndZeroWriteExactlyTheBytesAskedForAtAnyAlignment() {
        try (Arena arena = Arena.ofConfined()) {
            long base = arena.allocate(70_000, 64).address();
            for (long size : SIZES) {
                for (int shift = 0; shift < 8; shift++) {
                    long p = base + 16 + shift;
                    Memory.ALL.asSlice(base, 70_000).fill((byte) 0x5C);
                    Memory.fill(p, size, (byte) 0xE3, TEMPLATE);
                    assertThat(byteAt(p - 1)).as("byte before, size %d shift %d", size, shift).isEqualTo((byte) 0x5C);
                    assertThat(byteAt(p + size)).as("byte after, size %d shift %d", size, shift).isEqualTo((byte) 0x5C);
                    for (long i = 0; i < size; i++) {
                        if (byteAt(p + i) != (byte) 0xE3) {
                            throw new AssertionError("size " + size + " shift " + shift + ": byte " + i + " not filled");
                        }
                    }
                    Memory.zero(p, size);
                    for (long i = 0; i < size; i++) assertThat(byteAt(p + i)).isZero();
                    assertThat(byteAt(p - 1)).isEqualTo((byte) 0x5C);
                    assertThat(byteAt(p + size)).isEqualTo((byte) 0x5C);
                }
            }
        }
    }

    @Test
    void wordsEqualSeesAChangeInAnyWord() {
        long word = 0xDFDF_DFDF_DFDF_DFDFL;
        try (Arena arena = Arena.ofConfined()) {
            long p = arena.allocate(8192, 16).address() + 8;
            for (long bytes : new long[] {512, 520, 4096}) {
                Memory.ALL.asSlice(p, bytes).fill((byte) 0xDF);
                assertThat(Memory.wordsEqual(p, bytes, word)).isTrue();
                for (long at = 0; at < bytes; at += 37) {
                    Memory.ALL.set(ValueLayout.JAVA_BYTE, p + at, (byte) 0xDE);
                    assertThat(Memory.wordsEqual(p, bytes, word)).as("%d bytes, changed at %d", bytes, at).isFalse();
                    Memory.ALL.set(ValueLayout.JAVA_BYTE, p + at, (byte) 0xDF);
                }
                assertThat(Memory.wordsEqual(p, bytes - 8, word)).isTrue();
            }
        }
    }

    private static byte byteAt(long address) {
        return Memory.ALL.get(ValueLayout.JAVA_BYTE, address);
    }
}
