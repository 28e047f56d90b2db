package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * From a review of 2026-12-06: RedZones.beingArmed, which verify() uses to skip a header "half written", looked only at
 * the generation byte of h0 (one more than the one the check word was made for). Any h0 whose byte 6 happens to be that
 * value is taken for a malloc in progress and never reported, whatever its size and alignment fields say: a stray
 * zeroing of h0 (memset of the 8 bytes before the check word) is hidden whenever the header's generation is 255.
 */
class CheckedBeingArmedTest {
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG_UNALIGNED;

    private static MemorySegment word(long address) {
        return MemorySegment.ofAddress(address).reinterpret(8);
    }

    private static int generation(long p) {
        return (int) (word(p - 16).get(L, 0) >>> 48) & 0xFF;
    }

    @Test
    void aZeroedHeaderWordIsReportedWhateverTheGeneration() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(0).jmx(false).build()) {
            long p = heap.malloc(64);
            for (int i = 0; i < 1000 && generation(p) != 255; i++) {
                heap.free(p); // no quarantine: the same address comes back, its generation one more
                long q = heap.malloc(64);
                assumeTrue(q == p, "the engine handed out another address");
            }
            assumeTrue(generation(p) == 255);
            List<HeapDamage> found = verifyWithHeaderZeroed(heap, p); // a stray zeroing of the header word
            heap.free(p);
            assertThat(found).as("h0 zeroed at generation 255").hasSize(1);
            assertThat(found.getFirst().kind()).isEqualTo(HeapDamage.Kind.UNDERFLOW);
        }
    }

    @Test
    void aZeroedHeaderWordIsReportedAtAnotherGeneration() { // control: the same damage, found
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(0).jmx(false).build()) {
            long p = heap.malloc(64);
            assumeTrue(generation(p) != 255);
            List<HeapDamage> found = verifyWithHeaderZeroed(heap, p);
            heap.free(p);
            assertThat(found).hasSize(1);
        }
    }

    /** @return what {@code heap.verify()} reports while the header word of the block at {@code p} is zero */
    private static List<HeapDamage> verifyWithHeaderZeroed(Heap heap, long p) {
        long saved = word(p - 16).get(L, 0);
        word(p - 16).set(L, 0, 0L);
        try {
            return heap.verify();
        } finally {
            word(p - 16).set(L, 0, saved);
        }
    }
}
