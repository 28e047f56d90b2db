package org.malloc4j;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import org.malloc4j.ThreadedCacheModelProperties.Worker;

/**
 * The whole public API as one state machine, in FAST and CHECKED mode, with and without a limit: raw blocks
 * (malloc, calloc, realloc, alignedAlloc, free, usableSize), segment blocks (allocate, reallocate, free), the same
 * calls made on a second thread (blocks freed by the thread that did not allocate them, and that thread's death), an
 * arena kept open across steps (confined or shared, segments freed early, closed), the calling thread's stack (frames
 * pushed, allocated from and popped across steps), refused calls (interior, freed, foreign, arena and stack
 * addresses), trim and verify.
 *
 * <p>The model maps every live block to its size, usable size and fill byte; every usable byte is written (where
 * {@link Blocks} writes), checked before a free, and the first {@code min(usable, newSize)} bytes after a realloc.
 * Arena and stack segments carry fills of their own. After every step: no two live extents overlap, {@code verify()}
 * finds nothing, the live bytes and blocks and the malloc and free counts are the model's plus what the arena and
 * the stack took (measured around their calls: frames never change the counters, a closed arena leaves nothing),
 * committed bytes hold the live ones and stay under the limit, the peak of live bytes is the most seen, the counters
 * and peaks never go down, and {@code leaks()} agrees. A refused call ({@link InvalidFreeException}, or
 * {@link WrongThreadException} from a confined arena or a frame) or an exhaustion ({@link HeapExhaustedException})
 * changes no block and no count. At the end, with everything freed, a heap under a limit serves a request of nearly
 * all of it.
 */
class HeapStateMachineProperties {

    enum Kind {
        MALLOC, CALLOC, ALIGNED, REALLOC, SEGMENT, FREE, USABLE, INVALID, REMOTE_ALLOC, REMOTE_FREE, REMOTE_REALLOC,
        WORKER_DIES, ARENA, STACK, TRIM, TICK, FILL
    }

    /** One step: what to do, a size, an alignment, and a number that picks a block or a variant. */
    record Op(Kind kind, long size, long alignment, int pick) {
        @Override
        public String toString() {
            return kind + "(size " + size + ", align " + alignment + ", pick " + pick + ")";
        }
    }

    /**
     * The heap's settings: mode, limit (0: none), decay (a decay of a second runs on a manual clock that
     * {@link Kind#TICK} moves), the share of blocks whose site is recorded, release threshold and page gathering.
     */
    record Setup(HeapMode mode, long limit, Duration decay, double sites, long release, PageGathering gathering) {
        Heap build(ManualClock clock) {
            Heap.Builder b = Heap.builder().mode(mode).decay(decay).trackSites(sites).releaseThreshold(release)
                    .pageGathering(gathering).clock(clock).jmx(false).quarantine(256 << 10);
            if (limit > 0) b.limit(limit);
            return b.build();
        }

        /** Whether free pages go back only at once or on trim: no purge between two calls of the test's. */
        boolean quiet() {
            return decay.isZero() || decay.toHours() >= 1;
        }
    }

    @Property(tries = 80, shrinking = ShrinkingMode.BOUNDED, edgeCases = EdgeCasesMode.NONE)
    void everyCallAgreesWithTheModel(@ForAll("setups") Setup setup, @ForAll("ops") List<Op> ops) {
        Worker worker = new Worker();
        ManualClock clock = new ManualClock();
        try (Heap heap = setup.build(clock); Heap other = Heap.builder().reserve(16 << 20).jmx(false).build()) {
            Run run = new Run(heap, other, setup, worker, clock);
            try {
                run.execute(ops);
            } finally {
                run.worker.stop();
            }
        }
    }

    // ------------------------------------------------------------------ generators

    @Provide
    Arbitrary<Setup> setups() {
        Arbitrary<HeapMode> modes = Arbitraries.of(HeapMode.FAST, HeapMode.CHECKED);
        Arbitrary<Long> limits = Arbitraries.of(0L, 3L << 20, 24L << 20);
        Arbitrary<Duration> decays = Arbitraries.of(Duration.ZERO, Duration.ofHours(1), Duration.ofSeconds(1));
        Arbitrary<Double> sites = Arbitraries.of(0.0, 1.0);
        Arbitrary<Long> releases = Arbitraries.of(32L << 20, 300L << 10);
        Arbitrary<PageGathering> gathering = Arbitraries.of(PageGathering.class);
        return Combinators.combine(modes, limits, decays, sites, releases, gathering).as(Setup::new);
    }

