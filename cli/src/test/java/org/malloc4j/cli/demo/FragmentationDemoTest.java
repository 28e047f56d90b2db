package org.malloc4j.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.malloc4j.Heap;
import org.malloc4j.cli.Main;

class FragmentationDemoTest {
    @Test
    void malloc4jSucceedsWhereTheNaiveHeapFailsWithEnoughMemoryFree() {
        FragmentationDemo.Result r = FragmentationDemo.run(null);
        assertThat(r.malloc4j().largeSucceeded()).isTrue();
        assertThat(r.naive().largeSucceeded()).isFalse();
        assertThat(r.naive().largestFreeExtent()).isLessThan(FragmentationDemo.LARGE);
        assertThat(FragmentationDemo.LARGE).isLessThanOrEqualTo(r.naive().freeBytes());
        // a time per allocation for every step of holes, on both heaps (the figures themselves are not asserted)
        assertThat(r.naive().holes()).hasSize(FragmentationDemo.HOLE_STEPS.length);
        for (int s = 0; s < FragmentationDemo.HOLE_STEPS.length; s++) {
            assertThat(r.naive().holes()[s]).isEqualTo(FragmentationDemo.HOLE_STEPS[s]);
            assertThat(r.naive().nsPerMalloc()[s]).isPositive();
            assertThat(r.malloc4j().nsPerMalloc()[s]).isPositive();
        }
    }

    @Test
    void naiveHeapCoalesces() {
        NaiveFirstFitHeap h = new NaiveFirstFitHeap(1 << 20);
        long a = h.malloc(1000), b = h.malloc(1000), c = h.malloc(1000);
        h.free(a);
        h.free(c);
        h.free(b);
        assertThat(h.freeExtents()).isEqualTo(1);
        assertThat(h.largestFreeExtent()).isEqualTo(1 << 20);
        assertThat(h.malloc(2 << 20)).isEqualTo(-1);
    }

    /**
     * A request near {@code Long.MAX_VALUE} fails: its rounding to 16 bytes overflowed to a negative size that every
     * extent held, so it was given offset 0, the live block already there, and the free bytes grew past the range.
     */
    @Test
    void naiveHeapRefusesARequestLargerThanItsRange() {
        NaiveFirstFitHeap h = new NaiveFirstFitHeap(1 << 20);
        long a = h.malloc(1000);
        h.free(a);
        long b = h.malloc(1000);
        assertThat(h.malloc(Long.MAX_VALUE)).isEqualTo(-1);
        assertThat(h.malloc(Long.MAX_VALUE - 14)).isEqualTo(-1);
        assertThat(h.malloc((1 << 20) + 1)).isEqualTo(-1);
        assertThat(h.freeBytes()).isEqualTo((1 << 20) - 1008);
        assertThat(h.malloc(1000)).isNotEqualTo(b);
    }

    /**
     * A large request the heap refuses is the demo's FAILED, not an error out of the demo: the refusal is a
     * HeapExhaustedException, an OutOfMemoryError, which the demo's catch of RuntimeException let through.
     */
    @Test
    void aRefusedLargeRequestIsReportedAsFailed() {
        try (Heap heap = Heap.builder().limit(FragmentationDemo.HEAP).build()) {
            assertThat(FragmentationDemo.largeRequest(heap, 2 * FragmentationDemo.HEAP)).isFalse();
            assertThat(FragmentationDemo.largeRequest(heap, FragmentationDemo.LARGE)).isTrue();
        }
    }

    @Test
    void commandPrintsAndWritesReport(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("demo.html");
        StringWriter out = new StringWriter();
        int code = Main.execute(new PrintWriter(out), new PrintWriter(new StringWriter()), "demo", "fragmentation",
                "--report", file.toString());
        assertThat(code).isEqualTo(Main.OK);
        assertThat(out.toString()).contains("largest free extent", "succeeded", "FAILED", "virtual",
                "Time per allocation as holes accumulate", "480 holes");
        assertThat(Files.readString(file)).contains("class=\"heapmap\"", "<table class=\"classes\"", "Side by side");
    }
}
