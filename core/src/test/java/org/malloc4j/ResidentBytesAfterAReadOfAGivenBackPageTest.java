package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A read of a page the heap gave back (madvise) maps the kernel's shared zero page there, which mincore reports
 * resident. A CHECKED double free reads the freed block's header, so a page given back between two committed runs
 * read as resident, and the heap's resident estimate passed its committed bytes (12,288 for 8,192;
 * HeapStateMachineProperties found it). The clean runs inside a stretch read by one mincore call are not counted.
 */
class ResidentBytesAfterAReadOfAGivenBackPageTest {
    @Test
    void aDoubleFreeOfAGivenBackBlockLeavesResidentBytesWithinCommittedOnes() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).decay(Duration.ZERO).jmx(false).build()) {
            long a = heap.malloc(0), b = heap.malloc(1), c = heap.malloc(17);
            heap.realloc(b, 0); // freed, into quarantine
            heap.trim(); // out of quarantine, its page given back
            HeapStats before = heap.stats();
            assertThat(before.residentBytes()).isLessThanOrEqualTo(before.committedBytes());
            assertThatThrownBy(() -> heap.free(b)).isInstanceOf(InvalidFreeException.class);
            HeapStats after = heap.stats();
            assertThat(after.committedBytes()).isEqualTo(before.committedBytes());
            assertThat(after.residentBytes()).as("resident bytes are committed ones")
                    .isLessThanOrEqualTo(after.committedBytes()).isEqualTo(before.residentBytes());
            heap.free(a);
            heap.free(c);
        }
    }
}