    /** Small (to 32 KiB), medium (32 to 256 KiB) and page-run sizes (to 16 MiB), with the ranges' edges. */
    static Arbitrary<Long> sizes() {
        return Arbitraries.frequencyOf(
                Tuple.of(40, Arbitraries.longs().between(0, 1024)),
                Tuple.of(15, Arbitraries.longs().between(1025, 32 << 10)),
                Tuple.of(15, Arbitraries.longs().between(32 << 10, 256 << 10)),
                Tuple.of(8, Arbitraries.longs().between(256 << 10, 4L << 20)),
                Tuple.of(2, Arbitraries.longs().between(4L << 20, 16L << 20)),
                Tuple.of(10, Arbitraries.of(16L, 4096L, (32L << 10) - 16, 32L << 10, (32L << 10) + 1, 256L << 10,
                        (256L << 10) + 1, (256L << 10) - 16, 1L << 20)));
    }

    /** Powers of two up to 1 GiB: mostly up to a page. */
    static Arbitrary<Long> alignments() {
        return Arbitraries.frequencyOf(
                        Tuple.of(30, Arbitraries.integers().between(0, 4)),
                        Tuple.of(45, Arbitraries.integers().between(5, 12)),
                        Tuple.of(22, Arbitraries.integers().between(13, 21)),
                        Tuple.of(3, Arbitraries.integers().between(22, 30)))
                .map(shift -> 1L << shift);
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Kind> kinds = Arbitraries.frequency(
                Tuple.of(16, Kind.MALLOC),
                Tuple.of(5, Kind.CALLOC),
                Tuple.of(6, Kind.ALIGNED),
                Tuple.of(14, Kind.REALLOC),
                Tuple.of(6, Kind.SEGMENT),
                Tuple.of(14, Kind.FREE),
                Tuple.of(3, Kind.USABLE),
                Tuple.of(6, Kind.INVALID),
                Tuple.of(5, Kind.REMOTE_ALLOC),
                Tuple.of(5, Kind.REMOTE_FREE),
                Tuple.of(3, Kind.REMOTE_REALLOC),
                Tuple.of(1, Kind.WORKER_DIES),
                Tuple.of(8, Kind.ARENA),
                Tuple.of(6, Kind.STACK),
                Tuple.of(2, Kind.TRIM),
                Tuple.of(3, Kind.TICK),
                Tuple.of(2, Kind.FILL));
        Arbitrary<Op> op = Combinators.combine(kinds, sizes(), alignments(), Arbitraries.integers().between(0, 9999))
                .as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(60).withSizeDistribution(RandomDistribution.uniform());
    }

    // ------------------------------------------------------------------ the model

    /** A live heap block: {@code segment} is null for a raw one, else the segment {@code allocate} returned. */
    record Block(long address, long size, long usable, byte fill, MemorySegment segment) {}

    /** A segment of the open arena or of a stack frame, with the alignment it was asked and its fill. */
    record Piece(MemorySegment segment, long alignment, byte fill) {}

    /** The counters a step may change: live bytes and blocks, mallocs and frees. */
    record Counts(long liveBytes, long liveBlocks, long mallocs, long frees) {
        static Counts of(HeapStats s) {
            return new Counts(s.liveBytes(), s.liveBlocks(), s.mallocCount(), s.freeCount());
        }

        Counts plus(Counts o) {
            return new Counts(liveBytes + o.liveBytes, liveBlocks + o.liveBlocks, mallocs + o.mallocs,
                    frees + o.frees);
        }

        Counts minus(Counts o) {
            return new Counts(liveBytes - o.liveBytes, liveBlocks - o.liveBlocks, mallocs - o.mallocs,
                    frees - o.frees);
        }
    }

    static final Counts NONE = new Counts(0, 0, 0, 0);

    /** Native memory that no heap manages. */
    static final MemorySegment NATIVE = Arena.global().allocate(64, 16);

    static final class Run {
        final Heap heap, other;
        final Setup setup;
        Worker worker;
        final Map<Long, Block> live = new HashMap<>();
        final List<Long> order = new ArrayList<>();
        /** Start to end of every live extent: blocks (their usable bytes), arena and stack segments. */
        final TreeMap<Long, Long> extents = new TreeMap<>();
        final List<Long> freed = new ArrayList<>();
        long liveBytes, mallocs, frees;
        /** What the arena's and the stack's calls changed, measured around them. */
        Counts arenaCounts = NONE, stackCounts = NONE;
        Arena arena;
        boolean arenaShared;
        final List<Piece> arenaPieces = new ArrayList<>();
        final List<MemorySegment> arenaFreed = new ArrayList<>();
        final List<StackFrame> frames = new ArrayList<>();
        final List<List<Piece>> framePieces = new ArrayList<>();
        boolean workerDied;
        HeapStats previous;
        /** The most live bytes seen after a step. */
        long mostLive;
        int fills = 1;
        int step;
        Op op;

        final ManualClock clock;

        Run(Heap heap, Heap other, Setup setup, Worker worker, ManualClock clock) {
            this.clock = clock;
            this.heap = heap;
            this.other = other;
            this.setup = setup;
            this.worker = worker;
        }

