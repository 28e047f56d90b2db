package org.malloc4j.internal.checked;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.os.Memory;

/**
 * The fills and the poison check at each of their size regimes (word loops, the JDK's fill, the vectorized loops),
 * and the checked header's generation: a block armed again at the same address, with the same size, gets a header that
 * differs from the last one, so a free that read the old header cannot claim the new block (the double free that
 * races with the block's reuse, which {@code CheckedDoubleFreeTest} in the jcstress module provokes).
 */
class RedZonesTest {
    private final RedZones zones = new RedZones(0x1234_5678_9ABC_DEF0L);

    @Test
    void aBlockArmedAgainAtTheSameAddressCannotBeClaimedWithItsOldHeader() {
        try (Arena arena = Arena.ofConfined()) {
            long b = arena.allocate(128, 16).address();
            long p = b + RedZones.HEADER;
            zones.arm(b, p, 48, 4, false);
            long first = Memory.getLong(p - 16);
            assertThat(zones.headerIntact(p)).isTrue();
            assertThat(zones.markFreed(p, first)).as("the first free claims the block").isTrue();

            zones.arm(b, p, 48, 4, false); // released, reallocated at the same place with the same size
            long second = Memory.getLong(p - 16);
            assertThat(second).as("a new generation").isNotEqualTo(first).isNotEqualTo(first | RedZones.FREED);
            assertThat(RedZones.sizeOf(second)).isEqualTo(48);
            assertThat(RedZones.frontOf(second)).isEqualTo(16);
            assertThat(zones.headerIntact(p)).isTrue();
            assertThat(zones.markFreed(p, first)).as("a stale free of the old block").isFalse();
            assertThat(zones.markFreed(p, second)).as("the new block's own free").isTrue();
        }
    }

    @Test
    void generationsWrapAroundAndStayValid() {
        try (Arena arena = Arena.ofConfined()) {
            long b = arena.allocate(64, 16).address();
            long p = b + RedZones.HEADER;
            long previous = 0;
            for (int i = 0; i < 600; i++) {
                zones.arm(b, p, 7, 4, false);
                long h0 = Memory.getLong(p - 16);
                assertThat(h0).isNotEqualTo(previous);
                assertThat(zones.headerIntact(p)).isTrue();
                assertThat(RedZones.sizeOf(h0)).isEqualTo(7);
                assertThat(zones.tailDamage(p, 7)).isEqualTo(-1);
                previous = h0;
            }
        }
    }

    @Test
    void poisonFillsEveryByteAndTheCheckFindsTheFirstChangedByteAtEverySize() {
        long[] sizes = {0, 1, 7, 8, 15, 16, 63, 64, 65, 255, 511, 512, 513, 1000, 4096, 4099, 70_001};
        try (Arena arena = Arena.ofConfined()) {
            long base = arena.allocate(80_000, 16).address();
            for (long size : sizes) {
                long p = base + 8; // the fills take any address
                Memory.ALL.asSlice(base, 80_000).fill((byte) 0x11);
                RedZones.poison(p, size);
                assertThat(Memory.ALL.get(ValueLayout.JAVA_BYTE, p - 1)).as("before, %d", size)
                        .isEqualTo((byte) 0x11);
                assertThat(Memory.ALL.get(ValueLayout.JAVA_BYTE, p + size)).as("after, %d", size)
                        .isEqualTo((byte) 0x11);
                assertThat(RedZones.poisonDamage(p, size)).as("intact, %d bytes", size).isEqualTo(-1);
                for (long at : new long[] {0, size / 2, size - 1, (size & ~7L) - 1, size & ~7L}) {
                    if (at < 0 || at >= size) continue;
                    RedZones.poison(p, size);
                    Memory.ALL.set(ValueLayout.JAVA_BYTE, p + at, (byte) 0);
                    if (at + 3 < size) Memory.ALL.set(ValueLayout.JAVA_BYTE, p + at + 3, (byte) 0);
                    assertThat(RedZones.poisonDamage(p, size)).as("%d bytes, written at %d", size, at).isEqualTo(at);
                }
                RedZones.junk(p, size);
                for (long i = 0; i < size; i++) {
                    assertThat(Memory.ALL.get(ValueLayout.JAVA_BYTE, p + i)).isEqualTo(RedZones.JUNK);
                }
                if (size > 0) assertThat(RedZones.poisonDamage(p, size)).as("junk is not poison").isEqualTo(0);
            }
        }
    }

