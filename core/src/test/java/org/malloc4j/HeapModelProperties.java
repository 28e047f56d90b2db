package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;

/**
 * Model-based properties: random sequences of every heap operation, checked step by step against a model that
 * maps each live block's address to its size and fill byte.
 *
 * <p>After every step: live blocks never overlap (their usable extents included), every block is 16-byte
 * aligned and aligned as asked, {@code usableSize >= size}, contents survive realloc (the first
 * {@code min(old, new)} bytes), calloc memory is zero, and the heap's live bytes and counts equal the model's.
 * An address that is not a live block in the model must be refused with {@link InvalidFreeException}, leaving
 * the statistics exactly as they were.
 *
 * <p>Counting convention checked here: {@code mallocCount} counts every malloc, calloc and alignedAlloc, and every
 * realloc that allocated (from 0) or moved the block; {@code freeCount} counts every free, including
 * {@code realloc(p, 0)} and the old block of a move.
 */
class HeapModelProperties {

    enum Kind { MALLOC, CALLOC, REALLOC, ALIGNED, FREE, USABLE, INVALID, TRIM }

    /** One step: what to do, a size, an alignment, and a number that picks a block or a variant. */
    record Op(Kind kind, long size, long alignment, int pick) {
        @Override
        public String toString() {
            return switch (kind) {
                case MALLOC -> "malloc(" + size + ")";
                case CALLOC -> "calloc(" + (1 + pick % 8) + ", " + size / (1 + pick % 8) + ")";
                case REALLOC -> "realloc(#" + pick + ", " + size + ")";
                case ALIGNED -> "alignedAlloc(" + alignment + ", " + size + ")";
                case FREE -> "free(#" + pick + ")";
                case USABLE -> "usableSize(#" + pick + ")";
                case INVALID -> "invalid(" + pick + ")";
                case TRIM -> "trim()";
            };
        }
    }

    /** Heap settings worth varying: decay and release threshold decide which purge paths run. */
    record Config(Duration decay, long releaseThreshold) {}

    // ------------------------------------------------------------------ properties

    @Property(tries = 250, shrinking = ShrinkingMode.BOUNDED)
    void everyOperationAgreesWithTheModel(@ForAll("configs") Config config, @ForAll("ops") List<Op> ops) {
        try (Heap heap = Heap.builder().decay(config.decay()).releaseThreshold(config.releaseThreshold()).build()) {
            new Run(heap, false).execute(ops);
        }
    }

    /**
     * Under a tight limit, allocations may fail with {@link HeapExhaustedException}; a failed step must leave the
     * heap exactly as the model says (the old block of a failed realloc intact), and committed memory never
     * exceeds the limit.
     */
    @Property(tries = 60, shrinking = ShrinkingMode.BOUNDED)
    void exhaustionLeavesTheHeapAsItWas(@ForAll("configs") Config config, @ForAll("ops") List<Op> ops) {
        long limit = 24L << 20;
        try (Heap heap = Heap.builder().limit(limit).decay(config.decay())
                .releaseThreshold(config.releaseThreshold()).build()) {
            new Run(heap, true).execute(ops);
            assertThat(heap.stats().peakCommittedBytes()).isLessThanOrEqualTo(limit);
        }
    }

    // ------------------------------------------------------------------ generators

    @Provide
    Arbitrary<Config> configs() {
        Arbitrary<Duration> decay = Arbitraries.of(Duration.ZERO, Duration.ofHours(1), Duration.ofSeconds(1));
        Arbitrary<Long> threshold = Arbitraries.of(64L << 10, 4L << 20, 1L << 30);
        return Combinators.combine(decay, threshold).as(Config::new);
    }

    /** Sizes from 0 B to 64 MiB, skewed: mostly small, some medium, few large. */
    static Arbitrary<Long> sizes() {
        return Arbitraries.frequencyOf(
                Tuple.of(45, Arbitraries.longs().between(0, 256)),
                Tuple.of(25, Arbitraries.longs().between(257, 33 * 1024)),
                Tuple.of(18, Arbitraries.longs().between(32 * 1024, 1L << 20)),
                Tuple.of(10, Arbitraries.longs().between(1L << 20, 8L << 20)),
                Tuple.of(2, Arbitraries.longs().between(8L << 20, 64L << 20)));
    }