        String at() {
            return "step " + step + " " + op + " on " + setup;
        }

        void execute(List<Op> ops) {
            previous = heap.stats();
            for (Op o : ops) {
                step++;
                op = o;
                Counts before = Counts.of(heap.stats());
                try {
                    apply(o);
                } catch (HeapExhaustedException e) {
                    exhausted(e, before);
                }
                check();
            }
            finish();
        }

        /** A refusal under the limit names the request and changes no count and no block. */
        void exhausted(HeapExhaustedException e, Counts before) {
            if (setup.limit() == 0) throw new AssertionError(at() + ": " + e.getMessage(), e);
            assertThat(e.getMessage()).as(at()).contains(Long.toString(e.requested())).contains("limit");
            assertThat(Counts.of(heap.stats())).as("%s: counts after an exhaustion", at()).isEqualTo(before);
            checkAllContents();
        }

        // -------------------------------------------------------------- steps

        void apply(Op o) {
            switch (o.kind()) {
                case MALLOC -> admit(heap.malloc(o.size()), o.size(), 16, false, null);
                case CALLOC -> {
                    long count = 1 + o.pick() % 8;
                    long each = o.size() / count;
                    admit(heap.calloc(count, each), count * each, 16, true, null);
                }
                case ALIGNED -> admit(heap.alignedAlloc(o.alignment(), o.size()), o.size(), o.alignment(), false,
                        null);
                case REALLOC -> realloc(o, heap::realloc);
                case SEGMENT -> segment(o);
                case FREE -> {
                    Block b = pick(o.pick());
                    if (b == null) {
                        heap.free(0);
                        return;
                    }
                    free(b, o.pick() % 2 == 0, false);
                }
                case USABLE -> {
                    Block b = pick(o.pick());
                    if (b != null) assertThat(heap.usableSize(b.address())).as(at()).isEqualTo(b.usable());
                }
                case INVALID -> invalid(o);
                case REMOTE_ALLOC -> {
                    long size = o.size();
                    switch (o.pick() % 3) {
                        case 0 -> admit(worker.call(() -> heap.malloc(size)), size, 16, false, null);
                        case 1 -> admit(worker.call(() -> heap.calloc(1, size)), size, 16, true, null);
                        default -> admit(worker.call(() -> heap.alignedAlloc(o.alignment(), size)), size,
                                o.alignment(), false, null);
                    }
                }
                case REMOTE_FREE -> {
                    Block b = pick(o.pick());
                    if (b != null) free(b, o.pick() % 2 == 0, true);
                }
                case REMOTE_REALLOC -> realloc(o, (p, n) -> worker.call(() -> heap.realloc(p, n)));
                case WORKER_DIES -> {
                    worker.stop();
                    worker = new Worker(o.pick() % 2 == 0);
                    workerDied = true;
                }
                case ARENA -> arena(o);
                case STACK -> stack(o);
                case TRIM -> {
                    heap.trim();
                    checkAllContents();
                }
                case TICK -> clock.advance(Duration.ofMillis(600));
                case FILL -> {
                    // Under a limit: blocks of one size (a medium or page-run one at least) until one is refused
                    long size = Math.max(o.size(), 32 << 10);
                    for (int i = 0; i < 64 && setup.limit() > 0; i++) {
                        Counts before = Counts.of(heap.stats());
                        try {
                            admit(heap.malloc(size), size, 16, false, null);
                        } catch (HeapExhaustedException e) {
                            exhausted(e, before);
                            return;
                        }
                    }
                }
            }
        }

        interface Resize {
            long apply(long address, long size);
        }

        /** The size a realloc of {@code b} asks for: same, a little more or less, its usable size, or the op's. */
        static long resized(Block b, Op o) {
            return switch (o.pick() % 10) {
                case 2 -> b.size();
                case 3 -> Math.max(1, b.size() + (o.pick() / 10) % 33 - 16);
                case 4 -> Math.max(1, b.usable());
                case 5 -> b.usable() + 1;
                case 6 -> Math.max(1, b.size() / 2);
                case 7 -> b.size() * 2 + 1;
                default -> o.size();
            };
        }

        void realloc(Op o, Resize resize) {
            Block b = pick(o.pick());
            if (b == null || o.pick() % 10 == 0) {
                admit(resize.apply(0, o.size()), o.size(), 16, false, null); // realloc(0, n) is malloc(n)
                return;
            }
            if (b.segment() != null) return; // a segment's block is resized by reallocate
            long n = o.pick() % 10 == 1 ? 0 : resized(b, o);
            Blocks.check(b.address(), b.usable(), b.usable(), b.fill());
            if (n == 0) {
                assertThat(resize.apply(b.address(), 0)).as("%s: realloc(p, 0)", at()).isZero();
                forget(b);
                frees++;
                return;
            }
            long p;
            try {
                p = resize.apply(b.address(), n);
            } catch (HeapExhaustedException e) {
                assertThat(heap.usableSize(b.address())).as("%s: usable after a failed realloc", at())
                        .isEqualTo(b.usable());
                throw e;
            }
            moved(b, p, n);
            admit(p, n, 16, false, null);
        }

