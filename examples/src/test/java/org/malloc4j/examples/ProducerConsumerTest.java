package org.malloc4j.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.malloc4j.Heap;
import org.malloc4j.HeapExhaustedException;
import org.malloc4j.HeapStats;
import org.junit.jupiter.api.Test;

class ProducerConsumerTest {

    @Test
    void everyBlockIsCheckedAndFreedByAnotherThreadAndCommittedStaysBounded() throws InterruptedException {
        try (Heap heap = Heap.create()) {
            ProducerConsumer.Result r = ProducerConsumer.run(heap, 3, 2, 20_000, 256);
            assertThat(r.produced()).isEqualTo(60_000);
            assertThat(r.consumed()).isEqualTo(60_000);
            assertThat(r.corrupt()).isZero();
            HeapStats s = r.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(s.liveBlocks()).isZero();
            assertThat(s.mallocCount()).isEqualTo(60_000);
            assertThat(s.freeCount()).isEqualTo(60_000);
            // 60,000 blocks: 15 in 16 of 16 B..1 KiB, 1 in 16 of 32..64 KiB, about 200 MB in all,
            // through a queue of 256: at most a few hundred blocks alive at once, so committed memory stays a
            // small fraction of what went through.
            assertThat(r.bytesThroughQueue()).isGreaterThan(100L << 20);
            assertThat(s.peakCommittedBytes()).isLessThan(r.bytesThroughQueue() / 10);
        }
    }

    /** The figures main prints are the run's: every block checked and freed, none corrupt, nothing live after. */
    @Test
    void mainRuns() throws Throwable {
        String out = Stdout.of(() -> ProducerConsumer.main(new String[] {"2", "2", "2000"}));
        assertThat(out).contains("2 producers -> 2 consumers: " + Stdout.n(4000) + " blocks made, " + Stdout.n(4000)
                + " checked and freed, 0 corrupt", "at the end: 0 live bytes, 0 live blocks");
    }

    /** A producer that cannot allocate makes run throw, not return a partial result; the blocks made are freed. */
    @Test
    void aProducersHeapExhaustedIsThrownAndTheBlocksMadeAreFreed() {
        // 16 KiB of committed memory: room for small blocks, never for one of 32 to 64 KiB (about one in 16).
        try (Heap heap = Heap.builder().name("producer-consumer-small").limit(16 << 10).jmx(false).build()) {
            assertThatThrownBy(() -> ProducerConsumer.run(heap, 2, 1, 2000, 16))
                    .isInstanceOf(HeapExhaustedException.class)
                    .hasMessageContaining("producer-consumer-small");
            assertThat(heap.stats().liveBlocks()).isZero();
            assertThat(heap.stats().mallocCount()).isEqualTo(heap.stats().freeCount());
        }
    }

    @Test
    void noConsumerIsRefusedInsteadOfWaitingForEver() {
        try (Heap heap = Heap.builder().jmx(false).build()) {
            assertThatThrownBy(() -> ProducerConsumer.run(heap, 1, 0, 2000, 16))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("consumers >= 1");
        }
    }
}
