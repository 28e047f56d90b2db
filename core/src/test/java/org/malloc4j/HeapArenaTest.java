package org.malloc4j;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.arena.HeapArena;

/** {@code heap.newArena()} and {@code heap.newSharedArena()}: the {@link Arena} contract over heap blocks. */
class HeapArenaTest {
    private Heap heap;

    @BeforeEach
    void open() {
        heap = Heap.builder().name("arenas").build();
    }

    @AfterEach
    void close() {
        heap.close();
    }

    @Test
    void aCheckedArenaFreesEveryBlockWhenOneFreeFindsDamage() {
        // Closing the arena pushes an unrelated damaged block out of quarantine: the free that did it throws, and the
        // arena's other blocks must be freed all the same (the arena is closed: nothing could free them later)
        for (boolean shared : new boolean[] {false, true}) {
            try (Heap h = Heap.builder().mode(HeapMode.CHECKED).quarantine(1024).jmx(false).build()) {
                Arena arena = shared ? h.newSharedArena() : h.newArena();
                for (int i = 0; i < 20; i++) arena.allocate(64);
                long q = h.malloc(64);
                h.free(q);
                MemorySegment.ofAddress(q).reinterpret(64).set(JAVA_LONG, 8, 42L); // a write after free
                assertThatThrownBy(arena::close).isInstanceOf(HeapCorruptionException.class);
                assertThat(h.stats().liveBlocks()).as("shared %s", shared).isZero();
                assertThat(h.stats().liveBytes()).isZero();
            }
        }
    }

    private void assertNothingLive() {
        HeapStats s = heap.stats();
        assertThat(s.liveBytes()).as("liveBytes").isZero();
        assertThat(s.liveBlocks()).as("liveBlocks").isZero();
    }

    /** {@return the arena's live segments (the heap's own statistics count its chunks)} */
    private static int live(Arena arena) {
        return ((HeapArena) arena).liveSegments();
    }

    /** Runs {@code body} on a new platform thread and returns what it threw, or null. */
    private static Throwable onOtherThread(Runnable body) throws InterruptedException {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        t.join();
        return thrown.get();
    }

    // ------------------------------------------------------------------ allocate

    @Test
    void segmentsHaveTheExactSizeTheAlignmentAndTheArenasScope() {
        long[] sizes = {0, 1, 7, 16, 64, 1000, 4096, 40_000, 1 << 20};
        long[] alignments = {1, 2, 8, 16, 32, 64, 256, 4096, 1 << 16};
        try (Arena arena = heap.newArena()) {
            List<MemorySegment> all = new ArrayList<>();
            for (long size : sizes) {
                for (long alignment : alignments) {
                    MemorySegment s = arena.allocate(size, alignment);
                    assertThat(s.byteSize()).isEqualTo(size);
                    assertThat(s.address() % alignment).as("address of %s aligned to %s", size, alignment).isZero();
                    assertThat(s.scope()).isEqualTo(arena.scope());
                    assertThat(s.isNative()).isTrue();
                    s.fill((byte) all.size());
                    all.add(s);
                }
            }
            for (int i = 0; i < all.size(); i++) {
                MemorySegment s = all.get(i);
                for (MemorySegment other : all) {
                    if (other != s) assertThat(s.asOverlappingSlice(other)).isEmpty();
                }
                if (s.byteSize() > 0) {
                    assertThat(s.get(JAVA_BYTE, 0)).isEqualTo((byte) i);
                    assertThat(s.get(JAVA_BYTE, s.byteSize() - 1)).isEqualTo((byte) i);
                }
            }
            assertThat(live(arena)).isEqualTo(all.size());
        }
        assertNothingLive();
    }

    @Test
    void worksAsASegmentAllocator() {
        try (Arena arena = heap.newArena()) {
            MemorySegment text = arena.allocateFrom("heap arena");
            assertThat(text.getString(0)).isEqualTo("heap arena");
            MemorySegment longs = arena.allocate(JAVA_LONG, 100);
            assertThat(longs.byteSize()).isEqualTo(800);
            assertThat(longs.address() % 8).isZero();
            longs.setAtIndex(JAVA_LONG, 99, 42);
            assertThat(longs.getAtIndex(JAVA_LONG, 99)).isEqualTo(42);
        }
        assertNothingLive();
    }