        /**
         * The model's side of a resize of {@code b} to {@code p}: realloc keeps the usable bytes up to the new size,
         * reallocate the segment's.
         */
        void moved(Block b, long p, long n) {
            assertThat(p).as("%s: resize returned 0", at()).isNotZero();
            long kept = b.segment() == null ? b.usable() : b.segment().byteSize();
            Blocks.check(p, b.usable(), Math.min(kept, n), b.fill());
            forget(b);
            // A move counts as a malloc (admit counts it) and a free; a resize in place as neither
            if (p != b.address()) frees++;
            else mallocs--;
        }

        void segment(Op o) {
            Block b = pickSegment(o.pick());
            int variant = o.pick() % 4;
            if (b == null || variant == 0) {
                // allocate, or reallocate of the NULL segment, which is allocate
                MemorySegment s = o.pick() % 3 == 0 ? heap.reallocate(MemorySegment.NULL, o.size(), o.alignment())
                        : heap.allocate(o.size(), o.alignment());
                assertThat(s.byteSize()).as(at()).isEqualTo(o.size());
                admit(s.address(), o.size(), o.alignment(), false, s);
            } else if (variant == 1) {
                free(b, true, false);
            } else {
                long n = o.size() % 3 == 0 ? 0 : resized(b, o);
                long alignment = variant == 2 ? 1 : o.alignment();
                Blocks.check(b.address(), b.usable(), b.usable(), b.fill());
                MemorySegment s;
                try {
                    s = heap.reallocate(b.segment(), n, alignment);
                } catch (HeapExhaustedException e) {
                    assertThat(b.segment().scope().isAlive()).as("%s: the segment after a failed reallocate", at())
                            .isTrue();
                    throw e;
                }
                assertThat(s.byteSize()).as(at()).isEqualTo(n);
                if (setup.mode() == HeapMode.CHECKED) {
                    assertThat(b.segment().scope().isAlive()).as("%s: the old segment after reallocate", at())
                            .isFalse();
                }
                moved(b, s.address(), n);
                admit(s.address(), n, alignment, false, s);
            }
        }

        /** Frees {@code b} (through its segment or its address), on the worker when {@code remote}. */
        void free(Block b, boolean viaSegment, boolean remote) {
            Blocks.check(b.address(), b.usable(), b.usable(), b.fill());
            Runnable call = () -> {
                if (viaSegment && b.segment() != null) heap.free(b.segment());
                else heap.free(b.address());
            };
            if (remote) {
                worker.call(() -> {
                    call.run();
                    return null;
                });
            } else {
                call.run();
            }
            if (setup.mode() == HeapMode.CHECKED && b.segment() != null) {
                assertThat(b.segment().scope().isAlive()).as("%s: the segment of a freed block", at()).isFalse();
            }
            forget(b);
            frees++;
        }

        // -------------------------------------------------------------- refusals

        /** Hands an address that is not a live block to free, usableSize, realloc or reallocate: each refuses it. */
        void invalid(Op o) {
            long address = 0;
            MemorySegment freeTarget = null, reallocTarget = null;
            switch (o.pick() % 6) {
                case 0 -> { // inside a live block
                    Block b = pick(o.pick() / 6);
                    if (b != null && b.usable() > 1) address = b.address() + 1 + (o.pick() * 7919L) % (b.usable() - 1);
                }
                case 1 -> { // freed (a double free), unless the address is live again
                    if (!freed.isEmpty()) address = freed.get((o.pick() / 6) % freed.size());
                }
                case 2 -> { // another heap's block
                    address = other.malloc(o.size() % 5000);
                }
                case 3 -> address = NATIVE.address(); // the program's own native memory
                case 4 -> { // a segment of the arena or of a stack frame
                    List<Piece> pieces = new ArrayList<>(arenaPieces);
                    framePieces.forEach(pieces::addAll);
                    if (!pieces.isEmpty()) {
                        Piece p = pieces.get((o.pick() / 6) % pieces.size());
                        address = p.segment().address();
                        // The segments themselves: reallocate refuses an arena's, free and reallocate a frame's
                        reallocTarget = p.segment();
                        if (!arenaPieces.contains(p)) freeTarget = p.segment();
                    }
                }
                default -> { // inside the reservation, far from any block
                    Block b = pick(o.pick() / 6);
                    if (b != null) address = b.address() + (5L << 30) + 4096L * (o.pick() % 64);
                }
            }
            if (address == 0 || live.containsKey(address)) return;
            long target = address;
            MemorySegment toFree = freeTarget != null ? freeTarget : MemorySegment.ofAddress(target);
            MemorySegment toResize = reallocTarget != null ? reallocTarget : MemorySegment.ofAddress(target);
            HeapStats before = heap.stats();
            int call = (o.pick() / 6) % 5;
            assertThatThrownBy(() -> {
                        switch (call) {
                            case 0 -> heap.free(target);
                            case 1 -> heap.usableSize(target);
                            case 2 -> heap.realloc(target, o.size());
                            case 3 -> heap.free(toFree);
                            default -> heap.reallocate(toResize, o.size());
                        }
                    })
                    .as("%s: call %d on %s, not a live block", at(), call, Blocks.hex(target))
                    .isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining(Long.toHexString(target));
            HeapStats after = heap.stats();
            if (after.threadCaches() == before.threadCaches() && !workerDied && setup.quiet()) {
                assertThat(Blocks.state(after)).as("%s: figures after a refused call", at())
                        .isEqualTo(Blocks.state(before));
            } else {
                assertThat(Counts.of(after)).as("%s: counts after a refused call", at()).isEqualTo(Counts.of(before));
            }
            if (o.pick() % 6 == 2) other.free(target);
            checkAllContents();
        }