    /**
     * Below 64 bytes the fills are a few overlapping stores and the check as many loads, with no loop: every size there
     * (and a little past it, where the loops take over) is filled exactly to its end, and a change of any one byte, at
     * any offset, is found at that offset.
     */
    @Test
    void theStraightLineFillsAndCheckCoverEveryByteOfEverySmallSize() {
        try (Arena arena = Arena.ofConfined()) {
            long base = arena.allocate(256, 16).address();
            for (long size = 0; size <= 80; size++) {
                for (long shift = 0; shift < 16; shift += 5) { // aligned, and not (the fills take any address)
                    long p = base + 16 + shift;
                    Memory.ALL.asSlice(base, 256).fill((byte) 0x11);
                    RedZones.junk(p, size);
                    for (long i = -16; i < size + 16; i++) {
                        byte expected = i >= 0 && i < size ? RedZones.JUNK : 0x11;
                        assertThat(Memory.ALL.get(ValueLayout.JAVA_BYTE, p + i)).as("junk %d at %d", size, i)
                                .isEqualTo(expected);
                    }
                    RedZones.poison(p, size);
                    assertThat(Memory.ALL.get(ValueLayout.JAVA_BYTE, p - 1)).isEqualTo((byte) 0x11);
                    assertThat(Memory.ALL.get(ValueLayout.JAVA_BYTE, p + size)).isEqualTo((byte) 0x11);
                    assertThat(RedZones.poisonDamage(p, size)).as("intact, %d bytes", size).isEqualTo(-1);
                    for (long at = 0; at < size; at++) {
                        Memory.ALL.set(ValueLayout.JAVA_BYTE, p + at, (byte) (RedZones.POISON ^ 0x40));
                        assertThat(RedZones.poisonDamage(p, size)).as("%d bytes, written at %d", size, at)
                                .isEqualTo(at);
                        Memory.ALL.set(ValueLayout.JAVA_BYTE, p + at, RedZones.POISON);
                    }
                    assertThat(RedZones.poisonDamage(p, size)).isEqualTo(-1);
                }
            }
        }
    }

    @Test
    void aHeaderHalfWrittenIsToldFromADamagedOne() {
        try (Arena arena = Arena.ofConfined()) {
            long b = arena.allocate(128, 16).address();
            long p = b + RedZones.HEADER;
            zones.arm(b, p, 48, 4, false);
            long old = Memory.getLong(p - 16);
            // A malloc of another size at the same place has written its header word, not yet its check word
            long next = RedZones.h0(32, 4) | RedZones.generation(old + (1L << 48));
            Memory.putLong(p - 16, next);
            assertThat(zones.headerIntact(p)).isFalse();
            assertThat(zones.beingArmed(p, 32, 4)).as("the check word is the previous generation's").isTrue();
            // The same header word over a check word some stray write changed: damage, not a malloc in progress
            Memory.putLong(p - 8, 0x4242424242424242L);
            assertThat(zones.beingArmed(p, 32, 4)).isFalse();
            zones.arm(b, p, 48, 4, false);
            Memory.putLong(p - 2, 0x4141L << 48 >>> 48); // an underflow of two bytes into the check word
            assertThat(zones.headerIntact(p)).isFalse();
            assertThat(zones.beingArmed(p, 48, 4)).isFalse();
        }
    }

    @Test
    void anArenaBlockHeaderValidatesAndSaysSo() {
        try (Arena arena = Arena.ofConfined()) {
            long b = arena.allocate(128, 16).address();
            long p = b + RedZones.HEADER;
            zones.arm(b, p, 48, 4, true);
            long h0 = Memory.getLong(p - 16);
            assertThat(zones.headerIntact(p)).isTrue();
            assertThat(h0 & RedZones.ARENA).isNotZero();
            assertThat(RedZones.sizeOf(h0)).isEqualTo(48);
        }
    }
}
