package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;

/**
 * Many virtual threads on one heap: each mallocs, reallocs and frees a few blocks, hands some to others through a
 * queue, opens stack frames; afterwards every byte is accounted for, the memory goes back, nothing deadlocked.
 */
class VirtualThreadStressTest {
    private static final long KiB = 1024, MiB = 1024 * KiB;

    /** A block handed from one virtual thread to another, with the pattern its first and last 8 bytes hold. */
    private record Handed(long address, long size, long tag) {}

    private static void fill(long address, long size, long tag) {
        MemorySegment s = MemorySegment.ofAddress(address).reinterpret(size);
        s.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, tag);
        s.set(ValueLayout.JAVA_LONG_UNALIGNED, size - 8, ~tag);
    }

    private static void check(long address, long size, long tag) {
        MemorySegment s = MemorySegment.ofAddress(address).reinterpret(size);
        if (s.get(ValueLayout.JAVA_LONG_UNALIGNED, 0) != tag || s.get(ValueLayout.JAVA_LONG_UNALIGNED, size - 8) != ~tag) {
            throw new AssertionError("block " + Long.toHexString(address) + " of " + size + " bytes overwritten");
        }
    }

    private static long size(ThreadLocalRandom r) {
        int k = r.nextInt(100);
        if (k < 70) return 16 + r.nextInt(1024);
        if (k < 95) return 1024 + r.nextInt(30 * 1024);
        if (k < 99) return 64 * KiB + r.nextInt(128 * 1024);
        return 300 * KiB + r.nextInt(300 * 1024); // a page run
    }

    /** One task: a few mallocs, a realloc, frees of its own and of blocks others handed over, a stack frame. */
    private static void task(Heap heap, ConcurrentLinkedQueue<Handed> queue, long id) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        List<Handed> mine = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            long size = size(r);
            long p = heap.malloc(size);
            long tag = id * 31 + i;
            fill(p, size, tag);
            mine.add(new Handed(p, size, tag));
        }
        Handed first = mine.getFirst();
        long grown = first.size + 1 + r.nextInt(4096);
        long q = heap.realloc(first.address, grown);
        check(q, first.size, first.tag); // the old bytes moved with it (first 8 at least)
        fill(q, grown, first.tag);
        mine.set(0, new Handed(q, grown, first.tag));
        if ((id & 3) == 0) {
            try (StackFrame frame = heap.stack().push()) {
                MemorySegment a = frame.allocate(ValueLayout.JAVA_LONG, 100);
                a.setAtIndex(ValueLayout.JAVA_LONG, 99, id);
                try (StackFrame inner = heap.stack().push()) {
                    inner.allocate(1000).fill((byte) 1);
                }
                if (a.getAtIndex(ValueLayout.JAVA_LONG, 99) != id) throw new AssertionError("stack frame overwritten");
            }
        }
        for (Handed h : mine) {
            if (r.nextInt(3) == 0) {
                queue.add(h);
            } else {
                check(h.address, h.size, h.tag);
                heap.free(h.address);
            }
        }
        for (int i = 0; i < 2; i++) {
            Handed h = queue.poll();
            if (h == null) break;
            check(h.address, h.size, h.tag);
            heap.free(h.address);
        }
    }

    private static void runAll(Heap heap, int tasks, ConcurrentLinkedQueue<Handed> queue) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        try {
            for (int i = 0; i < tasks; i++) {
                long id = i;
                executor.execute(() -> {
                    try {
                        task(heap, queue, id);
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                });
            }
        } finally {
            executor.shutdown();
        }
        boolean done = executor.awaitTermination(60, TimeUnit.SECONDS);
        if (!done) {
            executor.shutdownNow();
            throw new AssertionError("virtual threads still running after 60 s: a deadlock?");
        }
        if (failure.get() != null) throw new AssertionError("a task failed", failure.get());
        for (Handed h; (h = queue.poll()) != null; ) {
            check(h.address, h.size, h.tag);
            heap.free(h.address);
        }
    }

    /** @return the stacks' blocks the heap holds (in use or pooled): counted live, as the heap's own */
    private static long stackBlocks(Heap heap) throws ReflectiveOperationException {
        var stacks = (org.malloc4j.internal.stack.StackRegistry) Internals.field(heap, Heap.class, "stacks");
        return stacks.liveStacks();
    }

    /** Every block of the program's is freed: what is live is the stacks' blocks, and nothing else. */
    private static void assertOnlyStacksLive(Heap heap) throws ReflectiveOperationException {
        HeapStats s = heap.stats();
        long stacks = stackBlocks(heap);
        assertThat(s.liveBytes()).as("%s", s).isEqualTo(stacks * (HeapStack.DEFAULT_SIZE + 16));
        assertThat(s.mallocCount() - s.freeCount()).as("%s", s).isEqualTo(stacks);
    }

    @Test
    void twentyThousandVirtualThreadsLeaveNothingBehind() throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ZERO).jmx(false).failOnLeak(true).build()) {
            runAll(heap, 20_000, new ConcurrentLinkedQueue<>());
            assertOnlyStacksLive(heap);
            HeapStats s = heap.stats();
            assertThat(s.threadCaches()).as("caches: stripes and this thread's").isLessThanOrEqualTo(64 + 2);
            heap.trim();
            assertOnlyStacksLive(heap);
            HeapStats t = heap.stats();
            // The stacks' pooled blocks (64 KiB each) are the heap's own; beyond them, next to nothing stays
            assertThat(t.committedBytes()).as("%s", t).isLessThan(4 * MiB);
        }
    }

    @Test
    void tenThousandVirtualThreadsInCheckedModeVerifyClean() throws Exception {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).decay(Duration.ZERO).jmx(false).failOnLeak(true)
                .build()) {
            runAll(heap, 10_000, new ConcurrentLinkedQueue<>());
            assertThat(heap.verify()).isEmpty();
            assertOnlyStacksLive(heap);
            heap.trim();
            assertThat(heap.verify()).isEmpty();
            assertOnlyStacksLive(heap);
            HeapStats t = heap.stats();
            assertThat(t.committedBytes()).as("%s", t).isLessThan(4 * MiB);
        }
    }

    @Test
    void noVirtualThreadIsPinnedInTheHeap() throws Exception {
        List<String> pinned = new ArrayList<>();
        try (RecordingStream rs = new RecordingStream();
                Heap heap = Heap.builder().decay(Duration.ZERO).jmx(false).build()) {
            rs.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO).withStackTrace();
            rs.onEvent("jdk.VirtualThreadPinned", e -> {
                String where = ours(e);
                if (where != null) {
                    synchronized (pinned) {
                        pinned.add(where);
                    }
                }
            });
            rs.startAsync();
            runAll(heap, 20_000, new ConcurrentLinkedQueue<>());
            rs.stop(); // flushes every event recorded so far to the handlers
            assertOnlyStacksLive(heap);
        }
        assertThat(pinned).isEmpty();
    }

    /** @return the first frame of the heap's in a pinning event's stack, or null */
    private static String ours(RecordedEvent e) {
        if (e.getStackTrace() == null) return null;
        for (RecordedFrame f : e.getStackTrace().getFrames()) {
            String type = f.getMethod().getType().getName();
            if (type.startsWith("org.malloc4j.")) return type + "." + f.getMethod().getName() + " line " + f.getLineNumber();
        }
        return null;
    }

    @Test
    void interruptedVirtualThreadsAllocateAndKeepTheirInterrupt() throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ZERO).jmx(false).build()) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
            try {
                for (int i = 0; i < 10_000; i++) {
                    executor.execute(() -> {
                        try {
                            Thread.currentThread().interrupt();
                            long a = heap.malloc(48), b = heap.malloc(5000);
                            heap.free(a);
                            try (StackFrame f = heap.stack().push()) {
                                f.allocate(64);
                            }
                            heap.free(b);
                            if (!Thread.currentThread().isInterrupted()) throw new AssertionError("interrupt lost");
                        } catch (Throwable t) {
                            failure.compareAndSet(null, t);
                        }
                    });
                }
            } finally {
                executor.shutdown();
            }
            assertThat(executor.awaitTermination(60, TimeUnit.SECONDS)).as("all ended").isTrue();
            if (failure.get() != null) throw new AssertionError(failure.get());
            assertOnlyStacksLive(heap);
        }
    }
}