    /** Powers of two: mostly up to a page, some up to 1 MiB, rarely up to 1 GiB. */
    static Arbitrary<Long> alignments() {
        return Arbitraries.frequencyOf(
                        Tuple.of(10, Arbitraries.integers().between(0, 4)),
                        Tuple.of(55, Arbitraries.integers().between(5, 12)),
                        Tuple.of(33, Arbitraries.integers().between(13, 20)),
                        Tuple.of(2, Arbitraries.integers().between(21, 30)))
                .map(shift -> 1L << shift);
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Kind> kinds = Arbitraries.frequency(
                Tuple.of(28, Kind.MALLOC),
                Tuple.of(8, Kind.CALLOC),
                Tuple.of(18, Kind.REALLOC),
                Tuple.of(10, Kind.ALIGNED),
                Tuple.of(25, Kind.FREE),
                Tuple.of(4, Kind.USABLE),
                Tuple.of(5, Kind.INVALID),
                Tuple.of(2, Kind.TRIM));
        Arbitrary<Op> op = Combinators.combine(kinds, sizes(), alignments(), Arbitraries.integers().between(0, 9999))
                .as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(60);
    }

    // ------------------------------------------------------------------ the model and its checks

    /** A live block as the model knows it. */
    record Block(long address, long size, long usable, byte fill) {}

    static final class Run {
        private final Heap heap;
        private final boolean mayExhaust;
        private final Map<Long, Block> live = new HashMap<>();
        private final List<Long> order = new ArrayList<>(); // live addresses, for picking by index
        private final TreeMap<Long, Block> byAddress = new TreeMap<>();
        private final List<Long> freed = new ArrayList<>(); // addresses freed at some point
        private long liveBytes, mallocs, frees;
        /** The most live bytes after any step: the heap's peak, exact for one thread. */
        private long peakLive;
        private int fills = 1;
        private int step;

        Run(Heap heap, boolean mayExhaust) {
            this.heap = heap;
            this.mayExhaust = mayExhaust;
        }

        void execute(List<Op> ops) {
            for (Op op : ops) {
                step++;
                try {
                    apply(op);
                } catch (HeapExhaustedException e) {
                    if (!mayExhaust) throw new AssertionError("step " + step + " " + op + ": " + e.getMessage(), e);
                    // The failed step changed nothing: the model stays as it was, and so must the heap.
                    assertThat(e.getMessage()).contains(Long.toString(e.requested()));
                }
                checkStats(op);
            }
            for (Block b : List.copyOf(live.values())) {
                Blocks.check(b.address, b.size, b.size, b.fill);
                heap.free(b.address);
                forget(b);
                frees++;
            }
            checkStats(null);
            assertThat(heap.stats().liveBytes()).isZero();
            assertThat(heap.verify()).isEmpty(); // the page layer's counters agree with its runs
        }

        private void apply(Op op) {
            switch (op.kind) {
                case MALLOC -> {
                    long p = heap.malloc(op.size);
                    mallocs++;
                    admit(p, op.size, 16, false);
                }
                case CALLOC -> {
                    long count = 1 + op.pick % 8;
                    long each = op.size / count;
                    long p = heap.calloc(count, each);
                    mallocs++;
                    admit(p, count * each, 16, true);
                }
                case ALIGNED -> {
                    long p = heap.alignedAlloc(op.alignment, op.size);
                    mallocs++;
                    admit(p, op.size, Math.max(16, op.alignment), false);
                }
                case REALLOC -> realloc(op);
                case FREE -> {
                    Block b = pick(op.pick);
                    if (b == null) {
                        heap.free(0); // nothing live: free(0) must do nothing
                        return;
                    }
                    Blocks.check(b.address, b.size, b.size, b.fill);
                    heap.free(b.address);
                    forget(b);
                    frees++;
                }
                case USABLE -> {
                    Block b = pick(op.pick);
                    if (b == null) return;
                    assertThat(heap.usableSize(b.address)).as("usableSize of %s", b).isEqualTo(b.usable);
                }
                case INVALID -> invalid(op);
                case TRIM -> {
                    heap.trim();
                    for (Block b : live.values()) Blocks.check(b.address, b.size, b.size, b.fill);
                }
            }
        }

        private void realloc(Op op) {
            Block b = pick(op.pick);
            // One realloc in eight starts from 0 (malloc) or frees (size 0), as C programs do.
            if (b == null || op.pick % 8 == 0) {
                long p = heap.realloc(0, op.size);
                mallocs++;
                admit(p, op.size, 16, false);
                return;
            }
            if (op.pick % 8 == 1 || op.size == 0) {
                Blocks.check(b.address, b.size, b.size, b.fill);
                assertThat(heap.realloc(b.address, 0)).as("realloc(p, 0)").isZero();
                forget(b);
                frees++;
                return;
            }
            long p;
            try {
                p = heap.realloc(b.address, op.size);
            } catch (HeapExhaustedException e) {
                // The old block must be untouched and still live.
                Blocks.check(b.address, b.size, b.size, b.fill);
                assertThat(heap.usableSize(b.address)).isEqualTo(b.usable);
                throw e;
            }
            assertThat(p).as("realloc returned 0 for a non-zero size").isNotZero();
            long kept = Math.min(b.size, op.size);
            Blocks.check(p, b.size, kept, b.fill); // the first min(old, new) bytes, where they were written
            forget(b);
            if (p != b.address) {
                mallocs++;
                frees++;
            }
            admit(p, op.size, 16, false);
        }

