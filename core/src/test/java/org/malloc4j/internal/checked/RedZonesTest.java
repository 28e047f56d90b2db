package org.malloc4j.internal.checked;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.os.Memory;

/**
 * The checked header's generation: a block armed again at the same address, with the same size, gets a header that
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
            zones.arm(b, p, 48, 4);
            long first = Memory.getLong(p - 16);
            assertThat(zones.headerIntact(p)).isTrue();
            assertThat(zones.markFreed(p, first)).as("the first free claims the block").isTrue();

            zones.arm(b, p, 48, 4); // released, reallocated at the same place with the same size
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
                zones.arm(b, p, 7, 4);
                long h0 = Memory.getLong(p - 16);
                assertThat(h0).isNotEqualTo(previous);
                assertThat(zones.headerIntact(p)).isTrue();
                assertThat(RedZones.sizeOf(h0)).isEqualTo(7);
                assertThat(zones.tailDamage(p, 7)).isEqualTo(-1);
                previous = h0;
            }
        }
    }
}
