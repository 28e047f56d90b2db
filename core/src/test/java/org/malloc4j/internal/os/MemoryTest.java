package org.malloc4j.internal.os;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * {@link Memory#fill} and {@link Memory#wordsEqual} on both sides of the size where fill changes method (the JDK's
 * fill below {@link Memory#WORD_LOOP_FROM}, a word loop and a byte tail from it), at addresses of every alignment.
 */
class MemoryTest {
    private static final long[] SIZES = {0, 1, 9, 63, 64, 511, 512, 513, 519, 520, 4096, 4101, 65_543};

    @Test
    void fillWritesExactlyTheBytesAskedForAtAnyAlignment() {
        try (Arena arena = Arena.ofConfined()) {
            long base = arena.allocate(70_000, 64).address();
            for (long size : SIZES) {
                for (int shift = 0; shift < 8; shift++) {
                    long p = base + 16 + shift;
                    Memory.fill(base, 70_000, (byte) 0x5C);
                    Memory.fill(p, size, (byte) 0xE3);
                    assertThat(byteAt(p - 1)).as("byte before, size %d shift %d", size, shift).isEqualTo((byte) 0x5C);
                    assertThat(byteAt(p + size)).as("byte after, size %d shift %d", size, shift).isEqualTo((byte) 0x5C);
                    for (long i = 0; i < size; i++) {
                        if (byteAt(p + i) != (byte) 0xE3) {
                            throw new AssertionError("size " + size + " shift " + shift + ": byte " + i + " not filled");
                        }
                    }
                    Memory.zero(p, size);
                    for (long i = 0; i < size; i++) assertThat(byteAt(p + i)).isZero();
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
                Memory.fill(p, bytes, (byte) 0xDF);
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