        // -------------------------------------------------------------- arena

        /**
         * Runs a call of the arena and counts what it took: on the worker when {@code remote} and the arena is
         * shared; a confined one must first refuse the worker ({@link WrongThreadException}), changing nothing.
         */
        <T> T arenaCall(boolean remote, Supplier<T> call) {
            Counts before = Counts.of(heap.stats());
            if (remote && !arenaShared) {
                assertThatThrownBy(() -> worker.call(call)).as("%s: a confined arena's call on another thread", at())
                        .isInstanceOf(WrongThreadException.class);
                assertThat(Counts.of(heap.stats())).as("%s: counts after a wrong thread's call", at())
                        .isEqualTo(before);
            }
            try {
                return remote && arenaShared ? worker.call(call) : call.get();
            } finally {
                arenaCounts = arenaCounts.plus(Counts.of(heap.stats()).minus(before));
            }
        }

        void arena(Op o) {
            if (arena == null) {
                arenaShared = o.pick() % 3 == 0;
                arena = arenaShared ? heap.newSharedArena() : heap.newArena();
                return;
            }
            boolean remote = o.pick() % 2 == 1;
            switch (o.pick() % 10) {
                case 0 -> closeArena(remote);
                case 1, 2 -> {
                    if (arenaPieces.isEmpty()) return;
                    Piece p = arenaPieces.remove((o.pick() / 10) % arenaPieces.size());
                    checkPiece(p);
                    arenaCall(remote, () -> {
                        heap.free(p.segment());
                        return null;
                    });
                    unclaim(p.segment());
                    arenaFreed.add(p.segment());
                }
                case 3 -> {
                    if (arenaFreed.isEmpty()) return;
                    MemorySegment s = arenaFreed.get((o.pick() / 10) % arenaFreed.size());
                    if (claimed(s)) return; // its memory is a live segment again
                    Counts before = Counts.of(heap.stats());
                    assertThatThrownBy(() -> heap.free(s)).as("%s: second free of arena segment %s", at(), s)
                            .isInstanceOf(InvalidFreeException.class);
                    assertThat(Counts.of(heap.stats())).as(at()).isEqualTo(before);
                }
                default -> {
                    long size = o.pick() % 4 == 0 ? o.size() : o.size() % 5000;
                    long alignment = Math.min(o.alignment(), 1L << 16);
                    MemorySegment s = arenaCall(remote, () -> arena.allocate(size, alignment));
                    assertThat(s.byteSize()).as(at()).isEqualTo(size);
                    assertThat(s.address() & (alignment - 1)).as("%s: alignment", at()).isZero();
                    Piece p = new Piece(s, alignment, Blocks.patternOf(fills++));
                    claim(s);
                    Blocks.fill(s.address(), size, p.fill());
                    arenaPieces.add(p);
                }
            }
        }

        void closeArena(boolean remote) {
            for (Piece p : arenaPieces) checkPiece(p);
            arenaCall(remote, () -> {
                arena.close();
                return null;
            });
            assertThatThrownBy(arena::close).as("%s: closing an arena twice", at())
                    .isInstanceOf(IllegalStateException.class);
            for (Piece p : arenaPieces) {
                assertThat(p.segment().scope().isAlive()).as("%s: a segment of a closed arena", at()).isFalse();
            }
            arenaPieces.stream().filter(p -> p.segment().byteSize() > 0).findFirst().ifPresent(p ->
                    assertThatThrownBy(() -> p.segment().get(JAVA_BYTE, 0)).as("%s: a segment of a closed arena",
                            at()).isInstanceOf(IllegalStateException.class));
            for (Piece p : arenaPieces) unclaim(p.segment());
            arenaPieces.clear();
            arenaFreed.clear();
            arena = null;
            assertThat(arenaCounts.liveBytes()).as("%s: live bytes the arena left", at()).isZero();
            assertThat(arenaCounts.liveBlocks()).as("%s: live blocks the arena left", at()).isZero();
            assertThat(arenaCounts.mallocs()).as("%s: the arena's mallocs and frees", at())
                    .isEqualTo(arenaCounts.frees());
        }

