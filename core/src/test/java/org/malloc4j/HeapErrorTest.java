package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.malloc4j.Blocks.hex;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every error path of the heap: the exception's type, its message (the address in hex and what it is), that the
 * failed call changed nothing (the statistics are equal before and after) and that the heap still works.
 */
class HeapErrorTest {
    private static final long SMALL = 64;
    private static final long MEDIUM = 1L << 20; // below the release threshold: freed pages stay dirty
    private static final long LARGE = 8L << 20; // above it: freed pages go back to the OS at once

    private Heap heap;

    @BeforeEach
    void open() {
        heap = Heap.builder().name("errors").decay(Duration.ofHours(1)).build();
    }

    @AfterEach
    void close() {
        heap.close();
    }

    // ------------------------------------------------------------------ helpers

    /** Runs a call that must fail, then checks that the statistics did not move and that the heap still works. */
    private static <T extends Throwable> T failsLeavingHeapAsItWas(Heap heap, ThrowingCallable call, Class<T> type,
            String... words) {
        HeapStats before = heap.stats();
        AtomicReference<Throwable> caught = new AtomicReference<>();
        assertThatThrownBy(() -> {
            try {
                call.call();
            } catch (Throwable t) {
                caught.set(t);
                throw t;
            }
        }).isInstanceOf(type);
        if (words.length > 0) assertThat(caught.get()).hasMessageContainingAll(words);
        HeapStats after = heap.stats();
        if (HeapExhaustedException.class.isAssignableFrom(type)) {
            // Looking for room may purge free pages (committed bytes fall), but the blocks are as they were.
            assertThat(after.liveBytes()).as("liveBytes after the failed call").isEqualTo(before.liveBytes());
            assertThat(after.mallocCount()).as("mallocCount after the failed call").isEqualTo(before.mallocCount());
            assertThat(after.freeCount()).as("freeCount after the failed call").isEqualTo(before.freeCount());
            assertThat(after.committedBytes()).as("committedBytes after the failed call")
                    .isLessThanOrEqualTo(before.committedBytes());
        } else {
            assertThat(Blocks.state(after)).as("stats after the failed call: %s", after)
                    .isEqualTo(Blocks.state(before));
        }
        assertStillWorks(heap);
        return type.cast(caught.get());
    }

    /** Allocates, writes, checks and frees a few blocks of every kind; live bytes and blocks come back. */
    static void assertStillWorks(Heap heap) {
        HeapStats before = heap.stats();
        long[] sizes = {0, 24, 1000, 40_000, 300_000, 5L << 20};
        long[] blocks = new long[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            blocks[i] = heap.malloc(sizes[i]);
            Blocks.fill(blocks[i], sizes[i], Blocks.patternOf(i + 1));
        }
        for (int i = 0; i < sizes.length; i++) {
            Blocks.check(blocks[i], sizes[i], sizes[i], Blocks.patternOf(i + 1));
            heap.free(blocks[i]);
        }
        HeapStats after = heap.stats();
        assertThat(after.liveBytes()).isEqualTo(before.liveBytes());
        assertThat(after.liveBlocks()).isEqualTo(before.liveBlocks());
    }

