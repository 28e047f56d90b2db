package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The leak report's estimates under sampling, and its words. Found by a review on 2026-12-06: a block resized in
 * place kept the sampling decision of its first size (a block allocated empty was never seen whatever it grew to, a
 * buffer grown to 16 MiB was recorded one time in nine), entries counted samples where they estimated bytes, a
 * sampled heap with no live sample told the user to turn sampling on, and virtual threads had blank names.
 */
class SiteEstimateTest {
    @Test
    void aBlockGrownInPlaceFromEmptyIsEstimated() {
        try (Heap heap = Heap.builder().trackSites(0.01).reserve(8L << 30).jmx(false).build()) {
            int n = 64;
            long size = 4L << 20; // 4 MiB: sampled with chance 1 - exp(-82) at this rate
            long[] p = new long[n];
            for (int i = 0; i < n; i++) {
                long empty = heap.alignedAlloc(8192, 0); // a page run of 0 bytes
                p[i] = heap.realloc(empty, size);
                assertThat(p[i]).isEqualTo(empty); // grown in place
            }
            LeakReport r = heap.leaks();
            long estimated = r.entries().stream().mapToLong(LeakReport.Entry::estimatedBytes).sum();
            assertThat(r.liveBytes()).isEqualTo(n * size);
            assertThat(estimated).as("256 MiB live in 4 MiB blocks, report: %s", r).isEqualTo(n * size);
            for (long a : p) heap.free(a);
        }
    }

    @Test
    void aBufferGrownByReallocToSixteenMebibytesIsAlmostSurelySampled() {
        try (Heap heap = Heap.builder().trackSites(0.001).reserve(8L << 30).jmx(false).build()) {
            int n = 20;
            long[] p = new long[n];
            for (int i = 0; i < n; i++) { // doubled as a vector is: 16 B ... 16 MiB, in place once a page run
                p[i] = heap.malloc(16);
                for (long size = 32; size <= 16L << 20; size *= 2) p[i] = heap.realloc(p[i], size);
            }
            LeakReport r = heap.leaks();
            long recorded = r.entries().stream().mapToLong(LeakReport.Entry::blocks).sum();
            // 16 MiB at one sample per 512 KiB: chance 1 - exp(-32) for a block of that size
            assertThat(recorded).as("buffers of 16 MiB recorded").isEqualTo(n);
            long estimated = r.entries().stream().mapToLong(LeakReport.Entry::estimatedBytes).sum();
            assertThat(estimated).isEqualTo(r.liveBytes());
            for (long a : p) heap.free(a);
        }
    }

    @Test
    void aBlockShrunkInPlaceStaysSampledWithTheChanceOfItsNewSize() {
        try (Heap heap = Heap.builder().trackSites(0.001).reserve(8L << 30).jmx(false).build()) {
            int n = 2000;
            long[] p = new long[n];
            // 1 MiB (sampled with chance 0.865) shrunk in place to 64 KiB (chance 0.1175): about 235 stay sampled
            for (int i = 0; i < n; i++) p[i] = heap.realloc(heap.malloc(1L << 20), 64 << 10);
            LeakReport r = heap.leaks();
            long recorded = r.entries().stream().mapToLong(LeakReport.Entry::blocks).sum();
            // binomial(2000, 0.1175): mean 235, standard deviation 14.4; 150..320 is six deviations either side
            assertThat(recorded).isBetween(150L, 320L);
            double estimated = r.entries().stream().mapToLong(LeakReport.Entry::estimatedBytes).sum();
            assertThat(estimated).isBetween(0.6 * r.liveBytes(), 1.4 * r.liveBytes());
            for (long a : p) heap.free(a);
        }
    }

    @Test
    void anEntryEstimatesTheBlocksItStandsFor() {
        try (Heap heap = Heap.builder().trackSites(0.01).jmx(false).build()) {
            int n = 1_000_000; // about 312 samples: 30% is over five standard deviations
            long[] p = new long[n];
            for (int i = 0; i < n; i++) p[i] = heap.malloc(16);
            LeakReport r = heap.leaks();
            long blocks = r.entries().stream().mapToLong(LeakReport.Entry::estimatedBlocks).sum();
            long bytes = r.entries().stream().mapToLong(LeakReport.Entry::estimatedBytes).sum();
            assertThat((double) bytes).isBetween(0.7 * 16 * n, 1.3 * 16 * n);
            assertThat((double) blocks).as("entries' estimated blocks, against %d leaked", n)
                    .isBetween(0.7 * n, 1.3 * n);
            assertThat(r.toString()).contains(" block(s), ").contains("bytes in all)");
            for (long a : p) heap.free(a);
        }
    }

    @Test
    void aSampledHeapWithNoLiveSampleDoesNotSaySitesAreOff() {
        try (Heap heap = Heap.builder().trackSites(0.0001).jmx(false).build()) { // one sample per 5 MB
            long p = heap.malloc(16); // sampled with chance 3e-6
            LeakReport r = heap.leaks();
            String text = r.toString();
            if (r.entries().isEmpty()) assertThat(text).contains("no live block has a recorded allocation site");
            heap.free(p);
        }
    }

    @Test
    void aBlockAllocatedByAnUnnamedVirtualThreadNamesItsThread() throws Exception {
        try (Heap heap = Heap.builder().trackSites(1).jmx(false).build()) {
            long[] p = new long[1];
            Thread t = Thread.ofVirtual().start(() -> p[0] = heap.malloc(32));
            t.join();
            String text = heap.leaks().toString();
            assertThat(text).doesNotContain("by thread(s) , e.g.").contains("by thread(s) virtual #" + t.threadId());
            heap.free(p[0]);
        }
    }
}
