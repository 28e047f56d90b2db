package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.lang.foreign.Arena;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Edges of the public API where it broke its stated contract, found by a review on 2026-12-07 (each failed before): an
 * empty heap refused a request its reservation held (a dirty run and the clean pages beside it never merge), an
 * arena's refusal of an overflowing size gave none of the heap's figures, and a limit under one page let a page be
 * committed (it was raised to one, and messages quoted a limit of 4096 bytes that nobody set).
 */
class ApiEdgeContractTest {

    /** Nothing live, and the request fits the reservation: served (the dirty run purged, so that it merges). */
    @Test
    void aRequestThatFitsAnEmptyReservationIsServed() {
        try (Heap h = Heap.builder().reserve(16L << 20).decay(Duration.ofHours(1)).jmx(false).build()) {
            h.free(h.malloc(6L << 20)); // below the release threshold: its pages stay committed (dirty)
            assertThat(h.stats().liveBytes()).isZero();
            Throwable t = catchThrowable(() -> h.free(h.malloc(12L << 20)));
            assertThat(t).as("malloc(12 MiB) in an empty 16 MiB heap").isNull();
            assertThat(h.verify()).isEmpty();
        }
    }

    /** HeapExhaustedException's documented message: request, limit, live bytes, free bytes, largest free block. */
    @Test
    void anArenaExhaustionMessageGivesTheHeapsFigures() {
        try (Heap h = Heap.builder().limit(8L << 20).jmx(false).build(); Arena a = h.newArena()) {
            Throwable t = catchThrowable(() -> a.allocate(Long.MAX_VALUE, 16));
            assertThat(t).isInstanceOf(HeapExhaustedException.class)
                    .hasMessageContainingAll(Long.toString(Long.MAX_VALUE), "limit " + (8L << 20), "live ",
                            "free ", "largest free block");
            a.allocate(100, 16); // still usable
            assertThat(h.verify()).isEmpty();
        }
    }

    /** limit() caps committed bytes: a limit below a page must not let a page be committed. */
    @Test
    void aLimitBelowOnePageIsNotExceeded() {
        try (Heap h = Heap.builder().limit(100).jmx(false).build()) {
            Throwable t = catchThrowable(() -> h.malloc(16));
            assertThat(h.stats().committedBytes()).as("committed bytes under limit(100) after %s", t)
                    .isLessThanOrEqualTo(100);
            assertThat(t).isInstanceOf(HeapExhaustedException.class).hasMessageContaining("limit 100 bytes");
        }
    }

    /** With no limit set, a refusal names the reservation as the bound, not as a limit the program never set. */
    @Test
    void aRefusalWithoutALimitNamesTheReservation() {
        for (HeapMode mode : HeapMode.values()) {
            try (Heap h = Heap.builder().mode(mode).reserve(16L << 20).jmx(false).build()) {
                Throwable t = catchThrowable(() -> h.malloc(32L << 20));
                assertThat(t).as("%s", mode).isInstanceOf(HeapExhaustedException.class)
                        .hasMessageContaining("no limit set, reservation " + (16L << 20) + " bytes")
                        .hasMessageNotContaining("limit " + (16L << 20));
                assertThat(h.verify()).isEmpty();
            }
        }
        try (Heap h = Heap.builder().limit(1L << 40).reserve(16L << 20).jmx(false).build()) {
            assertThat(catchThrowable(() -> h.malloc(32L << 20))).as("a limit above the reservation")
                    .hasMessageContaining("limit " + (1L << 40) + " bytes, reservation " + (16L << 20) + " bytes");
        }
    }
}
