package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.malloc4j.internal.small.SizeClasses;

/**
 * Small and medium blocks across threads, one operation at a time (each runs on a worker thread while the test waits
 * for it: no timing): mallocs of every class and its boundaries, aligned ones, frees by the owner or another thread,
 * reallocs, trims and thread deaths (their caches adopted with slabs in every state). After every step live blocks
 * never overlap (their usable sizes included) and the figures match the model; at the end, every block freed, every
 * worker dead and the heap trimmed, nothing stays committed.
 */
class ThreadedCacheModelProperties {

    static final class Worker {
        final LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
        final boolean virtual;
        final Thread thread;

        Worker() {
            this(false);
        }

        Worker(boolean virtual) {
            this.virtual = virtual;
            this.thread = (virtual ? Thread.ofVirtual() : Thread.ofPlatform()).unstarted(this::loop);
            thread.start();
        }

        private void loop() {
            try {
                while (true) {
                    Runnable r = queue.take();
                    if (r == STOP) return;
                    r.run();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        static final Runnable STOP = () -> {};

        <T> T call(Supplier<T> s) {
            CompletableFuture<T> f = new CompletableFuture<>();
            queue.add(() -> {
                try {
                    f.complete(s.get());
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
            });
            try {
                return f.get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) throw r;
                if (e.getCause() instanceof Error r) throw r;
                throw new AssertionError(e.getCause());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }

        void stop() {
            queue.add(STOP);
            try {
                thread.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    record Block(long address, long size, long usable, byte fill) {}

    @Property(tries = 60)
    void threadsAgreeWithTheModel(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long seed) {
        long[] budgets = {0, 64 << 10, 300 << 10, 512 << 10};
        run(seed, budgets[(int) (seed & 3)], 300);
    }

    static void run(long seed, long budget, int steps) {
        SplittableRandom random = new SplittableRandom(seed);
        Duration decay = random.nextBoolean() ? Duration.ZERO : Duration.ofHours(1);
        try (Heap heap = Heap.builder().decay(decay).spareBytes(budget).jmx(false).build()) {
            Worker[] workers = {new Worker(), new Worker(), new Worker(), new Worker(true), new Worker(true)};
            int[] classes = new int[4];
            for (int i = 0; i < classes.length; i++) classes[i] = random.nextInt(SizeClasses.COUNT);
            TreeMap<Long, Block> live = new TreeMap<>();
            List<Long> order = new ArrayList<>();
            long[] totals = new long[3]; // live bytes, mallocs, frees
            List<String> log = new ArrayList<>();
            int fills = 1;
            try {
                for (int step = 0; step < steps; step++) {
                    int op = random.nextInt(100);
                    int w = random.nextInt(workers.length);
                    Worker worker = workers[w];
                    if (op < 45 && live.size() < 200) {
                        int c = classes[random.nextInt(classes.length)];
                        long hi = SizeClasses.size(c), lo = c == 0 ? 0 : SizeClasses.size(c - 1) + 1;
                        long size = switch (random.nextInt(4)) {
                            case 0 -> hi;
                            case 1 -> lo;
                            case 2 -> Math.min(hi + 1, SizeClasses.MAX_CACHED);
                            default -> random.nextLong(lo, hi + 1);
                        };
                        long alignment = random.nextInt(4) == 0 ? 1L << random.nextInt(5, 13) : 16;
                        long p = worker.call(() -> alignment == 16 ? heap.malloc(size)
                                : heap.alignedAlloc(alignment, size));
                        log.add(w + ": alloc(" + alignment + ", " + size + ") -> " + Long.toHexString(p));
                        long usable = worker.call(() -> heap.usableSize(p));
                        admit(live, p, size, usable, alignment, log);
                        byte fill = Blocks.patternOf(fills++);
                        Blocks.fill(p, size, fill);
                        live.put(p, new Block(p, size, usable, fill));
                        order.add(p);
                        totals[0] += size;
                        totals[1]++;
                    } else if (op < 80 && !order.isEmpty()) {
                        int i = random.nextInt(order.size());
                        Block b = live.remove(order.get(i));
                        order.set(i, order.get(order.size() - 1));
                        order.remove(order.size() - 1);
                        Blocks.check(b.address(), b.size(), b.size(), b.fill());
                        log.add(w + ": free(" + Long.toHexString(b.address()) + ")");
                        worker.call(() -> {
                            heap.free(b.address());
                            return null;
                        });
                        totals[0] -= b.size();
                        totals[2]++;
                    } else if (op < 88 && !order.isEmpty()) {
                        int i = random.nextInt(order.size());
                        Block b = live.remove(order.get(i));
                        int c = classes[random.nextInt(classes.length)];
                        long size = Math.max(1, SizeClasses.size(c) + random.nextInt(-1, 2));
                        log.add(w + ": realloc(" + Long.toHexString(b.address()) + ", " + size + ")");
                        long p = worker.call(() -> heap.realloc(b.address(), size));
                        Blocks.check(p, b.size(), Math.min(b.size(), size), b.fill());
                        if (p != b.address()) {
                            totals[1]++;
                            totals[2]++;
                        }
                        long usable = worker.call(() -> heap.usableSize(p));
                        admit(live, p, size, usable, 16, log);
                        byte fill = Blocks.patternOf(fills++);
                        Blocks.fill(p, size, fill);
                        live.put(p, new Block(p, size, usable, fill));
                        order.set(i, p);
                        totals[0] += size - b.size();
                    } else if (op < 94) {
                        log.add(w + ": trim");
                        worker.call(() -> {
                            heap.trim();
                            return null;
                        });
                    } else {
                        log.add(w + ": dies");
                        worker.stop();
                        workers[w] = new Worker(worker.virtual);
                    }
                    HeapStats s = heap.stats();
                    String at = "seed " + seed + " budget " + budget + " at " + tail(log);
                    assertThat(s.liveBytes()).as("liveBytes, %s", at).isEqualTo(totals[0]);
                    assertThat(s.mallocCount()).as("mallocCount, %s", at).isEqualTo(totals[1]);
                    assertThat(s.freeCount()).as("freeCount, %s", at).isEqualTo(totals[2]);
                }
                for (Block b : live.values()) {
                    Blocks.check(b.address(), b.size(), b.size(), b.fill());
                    heap.free(b.address());
                }
                live.clear();
            } finally {
                for (Worker worker : workers) worker.stop();
            }
            heap.trim();
            HeapStats s = heap.stats();
            String at = "seed " + seed + " budget " + budget + " at " + tail(log);
            assertThat(s.liveBytes()).as(at).isZero();
            assertThat(s.committedBytes()).as("committed after every block was freed, every worker died and the heap "
                    + "was trimmed, %s", at).isZero();
            assertThat(s.metadataBytes()).as("metadata, %s", at).isZero();
        }
    }

    private static void admit(TreeMap<Long, Block> live, long p, long size, long usable, long alignment,
            List<String> log) {
        String what = "block " + Long.toHexString(p) + " of " + size + " bytes, " + tail(log);
        assertThat(p & (Math.max(16, alignment) - 1)).as("alignment of %s", what).isZero();
        assertThat(usable).as("usableSize of %s", what).isGreaterThanOrEqualTo(size);
        if (size <= SizeClasses.MAX_SMALL || alignment == 16 && size <= SizeClasses.MAX_CACHED) {
            assertThat(usable).as("usableSize of %s", what).isLessThanOrEqualTo(SizeClasses.MAX_CACHED);
        }
        var below = live.floorEntry(p);
        if (below != null && below.getKey() + below.getValue().usable() > p) fail(what + " overlaps " + below);
        var above = live.ceilingEntry(p);
        if (above != null && p + usable > above.getKey()) fail(what + " overlaps " + above);
    }

    private static List<String> tail(List<String> log) {
        return log.subList(Math.max(0, log.size() - 25), log.size());
    }
}
