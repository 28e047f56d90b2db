package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;

/**
 * The fragmentation figures against their definitions (DESIGN.md) and against the heap's own picture of itself, over
 * random sequences of malloc, alignedAlloc, realloc (in place, moving, to 0), free and trim on one thread, under a
 * limit that refuses some requests: {@link HeapModelProperties} checks the counts; this, what {@code stats()} and
 * {@code snapshot()} say about memory. After every step:
 * <ul>
 *   <li>the snapshot's live blocks and requested bytes (per-class figures and page-run blocks) are the stats' and the
 *       model's; its committed runs add up to {@code committedBytes}, its dirty runs to {@code retainedBytes}, the
 *       largest of them is {@code largestFreeBlock};</li>
 *   <li>{@code freeBytes} is committed memory outside live blocks: committed bytes less the live bytes, the page
 *       rounding of page-run blocks (the snapshot's runs show it) and the class rounding of medium blocks (the waste of
 *       the snapshot's medium classes, whose slabs are one block each);</li>
 *   <li>{@code peakLiveBytes} is exactly the model's peak (one thread: a moving realloc never holds both blocks),
 *       peaks never fall, never sit below the current figures, and the ratios stay in [0, 1].</li>
 * </ul>
 */
class StatsAgreeWithSnapshotProperties {

    enum Kind { MALLOC, ALIGNED, REALLOC, FREE, TRIM }

    record Op(Kind kind, long size, int pick) {}

    @Property(tries = 80, shrinking = ShrinkingMode.BOUNDED)
    void statsAgreeWithTheSnapshotAndTheModel(@ForAll("ops") List<Op> ops, @ForAll("decays") Duration decay) {
        try (Heap heap = Heap.builder().limit(32L << 20).decay(decay).build()) {
            List<long[]> live = new ArrayList<>(); // {address, size}
            long liveBytes = 0, modelPeak = 0, lastPeakLive = 0, lastPeakCommitted = 0;
            int step = 0;
            for (Op op : ops) {
                step++;
                try {
                    switch (op.kind()) {
                        case MALLOC -> {
                            live.add(new long[] {heap.malloc(op.size()), op.size()});
                            liveBytes += op.size();
                        }
                        case ALIGNED -> {
                            live.add(new long[] {heap.alignedAlloc(1L << (4 + op.pick() % 17), op.size()), op.size()});
                            liveBytes += op.size();
                        }
                        case REALLOC -> {
                            if (live.isEmpty()) break;
                            long[] b = live.get(op.pick() % live.size());
                            long p = heap.realloc(b[0], op.size());
                            liveBytes += op.size() - b[1];
                            if (p == 0) {
                                live.remove(b);
                            } else {
                                b[0] = p;
                                b[1] = op.size();
                            }
                        }
                        case FREE -> {
                            if (live.isEmpty()) break;
                            long[] b = live.remove(op.pick() % live.size());
                            heap.free(b[0]);
                            liveBytes -= b[1];
                        }
                        case TRIM -> heap.trim();
                    }
                } catch (HeapExhaustedException e) {
                    // refused: nothing changed, the model neither
                }
                modelPeak = Math.max(modelPeak, liveBytes);
                String what = "step " + step + " " + op;
                HeapStats s = heap.stats();
                check(heap, s, what);
                assertThat(s.liveBytes()).as("%s: liveBytes", what).isEqualTo(liveBytes);
                assertThat(s.liveBlocks()).as("%s: liveBlocks", what).isEqualTo(live.size());
                assertThat(s.peakLiveBytes()).as("%s: peakLiveBytes", what).isEqualTo(modelPeak);
                assertThat(s.peakLiveBytes()).as("%s: peakLiveBytes never falls", what)
                        .isGreaterThanOrEqualTo(lastPeakLive);
                assertThat(s.peakCommittedBytes()).as("%s: peakCommittedBytes never falls", what)
                        .isGreaterThanOrEqualTo(lastPeakCommitted);
                lastPeakLive = s.peakLiveBytes();
                lastPeakCommitted = s.peakCommittedBytes();
            }
            for (long[] b : live) heap.free(b[0]);
            heap.trim();
            HeapStats end = heap.stats();
            check(heap, end, "at the end");
            assertThat(List.of(end.liveBytes(), end.committedBytes(), end.freeBytes(), end.retainedBytes()))
                    .as("nothing live, everything given back").containsOnly(0L);
        }
    }

