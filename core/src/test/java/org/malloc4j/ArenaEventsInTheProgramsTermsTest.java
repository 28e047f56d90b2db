package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A segment of one of a heap's arenas large enough for a block of its own is told to JFR as the program asked for
 * it, in both modes: its address and size in org.malloc4j.LargeAllocation, the bytes asked for in
 * org.malloc4j.HeapExhausted (as the HeapExhaustedException says). FAST told the engine's block: its start, 16 bytes
 * (or the alignment) before the segment, and the segment's size plus that offset.
 */
class ArenaEventsInTheProgramsTermsTest {

    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void anArenasLargeSegmentAndItsRefusalAreReportedAsAsked(HeapMode mode) throws Exception {
        List<RecordedEvent> seen = new CopyOnWriteArrayList<>();
        String name = "arena-events-" + mode;
        long size = 3L << 20, tooLarge = 16L << 20, address;
        HeapExhaustedException refusal;
        try (RecordingStream rs = new RecordingStream()) {
            rs.setReuse(false); // events are kept past their action: by default the stream reuses one object
            for (String n : new String[] {"org.malloc4j.LargeAllocation", "org.malloc4j.HeapExhausted"}) {
                rs.enable(n);
                rs.onEvent(n, e -> {
                    if (name.equals(e.getString("heap"))) seen.add(e);
                });
            }
            rs.startAsync();
            try (Heap heap = Heap.builder().name(name).mode(mode).limit(8L << 20).largeAllocationEvent(1 << 20)
                    .jmx(false).build(); Arena arena = heap.newArena()) {
                MemorySegment s = arena.allocate(size, 4096);
                address = s.address();
                refusal = (HeapExhaustedException) org.assertj.core.api.Assertions
                        .catchThrowable(() -> arena.allocate(tooLarge));
            }
            assertThat(rs.stop()).isTrue(); // every event recorded before it delivered (a flush callback is not)
        }
        assertThat(refusal).isNotNull();
        assertThat(refusal.requested()).isEqualTo(tooLarge);
        assertThat(seen).filteredOn(e -> e.getEventType().getName().endsWith("LargeAllocation")).singleElement()
                .satisfies(e -> {
                    assertThat(e.getLong("size")).as("size").isEqualTo(size);
                    assertThat(e.getLong("address")).as("address").isEqualTo(address);
                });
        assertThat(seen).filteredOn(e -> e.getEventType().getName().endsWith("HeapExhausted")).singleElement()
                .satisfies(e -> assertThat(e.getLong("request")).as("request").isEqualTo(tooLarge));
        assertThatThrownBy(() -> { throw refusal; }).hasMessageContaining("cannot allocate " + tooLarge + " bytes");
    }
}
