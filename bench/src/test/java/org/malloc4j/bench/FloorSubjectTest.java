package org.malloc4j.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The {@code floor} subject hands out only what its fixed blocks hold. */
class FloorSubjectTest {
    /**
     * Its blocks are 1 MiB: {@code reallocate} refused more, but {@code allocate} handed the 1 MiB block out for any
     * size, and the driver's write of the whole block ({@code PairInTurn 5 2097152 floor}, or PairBenchmark with
     * {@code -p size=2097152}) ran past it into the native heap.
     */
    @Test
    void aBlockLargerThanItsSlotsIsRefusedNotHandedOut() {
        try (Subject floor = Subject.open("floor", 1)) {
            assertThat(floor.allocate(0, 1 << 20)).isNotZero();
            assertThatThrownBy(() -> floor.allocate(0, (1 << 20) + 1))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("1 MiB").hasMessageContaining(String.valueOf((1 << 20) + 1));
        }
    }
}