    /** The stats {@code s} against the definitions and against a snapshot taken now. */
    private static void check(Heap heap, HeapStats s, String what) {
        HeapSnapshot snap = heap.snapshot();
        long live = 0, blocks = 0, committed = 0, dirty = 0, largest = 0, rounding = 0, slabBytes = 0;
        for (HeapSnapshot.Run r : snap.runs()) {
            switch (r.kind()) {
                case BLOCK -> {
                    live += r.blockSize();
                    blocks++;
                    rounding += r.bytes() - r.blockSize();
                }
                case SLAB -> slabBytes += r.bytes();
                case FREE_DIRTY -> {
                    dirty += r.bytes();
                    largest = Math.max(largest, r.bytes());
                }
                case FREE_CLEAN -> { }
            }
            if (r.kind() != HeapSnapshot.Kind.FREE_CLEAN) committed += r.bytes();
        }
        long classSlabBytes = 0;
        for (HeapSnapshot.SizeClassUsage c : snap.classes()) {
            live += c.requestedBytes();
            blocks += c.liveBlocks();
            classSlabBytes += c.slabBytes();
            if (c.blockSize() > 32 * 1024) rounding += c.wasteBytes(); // a medium block's: its slab, its pages
            assertThat(c.wasteBytes()).as("%s: waste of %s", what, c).isBetween(0L, c.liveBlocks() * c.blockSize());
            assertThat((c.liveBlocks() + c.freeBlocks()) * c.blockSize()).as("%s: blocks of %s", what, c)
                    .isLessThanOrEqualTo(c.slabBytes());
        }
        assertThat(live).as("%s: the snapshot's live bytes", what).isEqualTo(s.liveBytes());
        assertThat(blocks).as("%s: the snapshot's live blocks", what).isEqualTo(s.liveBlocks());
        assertThat(classSlabBytes).as("%s: the classes' slab bytes", what).isEqualTo(slabBytes);
        assertThat(committed).as("%s: committedBytes", what).isEqualTo(s.committedBytes());
        assertThat(dirty).as("%s: retainedBytes", what).isEqualTo(s.retainedBytes());
        assertThat(largest).as("%s: largestFreeBlock", what).isEqualTo(s.largestFreeBlock());
        assertThat(s.freeBytes()).as("%s: freeBytes", what).isEqualTo(s.committedBytes() - s.liveBytes() - rounding);
        assertThat(s.peakLiveBytes()).as("%s: peakLiveBytes", what).isGreaterThanOrEqualTo(s.liveBytes())
                .isLessThanOrEqualTo(s.peakCommittedBytes());
        assertThat(s.peakCommittedBytes()).as("%s: peakCommittedBytes", what)
                .isGreaterThanOrEqualTo(s.committedBytes());
        assertThat(s.externalFragmentation()).as("%s: externalFragmentation", what).isBetween(0.0, 1.0);
        if (s.freeBytes() == s.largestFreeBlock()) {
            assertThat(s.externalFragmentation()).as("%s: free memory in one extent, or none", what).isZero();
        }
        assertThat(s.utilization()).as("%s: utilization", what).isBetween(0.0, 1.0);
    }

    @Provide
    Arbitrary<Duration> decays() {
        return Arbitraries.of(Duration.ZERO, Duration.ofHours(1));
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Kind> kinds = Arbitraries.frequency(Tuple.of(35, Kind.MALLOC), Tuple.of(10, Kind.ALIGNED),
                Tuple.of(20, Kind.REALLOC), Tuple.of(30, Kind.FREE), Tuple.of(5, Kind.TRIM));
        Arbitrary<Long> sizes = Arbitraries.frequencyOf(
                Tuple.of(40, Arbitraries.longs().between(0, 512)),
                Tuple.of(25, Arbitraries.longs().between(513, 256 * 1024)),
                Tuple.of(30, Arbitraries.longs().between(256 * 1024 + 1, 4L << 20)),
                Tuple.of(5, Arbitraries.longs().between(4L << 20, 40L << 20)));
        return Combinators.combine(kinds, sizes, Arbitraries.integers().between(0, 9999)).as(Op::new)
                .list().ofMinSize(1).ofMaxSize(50);
    }
}
