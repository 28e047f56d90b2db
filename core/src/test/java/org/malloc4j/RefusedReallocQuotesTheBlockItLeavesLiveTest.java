package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.lang.foreign.MemorySegment;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A realloc (or reallocate) that must move and is refused leaves the old block live, so its HeapExhaustedException
 * must quote the heap's live bytes with that block in them, and the free bytes without it. Until 2026-12-07 the
 * message left the block out of "live" (and put it in "free"): realloc takes its bytes out of the live count while it
 * moves them, so that the peak never holds both blocks, and the refusal was worded in between.
 */
class RefusedReallocQuotesTheBlockItLeavesLiveTest {
    private static final Pattern FIGURES = Pattern.compile("committed (\\d+), live (\\d+) bytes, free (\\d+) bytes");

    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void theRefusalCountsTheOldBlockAsLive(HeapMode mode) {
        try (Heap h = Heap.builder().mode(mode).limit(64L << 20).jmx(false).build()) {
            long other = h.malloc(1000);
            long p = h.malloc(3000);
            MemorySegment s = h.allocate(5000, 16);
            long live = h.stats().liveBytes();
            assertThat(live).isEqualTo(9000);
            refused(h, live, "realloc", () -> h.realloc(p, 1L << 30));
            refused(h, live, "reallocate", () -> h.reallocate(s, 1L << 30));
            refused(h, live, "reallocate aligned", () -> h.reallocate(s, 1L << 30, 4096));
            h.free(h.realloc(p, 100_000)); // still usable, the blocks as they were
            h.free(h.reallocate(s, 100_000, 4096));
            h.free(other);
            assertThat(h.stats().liveBytes()).isZero();
            assertThat(h.verify()).isEmpty();
        }
    }

    private static void refused(Heap h, long live, String what, Supplier<Object> call) {
        Throwable t = catchThrowable(call::get);
        assertThat(t).as(what).isInstanceOf(HeapExhaustedException.class);
        assertThat(((HeapExhaustedException) t).requested()).isEqualTo(1L << 30);
        Matcher m = FIGURES.matcher(t.getMessage());
        assertThat(m.find()).as("figures in %s", t.getMessage()).isTrue();
        long committed = Long.parseLong(m.group(1));
        assertThat(Long.parseLong(m.group(2))).as("live bytes quoted by the refused %s: %s", what, t.getMessage())
                .isEqualTo(live);
        // As stats() counts them: committed less live less what is neither (CHECKED's red zones, page rounding)
        assertThat(Long.parseLong(m.group(3))).as("free bytes quoted by the refused %s", what)
                .isEqualTo(h.stats().freeBytes()).isLessThanOrEqualTo(Math.max(0, committed - live));
        assertThat(h.stats().liveBytes()).isEqualTo(live);
    }
}