    private static void inOtherThread(Runnable r) throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "other");
        t.start();
        t.join();
        if (failure.get() instanceof AssertionError e) throw e;
        if (failure.get() != null) throw new AssertionError("other thread failed", failure.get());
    }

    // ------------------------------------------------------------------ double free

    @Test
    void theLastPageOfAMultiPageBlockIsNotABlockStart() {
        // The last page of a run carries the run's tag as its first does (for coalescing): it must still be refused.
        for (long size : new long[] {MEDIUM, LARGE}) {
            long p = heap.malloc(size);
            long lastPage = p + ((size - 1) & -4096L);
            List<Long> before = Blocks.state(heap.stats());
            assertThatThrownBy(() -> heap.free(lastPage)).isInstanceOf(InvalidFreeException.class);
            assertThatThrownBy(() -> heap.realloc(lastPage, 3359)).isInstanceOf(InvalidFreeException.class);
            assertThatThrownBy(() -> heap.usableSize(lastPage)).isInstanceOf(InvalidFreeException.class);
            assertThat(Blocks.state(heap.stats())).isEqualTo(before);
            heap.free(p);
        }
    }

    @Test
    void doubleFreeOfSmallBlock() {
        long keep = heap.malloc(SMALL); // keeps the slab alive
        long p = heap.malloc(SMALL);
        heap.free(p);
        failsLeavingHeapAsItWas(heap, () -> heap.free(p), InvalidFreeException.class, hex(p), "already freed");
        heap.free(keep);
    }

    @Test
    void doubleFreeOfMediumBlock() {
        long p = heap.malloc(MEDIUM);
        long guard = heap.malloc(MEDIUM);
        heap.free(p);
        InvalidFreeException e = failsLeavingHeapAsItWas(heap, () -> heap.free(p), InvalidFreeException.class,
                hex(p), "already freed");
        assertThat(e.address()).isEqualTo(p);
        heap.free(guard);
    }

    /**
     * A medium block whose one-block slab was on its class's stack (freed before) is handed out again from the stack
     * without becoming the class's current slab; its free and a second free behave as any block's, here and from
     * another thread.
     */
    @Test
    void aMediumBlockFromItsClassStackFreesOnceHereAndElsewhere() throws InterruptedException {
        long medium = 100 << 10;
        long p = heap.malloc(medium);
        heap.free(p); // its slab goes on the class's stack
        long q = heap.malloc(medium);
        assertThat(q).as("the stacked slab, taken back").isEqualTo(p);
        Blocks.ALL.set(java.lang.foreign.ValueLayout.JAVA_LONG, q + medium - 8, q);
        long other = heap.malloc(medium); // the stack is empty: a new slab
        assertThat(other).isNotEqualTo(q);
        heap.free(q);
        // (not failsLeavingHeapAsItWas: its allocations would reorder the class's stack)
        assertThatThrownBy(() -> heap.free(q)).isInstanceOf(InvalidFreeException.class)
                .hasMessageContainingAll(hex(q), "already freed");
        long r = heap.malloc(medium);
        assertThat(r).isEqualTo(q);
        inOtherThread(() -> heap.free(r)); // a remote free: the owner collects it when its class runs dry
        assertThatThrownBy(() -> heap.free(r)).isInstanceOf(InvalidFreeException.class)
                .hasMessageContainingAll(hex(r), "already freed");
        heap.free(other);
        long s = heap.malloc(medium);
        long t = heap.malloc(medium);
        assertThat(java.util.Set.of(s, t)).as("both slabs, back from the stack and the remote free")
                .containsExactlyInAnyOrder(q, other);
        assertThat(heap.stats().liveBytes()).isEqualTo(2 * medium);
        heap.free(s);
        heap.free(t);
        assertStillWorks(heap);
    }

    /**
     * realloc that moves a small block frees the old one through the slab it already found: on another thread's
     * slab that is a remote free, and the old address is then freed, here and there.
     */
    @Test
    void reallocMovingAnotherThreadsBlockFreesItRemotely() throws InterruptedException {
        long p = heap.malloc(100);
        Blocks.ALL.set(java.lang.foreign.ValueLayout.JAVA_LONG, p, 0x1234_5678_9ABCL);
        long[] moved = new long[1];
        inOtherThread(() -> {
            moved[0] = heap.realloc(p, 3000);
            assertThat(moved[0]).isNotEqualTo(p);
            assertThatThrownBy(() -> heap.free(p)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContainingAll(hex(p), "already freed");
        });
        assertThat((long) Blocks.ALL.get(java.lang.foreign.ValueLayout.JAVA_LONG, moved[0]))
                .isEqualTo(0x1234_5678_9ABCL);
        assertThatThrownBy(() -> heap.realloc(p, 50)).isInstanceOf(InvalidFreeException.class)
                .hasMessageContainingAll(hex(p), "already freed");
        assertThat(heap.stats().liveBytes()).isEqualTo(3000);
        long q = heap.realloc(moved[0], 10); // and back on this thread: the other thread's block, moved again
        assertThat((long) Blocks.ALL.get(java.lang.foreign.ValueLayout.JAVA_LONG, q)).isEqualTo(0x1234_5678_9ABCL);
        heap.free(q);
        assertThat(heap.stats().liveBytes()).isZero();
        assertStillWorks(heap);
    }

    @Test
    void doubleFreeOfLargeBlock() {
        long p = heap.malloc(LARGE);
        heap.free(p);
        failsLeavingHeapAsItWas(heap, () -> heap.free(p), InvalidFreeException.class, hex(p), "already freed");
    }

    /**
     * The usual double free: the block's neighbour was freed first, so the two merged into one free run and
     * the block's address is no longer the start of a run. It is still an address that was freed.
     */
    @Test
    void doubleFreeOfMediumBlockAfterItsNeighbourWasFreed() {
        long a = heap.malloc(MEDIUM);
        long b = heap.malloc(MEDIUM);
        long guard = heap.malloc(MEDIUM);
        heap.free(a);
        heap.free(b);
        failsLeavingHeapAsItWas(heap, () -> heap.free(b), InvalidFreeException.class, hex(b), "already freed");
        heap.free(guard);
    }

    @Test
    void doubleFreeOfLargeBlockAfterItsNeighbourWasFreed() {
        long a = heap.malloc(LARGE);
        long b = heap.malloc(LARGE);
        heap.free(a);
        heap.free(b);
        failsLeavingHeapAsItWas(heap, () -> heap.free(b), InvalidFreeException.class, hex(b), "already freed");
    }

    @Test
    void doubleFreeFromAnotherThread() throws InterruptedException {
        long keep = heap.malloc(SMALL);
        long small = heap.malloc(SMALL);
        long medium = heap.malloc(MEDIUM);
        long guard = heap.malloc(MEDIUM);
        heap.free(small);
        heap.free(medium);
        HeapStats before = heap.stats();
        inOtherThread(() -> {
            assertThatThrownBy(() -> heap.free(small)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContainingAll(hex(small), "already freed");
            assertThatThrownBy(() -> heap.free(medium)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContainingAll(hex(medium), "already freed");
        });
        assertThat(Blocks.state(heap.stats())).isEqualTo(Blocks.state(before));
        assertStillWorks(heap);
        heap.free(keep);
        heap.free(guard);
    }

    /** A block freed by another thread (a remote free, not yet collected by its owner), then freed again. */
    @Test
    void doubleFreeOfRemotelyFreedBlock() throws InterruptedException {
        long keep = heap.malloc(SMALL);
        long p = heap.malloc(SMALL);
        inOtherThread(() -> heap.free(p));
        failsLeavingHeapAsItWas(heap, () -> heap.free(p), InvalidFreeException.class, hex(p), "already freed");
        inOtherThread(() -> assertThatThrownBy(() -> heap.free(p)).isInstanceOf(InvalidFreeException.class)
                .hasMessageContainingAll(hex(p), "already freed"));
        assertThat(heap.stats().liveBytes()).isEqualTo(SMALL);
        heap.free(keep);
        assertThat(heap.stats().liveBytes()).isZero();
    }

    // ------------------------------------------------------------------ interior pointers

    @Test
    void freeOfInteriorPointerOfSmallBlock() {
        long p = heap.malloc(SMALL);
        long inside = p + 8;
        failsLeavingHeapAsItWas(heap, () -> heap.free(inside), InvalidFreeException.class, hex(inside),
                "inside the " + SMALL + "-byte block at " + hex(p));
        heap.free(p);
    }

    @Test
    void freeOfInteriorPointerOfMediumBlockInItsFirstPage() {
        long p = heap.malloc(MEDIUM);
        long inside = p + 48;
        failsLeavingHeapAsItWas(heap, () -> heap.free(inside), InvalidFreeException.class, hex(inside),
                "inside the " + MEDIUM + "-byte block at " + hex(p));
        heap.free(p);
    }

    /** An interior pointer far into a block (not in its first page) must be described just the same. */
    @Test
    void freeOfInteriorPointerDeepInsideLargeBlock() {
        long p = heap.malloc(LARGE);
        long inside = p + LARGE / 2 + 16;
        failsLeavingHeapAsItWas(heap, () -> heap.free(inside), InvalidFreeException.class, hex(inside),
                "inside the " + LARGE + "-byte block at " + hex(p));
        heap.free(p);
    }

    @Test
    void freeOfNeverAllocatedAddressInsideTheReservation() {
        long p = heap.malloc(SMALL);
        long never = p + (3L << 30); // 3 GiB on: inside the 64 GiB reservation, never handed out
        InvalidFreeException e = failsLeavingHeapAsItWas(heap, () -> heap.free(never), InvalidFreeException.class,
                hex(never));
        assertThat(e.getMessage()).doesNotContain("not from this heap");
        long unusedSlot = p + SMALL * 7; // a slot of p's slab that was never handed out
        failsLeavingHeapAsItWas(heap, () -> heap.free(unusedSlot), InvalidFreeException.class, hex(unusedSlot));
        heap.free(p);
    }

    // ------------------------------------------------------------------ foreign addresses

    @Test
    void freeOfAnotherHeapsBlock() {
        try (Heap other = Heap.builder().name("other").build()) {
            long small = other.malloc(SMALL);
            long large = other.malloc(LARGE);
            failsLeavingHeapAsItWas(heap, () -> heap.free(small), InvalidFreeException.class, hex(small),
                    "not from this heap");
            failsLeavingHeapAsItWas(heap, () -> heap.free(large), InvalidFreeException.class, hex(large),
                    "not from this heap");
            // The other heap is untouched too.
            other.free(small);
            other.free(large);
            assertThat(other.stats().liveBytes()).isZero();
        }
    }

    @Test
    void freeOfAddressOutsideEveryHeap() {
        long random = 0x10L;
        failsLeavingHeapAsItWas(heap, () -> heap.free(random), InvalidFreeException.class, hex(random),
                "not from this heap");
        long high = 0x7fff_0000_1230L;
        failsLeavingHeapAsItWas(heap, () -> heap.free(high), InvalidFreeException.class, hex(high),
                "not from this heap");
        try (Arena arena = Arena.ofConfined()) {
            long native_ = arena.allocate(64, 16).address();
            failsLeavingHeapAsItWas(heap, () -> heap.free(native_), InvalidFreeException.class, hex(native_),
                    "not from this heap");
        }
    }

    @Test
    void freeOfHeapSegmentOrSliceIsRefused() {
        MemorySegment onJavaHeap = MemorySegment.ofArray(new byte[64]);
        failsLeavingHeapAsItWas(heap, () -> heap.free(onJavaHeap), InvalidFreeException.class);
        MemorySegment s = heap.allocate(256, 16);
        MemorySegment slice = s.asSlice(32);
        failsLeavingHeapAsItWas(heap, () -> heap.free(slice), InvalidFreeException.class, hex(slice.address()),
                "inside the");
        heap.free(s);
        assertThatThrownBy(() -> heap.free((MemorySegment) null)).isInstanceOf(NullPointerException.class);
    }

    // ------------------------------------------------------------------ usableSize and realloc of bad addresses

    @Test
    void usableSizeOfInvalidAddresses() {
        long keep = heap.malloc(SMALL);
        long freedSmall = heap.malloc(SMALL);
        long freedMedium = heap.malloc(MEDIUM);
        long guard = heap.malloc(MEDIUM);
        heap.free(freedSmall);
        heap.free(freedMedium);
        failsLeavingHeapAsItWas(heap, () -> heap.usableSize(freedSmall), InvalidFreeException.class,
                hex(freedSmall), "already freed");
        failsLeavingHeapAsItWas(heap, () -> heap.usableSize(freedMedium), InvalidFreeException.class,
                hex(freedMedium), "already freed");
        failsLeavingHeapAsItWas(heap, () -> heap.usableSize(keep + 16), InvalidFreeException.class,
                hex(keep + 16), "inside the");
        failsLeavingHeapAsItWas(heap, () -> heap.usableSize(guard + 4000), InvalidFreeException.class,
                hex(guard + 4000), "inside the");
        failsLeavingHeapAsItWas(heap, () -> heap.usableSize(0x10), InvalidFreeException.class, "0x10",
                "not from this heap");
        failsLeavingHeapAsItWas(heap, () -> heap.usableSize(0), InvalidFreeException.class);
        heap.free(keep);
        heap.free(guard);
    }

    @Test
    void reallocOfInvalidAddresses() {
        long keep = heap.malloc(SMALL);
        Blocks.fill(keep, SMALL, (byte) 7);
        long freedSmall = heap.malloc(SMALL);
        long freedMedium = heap.malloc(MEDIUM);
        long guard = heap.malloc(MEDIUM);
        heap.free(freedSmall);
        heap.free(freedMedium);
        for (long newSize : new long[] {0, 8, SMALL, 100_000, LARGE}) {
            failsLeavingHeapAsItWas(heap, () -> heap.realloc(freedSmall, newSize), InvalidFreeException.class,
                    hex(freedSmall), "already freed");
            failsLeavingHeapAsItWas(heap, () -> heap.realloc(freedMedium, newSize), InvalidFreeException.class,
                    hex(freedMedium), "already freed");
            failsLeavingHeapAsItWas(heap, () -> heap.realloc(keep + 32, newSize), InvalidFreeException.class,
                    hex(keep + 32), "inside the");
            failsLeavingHeapAsItWas(heap, () -> heap.realloc(guard + 16, newSize), InvalidFreeException.class,
                    hex(guard + 16), "inside the");
            failsLeavingHeapAsItWas(heap, () -> heap.realloc(0x7fff_0000_1230L, newSize),
                    InvalidFreeException.class, "0x7fff00001230", "not from this heap");
        }
        Blocks.check(keep, SMALL, SMALL, (byte) 7);
        heap.free(keep);
        heap.free(guard);
    }

    // ------------------------------------------------------------------ bad sizes and alignments

    @Test
    void negativeSizesAreRefusedNamingTheValue() {
        long p = heap.malloc(SMALL);
        failsLeavingHeapAsItWas(heap, () -> heap.malloc(-1), IllegalArgumentException.class, "-1");
        failsLeavingHeapAsItWas(heap, () -> heap.malloc(Long.MIN_VALUE), IllegalArgumentException.class,
                Long.toString(Long.MIN_VALUE));
        failsLeavingHeapAsItWas(heap, () -> heap.calloc(-2, 8), IllegalArgumentException.class, "-2");
        failsLeavingHeapAsItWas(heap, () -> heap.calloc(8, -3), IllegalArgumentException.class, "-3");
        failsLeavingHeapAsItWas(heap, () -> heap.realloc(p, -4), IllegalArgumentException.class, "-4");
        failsLeavingHeapAsItWas(heap, () -> heap.realloc(0, -4), IllegalArgumentException.class, "-4");
        failsLeavingHeapAsItWas(heap, () -> heap.alignedAlloc(64, -5), IllegalArgumentException.class, "-5");
        failsLeavingHeapAsItWas(heap, () -> heap.alignedAlloc(1L << 20, -5), IllegalArgumentException.class, "-5");
        failsLeavingHeapAsItWas(heap, () -> heap.alignedAlloc(8, -5), IllegalArgumentException.class, "-5");
        failsLeavingHeapAsItWas(heap, () -> heap.allocate(-6, 8), IllegalArgumentException.class, "-6");
        failsLeavingHeapAsItWas(heap, () -> heap.allocate(-6), IllegalArgumentException.class, "-6");
        // The realloc that failed left p as it was.
        assertThat(heap.usableSize(p)).isGreaterThanOrEqualTo(SMALL);
        heap.free(p);
    }

    @Test
    void callocOverflowIsRefused() {
        failsLeavingHeapAsItWas(heap, () -> heap.calloc(Long.MAX_VALUE / 2, 3), IllegalArgumentException.class,
                "overflow");
        failsLeavingHeapAsItWas(heap, () -> heap.calloc(1L << 32, 1L << 32), IllegalArgumentException.class,
                "overflow");
        failsLeavingHeapAsItWas(heap, () -> heap.calloc(Long.MAX_VALUE, Long.MAX_VALUE),
                IllegalArgumentException.class, "overflow");
        failsLeavingHeapAsItWas(heap, () -> heap.calloc(3, Long.MAX_VALUE / 2), IllegalArgumentException.class,
                "overflow");
    }

    @Test
    void nonPowerOfTwoAlignmentsAreRefusedNamingTheValue() {
        for (long a : new long[] {0, -8, 3, 48, 24, (1L << 20) + 16, Long.MIN_VALUE}) {
            failsLeavingHeapAsItWas(heap, () -> heap.alignedAlloc(a, 64), IllegalArgumentException.class,
                    "alignment", Long.toString(a));
            failsLeavingHeapAsItWas(heap, () -> heap.allocate(64, a), IllegalArgumentException.class,
                    "lignment", Long.toString(a));
        }
    }

    // ------------------------------------------------------------------ the limit

    @Test
    void requestBeyondTheLimit() {
        long limit = 64L << 20;
        try (Heap limited = Heap.builder().name("limited").limit(limit).build()) {
            long request = 100L << 20;
            HeapExhaustedException e = failsLeavingHeapAsItWas(limited, () -> limited.malloc(request),
                    HeapExhaustedException.class, Long.toString(request), Long.toString(limit));
            assertThat(e).isInstanceOf(OutOfMemoryError.class);
            assertThat(e.requested()).isEqualTo(request);
            assertThat(e.getMessage()).contains("live", "free", "largest free");
            failsLeavingHeapAsItWas(limited, () -> limited.calloc(request, 1), HeapExhaustedException.class,
                    Long.toString(request), Long.toString(limit));
            failsLeavingHeapAsItWas(limited, () -> limited.alignedAlloc(1L << 20, request),
                    HeapExhaustedException.class, Long.toString(request), Long.toString(limit));
            // Smaller requests still work.
            long m = limited.malloc(1L << 20);
            long s = limited.malloc(SMALL);
            limited.free(m);
            limited.free(s);
            assertThat(limited.stats().committedBytes()).isLessThanOrEqualTo(limit);
        }
    }

    @Test
    void fillingUpToTheLimitThenFreeingMakesRoom() {
        long limit = 64L << 20;
        long block = 1L << 20;
        try (Heap limited = Heap.builder().name("limited").limit(limit).decay(Duration.ofHours(1)).build()) {
            List<Long> blocks = new ArrayList<>();
            HeapExhaustedException failure = null;
            for (int i = 0; i <= limit / block + 1 && failure == null; i++) {
                try {
                    long p = limited.malloc(block);
                    Blocks.fill(p, block, (byte) i);
                    blocks.add(p);
                } catch (HeapExhaustedException e) {
                    failure = e;
                }
            }
            assertThat(failure).as("allocating %d-byte blocks never hit the %d-byte limit", block, limit).isNotNull();
            assertThat(failure.getMessage()).contains(Long.toString(block), Long.toString(limit));
            assertThat(blocks).hasSizeGreaterThanOrEqualTo((int) (limit / block) - 1);
            HeapStats full = limited.stats();
            assertThat(full.committedBytes()).isLessThanOrEqualTo(limit);
            assertThat(full.liveBytes()).isEqualTo(blocks.size() * block);
            // Retrying fails the same way, and changes nothing.
            failsLeavingHeapAsItWasNoWorkCheck(limited, () -> limited.malloc(block));
            // Free one block: the same request fits again, in the freed pages.
            long freed = blocks.remove(blocks.size() / 2);
            limited.free(freed);
            long again = limited.malloc(block);
            blocks.add(again);
            assertThat(limited.stats().committedBytes()).isLessThanOrEqualTo(limit);
            for (int i = 0; i < blocks.size(); i++) limited.free(blocks.get(i));
            assertThat(limited.stats().liveBytes()).isZero();
            assertStillWorks(limited);
        }
    }

    /**
     * A block that can grow in place into the clean pages after it, within the limit once the free pages kept for the
     * decay time are given back, grows: the free pages make room, as they do for a malloc, instead of the realloc
     * falling back to a copy that needs the old block and the new one together and is refused.
     */
    @Test
    void reallocGrowingInPlaceGivesBackFreePagesToFitUnderTheLimit() {
        long MiB = 1L << 20;
        try (Heap limited = Heap.builder().name("limited").limit(64 * MiB).decay(Duration.ofMinutes(10)).build()) {
            long a = limited.malloc(30 * MiB);
            long x = limited.malloc(20 * MiB); // right after a: its pages become a clean run there
            long g = limited.malloc(MiB);
            limited.free(x);
            limited.trim();
            long d = limited.malloc(24 * MiB); // too large for x's place: further on
            limited.free(d); // 24 MiB kept committed for the decay time (under the 32 MiB release threshold)
            assertThat(limited.stats().committedBytes()).isGreaterThanOrEqualTo(55 * MiB);
            long[] grown = new long[1];
            // In place: 51 MiB committed once d's pages are given back; a copy would need 81 MiB
            assertThatCode(() -> grown[0] = limited.realloc(a, 50 * MiB)).doesNotThrowAnyException();
            assertThat(grown[0]).as("grown in place").isEqualTo(a);
            assertThat(limited.stats().committedBytes()).isLessThanOrEqualTo(64 * MiB);
            limited.free(grown[0]);
            limited.free(g);
            assertStillWorks(limited);
        }
    }

    private static void failsLeavingHeapAsItWasNoWorkCheck(Heap heap, ThrowingCallable call) {
        HeapStats before = heap.stats();
        assertThatThrownBy(call).isInstanceOf(HeapExhaustedException.class);
        HeapStats after = heap.stats();
        assertThat(after.liveBytes()).isEqualTo(before.liveBytes());
        assertThat(after.mallocCount()).isEqualTo(before.mallocCount());
        assertThat(after.freeCount()).isEqualTo(before.freeCount());
    }

    @Test
    void failedReallocLeavesTheOldBlockIntact() {
        long limit = 32L << 20;
        try (Heap limited = Heap.builder().name("limited").limit(limit).build()) {
            long p = limited.malloc(3L << 20);
            Blocks.fill(p, 3L << 20, (byte) 0x3c);
            long blocker = limited.malloc(1L << 20); // so that p cannot grow in place
            failsLeavingHeapAsItWas(limited, () -> limited.realloc(p, 40L << 20), HeapExhaustedException.class,
                    Long.toString(40L << 20), Long.toString(limit));
            Blocks.check(p, 3L << 20, 3L << 20, (byte) 0x3c);
            assertThat(limited.usableSize(p)).isGreaterThanOrEqualTo(3L << 20);
            limited.free(p);
            limited.free(blocker);
        }
    }

    @Test
    void requestsBeyondTheReservationOrAddressSpace() {
        failsLeavingHeapAsItWas(heap, () -> heap.malloc(Long.MAX_VALUE), HeapExhaustedException.class,
                Long.toString(Long.MAX_VALUE));
        failsLeavingHeapAsItWas(heap, () -> heap.malloc(1L << 40), HeapExhaustedException.class,
                Long.toString(1L << 40));
        failsLeavingHeapAsItWas(heap, () -> heap.calloc(1L << 20, 1L << 20), HeapExhaustedException.class,
                Long.toString(1L << 40));
        long p = heap.malloc(SMALL);
        failsLeavingHeapAsItWas(heap, () -> heap.realloc(p, 1L << 40), HeapExhaustedException.class,
                Long.toString(1L << 40));
        heap.free(p);
    }

    // ------------------------------------------------------------------ builder

    @Test
    void builderRefusesBadArguments() {
        assertThatThrownBy(() -> Heap.builder().limit(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0");
        assertThatThrownBy(() -> Heap.builder().limit(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
        assertThatThrownBy(() -> Heap.builder().reserve((16L << 20) - 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Long.toString((16L << 20) - 1));
        assertThatThrownBy(() -> Heap.builder().reserve((4L << 40) + 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Long.toString((4L << 40) + 1));
        // 8 TiB and more once overflowed the page count: a JVM crash at 16 TiB, a leaked reservation at 8
        assertThatThrownBy(() -> Heap.builder().reserve(16L << 40)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Heap.builder().reserve(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Heap.builder().decay(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Heap.builder().decay(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Heap.builder().releaseThreshold(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0");
        assertThatThrownBy(() -> Heap.builder().releaseThreshold(-4096))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-4096");
        assertThatThrownBy(() -> Heap.builder().name(null)).isInstanceOf(NullPointerException.class);
        // The bounds themselves are accepted.
        try (Heap smallest = Heap.builder().reserve(16L << 20).limit(1).releaseThreshold(1).decay(Duration.ZERO)
                .name("smallest").build()) {
            assertThat(smallest.name()).isEqualTo("smallest");
            assertThat(smallest.stats().reservedBytes()).isGreaterThanOrEqualTo(16L << 20);
        }
        try (Heap largest = Heap.builder().reserve(4L << 40).jmx(false).build()) {
            assertThat(largest.stats().reservedBytes()).isEqualTo(4L << 40);
            long top = largest.malloc(1L << 30);
            largest.free(largest.malloc(100));
            largest.free(top);
        }
    }

    // ------------------------------------------------------------------ close

    @Test
    void aReallocThatMovesPagesFitsTheLimitWithoutHoldingBothRuns() {
        // 600 MiB grown to 700 MiB under a 1 GiB limit: its pages move (mremap), so committed bytes never hold both
        try (Heap h = Heap.builder().limit(1L << 30).jmx(false).build()) {
            long a = h.malloc(600L << 20);
            long b = h.malloc(1L << 20); // right after it: no growth in place
            Blocks.ALL.set(java.lang.foreign.ValueLayout.JAVA_LONG, a + (300L << 20), 0x1234_5678L);
            long moved = h.realloc(a, 700L << 20);
            assertThat(moved).isNotEqualTo(a);
            assertThat(Blocks.ALL.get(java.lang.foreign.ValueLayout.JAVA_LONG, moved + (300L << 20)))
                    .isEqualTo(0x1234_5678L);
            assertThat(h.stats().peakCommittedBytes()).isLessThanOrEqualTo(1L << 30);
            h.free(moved);
            h.free(b);
        }
    }

    @Test
    void anExhaustionMessageCountsTheBlocksOfThreadsThatEnded() throws Exception {
        try (Heap h = Heap.builder().limit(4L << 20).jmx(false).build()) {
            Thread.ofPlatform().start(() -> h.malloc(3L << 20)).join();
            h.trim(); // the ended thread's cache is retired here; its block stays live
            assertThat(h.stats().liveBytes()).isEqualTo(3L << 20);
            assertThatThrownBy(() -> h.malloc(2L << 20)).isInstanceOf(HeapExhaustedException.class)
                    .hasMessageContaining("live " + (3L << 20) + " bytes");
        }
    }

    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void everyCallAfterCloseThrowsIllegalState(HeapMode mode) {
        // The CHECKED layer reads a block's header before the engine sees the address: on a closed heap, whose range
        // is unmapped, that read crashed the JVM until it checked the heap first.
        Heap h = Heap.builder().name("closing").mode(mode).build();
        long small = h.malloc(SMALL);
        long large = h.malloc(LARGE);
        MemorySegment seg = h.allocate(32, 16);
        MemorySegment carved = h.newArena().allocate(32, 16); // carved from the arena's chunk: no heap block of its own
        h.close();
        if (mode == HeapMode.CHECKED) {
            // A CHECKED segment's scope closes with the heap: its memory is gone
            assertThatThrownBy(() -> seg.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
        }
        List<ThrowingCallable> calls = List.of(
                () -> h.free(0),
                () -> h.free(MemorySegment.NULL),
                () -> h.usableSize(0),
                () -> h.malloc(-1),
                () -> h.calloc(-1, 1),
                () -> h.alignedAlloc(3, 1),
                () -> h.realloc(small, -1),
                () -> h.allocate(-1, 1),
                () -> h.reallocate(seg, 64),
                () -> h.stack(),
                () -> h.malloc(SMALL),
                () -> h.malloc(0),
                () -> h.malloc(LARGE),
                () -> h.calloc(4, 16),
                () -> h.calloc(1, LARGE),
                () -> h.realloc(small, 128),
                () -> h.realloc(0, 128),
                () -> h.realloc(large, 2 * LARGE),
                () -> h.alignedAlloc(64, 64),
                () -> h.alignedAlloc(1L << 20, 64),
                () -> h.free(small),
                () -> h.free(large),
                () -> h.free(seg),
                () -> h.free(carved),
                () -> h.usableSize(small),
                () -> h.usableSize(large),
                () -> h.allocate(16, 16),
                () -> h.allocate(64, 4096),
                () -> h.allocateFrom("hello"),
                () -> h.stats(),
                () -> h.trim());
        for (int i = 0; i < calls.size(); i++) {
            assertThatThrownBy(calls.get(i)).as("call %d after close", i).isInstanceOf(IllegalStateException.class);
        }
        assertThatCode(h::close).as("closing twice").doesNotThrowAnyException();
        assertThat(h.name()).isEqualTo("closing");
        assertThat(h.toString()).contains("closing");
    }

    @Test
    void closingTwiceIsFine() {
        Heap h = Heap.create();
        h.free(h.malloc(100));
        h.close();
        assertThatCode(h::close).doesNotThrowAnyException();
        assertThatCode(h::close).doesNotThrowAnyException();
    }

    @Test
    void closedHeapsBlocksAreNotAnotherHeaps() {
        Heap h = Heap.builder().name("gone").build();
        long p = h.malloc(SMALL);
        h.close();
        failsLeavingHeapAsItWas(heap, () -> heap.free(p), InvalidFreeException.class, hex(p), "not from this heap");
    }

    @Test
    void theGlobalHeapCannotBeClosed() {
        Heap global = Heap.global();
        assertThat(Heap.global()).isSameAs(global);
        long p = global.malloc(100);
        assertThatThrownBy(global::close).isInstanceOf(UnsupportedOperationException.class);
        // Still open and usable.
        Blocks.fill(p, 100, (byte) 1);
        Blocks.check(p, 100, 100, (byte) 1);
        global.free(p);
        assertStillWorks(global);
    }
}
