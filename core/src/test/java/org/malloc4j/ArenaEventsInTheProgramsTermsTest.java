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

    /**
     * The refusals of segments served from the slab layer tell JFR the program's request too: a segment of a medium
     * class's block (its size and the arena's 16-byte offset), one aligned beyond 16 bytes (its alignment as offset),
     * and a small one carved from a chunk (FAST: the chunk's 4 KiB). Before, their HeapExhausted events came from the
     * slab layer with the block's size, while the exceptions said the program's.
     */
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void refusalsServedBySlabsAreReportedAsAsked(HeapMode mode) throws Exception {
        List<RecordedEvent> seen = new CopyOnWriteArrayList<>();
        String name = "arena-slab-events-" + mode;
        long[][] requests = {{200 << 10, 16}, {100, 512}, {100, 16}};
        List<Long> thrown = new CopyOnWriteArrayList<>();
        try (RecordingStream rs = new RecordingStream()) {
            rs.setReuse(false);
            rs.enable("org.malloc4j.HeapExhausted");
            rs.onEvent("org.malloc4j.HeapExhausted", e -> {
                if (name.equals(e.getString("heap"))) seen.add(e);
            });
            rs.startAsync();
            try (Heap heap = Heap.builder().name(name).mode(mode).limit(1).jmx(false).build();
                    Arena arena = heap.newArena()) {
                for (long[] r : requests) {
                    try {
                        arena.allocate(r[0], r[1]);
                    } catch (HeapExhaustedException e) {
                        thrown.add(e.requested());
                    }
                }
            }
            assertThat(rs.stop()).isTrue();
        }
        assertThat(thrown).containsExactly(200L << 10, 100L, 100L);
        assertThat(seen).extracting(e -> e.getLong("request")).as("the events' requests")
                .containsExactly(200L << 10, 100L, 100L);
    }
}
