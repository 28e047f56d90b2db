package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A realloc that shrinks a large block, or keeps its size, allocates nothing large: FAST resizes the block in place and
 * emits no org.malloc4j.LargeAllocation event. CHECKED, whose realloc always moves a block (so that a stale pointer
 * lands in poison), emitted one for the block it moved to whenever the new size was at the threshold, so the two
 * modes told JFR different stories of the same program. A growth to a large size is still one event in both modes.
 */
class ShrinkingReallocIsNoLargeAllocationTest {

    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void onlyTheMallocAndTheGrowthAreLargeAllocations(HeapMode mode) throws Exception {
        String name = "realloc-large-" + mode;
        Path file = Files.createTempFile("malloc4j-shrink", ".jfr");
        List<RecordedEvent> events;
        long p, q;
        try (Heap h = Heap.builder().name(name).mode(mode).largeAllocationEvent(1 << 20).jmx(false).build();
                Recording r = new Recording()) {
            r.enable("org.malloc4j.LargeAllocation");
            r.start();
            p = h.malloc(3 << 20);
            p = h.realloc(p, 2 << 20); // shrunk, still above the threshold
            p = h.realloc(p, 2 << 20); // the same size
            p = h.realloc(p, (1 << 20) + 1); // shrunk to just above it
            q = h.realloc(p, 5 << 20); // grown: a large allocation
            h.free(q);
            r.stop();
            r.dump(file);
            events = RecordingFile.readAllEvents(file).stream()
                    .filter(e -> e.getEventType().getName().equals("org.malloc4j.LargeAllocation")
                            && name.equals(e.getString("heap")))
                    .toList();
        } finally {
            Files.deleteIfExists(file);
        }
        assertThat(events).as(mode.toString()).extracting(e -> e.getLong("size"))
                .containsExactly(3L << 20, 5L << 20);
        assertThat(events.get(1).getLong("address")).isEqualTo(q);
    }
}
