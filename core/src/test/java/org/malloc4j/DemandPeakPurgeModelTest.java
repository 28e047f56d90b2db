package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The demand-peak purge (PageHeap.purgeAtDemandPeak) against a model: a heap with a limit and an hour's decay, so that
 * only allocations purge, climbs in waves, each wave freeing page-run blocks (leaving dirty holes of a few pages) and
 * then growing past its peak with small and medium blocks (slabs from clean pages), callocs and reallocs among them.
 * Some of the freed blocks were mlock()ed first, so that purges of their runs are refused and the runs must stay dirty,
 * in the books. After every wave: every block keeps its bytes, every calloc'd block was zero, the page layer's
 * structure and counters agree with its map (verify()), and the stats hold together (committed within the limit and
 * the peak, retained within committed, live within committed).
 */
class DemandPeakPurgeModelTest {
    private static final long KIB = 1024, MIB = 1024 * KIB;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MLOCK = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("mlock"),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));

    private record Block(long address, long size, long id) {}

    private static MemorySegment seg(long address, long size) {
        return MemorySegment.ofAddress(address).reinterpret(size);
    }

    private static void write(Block b) {
        MemorySegment s = seg(b.address, b.size);
        for (long o = 0; o + 8 <= b.size; o += 8) s.set(ValueLayout.JAVA_LONG_UNALIGNED, o, b.id << 24 | o);
    }

    private static void check(Block b, long upTo) {
        MemorySegment s = seg(b.address, b.size);
        for (long o = 0; o + 8 <= Math.min(b.size, upTo); o += 8) {
            long got = s.get(ValueLayout.JAVA_LONG_UNALIGNED, o);
            if (got != (b.id << 24 | o)) {
                throw new AssertionError("block " + b.id + " at offset " + o + " holds " + Long.toHexString(got));
            }
        }
    }

    private static void assertZero(long address, long size) {
        MemorySegment s = seg(address, size);
        for (long o = 0; o + 8 <= size; o += 8) {
            if (s.get(ValueLayout.JAVA_LONG_UNALIGNED, o) != 0) throw new AssertionError("calloc not zero at " + o);
        }
    }

    private static void checkStats(Heap h, long limit) {
        assertThat(h.verify()).isEmpty(); // the page layer's structure and counters against its map
        HeapStats s = h.stats();
        assertThat(s.committedBytes()).as("committed within the limit (%s)", s).isLessThanOrEqualTo(limit);
        assertThat(s.committedBytes()).as("committed within the peak (%s)", s)
                .isLessThanOrEqualTo(s.peakCommittedBytes());
        assertThat(s.retainedBytes()).as("retained within committed (%s)", s).isLessThanOrEqualTo(s.committedBytes());
        assertThat(s.liveBytes()).as("live within committed (%s)", s).isLessThanOrEqualTo(s.committedBytes());
        assertThat(s.peakCommittedBytes()).as("peak within the limit (%s)", s).isLessThanOrEqualTo(limit);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 6})
    void wavesOfSlabGrowthPastThePeakKeepEveryByte(int seed) throws Throwable {
        Random rnd = new Random(seed);
        long limit = 48 * MIB;
        Heap.Builder builder = Heap.builder().decay(Duration.ofHours(1)).limit(limit).jmx(false);
        if (seed % 2 == 0) builder.releaseThreshold(128 * KIB); // relocate moves grown page runs by their pages
        try (Heap h = builder.build()) {
            List<Block> live = new ArrayList<>();
            long nextId = 1, purgesAtStart = h.stats().purgeCount();
            for (int wave = 0; wave < 12; wave++) {
                // page-run blocks, then free every other one (some mlock()ed first): holes of a few dirty pages
                List<Block> runs = new ArrayList<>();
                for (int i = 0; i < 24; i++) {
                    long size = (20 + rnd.nextInt(60)) * 4 * KIB + rnd.nextInt(4096);
                    long a = tryMalloc(h, size);
                    if (a == 0) break;
                    Block b = new Block(a, size, nextId++);
                    write(b);
                    runs.add(b);
                }
                for (int i = 0; i < runs.size(); i++) {
                    Block b = runs.get(i);
                    if (i % 2 == 0) {
                        check(b, b.size);
                        if (rnd.nextInt(4) == 0) {
                            int ignored = (int) MLOCK.invokeExact(b.address, b.size); // refused: no matter
                        }
                        h.free(b.address);
                    } else {
                        live.add(b);
                    }
                }
                // growth by small and medium blocks, callocs and reallocs among them, until near the limit or done
                int steps = 1500 + rnd.nextInt(1500);
                for (int i = 0; i < steps; i++) {
                    int op = rnd.nextInt(100);
                    if (op < 8 && !live.isEmpty()) {
                        Block b = live.remove(rnd.nextInt(live.size()));
                        check(b, b.size);
                        h.free(b.address);
                    } else if (op < 14 && !live.isEmpty()) {
                        int k = rnd.nextInt(live.size());
                        Block b = live.get(k);
                        check(b, b.size);
                        long size = Math.max(8, b.size + (rnd.nextBoolean() ? 1 : -1) * rnd.nextInt(64 * 1024));
                        long a;
                        try {
                            a = h.realloc(b.address, size);
                        } catch (HeapExhaustedException e) {
                            continue;
                        }
                        Block moved = new Block(a, size, b.id);
                        check(moved, Math.min(b.size, size));
                        write(moved);
                        live.set(k, moved);
                    } else if (op < 24) {
                        long n = 1 + rnd.nextInt(4000);
                        long a;
                        try {
                            a = h.calloc(n, 8);
                        } catch (HeapExhaustedException e) {
                            break;
                        }
                        assertZero(a, n * 8);
                        Block b = new Block(a, n * 8, nextId++);
                        write(b);
                        live.add(b);
                    } else {
                        long size = rnd.nextInt(10) == 0 ? 8 * KIB + rnd.nextInt(40 * 1024) : 16 + rnd.nextInt(2048);
                        long a = tryMalloc(h, size);
                        if (a == 0) break;
                        Block b = new Block(a, size, nextId++);
                        write(b);
                        live.add(b);
                    }
                }
                for (Block b : live) check(b, b.size);
                checkStats(h, limit);
                // keep the heap from filling up: free a random share, so that the next wave climbs past the peak
                if (h.stats().committedBytes() > limit / 2) {
                    for (int i = live.size() - 1; i >= 0; i--) {
                        if (rnd.nextInt(3) == 0) {
                            Block b = live.remove(i);
                            check(b, b.size);
                            h.free(b.address);
                        }
                    }
                    checkStats(h, limit);
                }
            }
            assertThat(h.stats().purgeCount()).as("the waves purged").isGreaterThan(purgesAtStart);
            for (Block b : live) {
                check(b, b.size);
                h.free(b.address);
            }
            checkStats(h, limit);
            assertThat(h.stats().liveBytes()).isZero();
            h.trim();
            checkStats(h, limit);
        }
    }

    private static long tryMalloc(Heap h, long size) {
        try {
            return h.malloc(size);
        } catch (HeapExhaustedException e) {
            return 0;
        }
    }
}
