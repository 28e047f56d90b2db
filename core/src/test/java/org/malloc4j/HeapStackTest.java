package org.malloc4j;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.stack.StackRegistry;
import org.malloc4j.internal.stack.ThreadStack;

/** {@code heap.stack()}: frames, their order, overflow, FFM downcalls, and the stacks of virtual threads. */
class HeapStackTest {
    private static final Linker LINKER = Linker.nativeLinker();

    private Heap heap;

    @BeforeEach
    void open() {
        heap = Heap.builder().name("stacks").build();
    }

    @AfterEach
    void close() {
        heap.close();
    }

    private StackRegistry registry() {
        return ((ThreadStack) heap.stack()).registry();
    }

    private static MethodHandle libc(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor);
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

    // ------------------------------------------------------------------ push, allocate, pop

    @Test
    void framesNestAndPopGivesTheirMemoryBack() {
        HeapStack stack = heap.stack();
        assertThat(heap.stack()).isSameAs(stack);
        assertThat(stack.size()).isEqualTo(HeapStack.DEFAULT_SIZE);
        assertThat(stack.depth()).isZero();
        long firstOuter;
        try (StackFrame outer = stack.push()) {
            assertThat(outer.depth()).isEqualTo(1);
            MemorySegment a = outer.allocate(100, 8);
            firstOuter = a.address();
            a.fill((byte) 1);
            long innerStart;
            try (StackFrame inner = stack.push()) {
                assertThat(inner.depth()).isEqualTo(2);
                assertThat(stack.depth()).isEqualTo(2);
                MemorySegment b = inner.allocate(200, 8);
                innerStart = b.address();
                assertThat(b.address()).isGreaterThanOrEqualTo(a.address() + 100);
                b.fill((byte) 2);
                try (StackFrame third = stack.push()) {
                    third.allocate(1000, 64).fill((byte) 3);
                    assertThat(stack.depth()).isEqualTo(3);
                }
            }
            assertThat(stack.depth()).isEqualTo(1);
            try (StackFrame again = stack.push()) {
                assertThat(again.allocate(200, 8).address()).as("the popped frame's memory is reused")
                        .isEqualTo(innerStart);
            }
            assertThat(a.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 99)).isEqualTo((byte) 1);
        }
        assertThat(stack.depth()).isZero();
        try (StackFrame frame = stack.push()) {
            assertThat(frame.allocate(100, 8).address()).isEqualTo(firstOuter);
        }
    }

    @Test
    void allocationsAreAlignedExactAndDisjoint() {
        SplittableRandom random = new SplittableRandom(1);
        try (StackFrame frame = heap.stack().push()) {
            long end = 0;
            for (int i = 0; i < 200; i++) {
                long alignment = 1L << random.nextInt(0, 9);
                long size = random.nextInt(0, 100);
                MemorySegment s = frame.allocate(size, alignment);
                assertThat(s.byteSize()).isEqualTo(size);
                assertThat(s.address() % alignment).isZero();
                assertThat(s.address()).isGreaterThanOrEqualTo(end);
                end = s.address() + size;
            }
            long raw = frame.allocateAddress(24, 16);
            assertThat(raw % 16).isZero();
            assertThat(raw).isGreaterThanOrEqualTo(end);
        }
    }

    @Test
    void aFramesFirstSegmentIsNoHeapBlockAndHeapFreeRejectsIt() {
        for (HeapMode mode : HeapMode.values()) {
            try (Heap h = Heap.builder().mode(mode).jmx(false).build(); StackFrame frame = h.stack().push()) {
                MemorySegment first = frame.allocate(16);
                HeapStats before = h.stats();
                assertThatThrownBy(() -> h.free(first)).as("%s", mode).isInstanceOf(InvalidFreeException.class);
                assertThatThrownBy(() -> h.free(first.address())).isInstanceOf(InvalidFreeException.class);
                assertThatThrownBy(() -> h.reallocate(first, 64)).isInstanceOf(InvalidFreeException.class);
                assertThat(h.stats().liveBlocks()).isEqualTo(before.liveBlocks());
                assertThat(h.stats().liveBytes()).isEqualTo(before.liveBytes());
            }
        }
    }

    @Test
    void aFrameOpenWhenTheHeapClosesAllocatesNoMore() throws Exception {
        // A virtual thread's borrowed block is out of the registry's reach at close: its frame must still refuse
        java.util.concurrent.CountDownLatch inFrame = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
        AtomicReference<Throwable> virtual = new AtomicReference<>();
        Heap h = Heap.builder().jmx(false).build();
        Thread t = Thread.ofVirtual().start(() -> {
            try (StackFrame frame = h.stack().push()) {
                inFrame.countDown();
                closed.await();
                frame.allocate(64);
            } catch (Throwable e) {
                virtual.set(e);
            }
        });
        inFrame.await();
        StackFrame mine = h.stack().push(); // a platform thread's frame, open across the close too
        h.close();
        closed.countDown();
        t.join();
        assertThat(virtual.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> mine.allocate(8)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void aCheckedHeapClosesWhenFreeingTheStacksFindsDamage() {
        // Freeing the stack's block at close pushes a damaged block out of quarantine: close goes on, gives the
        // memory back, and throws the damage at the end
        Heap h = Heap.builder().mode(HeapMode.CHECKED).quarantine(100_000).jmx(false).build();
        try (StackFrame frame = h.stack().push()) {
            frame.allocate(100);
        }
        long q = h.malloc(64);
        h.free(q);
        MemorySegment.ofAddress(q).reinterpret(64).set(java.lang.foreign.ValueLayout.JAVA_LONG, 8, 42L);
        for (int i = 0; i < 400; i++) h.free(h.malloc(64)); // q is the oldest: the stack's free pushes it out
        assertThatThrownBy(h::close).isInstanceOf(HeapCorruptionException.class)
                .satisfies(e -> assertThat(((HeapCorruptionException) e).damage().address()).isEqualTo(q));
        assertThat(h.toString()).contains("closed");
    }

    @Test
    void theStackIsOneHeapBlockKeptByItsPlatformThread() {
        assertThat(heap.stats().liveBlocks()).isZero();
        try (StackFrame frame = heap.stack().push()) {
            frame.allocate(1000, 8);
        }
        HeapStats s = heap.stats();
        assertThat(s.liveBlocks()).isEqualTo(1);
        assertThat(s.liveBytes()).isEqualTo(HeapStack.DEFAULT_SIZE + 16); // the stack and its 16-byte guard
        for (int i = 0; i < 1000; i++) {
            try (StackFrame frame = heap.stack().push()) {
                frame.allocate(1000, 8);
            }
        }
        assertThat(heap.stats().liveBlocks()).isEqualTo(1);
        assertThat(registry().createdStacks()).isEqualTo(1);
    }

    @Test
    void badArgumentsAreRejected() {
        try (StackFrame frame = heap.stack().push()) {
            assertThatThrownBy(() -> frame.allocate(-1, 8)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("-1");
            assertThatThrownBy(() -> frame.allocate(8, 0)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> frame.allocate(8, 12)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("12");
        }
    }

    // ------------------------------------------------------------------ failures

    @Test
    void overflowNamesTheStackSizeAndTheRequestAndChangesNothing() {
        try (StackFrame frame = heap.stack().push()) {
            long before = frame.allocateAddress(0, 1);
            assertThatThrownBy(() -> frame.allocate(HeapStack.DEFAULT_SIZE + 1, 1))
                    .isInstanceOf(StackExhaustedException.class)
                    .isInstanceOf(OutOfMemoryError.class)
                    .hasMessageContaining("stack of 65536 bytes")
                    .hasMessageContaining("cannot allocate 65537 bytes")
                    .satisfies(e -> {
                        StackExhaustedException x = (StackExhaustedException) e;
                        assertThat(x.stackSize()).isEqualTo(65536);
                        assertThat(x.requested()).isEqualTo(65537);
                    });
            frame.allocate(60_000, 1);
            assertThatThrownBy(() -> frame.allocate(6_000, 8)).isInstanceOf(StackExhaustedException.class)
                    .hasMessageContaining("6000 bytes").hasMessageContaining("60000 bytes");
            assertThatThrownBy(() -> frame.allocate(16, 1L << 40)).isInstanceOf(StackExhaustedException.class);
            assertThat(frame.allocateAddress(0, 1)).as("a failed allocation moves nothing").isEqualTo(before + 60_000);
            frame.allocate(5_000, 1);
        }
    }

    @Test
    void aFramePoppedOutOfOrderNamesBothDepthsAndUnwinds() {
        HeapStack stack = heap.stack();
        StackFrame first = stack.push();
        long start = first.allocateAddress(0, 1);
        StackFrame second = stack.push();
        StackFrame third = stack.push();
        third.allocate(64, 8);
        assertThatThrownBy(second::close).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("depth 2").hasMessageContaining("depth 3");
        assertThat(stack.depth()).as("the frame and those above it are popped").isEqualTo(1);
        assertThatThrownBy(third::close).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("depth 3 is already closed");
        assertThatThrownBy(() -> third.allocate(8, 8)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        StackFrame again = stack.push();
        assertThat(again.depth()).isEqualTo(2);
        assertThatThrownBy(second::close).as("a closed frame never matches a later frame at its depth")
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already closed");
        assertThatThrownBy(() -> first.allocate(8, 8)).as("only the top frame allocates")
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("depth 1")
                .hasMessageContaining("depth 2");
        again.close();
        first.close();
        assertThatThrownBy(first::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("already");
        assertThat(stack.depth()).isZero();
        try (StackFrame f = stack.push()) {
            assertThat(f.allocateAddress(0, 1)).isEqualTo(start);
        }
    }

    @Test
    void aStackBelongsToItsThread() throws InterruptedException {
        HeapStack stack = heap.stack();
        try (StackFrame frame = stack.push()) {
            assertThat(onOtherThread(stack::push)).isInstanceOf(WrongThreadException.class);
            assertThat(onOtherThread(() -> frame.allocate(8, 8))).isInstanceOf(WrongThreadException.class);
            assertThat(onOtherThread(frame::close)).isInstanceOf(WrongThreadException.class);
            assertThat(stack.depth()).isEqualTo(1);
        }
        AtomicReference<HeapStack> theirs = new AtomicReference<>();
        assertThat(onOtherThread(() -> theirs.set(heap.stack()))).isNull();
        assertThat(theirs.get()).isNotSameAs(stack);
    }

    @Test
    void aClosedHeapRefusesPush() {
        Heap other = Heap.create();
        HeapStack stack = other.stack();
        stack.push().close();
        other.close();
        assertThatThrownBy(stack::push).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    // ------------------------------------------------------------------ FFM

    @Test
    void framesServeAllocateFromAndDowncalls() throws Throwable {
        MethodHandle strlen = libc("strlen", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        StructLayout divT = MemoryLayout.structLayout(JAVA_INT.withName("quot"), JAVA_INT.withName("rem"));
        // A function returning a struct by value: the handle takes the SegmentAllocator for the result.
        MethodHandle div = libc("div", FunctionDescriptor.of(divT, JAVA_INT, JAVA_INT));
        try (StackFrame frame = heap.stack().push()) {
            MemorySegment text = frame.allocateFrom("hello, stack");
            assertThat((long) strlen.invokeExact(text)).isEqualTo(12);
            long before = frame.allocateAddress(0, 1);
            MemorySegment result = (MemorySegment) div.invokeExact((SegmentAllocator) frame, 17, 5);
            assertThat(result.get(JAVA_INT, 0)).isEqualTo(3);
            assertThat(result.get(JAVA_INT, 4)).isEqualTo(2);
            assertThat(result.address()).as("the struct was returned into the frame").isBetween(before, before + 64);
        }
    }

    @Test
    void qsortSortsAnArrayInAFrameWithAComparatorStubInAHeapArena() throws Throwable {
        MethodHandle qsort = libc("qsort", FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
        FunctionDescriptor comparator = FunctionDescriptor.of(JAVA_INT, ADDRESS.withTargetLayout(JAVA_INT),
                ADDRESS.withTargetLayout(JAVA_INT));
        MethodHandle compare = MethodHandles.lookup().findStatic(HeapStackTest.class, "compareInts",
                MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class));
        int[] values = new SplittableRandom(3).ints(1000, -10_000, 10_000).toArray();
        try (Arena arena = heap.newArena(); StackFrame frame = heap.stack().push()) {
            MemorySegment stub = LINKER.upcallStub(compare, comparator, arena);
            MemorySegment array = frame.allocateFrom(JAVA_INT, values);
            qsort.invokeExact(array, (long) values.length, JAVA_INT.byteSize(), stub);
            int[] sorted = values.clone();
            Arrays.sort(sorted);
            assertThat(array.toArray(JAVA_INT)).isEqualTo(sorted);
        }
    }

    static int compareInts(MemorySegment a, MemorySegment b) {
        return Integer.compare(a.get(JAVA_INT, 0), b.get(JAVA_INT, 0));
    }

    // ------------------------------------------------------------------ threads and their stacks

    @Test
    void aHundredThousandVirtualThreadsShareAFewStacks() throws Exception {
        StackRegistry registry = registry();
        int threads = 100_000;
        AtomicLong failures = new AtomicLong();
        AtomicReference<Throwable> firstFailure = new AtomicReference<>();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < threads; i++) {
                long id = i;
                executor.execute(() -> {
                    try (StackFrame frame = heap.stack().push()) {
                        MemorySegment a = frame.allocate(16, 8);
                        MemorySegment b = frame.allocate(64, 16);
                        MemorySegment c = frame.allocate(256, 32);
                        a.set(JAVA_LONG, 0, id);
                        b.set(JAVA_LONG, 56, id);
                        c.set(JAVA_LONG, 248, id);
                        // Another thread writing the same stack would show here.
                        if (a.get(JAVA_LONG, 0) != id || b.get(JAVA_LONG, 56) != id || c.get(JAVA_LONG, 248) != id) {
                            failures.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        failures.incrementAndGet();
                        firstFailure.compareAndSet(null, e);
                    }
                    if (heap.stack().depth() != 0) failures.incrementAndGet();
                });
            }
        }
        assertThat(failures.get()).as("failed threads (first failure: %s)", firstFailure.get()).isZero();
        long created = registry.createdStacks();
        System.out.printf("%d virtual threads: %d stack blocks created, %d live, %d idle (pool of %d)%n", threads,
                created, registry.liveStacks(), registry.idleStacks(), registry.poolCapacity());
        // Usually the pool plus a few per carrier (2-16 here), but not a bound the heap can promise: a virtual thread
        // that parks on a lock of the heap while it takes a block frees its carrier for the next thread, which finds
        // the pool empty too (63 once on a loaded machine). One block per thousand threads still shows they share.
        assertThat(created).as("stack blocks created for %d virtual threads", threads)
                .isLessThanOrEqualTo(threads / 1000);
        assertThat(registry.liveStacks()).as("every block is back in the pool or freed")
                .isEqualTo(registry.idleStacks()).isLessThanOrEqualTo(registry.poolCapacity());
        HeapStats s = heap.stats();
        assertThat(s.liveBytes()).as("the heap holds the idle stacks and nothing else")
                .isEqualTo(registry.liveStacks() * registry.blockSize());
        assertThat(s.liveBlocks()).isEqualTo(registry.liveStacks());
    }

    @Test
    void aVirtualThreadGivesItsBlockBackWhenItsOutermostFramePops() throws Exception {
        StackRegistry registry = registry();
        Thread.ofVirtual().start(() -> {
            HeapStack stack = heap.stack();
            try (StackFrame outer = stack.push()) {
                outer.allocate(64, 8);
                try (StackFrame inner = stack.push()) {
                    inner.allocate(64, 8);
                }
                if (registry.idleStacks() != 0) throw new AssertionError("block given back while a frame is open");
            }
        }).join();
        assertThat(registry.createdStacks()).isEqualTo(1);
        assertThat(registry.idleStacks()).isEqualTo(1);
        Thread.ofVirtual().start(() -> heap.stack().push().close()).join();
        assertThat(registry.createdStacks()).as("the next virtual thread reuses the pooled block").isEqualTo(1);
    }

    @Test
    void theStackOfAnEndedPlatformThreadIsReclaimed() throws Exception {
        StackRegistry registry = registry();
        for (int i = 0; i < 5; i++) {
            assertThat(onOtherThread(() -> {
                try (StackFrame frame = heap.stack().push()) {
                    frame.allocate(1000, 8);
                }
            })).isNull();
        }
        assertThat(registry.createdStacks()).as("each new thread took the block of the one before").isEqualTo(1);
        assertThat(heap.stats().liveBlocks()).isEqualTo(1);
    }
}