        // -------------------------------------------------------------- stack

        <T> T stackCall(Supplier<T> call) {
            Counts before = Counts.of(heap.stats());
            boolean first = stackCounts.equals(NONE);
            try {
                return call.get();
            } finally {
                Counts delta = Counts.of(heap.stats()).minus(before);
                // The first push takes the stack's block; nothing after it touches the heap
                if (!first || frames.size() != 1) {
                    assertThat(delta).as("%s: a frame's calls changed the heap's counts", at()).isEqualTo(NONE);
                }
                stackCounts = stackCounts.plus(delta);
            }
        }

        void stack(Op o) {
            HeapStack stack = heap.stack();
            assertThat(stack.depth()).as(at()).isEqualTo(frames.size());
            int variant = frames.isEmpty() ? 0 : o.pick() % 7;
            if (variant == 5) {
                // Another thread may neither allocate in a frame nor close it
                StackFrame f = frames.getLast();
                Counts before = Counts.of(heap.stats());
                assertThatThrownBy(() -> worker.call(() -> f.allocate(8, 8))).as("%s: allocate on another thread", at())
                        .isInstanceOf(WrongThreadException.class);
                assertThatThrownBy(() -> worker.call(() -> {
                    f.close();
                    return null;
                })).as("%s: close on another thread", at()).isInstanceOf(WrongThreadException.class);
                assertThat(Counts.of(heap.stats())).as(at()).isEqualTo(before);
                assertThat(stack.depth()).as(at()).isEqualTo(frames.size());
            } else if (variant == 6 && frames.size() >= 2) {
                // Closing a frame below the top is refused, and pops it and every frame above it
                int k = (o.pick() / 7) % (frames.size() - 1);
                StackFrame f = frames.get(k);
                for (int i = k; i < frames.size(); i++) framePieces.get(i).forEach(this::checkPiece);
                assertThatThrownBy(() -> stackCall(() -> {
                    f.close();
                    return null;
                })).as("%s: closing frame %d of %d", at(), k + 1, frames.size())
                        .isInstanceOf(IllegalStateException.class);
                while (frames.size() > k) {
                    frames.removeLast();
                    framePieces.removeLast().forEach(p -> unclaim(p.segment()));
                }
                assertThat(stack.depth()).as(at()).isEqualTo(frames.size());
            } else if (variant == 0 && frames.size() < 4) {
                stackCall(() -> {
                    StackFrame pushed = stack.push();
                    frames.add(pushed);
                    return pushed;
                });
                framePieces.add(new ArrayList<>());
                assertThat(stack.depth()).as(at()).isEqualTo(frames.size());
            } else if (variant == 1 || variant == 0) {
                StackFrame f = frames.removeLast();
                List<Piece> pieces = framePieces.removeLast();
                for (Piece p : pieces) checkPiece(p);
                stackCall(() -> {
                    f.close();
                    return null;
                });
                for (Piece p : pieces) unclaim(p.segment());
                assertThat(stack.depth()).as(at()).isEqualTo(frames.size());
            } else {
                StackFrame f = frames.getLast();
                long size = o.pick() % 7 == 0 ? o.size() : o.size() % 3000;
                long alignment = Math.min(o.alignment(), 4096);
                MemorySegment s;
                try {
                    s = stackCall(() -> f.allocate(size, alignment));
                } catch (StackExhaustedException e) {
                    // Refused only when the frames' segments, their padding included, leave too little room
                    long most = size + alignment - 1;
                    for (List<Piece> pieces : framePieces) {
                        for (Piece p : pieces) most += p.segment().byteSize() + p.alignment() - 1;
                    }
                    assertThat(most).as("%s: the most the stack's segments may take, refused by a stack of %d bytes",
                            at(), stack.size()).isGreaterThan(stack.size());
                    return;
                }
                assertThat(s.byteSize()).as(at()).isEqualTo(size);
                assertThat(s.address() & (alignment - 1)).as("%s: alignment", at()).isZero();
                Piece p = new Piece(s, alignment, Blocks.patternOf(fills++));
                claim(s);
                Blocks.fill(s.address(), size, p.fill());
                framePieces.getLast().add(p);
            }
        }

        // -------------------------------------------------------------- model upkeep

