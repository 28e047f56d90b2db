package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;

/**
 * Issue #4 tells committed, resident and retained bytes apart, and the periodic JFR statistics event is where a
 * recording sees them over time. It carried committed and retained bytes only: each period it asked the heap for its
 * figures, resident bytes included (a {@code mincore} scan of the committed pages), and dropped that one.
 */
class StatisticsEventCarriesResidentBytesTest {
    private static final int BYTES = 4 << 20;

    @Test
    void thePeriodicEventCarriesTheResidentBytes() throws Exception {
        CompletableFuture<RecordedEvent> seen = new CompletableFuture<>();
        try (RecordingStream rs = new RecordingStream()) {
            rs.setReuse(false);
            rs.enable("org.malloc4j.HeapStatistics").withPeriod(Duration.ofMillis(10));
            rs.onEvent("org.malloc4j.HeapStatistics", e -> {
                if (!e.getString("heap").equals("resident-event") || e.getLong("live") != BYTES) return;
                // The block is being filled while the first events are taken: the one after the fill is awaited
                if (!e.hasField("resident") || e.getLong("resident") >= BYTES) seen.complete(e);
            });
            rs.startAsync();
            try (Heap heap = Heap.builder().name("resident-event").decay(Duration.ofHours(1)).jmx(false).build()) {
                long p = heap.malloc(BYTES);
                Blocks.ALL.asSlice(p, BYTES).fill((byte) 1); // every page touched: resident
                RecordedEvent e = seen.get(30, TimeUnit.SECONDS);
                assertThat(e.hasField("resident")).as("the event has a resident field").isTrue();
                assertThat(e.getLong("resident")).isBetween((long) BYTES, e.getLong("committed"));
                heap.free(p);
            }
        }
    }
}
