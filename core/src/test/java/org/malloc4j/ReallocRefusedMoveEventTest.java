package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A realloc whose move to a smaller class is refused resizes the block in place and succeeds
 * (ShrinkingReallocUnderTheLimitTest): the program was refused nothing, so JFR is told of no exhaustion. Until
 * 2026-12-07 the engine's refusal of the move emitted org.malloc4j.HeapExhausted all the same. A growth that must
 * move and is refused is still reported, once.
 */
class ReallocRefusedMoveEventTest {
    private static final long LIMIT = 4L << 20;

    @ParameterizedTest(name = "{0}: {1} (aligned to {2}) -> {3}")
    @MethodSource("org.malloc4j.ShrinkingReallocUnderTheLimitTest#refusableMoves")
    void aRefusedMoveThatStaysInPlaceIsNoExhaustion(String what, long size, long alignment, long newSize)
            throws Exception {
        String name = "realloc-quiet-" + size + "-" + newSize;
        Path file = Files.createTempFile("malloc4j-realloc", ".jfr");
        try (Heap h = Heap.builder().name(name).limit(LIMIT).decay(Duration.ofHours(1)).spareBytes(0).jmx(false)
                .build()) {
            long p = alignment <= 16 ? h.malloc(size) : h.alignedAlloc(alignment, size);
            List<Long> filler = ShrinkingReallocUnderTheLimitTest.fillToTheLimit(h);
            long q;
            try (Recording r = new Recording()) {
                r.enable("org.malloc4j.HeapExhausted");
                r.start();
                try {
                    q = h.realloc(p, newSize);
                } catch (HeapExhaustedException e) { // an Error: caught here, or it would end the test JVM
                    throw new AssertionError(what + ": refused, " + e.getMessage(), e);
                }
                HeapExhaustedException refused = null;
                try {
                    h.realloc(q, LIMIT); // must move, and cannot: reported
                } catch (HeapExhaustedException e) {
                    refused = e;
                }
                assertThat(refused).as(what).isNotNull();
                r.stop();
                r.dump(file);
            }
            assertThat(q).as(what).isEqualTo(p);
            assertThat(RecordingFile.readAllEvents(file)).as(what)
                    .filteredOn(e -> e.getEventType().getName().equals("org.malloc4j.HeapExhausted")
                            && name.equals(e.getString("heap")))
                    .extracting(e -> e.getLong("request")).containsExactly(LIMIT);
            h.free(q);
            for (long b : filler) h.free(b);
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