    @Test
    void badArgumentsAreRejectedAndNothingIsAllocated() {
        try (Arena arena = heap.newArena()) {
            assertThatThrownBy(() -> arena.allocate(-1, 8)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("-1");
            assertThatThrownBy(() -> arena.allocate(8, 3)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("3");
            assertThatThrownBy(() -> arena.allocate(Long.MAX_VALUE, 8)).isInstanceOf(HeapExhaustedException.class);
            assertThat(live(arena)).isZero();
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    // ------------------------------------------------------------------ free early, close

    @Test
    void freeEarlyThenCloseFreesTheRest() {
        Arena arena = heap.newArena();
        List<MemorySegment> segments = new ArrayList<>();
        for (int i = 0; i < 100; i++) segments.add(arena.allocate(16 + i * 8L, 8));
        for (int i = 0; i < 100; i += 2) heap.free(segments.get(i));
        assertThat(live(arena)).isEqualTo(50);
        arena.close();
        assertNothingLive();
    }

    @Test
    void closeFreesTenThousandBlocks() {
        SplittableRandom random = new SplittableRandom(6);
        Arena arena = heap.newArena();
        List<MemorySegment> segments = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            MemorySegment s = arena.allocate(random.nextInt(1, 2048), 1L << random.nextInt(0, 7));
            s.set(JAVA_BYTE, 0, (byte) i);
            segments.add(s);
        }
        // Free a third early, in random order: the arena's map shrinks and grows under removals.
        for (int i = 0; i < 3_333; i++) {
            int j = random.nextInt(segments.size());
            heap.free(segments.get(j));
            segments.set(j, segments.getLast());
            segments.removeLast();
        }
        assertThat(live(arena)).isEqualTo(segments.size());
        arena.close();
        assertNothingLive();
        MemorySegment any = segments.getFirst();
        assertThatThrownBy(() -> any.get(JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void accessAllocateAndCloseAfterCloseThrow() {
        Arena arena = heap.newArena();
        MemorySegment s = arena.allocate(64, 16);
        s.set(JAVA_LONG, 0, 7);
        arena.close();
        assertThat(s.scope().isAlive()).isFalse();
        assertThatThrownBy(() -> s.get(JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> s.fill((byte) 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> arena.allocate(8, 8)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Already closed");
        assertThatThrownBy(arena::close).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Already closed");
        assertNothingLive();
    }

    @Test
    void freeingASegmentTwiceAfterCloseOrInsideIsAnInvalidFree() {
        Arena arena = heap.newArena();
        MemorySegment a = arena.allocate(64, 8);
        MemorySegment b = arena.allocate(64, 8);
        heap.free(a);
        HeapStats before = heap.stats();
        assertThatThrownBy(() -> heap.free(a)).isInstanceOf(InvalidFreeException.class)
                .hasMessageContaining("not a live segment");
        assertThatThrownBy(() -> heap.free(b.asSlice(8))).isInstanceOf(InvalidFreeException.class);
        assertThat(Blocks.state(heap.stats())).isEqualTo(Blocks.state(before));
        arena.close();
        assertThatThrownBy(() -> heap.free(b)).isInstanceOf(InvalidFreeException.class)
                .hasMessageContaining("closed");
        assertNothingLive();
    }

    @Test
    void theRawAddressOfAnArenaSegmentIsNotAHeapBlock() {
        try (Arena arena = heap.newArena()) {
            for (long size : new long[] {0, 16, 100, 32 * 1024, 100_000}) {
                MemorySegment s = arena.allocate(size, 16);
                HeapStats before = heap.stats();
                assertThatThrownBy(() -> heap.free(s.address())).isInstanceOf(InvalidFreeException.class)
                        .hasMessageContaining("inside");
                assertThatThrownBy(() -> heap.realloc(s.address(), 8)).isInstanceOf(InvalidFreeException.class);
                assertThatThrownBy(() -> heap.usableSize(s.address())).isInstanceOf(InvalidFreeException.class);
                assertThat(Blocks.state(heap.stats())).isEqualTo(Blocks.state(before));
            }
            MemorySegment aligned = arena.allocate(64, 4096);
            assertThatThrownBy(() -> heap.free(aligned.address())).isInstanceOf(InvalidFreeException.class);
        }
        assertNothingLive();
    }

    @Test
    void plainHeapSegmentsAndOtherHeapsArenasAreToldApart() {
        try (Arena arena = heap.newArena(); Heap other = Heap.create(); Arena otherArena = other.newArena()) {
            MemorySegment plain = heap.allocate(64, 8);
            MemorySegment mine = arena.allocate(64, 8);
            MemorySegment foreign = otherArena.allocate(64, 8);
            assertThatThrownBy(() -> heap.free(foreign)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("not from this heap");
            heap.free(plain);
            heap.free(mine);
            other.free(foreign);
            assertThat(live(arena)).isZero();
            assertThat(live(otherArena)).isZero();
            assertThat(heap.stats().liveBlocks()).as("the arena's one chunk").isEqualTo(1);
            try (Arena jdk = Arena.ofConfined()) {
                MemorySegment notOurs = jdk.allocate(64);
                assertThatThrownBy(() -> heap.free(notOurs)).isInstanceOf(InvalidFreeException.class);
            }
        }
    }

    @Test
    void eachOfManyOpenArenasIsFoundByItsSegments() {
        List<Arena> arenas = new ArrayList<>();
        List<MemorySegment> segments = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            Arena arena = i % 2 == 0 ? heap.newArena() : heap.newSharedArena();
            arenas.add(arena);
            segments.add(arena.allocate(32, 8));
            segments.add(arena.allocate(32, 8));
        }
        for (int i = 0; i < arenas.size(); i += 3) arenas.get(i).close();
        for (int i = 0; i < arenas.size(); i++) {
            MemorySegment s = segments.get(2 * i);
            if (i % 3 == 0) {
                assertThatThrownBy(() -> heap.free(s)).isInstanceOf(InvalidFreeException.class)
                        .hasMessageContaining("closed");
            } else {
                heap.free(s);
            }
        }
        int live = 0;
        for (int i = 0; i < arenas.size(); i++) {
            if (i % 3 != 0) live += live(arenas.get(i));
        }
        assertThat(live).isEqualTo(arenas.size() - (arenas.size() + 2) / 3);
        for (int i = 0; i < arenas.size(); i++) {
            if (i % 3 != 0) arenas.get(i).close();
        }
        assertNothingLive();
    }

    // ------------------------------------------------------------------ carving

    @Test
    void anArenaOfOneSmallSegmentTakesOnePageOfTheHeap() {
        try (Arena arena = heap.newArena()) {
            arena.allocate(16, 8);
            HeapStats s = heap.stats();
            assertThat(s.liveBlocks()).isEqualTo(1);
            assertThat(s.liveBytes()).isEqualTo(4096);
        }
        assertNothingLive();
    }

    @Test
    void aSegmentFreedEarlyIsTheNextOneOfItsSizeClass() {
        try (Arena arena = heap.newArena()) {
            MemorySegment a = arena.allocate(64, 16);
            MemorySegment b = arena.allocate(64, 16);
            assertThat(b.address()).isEqualTo(a.address() + 64);
            heap.free(b); // the last one carved: the pointer goes back
            assertThat(arena.allocate(64, 16).address()).isEqualTo(b.address());
            heap.free(a); // not the last one: onto its class's stack
            MemorySegment c = arena.allocate(50, 8); // 50 bytes round up to the 64-byte class
            assertThat(c.address()).isEqualTo(a.address());
            assertThat(c.byteSize()).isEqualTo(50);
            assertThat(arena.allocate(64, 16).address()).as("a fresh one: the stack is empty")
                    .isEqualTo(b.address() + 64);
            assertThat(live(arena)).isEqualTo(3);
        }
        assertNothingLive();
    }

    @Test
    void aFreedSegmentIsNotReusedForAnAlignmentItDoesNotHave() {
        try (Arena arena = heap.newArena()) {
            arena.allocate(16, 16);
            MemorySegment odd = arena.allocate(128, 16); // 32 bytes into its chunk: not aligned to 256
            arena.allocate(16, 16);
            heap.free(odd);
            MemorySegment aligned = arena.allocate(128, 256);
            assertThat(aligned.address() % 256).isZero();
            assertThat(odd.address() % 256).isNotZero();
            assertThat(aligned.address()).isNotEqualTo(odd.address());
            assertThat(arena.allocate(128, 16).address()).as("still there for a request it suits")
                    .isEqualTo(odd.address());
        }
        assertNothingLive();
    }

    @Test
    void insideACarvedSegmentOrAfterTheLastOneIsAnInvalidFree() {
        try (Arena arena = heap.newArena()) {
            MemorySegment s = arena.allocate(256, 16);
            MemorySegment after = arena.allocate(16, 16);
            heap.free(after);
            HeapStats before = heap.stats();
            for (long offset : new long[] {1, 15, 16, 128, 240}) {
                assertThatThrownBy(() -> heap.free(s.asSlice(offset))).as("offset %s", offset)
                        .isInstanceOf(InvalidFreeException.class).hasMessageContaining("not a live segment");
            }
            assertThatThrownBy(() -> heap.free(after)).as("past the last carved segment")
                    .isInstanceOf(InvalidFreeException.class);
            assertThat(Blocks.state(heap.stats())).isEqualTo(Blocks.state(before));
            assertThat(live(arena)).isEqualTo(1);
            heap.free(s);
            assertThat(live(arena)).isZero();
        }
        assertNothingLive();
    }

    @Test
    void churnInALongLivedArenaReusesItsMemory() {
        SplittableRandom random = new SplittableRandom(11);
        try (Arena arena = heap.newArena()) {
            MemorySegment[] held = new MemorySegment[200];
            for (int i = 0; i < 200_000; i++) {
                int j = random.nextInt(held.length);
                if (held[j] != null) {
                    assertThat(held[j].get(JAVA_BYTE, held[j].byteSize() - 1)).isEqualTo((byte) j);
                    heap.free(held[j]);
                }
                held[j] = arena.allocate(random.nextInt(1, 4097), 1L << random.nextInt(0, 5));
                held[j].fill((byte) j);
            }
            // 200,000 segments of 2 KiB on average, 400 MB carved without reuse; at most 200 live at a time.
            assertThat(heap.stats().liveBytes()).as("the arena's chunks").isLessThan(4L << 20);
            assertThat(live(arena)).isEqualTo(held.length);
        }
        assertNothingLive();
    }

    @Test
    void aCheckedHeapGivesEveryArenaSegmentABlockOfItsOwn() {
        try (Heap checked = Heap.builder().mode(HeapMode.CHECKED).build(); Arena arena = checked.newArena()) {
            arena.allocate(16, 8);
            arena.allocate(100, 8);
            assertThat(checked.stats().liveBlocks()).isEqualTo(2);
        }
    }

    // ------------------------------------------------------------------ threads

    @Test
    void aConfinedArenaBelongsToItsThread() throws InterruptedException {
        Arena arena = heap.newArena();
        MemorySegment s = arena.allocate(64, 8);
        assertThat(onOtherThread(() -> arena.allocate(8, 8))).isInstanceOf(WrongThreadException.class);
        assertThat(onOtherThread(() -> heap.free(s))).isInstanceOf(WrongThreadException.class);
        assertThat(onOtherThread(arena::close)).isInstanceOf(WrongThreadException.class);
        assertThat(onOtherThread(() -> s.get(JAVA_BYTE, 0))).isInstanceOf(WrongThreadException.class);
        assertThat(live(arena)).isEqualTo(1);
        s.set(JAVA_BYTE, 0, (byte) 1);
        arena.close();
        assertNothingLive();
    }

    @Test
    void aSharedArenaIsUsedByManyThreadsAndClosedByAnother() throws Exception {
        int threads = 4;
        int perThread = 2_000;
        Arena arena = heap.newSharedArena();
        CyclicBarrier start = new CyclicBarrier(threads);
        List<CompletableFuture<List<MemorySegment>>> kept = new ArrayList<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            CompletableFuture<List<MemorySegment>> result = new CompletableFuture<>();
            kept.add(result);
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    SplittableRandom random = new SplittableRandom(id);
                    List<MemorySegment> mine = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        MemorySegment s = arena.allocate(random.nextInt(8, 600), 8);
                        s.fill((byte) id);
                        s.set(JAVA_LONG, 0, ((long) id << 32) | i);
                        mine.add(s);
                        if (random.nextInt(3) == 0) heap.free(mine.remove(random.nextInt(mine.size())));
                    }
                    for (MemorySegment s : mine) {
                        long tag = s.get(JAVA_LONG, 0);
                        if ((tag >>> 32) != id) throw new AssertionError("segment overwritten: tag " + tag);
                        for (long b = 8; b < s.byteSize(); b++) {
                            if (s.get(JAVA_BYTE, b) != (byte) id) throw new AssertionError("byte " + b + " changed");
                        }
                    }
                    result.complete(mine);
                } catch (Throwable e) {
                    result.completeExceptionally(e);
                }
            }));
        }
        for (Thread w : workers) w.join();
        List<MemorySegment> all = new ArrayList<>();
        for (CompletableFuture<List<MemorySegment>> f : kept) all.addAll(f.get());
        assertThat(live(arena)).isEqualTo(all.size());
        // Free some of the other threads' segments from here, then close from yet another thread.
        for (int i = 0; i < all.size(); i += 5) heap.free(all.get(i));
        assertThat(onOtherThread(arena::close)).isNull();
        assertNothingLive();
        assertThatThrownBy(() -> all.get(1).get(JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(arena::close).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void threadsFreeingSegmentsOfTheirOwnArenasThroughOneHeapNeverMixThemUp() throws Exception {
        // heap.free(segment) first tries the arena it found last, a field every thread writes: threads that free
        // segments of different arenas in turn make it change on nearly every free.
        int threads = 3;
        Arena shared = heap.newSharedArena();
        CyclicBarrier start = new CyclicBarrier(threads);
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            CompletableFuture<Void> f = new CompletableFuture<>();
            done.add(f);
            Thread.ofPlatform().start(() -> {
                // The future completes after the arena's close has freed its chunks, so that the heap's final
                // account sees them freed (completing it inside the try block let the close race with the check).
                try {
                    runOwnAndSharedArenas(id, shared, start);
                    f.complete(null);
                } catch (Throwable e) {
                    f.completeExceptionally(e);
                }
            });
        }
        for (CompletableFuture<Void> f : done) f.get();
        assertThat(live(shared)).isZero();
        shared.close();
        assertNothingLive();
    }

    /** One thread's part: segments of its own arena and of the shared one, freed through the heap in turn. */
    private void runOwnAndSharedArenas(int id, Arena shared, CyclicBarrier start) throws Exception {
        try (Arena own = heap.newArena()) {
            start.await();
            MemorySegment[] kept = new MemorySegment[8];
            for (int i = 0; i < 200_000; i++) {
                Arena arena = (i & 3) == 0 ? shared : own;
                int k = i & 7;
                if (kept[k] != null) {
                    if (kept[k].get(JAVA_BYTE, 0) != (byte) id) throw new AssertionError("segment overwritten");
                    heap.free(kept[k]);
                }
                kept[k] = arena.allocate(16 + (i % 200), 8);
                kept[k].set(JAVA_BYTE, 0, (byte) id);
            }
            for (MemorySegment s : kept) heap.free(s);
            if (live(own) != 0) throw new AssertionError("own arena still holds " + live(own));
        }
    }

    @Test
    void aSharedArenaClosedWhileThreadsAllocateLosesNoBlock() throws Exception {
        for (int round = 0; round < 20; round++) {
            Arena arena = heap.newSharedArena();
            CyclicBarrier start = new CyclicBarrier(3);
            List<CompletableFuture<Void>> done = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                CompletableFuture<Void> f = new CompletableFuture<>();
                done.add(f);
                Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                        while (true) arena.allocate(32, 8).fill((byte) 1);
                    } catch (IllegalStateException closed) {
                        f.complete(null); // allocate or fill after close: the expected way out
                    } catch (Throwable e) {
                        f.completeExceptionally(e);
                    }
                });
            }
            start.await();
            arena.close();
            for (CompletableFuture<Void> f : done) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    throw new AssertionError("round " + round, e.getCause());
                }
            }
            assertNothingLive();
        }
    }

    @Test
    void anArenaOfAClosedHeapAllocatesNothing() {
        Heap h = Heap.create();
        Arena confined = h.newArena();
        Arena shared = h.newSharedArena();
        confined.allocate(64, 16); // each arena has a chunk with room left
        shared.allocate(64, 16);
        h.close();
        for (Arena arena : List.of(confined, shared)) {
            for (long size : new long[] {16, 4096, 100_000}) {
                assertThatThrownBy(() -> arena.allocate(size, 16)).as("%s bytes from %s", size, arena)
                        .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
            }
            assertThatCode(arena::close).doesNotThrowAnyException();
        }
    }

    @Test
    void aClosedHeapOpensNoArena() {
        Heap closed = Heap.create();
        closed.close();
        assertThatThrownBy(closed::newArena).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(closed::newSharedArena).isInstanceOf(IllegalStateException.class);
    }
}
