package org.malloc4j.internal.os;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The resident count is an estimate that a statistics call reads without the page lock: a range with a hole (a move
 * the kernel refused unmaps its destination for an instant, before Linux 6.12) counts that part as not resident, and
 * does not throw (an open heap's stats() failed with "mincore failed: errno 12" in that window).
 */
class ResidentPagesOverAHoleTest {
    @Test
    void aRangeWithAnUnmappedPageCountsWithoutThrowing() {
        long base = Os.reserve(3L * Os.PAGE_SIZE, Os.PAGE_SIZE);
        assertThat(base).isNotZero();
        try {
            for (int i = 0; i < 3; i++) Memory.putLong(base + (long) i * Os.PAGE_SIZE, 1);
            assertThat(Os.residentPages(base, 3)).isEqualTo(3);
            Os.unmap(base + Os.PAGE_SIZE, Os.PAGE_SIZE); // the hole
            assertThat(Os.residentPages(base, 3)).isBetween(0L, 2L);
            assertThat(Os.residentPages(base, 1)).isEqualTo(1);
        } finally {
            Os.unmap(base, Os.PAGE_SIZE);
            Os.unmap(base + 2L * Os.PAGE_SIZE, Os.PAGE_SIZE);
        }
    }
}