        /** Hands an address that is not a live block to free, usableSize or realloc: each must refuse it. */
        private void invalid(Op op) {
            long address = 0;
            int variant = op.pick % 3;
            if (variant == 0) {
                Block b = pick(op.pick / 3);
                if (b != null && b.usable > 1) address = b.address + 1 + ((op.pick * 7919L) % (b.usable - 1));
            } else if (variant == 1 && !freed.isEmpty()) {
                address = freed.get((op.pick / 3) % freed.size());
            } else {
                Block b = pick(op.pick / 3);
                if (b != null) address = b.address + (5L << 30) + 4096L * (op.pick % 64);
            }
            if (address == 0 || live.containsKey(address)) return;
            long target = address;
            HeapStats before = heap.stats();
            int call = op.pick % 4;
            assertThatThrownBy(() -> {
                        switch (call) {
                            case 0, 3 -> heap.free(target);
                            case 1 -> heap.usableSize(target);
                            default -> heap.realloc(target, op.size);
                        }
                    })
                    .as("step %d: %s of %s, not a live block", step, call == 1 ? "usableSize" : call == 2 ? "realloc" : "free",
                            Blocks.hex(target))
                    .isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining(Blocks.hex(target));
            assertThat(Blocks.state(heap.stats())).as("stats after a refused call").isEqualTo(Blocks.state(before));
        }

        private void admit(long p, long size, long alignment, boolean zeroed) {
            String what = "step " + step + ": block " + Blocks.hex(p) + " of " + size + " bytes";
            assertThat(p).as(what).isNotZero();
            assertThat(p & 15).as("%s: 16-byte alignment", what).isZero();
            assertThat(p & (alignment - 1)).as("%s: %d-byte alignment", what, alignment).isZero();
            assertThat(live).as("%s: already live", what).doesNotContainKey(p);
            long usable = heap.usableSize(p);
            assertThat(usable).as("%s: usableSize", what).isGreaterThanOrEqualTo(size);
            long extent = Math.max(usable, 1);
            Map.Entry<Long, Block> below = byAddress.floorEntry(p);
            if (below != null && below.getKey() + Math.max(below.getValue().usable, 1) > p) {
                fail(what + " (usable " + usable + ") overlaps " + below.getValue());
            }
            Map.Entry<Long, Block> above = byAddress.ceilingEntry(p);
            if (above != null && p + extent > above.getKey()) {
                fail(what + " (usable " + usable + ") overlaps " + above.getValue());
            }
            if (zeroed) Blocks.checkZero(p, size);
            byte fill = Blocks.patternOf(fills++);
            Blocks.fill(p, size, fill);
            Block b = new Block(p, size, usable, fill);
            live.put(p, b);
            order.add(p);
            byAddress.put(p, b);
            liveBytes += size;
        }

        private void forget(Block b) {
            live.remove(b.address);
            byAddress.remove(b.address);
            int i = order.indexOf(b.address);
            order.set(i, order.get(order.size() - 1));
            order.remove(order.size() - 1);
            liveBytes -= b.size;
            freed.add(b.address);
        }

        private Block pick(int n) {
            if (order.isEmpty()) return null;
            return live.get(order.get(n % order.size()));
        }

        private void checkStats(Op op) {
            HeapStats s = heap.stats();
            String what = op == null ? "after freeing everything" : "after step " + step + " " + op;
            assertThat(s.liveBytes()).as("%s: liveBytes", what).isEqualTo(liveBytes);
            assertThat(s.liveBlocks()).as("%s: liveBlocks", what).isEqualTo(live.size());
            assertThat(s.mallocCount()).as("%s: mallocCount", what).isEqualTo(mallocs);
            assertThat(s.freeCount()).as("%s: freeCount", what).isEqualTo(frees);
            peakLive = Math.max(peakLive, liveBytes);
            assertThat(s.peakLiveBytes()).as("%s: peakLiveBytes", what).isEqualTo(peakLive);
            assertThat(s.committedBytes()).as("%s: committedBytes", what).isLessThanOrEqualTo(s.peakCommittedBytes());
            // Free bytes hold the free page runs (and free slots, slab waste), never a page-run block's rounding
            assertThat(s.freeBytes()).as("%s: freeBytes", what).isGreaterThanOrEqualTo(s.retainedBytes())
                    .isLessThanOrEqualTo(s.committedBytes() - s.liveBytes());
            assertThat(s.largestFreeBlock()).as("%s: largestFreeBlock", what).isLessThanOrEqualTo(s.retainedBytes());
            assertThat(s.externalFragmentation()).as("%s: externalFragmentation", what).isBetween(0.0, 1.0);
            assertThat(s.utilization()).as("%s: utilization", what).isBetween(0.0, 1.0);
        }
    }
}
