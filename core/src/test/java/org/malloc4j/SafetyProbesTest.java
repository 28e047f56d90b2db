package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * mimalloc-bench's security probes, ported: what each mode does when a program double frees, frees an invalid or
 * unaligned address, writes past the end or before the start of a block, writes after free, reads a fresh block
 * for old data, or asks for an impossible size. The results are tabulated in {@code docs/safety.md}.
 *
 * <p>FAST rejects every invalid and double free with {@link InvalidFreeException} and stays intact; it does not look
 * at memory contents, so overflows, underflows and writes after free go unnoticed ({@link Heap#verify()} is empty,
 * the heap keeps working). CHECKED catches every probe. Probes that write out of bounds in FAST write only into
 * another block of the same test (never outside the reservation, which would crash the JVM).
 */
class SafetyProbesTest {
    private static final MemorySegment ALL = Blocks.ALL;

    private static Heap fast() {
        return Heap.builder().mode(HeapMode.FAST).jmx(false).build();
    }

    private static Heap checked() {
        return Heap.builder().mode(HeapMode.CHECKED).jmx(false).build();
    }

    /** Overwrites the byte at {@code address} with its complement: always a change, whatever was there. */
    private static void flip(long address) {
        ALL.set(ValueLayout.JAVA_BYTE, address, (byte) ~ALL.get(ValueLayout.JAVA_BYTE, address));
    }

    private static void intact(Heap heap) {
        assertThatCode(heap::verify).doesNotThrowAnyException();
        assertThat(heap.verify()).isEmpty();
        HeapErrorTest.assertStillWorks(heap);
    }

    // ------------------------------------------------------------------ double free

    @Test
    void doubleFreeSmallAndLarge() {
        for (Heap heap : List.of(fast(), checked())) {
            try (heap) {
                for (long size : new long[] {24, 1000, 100_000, 40L << 20}) {
                    long p = heap.malloc(size);
                    heap.free(p);
                    HeapStats before = heap.stats();
                    assertThatThrownBy(() -> heap.free(p)).as("%s double free of %d bytes", heap.mode(), size)
                            .isInstanceOf(InvalidFreeException.class)
                            .hasMessageContaining(Blocks.hex(p));
                    assertThat(Blocks.state(heap.stats())).isEqualTo(Blocks.state(before));
                }
                intact(heap);
            }
        }
    }

    /**
     * A delayed double free: free p, then 10,000 malloc/free pairs of other sizes while one block of p's size stays
     * live, then free p again. The test makes reuse impossible (no block of p's class is allocated in between), so
     * the result is deterministic: rejected in both modes. See {@link #delayedDoubleFreeOfAReusedBlock()} for the
     * case where the address was handed out again.
     */
    @Test
    void delayedDoubleFree() {
        for (Heap heap : List.of(fast(), Heap.builder().mode(HeapMode.CHECKED).quarantine(64 << 10).jmx(false).build())) {
            try (heap) {
                long p = heap.malloc(48);
                heap.free(p);
                for (int i = 0; i < 10_000; i++) heap.free(heap.malloc(200 + (i % 7) * 1000));
                assertThatThrownBy(() -> heap.free(p)).as("%s", heap.mode()).isInstanceOf(InvalidFreeException.class);
                intact(heap);
            }
        }
    }

    /**
     * When the freed address has been handed out again, a second free frees the new owner's block, as in a C heap:
     * FAST cannot tell the two apart. CHECKED holds the freed block in quarantine, so the address cannot be reused
     * while it is there and the second free is rejected as a double free.
     */
    @Test
    void delayedDoubleFreeOfAReusedBlock() {
        try (Heap heap = fast()) {
            long p = heap.malloc(48);
            heap.free(p);
            long q = heap.malloc(48); // the same thread's cache hands the slot straight back (the lowest free block of its slab)
            assertThat(q).isEqualTo(p);
            heap.free(p); // "double free": frees q, the new owner's block; nothing can detect it
            assertThat(heap.stats().liveBlocks()).isZero();
            assertThatThrownBy(() -> heap.free(q)).isInstanceOf(InvalidFreeException.class);
            intact(heap);
        }
        try (Heap heap = checked()) {
            long p = heap.malloc(48);
            heap.free(p);
            long q = heap.malloc(48);
            assertThat(q).isNotEqualTo(p); // p is in quarantine
            assertThatThrownBy(() -> heap.free(p)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("double free");
            heap.free(q);
            intact(heap);
        }
    }

    // ------------------------------------------------------------------ invalid and unaligned frees

    @Test
    void invalidFreesNeverAllocatedAndInterior() {
        for (Heap heap : List.of(fast(), checked())) {
            try (heap; Heap other = fast()) {
                long small = heap.malloc(100), large = heap.malloc(200_000);
                long[] bad = {small + 16, small + 48, large + 4096, large + 64, large + 100_000 & ~15L,
                    large + (1L << 30), 0x10, -16, other.malloc(64)};
                for (long a : bad) {
                    HeapStats before = heap.stats();
                    assertThatThrownBy(() -> heap.free(a)).as("%s free(%s)", heap.mode(), Blocks.hex(a))
                            .isInstanceOf(InvalidFreeException.class);
                    assertThat(Blocks.state(heap.stats())).isEqualTo(Blocks.state(before));
                }
                heap.free(small);
                heap.free(large);
                intact(heap);
            }
        }
    }

    @Test
    void unalignedFree() {
        for (Heap heap : List.of(fast(), checked())) {
            try (heap) {
                long p = heap.malloc(100), q = heap.malloc(100_000);
                for (long a : new long[] {p + 1, p + 8, q + 3, q + 4095}) {
                    assertThatThrownBy(() -> heap.free(a)).as("%s free(%s)", heap.mode(), Blocks.hex(a))
                            .isInstanceOf(InvalidFreeException.class);
                }
                heap.free(p);
                heap.free(q);
                intact(heap);
            }
        }
    }

    // ------------------------------------------------------------------ overflow and underflow

    /**
     * FAST: writing past a 64-byte block lands in the next slot, another block of this test. Nothing detects it;
     * the heap's structure is untouched (its metadata is outside the blocks).
     */
    @Test
    void overflowInFastModeGoesUnnoticedButTheHeapStaysIntact() {
        for (int n : new int[] {1, 32}) {
            try (Heap heap = fast()) {
                long a = heap.malloc(64), b = heap.malloc(64);
                assertThat(b).as("adjacent slots").isEqualTo(a + 64);
                for (int i = 0; i < n; i++) flip(a + 64 + i);
                heap.free(a);
                heap.free(b);
                intact(heap);
            }
        }
    }

    @Test
    void underflowInFastModeGoesUnnoticedButTheHeapStaysIntact() {
        for (int n : new int[] {1, 32}) {
            try (Heap heap = fast()) {
                long a = heap.malloc(64), b = heap.malloc(64);
                assertThat(b).isEqualTo(a + 64);
                for (int i = 1; i <= n; i++) flip(b - i);
                heap.free(b);
                heap.free(a);
                intact(heap);
            }
        }
    }

    @Test
    void oneAndThirtyTwoByteOverflowInCheckedMode() {
        for (int n : new int[] {1, 32}) {
            try (Heap heap = checked()) {
                long a = heap.malloc(64), b = heap.malloc(64);
                for (int i = 0; i < n; i++) flip(a + 64 + i);
                List<HeapDamage> found = heap.verify();
                assertThat(found).first().satisfies(d -> {
                    assertThat(d.address()).isEqualTo(a);
                    assertThat(d.kind()).isEqualTo(HeapDamage.Kind.OVERFLOW);
                    assertThat(d.offset()).isEqualTo(64);
                });
                assertThatThrownBy(() -> heap.free(a)).isInstanceOf(HeapCorruptionException.class)
                        .hasMessageContaining("overflow");
                if (n == 32) {
                    // 16 bytes of tail canary, then the next block's header: the victim b is reported too.
                    assertThatThrownBy(() -> heap.free(b)).isInstanceOf(HeapCorruptionException.class)
                            .hasMessageContaining("underflow");
                } else {
                    heap.free(b);
                }
                assertThat(heap.stats().liveBlocks()).isZero();
                intact(heap);
            }
        }
    }

    @Test
    void oneAndThirtyTwoByteUnderflowInCheckedMode() {
        for (int n : new int[] {1, 32}) {
            try (Heap heap = checked()) {
                long a = heap.malloc(64), b = heap.malloc(64);
                for (int i = 1; i <= n; i++) flip(b - i);
                assertThat(heap.verify()).isNotEmpty();
                assertThatThrownBy(() -> heap.free(b)).isInstanceOf(HeapCorruptionException.class)
                        .hasMessageContaining("underflow")
                        .satisfies(e -> assertThat(((HeapCorruptionException) e).damage().address()).isEqualTo(b));
                if (n == 32) {
                    // past the 16-byte header into a's tail canary: a is reported as overflowed
                    assertThatThrownBy(() -> heap.free(a)).isInstanceOf(HeapCorruptionException.class)
                            .hasMessageContaining("overflow");
                } else {
                    heap.free(a);
                }
                intact(heap);
            }
        }
    }

    /**
     * An underflow into an aligned block (alignment above 16) of a CHECKED heap is damage of that block: verify()
     * names the block and its size, and free throws HeapCorruptionException and frees it. (The aligned block's
     * marker, at the start of its front, tells the checked layer where the damaged header belongs.)
     */
    @Test
    void underflowOfAnAlignedBlockInCheckedModeIsReportedAgainstThatBlock() {
        try (Heap heap = checked()) {
            long p = heap.alignedAlloc(64, 100);
            flip(p - 1);
            assertThat(heap.verify()).singleElement().satisfies(d -> {
                assertThat(d.address()).isEqualTo(p);
                assertThat(d.size()).isEqualTo(100);
                assertThat(d.kind()).isEqualTo(HeapDamage.Kind.UNDERFLOW);
            });
            assertThatThrownBy(() -> heap.free(p)).isInstanceOf(HeapCorruptionException.class);
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    /**
     * In a CHECKED heap, an invalid free of an address inside an aligned block's front (for alignment 32: p - 16) is
     * an invalid free, not damage: nothing changes and p stays live.
     */
    @Test
    void invalidFreeInsideAnAlignedBlocksFrontDoesNotFreeIt() {
        try (Heap heap = checked()) {
            long p = heap.alignedAlloc(32, 1000);
            HeapStats before = heap.stats();
            assertThatThrownBy(() -> heap.free(p - 16)).isInstanceOf(InvalidFreeException.class);
            assertThat(Blocks.state(heap.stats())).isEqualTo(Blocks.state(before));
            assertThat(heap.usableSize(p)).isEqualTo(1000);
            heap.free(p);
        }
    }

    /**
     * A CHECKED heap aligns as far as FAST does (half the reservation): above a page, the engine aligns the address
     * one page into the run, so the red zone costs a page, not a whole alignment.
     */
    @Test
    void checkedAlignmentsBeyondAGigabyteWorkAndCostAPage() {
        try (Heap heap = checked()) {
            for (int log = 13; log <= 34; log += 7) {
                long alignment = 1L << log;
                long p = heap.alignedAlloc(alignment, 16);
                assertThat(p % alignment).isZero();
                assertThat(heap.usableSize(p)).isEqualTo(16);
                assertThat(heap.stats().committedBytes()).isLessThan(64L << 10);
                assertThat(heap.verify()).isEmpty();
                heap.free(p);
            }
            assertThat(heap.verify()).isEmpty();
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    // ------------------------------------------------------------------ after free, fresh blocks, sizes

    @Test
    void writeAfterFree() {
        try (Heap heap = fast()) {
            long keep = heap.malloc(64); // keeps the slab (and its memory) in place
            long p = heap.malloc(64);
            heap.free(p);
            flip(p + 8);
            intact(heap);
            heap.free(keep);
        }
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(64 << 10).jmx(false).build()) {
            long p = heap.malloc(64);
            heap.free(p);
            flip(p + 8);
            assertThat(heap.verify()).singleElement().satisfies(d -> {
                assertThat(d.kind()).isEqualTo(HeapDamage.Kind.WRITE_AFTER_FREE);
                assertThat(d.offset()).isEqualTo(8);
            });
            assertThatThrownBy(() -> {
                for (int i = 0; i < 100_000; i++) heap.free(heap.malloc(64));
            }).isInstanceOf(HeapCorruptionException.class).hasMessageContaining("write after free");
            assertThat(heap.verify()).isEmpty();
        }
    }

    /** A fresh block of the size just freed: FAST shows the old data; CHECKED shows junk (0xA5). */
    @Test
    void zeroOnMalloc() {
        try (Heap heap = fast()) {
            long p = heap.malloc(64);
            ALL.asSlice(p, 64).fill((byte) 0x42);
            heap.free(p);
            long q = heap.malloc(64);
            assertThat(q).isEqualTo(p);
            assertThat(ALL.get(ValueLayout.JAVA_BYTE, q + 8)).isEqualTo((byte) 0x42); // old data shows through
            heap.free(q);
        }
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(0).jmx(false).build()) {
            long p = heap.malloc(64);
            ALL.asSlice(p, 64).fill((byte) 0x42);
            heap.free(p);
            long q = heap.malloc(64);
            for (int i = 0; i < 64; i++) assertThat(ALL.get(ValueLayout.JAVA_BYTE, q + i)).isEqualTo((byte) 0xA5);
            heap.free(q);
        }
    }

    @Test
    void impossiblyLargeMalloc() {
        for (Heap heap : List.of(fast(), checked())) {
            try (heap) {
                for (long size : new long[] {Long.MAX_VALUE, 1L << 62, heap.stats().reservedBytes() + 1}) {
                    HeapStats before = heap.stats();
                    assertThatThrownBy(() -> heap.malloc(size)).as("%s malloc(%d)", heap.mode(), size)
                            .isInstanceOf(HeapExhaustedException.class);
                    assertThat(heap.stats().liveBytes()).isEqualTo(before.liveBytes());
                    assertThat(heap.stats().mallocCount()).isEqualTo(before.mallocCount());
                }
                assertThatThrownBy(() -> heap.calloc(1L << 32, 1L << 32)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("overflows");
                intact(heap);
            }
        }
    }
}
