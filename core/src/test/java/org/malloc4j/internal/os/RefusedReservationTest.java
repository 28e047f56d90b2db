package org.malloc4j.internal.os;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A reservation the kernel refuses tells why: {@link Os#reserve} returns minus {@code mmap}'s error number, which the
 * heap's message quotes. It returned 0 before, the errno lost: a heap refused its range said only "cannot reserve",
 * whatever the kernel's reason (the address space, RLIMIT_AS, overcommit accounting).
 */
class RefusedReservationTest {
    private static final int ENOMEM = 12;

    /** 128 PiB: more than a process's address space (128 TiB with 4-level page tables, 64 PiB with 5). */
    @Test
    void aReservationPastTheAddressSpaceReturnsMinusENOMEM() {
        long refused = Os.reserve(1L << 57, 1L << 22);
        assertThat(refused).as("the address space has no room for 128 PiB").isEqualTo(-ENOMEM);
    }
}