        void admit(long p, long size, long alignment, boolean zeroed, MemorySegment segment) {
            String what = at() + ": block " + Blocks.hex(p) + " of " + size + " bytes";
            assertThat(p).as(what).isNotZero();
            assertThat(p & (Math.max(16, alignment) - 1)).as("%s: %d-byte alignment", what, alignment).isZero();
            assertThat(live).as("%s: already live", what).doesNotContainKey(p);
            long usable = heap.usableSize(p);
            if (setup.mode() == HeapMode.CHECKED) {
                assertThat(usable).as("%s: usableSize in CHECKED mode", what).isEqualTo(size);
            } else {
                assertThat(usable).as("%s: usableSize", what).isGreaterThanOrEqualTo(size);
            }
            if (zeroed) Blocks.checkZero(p, size);
            checkFree(p, Math.max(usable, 1), what);
            extents.put(p, p + Math.max(usable, 1));
            byte fill = Blocks.patternOf(fills++);
            Blocks.fill(p, usable, fill);
            live.put(p, new Block(p, size, usable, fill, segment));
            order.add(p);
            liveBytes += size;
            mallocs++;
        }

        void forget(Block b) {
            live.remove(b.address());
            extents.remove(b.address());
            int i = order.indexOf(b.address());
            order.set(i, order.getLast());
            order.removeLast();
            liveBytes -= b.size();
            freed.add(b.address());
        }

        void claim(MemorySegment s) {
            if (s.byteSize() == 0) return; // a 0-byte segment may share its address with the next
            checkFree(s.address(), s.byteSize(), at() + ": segment " + s);
            extents.put(s.address(), s.address() + s.byteSize());
        }

        void unclaim(MemorySegment s) {
            if (s.byteSize() > 0) extents.remove(s.address());
        }

        boolean claimed(MemorySegment s) {
            var below = extents.floorEntry(s.address());
            return live.containsKey(s.address()) || below != null && below.getValue() > s.address();
        }

        void checkFree(long start, long length, String what) {
            var below = extents.floorEntry(start);
            if (below != null && below.getValue() > start) fail(what + " overlaps the extent at " + below);
            var above = extents.ceilingEntry(start);
            if (above != null && start + length > above.getKey()) fail(what + " overlaps the extent at " + above);
        }

        void checkPiece(Piece p) {
            Blocks.check(p.segment().address(), p.segment().byteSize(), p.segment().byteSize(), p.fill());
        }

        void checkAllContents() {
            for (Block b : live.values()) Blocks.check(b.address(), b.usable(), b.usable(), b.fill());
            for (Piece p : arenaPieces) checkPiece(p);
            for (List<Piece> pieces : framePieces) pieces.forEach(this::checkPiece);
        }

        Block pick(int n) {
            return order.isEmpty() ? null : live.get(order.get(n % order.size()));
        }

        Block pickSegment(int n) {
            for (int i = 0; i < order.size(); i++) {
                Block b = live.get(order.get((n + i) % order.size()));
                if (b.segment() != null) return b;
            }
            return null;
        }

        // -------------------------------------------------------------- checks after every step

        void check() {
            HeapStats s = heap.stats();
            Counts model = new Counts(liveBytes, live.size(), mallocs, frees).plus(arenaCounts).plus(stackCounts);
            assertThat(Counts.of(s)).as("%s: [live bytes, live blocks, mallocs, frees]", at()).isEqualTo(model);
            long segments = arenaPieces.stream().mapToLong(p -> p.segment().byteSize()).sum();
            assertThat(arenaCounts.liveBytes()).as("%s: the arena's live bytes", at()).isGreaterThanOrEqualTo(
                    segments);
            assertThat(stackCounts.liveBlocks()).as("%s: the stack's blocks", at()).isBetween(0L, 1L);
            assertThat(s.committedBytes()).as("%s: committed bytes hold the live ones", at())
                    .isGreaterThanOrEqualTo(s.liveBytes())
                    .isLessThanOrEqualTo(s.peakCommittedBytes());
            assertThat(s.peakLiveBytes()).as("%s: peakLiveBytes", at()).isGreaterThanOrEqualTo(s.liveBytes());
            if (setup.limit() > 0) {
                assertThat(s.peakCommittedBytes()).as("%s: peak committed under the limit", at())
                        .isLessThanOrEqualTo(setup.limit());
            }
            assertThat(s.reservedBytes()).as(at()).isEqualTo(previous.reservedBytes());
            assertThat(s.mallocCount()).as("%s: mallocCount went down", at()).isGreaterThanOrEqualTo(
                    previous.mallocCount());
            assertThat(s.freeCount()).as("%s: freeCount went down", at()).isGreaterThanOrEqualTo(previous.freeCount());
            assertThat(s.peakLiveBytes()).as("%s: peakLiveBytes went down", at())
                    .isGreaterThanOrEqualTo(previous.peakLiveBytes());
            assertThat(s.peakCommittedBytes()).as("%s: peakCommittedBytes went down", at())
                    .isGreaterThanOrEqualTo(previous.peakCommittedBytes());
            assertThat(s.purgeCount()).as("%s: purgeCount went down", at()).isGreaterThanOrEqualTo(
                    previous.purgeCount());
            // The steps run one at a time, each between two stats() calls that sample the peak, and live bytes
            // inside a step never exceed those before or after it (a moving realloc never counts both blocks): so
            // the peak is exactly the most seen at a step's end
            mostLive = Math.max(mostLive, s.liveBytes());
            assertThat(s.peakLiveBytes()).as("%s: peakLiveBytes, the most live bytes seen at a step's end", at())
                    .isEqualTo(mostLive);
            assertThat(s.freeBytes()).as("%s: freeBytes", at()).isGreaterThanOrEqualTo(s.retainedBytes())
                    .isLessThanOrEqualTo(s.committedBytes() - s.liveBytes());
            assertThat(s.largestFreeBlock()).as("%s: largestFreeBlock", at()).isLessThanOrEqualTo(s.retainedBytes());
            assertThat(s.externalFragmentation()).as("%s: externalFragmentation", at()).isBetween(0.0, 1.0);
            assertThat(s.utilization()).as("%s: utilization", at()).isBetween(0.0, 1.0);
            assertThat(s.residentBytes()).as("%s: resident bytes are committed ones", at())
                    .isBetween(0L, s.committedBytes());
            assertThat(s.peakFootprintBytes()).as("%s: peakFootprintBytes", at())
                    .isGreaterThanOrEqualTo(s.committedBytes() + s.metadataBytes())
                    .isGreaterThanOrEqualTo(previous.peakFootprintBytes());
            previous = s;
            assertThat(heap.verify()).as("%s: verify", at()).isEmpty();
            checkLeaks();
        }

        /**
         * leaks() counts the program's blocks and the open arena's live segments (by arena, not among the entries),
         * never the stack's; with every site recorded, names the program's blocks.
         */
        void checkLeaks() {
            LeakReport r = heap.leaks();
            long segments = 0, segmentBytes = 0, held = 0;
            for (LeakReport.UnclosedArena a : r.arenas()) {
                segments += a.segments();
                segmentBytes += a.bytes();
                held += a.heldBytes();
            }
            long exact = arenaPieces.stream().mapToLong(p -> p.segment().byteSize()).sum();
            assertThat(segments).as("%s: the open arena's live segments, %s", at(), r).isEqualTo(arenaPieces.size());
            if (setup.mode() == HeapMode.CHECKED) {
                assertThat(segmentBytes).as("%s: their bytes, %s", at(), r).isEqualTo(exact);
            } else { // FAST: a segment carved from a chunk counts by its class in the arena (LeakReport)
                assertThat(segmentBytes).as("%s: their bytes, %s", at(), r).isGreaterThanOrEqualTo(exact);
            }
            assertThat(held).as("%s: the heap bytes the open arena holds, %s", at(), r)
                    .isEqualTo(arenaCounts.liveBytes());
            assertThat(r.liveBytes()).as("%s: leaks().liveBytes", at()).isEqualTo(liveBytes + segmentBytes);
            assertThat(r.liveBlocks()).as("%s: leaks().liveBlocks", at()).isEqualTo(live.size() + segments);
            long blocks = r.unattributedBlocks(), bytes = r.unattributedBytes();
            for (LeakReport.Entry e : r.entries()) {
                blocks += e.blocks();
                bytes += e.bytes();
            }
            assertThat(List.of(blocks, bytes)).as("%s: leaks() entries and unattributed, %s", at(), r)
                    .isEqualTo(List.of((long) live.size(), liveBytes));
            if (setup.sites() == 1.0) {
                assertThat(r.unattributedBytes()).as("%s: every site recorded, %s", at(), r).isZero();
            }
        }

        /** Pops the frames, closes the arena, frees every block (half on the worker), and checks what is left. */
        void finish() {
            op = new Op(Kind.FREE, 0, 1, 0);
            step++;
            while (!frames.isEmpty()) stack(new Op(Kind.STACK, 0, 1, 1));
            if (arena != null) closeArena(false);
            int i = 0;
            for (Block b : List.copyOf(live.values())) free(b, true, i++ % 2 == 1);
            check();
            worker.stop(); // its cache and quarantine go to the heap: trim gives them back
            worker = new Worker();
            heap.trim();
            check();
            assertThat(heap.stats().liveBytes()).as("%s: live bytes left", at()).isEqualTo(stackCounts.liveBytes());
            if (setup.limit() > 0) {
                // The heap stays usable: with every block freed, a request of all but a little of the limit fits
                long size = setup.limit() - stackCounts.liveBytes() - (256 << 10);
                try {
                    admit(heap.malloc(size), size, 16, false, null);
                } catch (HeapExhaustedException e) {
                    throw new AssertionError(at() + ": refused with every block freed: " + e.getMessage(), e);
                }
                check();
                free(live.get(order.getFirst()), false, false);
                check();
            }
        }
    }
}
