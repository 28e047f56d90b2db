package org.malloc4j;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.malloc4j.internal.stack.StackRegistry;

/**
 * Thread death under a small limit (1 to 4 MiB): rounds of platform and virtual threads that start, allocate (malloc,
 * calloc, realloc, alignedAlloc, segments, stack frames, confined and shared arenas), hand blocks and shared arenas
 * to each other, free them, trim, read stats(), verify() and leaks(), and end at random points (some inside a frame),
 * while the others run into the limit: each refusal ({@link HeapExhaustedException}, expected and allowed) first
 * adopts the ended threads' caches, drains the virtual threads' stripes and takes back ended threads' and idle stack
 * blocks. After every round's joins the model is checked: every block it holds is live with its word pattern, every
 * block it freed is refused on a second free (the heap left as it was), the live bytes and blocks are the model's plus
 * the stacks' own blocks, verify() is empty and committed stays under the limit. At the end, every block freed, a
 * request of nearly the limit is served (the refusal path takes back what ended threads held), and after trim() the
 * heap commits little beyond the stacks' pooled blocks. The workers' verify() calls, concurrent with the others'
 * mallocs, must be empty in both modes: a CHECKED one reported blocks taken from the engine whose header was not
 * written yet (584 in 240 s of {@link #main}; CheckedVerifyWhileASmallBlockIsPlacedTest). Long runs: {@link #main}
 * ({@code fast|checked|both SEED0 SEEDS ROUNDS [SECONDS]}).
 */
class ThreadDeathUnderALimitProperties {
    static final long MiB = 1L << 20;
    /** A stack's block as the heap counts it: 64 KiB and 16 bytes. */
    static final long STACK_BLOCK = HeapStack.DEFAULT_SIZE + 16;

    @Property(tries = 8)
    void fastHeapAgreesWithTheModel(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long seed) throws Exception {
        run(HeapMode.FAST, seed, 4);
    }

    @Property(tries = 5)
    void checkedHeapAgreesWithTheModel(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long seed) throws Exception {
        run(HeapMode.CHECKED, seed, 3);
    }

    /** A live block of the model: its word pattern is {@code pat} ({@link FuzzCampaign#fill}). */
    record Blk(long addr, long size, long pat, MemorySegment seg) {
        @Override
        public String toString() {
            return "block 0x" + Long.toHexString(addr) + " (" + size + " B" + (seg != null ? ", segment" : "") + ")";
        }
    }

    /** A segment of an arena or a frame with its pattern. */
    record Seg(MemorySegment seg, long pat) {}

    /** A shared arena handed between threads, with its segments. */
    record Handed(Arena arena, List<Seg> segs) {}

    /** One run: a heap, its model and the threads' hand-overs. */
    static final class Run {
        final HeapMode mode;
        final long seed, limit, spare, quarantine;
        final Heap heap;
        final ConcurrentHashMap<Long, Blk> live = new ConcurrentHashMap<>();
        /** Addresses freed since the last check (some allocated again since: those are live in the model). */
        final Set<Long> freed = ConcurrentHashMap.newKeySet();
        final ConcurrentLinkedQueue<Blk> handed = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<Handed> arenas = new ConcurrentLinkedQueue<>();
        final AtomicLong pats = new AtomicLong(1), refusals = new AtomicLong(), ops = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        String where = "start";

        Run(HeapMode mode, long seed) {
            this.mode = mode;
            this.seed = seed;
            SplittableRandom r = new SplittableRandom(seed);
            this.limit = (1 + r.nextInt(4)) * MiB + (r.nextBoolean() ? 0 : 4096L * r.nextInt(1, 64));
            this.spare = r.nextBoolean() ? 0 : 256 << 10;
            this.quarantine = mode == HeapMode.CHECKED ? new long[] {0, 64 << 10, 256 << 10}[r.nextInt(3)] : 0;
            Duration decay = r.nextBoolean() ? Duration.ZERO : Duration.ofHours(1);
            Heap.Builder b = Heap.builder().mode(mode).jmx(false).reserve(64 * MiB).limit(limit).decay(decay)
                    .spareBytes(spare);
            if (mode == HeapMode.CHECKED) b.quarantine(quarantine);
            this.heap = b.build();
        }

        String what() {
            return mode + " seed " + seed + " (limit " + limit + ", spare " + spare + ", quarantine " + quarantine
                    + ") " + where;
        }

        AssertionError fail(String message) {
            return new AssertionError(what() + ": " + message);
        }

        void admit(Blk b) {
            freed.remove(b.addr);
            Blk old = live.put(b.addr, b);
            if (old != null) throw fail(b + " handed out while the model holds " + old + " there");
        }

        void check(Blk b, long upTo) {
            long at = FuzzCampaign.mismatch(b.addr, b.size, upTo, b.pat);
            if (at >= 0) throw fail(b + " lost its contents at offset " + at);
        }

        void check(Seg s) {
            long at = FuzzCampaign.mismatch(s.seg.address(), s.seg.byteSize(), s.seg.byteSize(), s.pat);
            if (at >= 0) throw fail("segment " + s.seg + " lost its contents at offset " + at);
        }

        long stacks() throws ReflectiveOperationException {
            return ((StackRegistry) Internals.field(heap, Heap.class, "stacks")).liveStacks();
        }

        /** The model against the heap; no thread but the caller's uses it. */
        void checkModel() throws Exception {
            for (Handed h; (h = arenas.poll()) != null; ) {
                h.segs.forEach(this::check);
                h.arena.close();
            }
            long bytes = 0;
            for (Blk b : live.values()) {
                check(b, b.size);
                long usable = heap.usableSize(b.addr);
                if (usable < b.size) throw fail(b + ": usableSize " + usable);
                bytes += b.size;
            }
            HeapStats before = heap.countersForTests();
            for (long a : freed) {
                if (live.containsKey(a)) continue;
                try {
                    heap.free(a);
                    throw fail("a second free of 0x" + Long.toHexString(a) + " was not refused");
                } catch (InvalidFreeException e) {
                    if (e.address() != a) throw fail("refusal names 0x" + Long.toHexString(e.address()) + ": " + e);
                }
            }
            freed.clear();
            HeapStats s = heap.countersForTests();
            if (s.liveBytes() != before.liveBytes() || s.mallocCount() != before.mallocCount()
                    || s.freeCount() != before.freeCount()) {
                throw fail("refused frees changed the heap: " + before + " -> " + s);
            }
            long stacks = stacks();
            if (s.liveBytes() != bytes + stacks * STACK_BLOCK) {
                throw fail("liveBytes " + s.liveBytes() + ", model " + bytes + " in " + live.size() + " blocks and "
                        + stacks + " stacks' blocks: " + s);
            }
            if (s.mallocCount() - s.freeCount() != live.size() + stacks) {
                throw fail("live blocks " + (s.mallocCount() - s.freeCount()) + ", model " + live.size() + " and "
                        + stacks + " stacks' blocks: " + s);
            }
            if (s.committedBytes() > limit) throw fail("committed over the limit: " + s);
            List<HeapDamage> damage = heap.verify();
            if (!damage.isEmpty()) throw fail("verify: " + damage);
            LeakReport leaks = heap.leaks();
            if (leaks.liveBytes() != bytes || leaks.liveBlocks() != live.size()) {
                throw fail("leaks() says " + leaks.liveBlocks() + " blocks of " + leaks.liveBytes() + " bytes, model "
                        + live.size() + " of " + bytes);
            }
        }

        /** A round: threads that start together and end at random points; then the check. */
        void round(SplittableRandom rnd, int round) throws Exception {
            int n = rnd.nextInt(1, 6);
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Worker w = new Worker(this, rnd.split(), round + "." + i);
                Thread.Builder b = rnd.nextBoolean() ? Thread.ofVirtual() : Thread.ofPlatform();
                threads.add(b.name("w" + round + "." + i).unstarted(w));
            }
            threads.forEach(Thread::start);
            for (Thread t : threads) {
                if (!t.join(Duration.ofSeconds(120))) throw fail(t + " still running after 120 s: a deadlock?");
            }
            where = "after round " + round;
            if (failure.get() != null) throw new AssertionError(what() + ": a thread failed", failure.get());
            // The main thread: frees some blocks (remote frees to ended threads' caches), allocates a few
            int frees = rnd.nextInt(1 + live.size() / 2);
            for (Blk b; frees-- > 0 && (b = handed.poll()) != null; ) freeBlock(b);
            if (rnd.nextInt(3) == 0) {
                try {
                    long size = rnd.nextLong(1, 4096);
                    long p = heap.malloc(size);
                    Blk b = new Blk(p, size, pats.getAndIncrement(), null);
                    FuzzCampaign.fill(p, size, b.pat);
                    admit(b);
                    handed.add(b);
                } catch (HeapExhaustedException e) {
                    refusals.incrementAndGet();
                }
            }
            if (rnd.nextInt(4) == 0) heap.trim();
            checkModel();
        }

        void freeBlock(Blk b) {
            check(b, b.size);
            if (live.remove(b.addr) != b) throw fail(b + " is not the model's");
            if (b.seg != null) heap.free(b.seg);
            else heap.free(b.addr);
            freed.add(b.addr);
        }

        /** Every block freed: a request of nearly the limit is served, and trim() leaves little committed. */
        void finish() throws Exception {
            where = "at the end";
            for (Blk b; (b = handed.poll()) != null; ) freeBlock(b);
            if (!live.isEmpty()) throw fail("blocks the model lost: " + live.values());
            checkModel();
            // Left here: the stacks of ended threads, the stack pool, the ended threads' caches and the stripes'
            // slabs; a refusal takes them all back before it gives up. Not the quarantine or this thread's spares.
            long room = limit - spare - quarantine - 256 * 1024;
            try {
                long p = heap.malloc(room);
                heap.free(p);
            } catch (HeapExhaustedException e) {
                throw fail("a request of " + room + " bytes with nothing live refused: " + e.getMessage());
            }
            heap.trim();
            HeapStats s = heap.countersForTests();
            long stacks = stacks();
            if (s.liveBytes() != stacks * STACK_BLOCK) throw fail("live after trim: " + s + ", " + stacks + " stacks");
            long pooled = stacks * (STACK_BLOCK + 4096 + (mode == HeapMode.CHECKED ? 4096 : 0));
            if (s.committedBytes() > pooled + 64 * 1024) {
                throw fail("committed after every block was freed and trim(): " + s + ", " + stacks + " stacks");
            }
        }
    }

    /** A thread's life: random operations, then its end (inside its frames, now and then). */
    static final class Worker implements Runnable {
        final Run run;
        final Heap heap;
        final SplittableRandom rnd;
        final String name;
        final List<Blk> own = new ArrayList<>();
        final ArrayDeque<StackFrame> frames = new ArrayDeque<>();
        final ArrayDeque<List<Seg>> frameSegs = new ArrayDeque<>();
        final ArrayDeque<String> log = new ArrayDeque<>();

        Worker(Run run, SplittableRandom rnd, String name) {
            this.run = run;
            this.heap = run.heap;
            this.rnd = rnd;
            this.name = name;
        }


        void log(String s) {
            if (log.size() == 24) log.removeFirst();
            log.addLast(s);
        }

        @Override
        public void run() {
            try {
                int steps = rnd.nextInt(0, 120);
                for (int i = 0; i < steps && run.failure.get() == null; i++) {
                    step();
                    run.ops.incrementAndGet();
                }
                end();
            } catch (Throwable t) {
                AssertionError e = new AssertionError("thread " + name + " (" + Thread.currentThread() + "), last ops "
                        + log, t);
                run.failure.compareAndSet(null, e);
            }
        }

        long size() {
            int k = rnd.nextInt(100);
            if (k < 50) return rnd.nextLong(1, 2049);
            if (k < 75) return rnd.nextLong(2049, 65537);
            if (k < 96) return rnd.nextLong(65537, Math.max(65538, run.limit / 3));
            return rnd.nextLong(run.limit / 2, run.limit + 1);
        }

        Blk take(long p, long size, MemorySegment seg) {
            Blk b = new Blk(p, size, run.pats.getAndIncrement(), seg);
            FuzzCampaign.fill(p, size, b.pat);
            run.admit(b);
            own.add(b);
            return b;
        }

        Blk pick() {
            int i = rnd.nextInt(own.size());
            Blk b = own.get(i);
            own.set(i, own.get(own.size() - 1));
            own.remove(own.size() - 1);
            return b;
        }

        void free(Blk b) {
            log("free " + b);
            run.freeBlock(b);
        }

        void step() {
            int k = rnd.nextInt(100);
            if (own.size() > 24 && k < 42) k = 42 + rnd.nextInt(10); // keep the blocks bounded: free
            try {
                if (k < 18) {
                    long size = size();
                    log("malloc " + size);
                    take(heap.malloc(size), size, null);
                } else if (k < 23) {
                    long n = rnd.nextLong(1, 64), size = Math.max(1, size() / n);
                    log("calloc " + n + " x " + size);
                    long p = heap.calloc(n, size);
                    long at = Blocks.firstNonZero(p, n * size);
                    if (at >= 0) throw run.fail("calloc's block 0x" + Long.toHexString(p) + " not zero at " + at);
                    take(p, n * size, null);
                } else if (k < 31 && !own.isEmpty()) {
                    realloc();
                } else if (k < 35) {
                    long align = 1L << rnd.nextInt(5, 17), size = size();
                    log("alignedAlloc " + align + ", " + size);
                    long p = heap.alignedAlloc(align, size);
                    if ((p & (align - 1)) != 0) throw run.fail("alignedAlloc(" + align + ") gave " + p);
                    take(p, size, null);
                } else if (k < 40) {
                    long align = rnd.nextBoolean() ? 8 : 1L << rnd.nextInt(4, 13), size = size();
                    log("allocate " + size + ", " + align);
                    MemorySegment s = heap.allocate(size, align);
                    if (s.byteSize() != size || (s.address() & (align - 1)) != 0) throw run.fail("segment " + s);
                    take(s.address(), size, s);
                } else if (k < 56 && !own.isEmpty()) {
                    free(pick());
                } else if (k < 60 && !own.isEmpty()) {
                    Blk b = pick();
                    log("hand " + b);
                    run.handed.add(b);
                } else if (k < 64) {
                    Blk b = run.handed.poll();
                    log("took " + b);
                    if (b != null) own.add(b);
                } else if (k < 72) {
                    stack();
                } else if (k < 76) {
                    confinedArena();
                } else if (k < 80) {
                    sharedArena();
                } else if (k < 84) {
                    log("trim");
                    heap.trim();
                } else if (k < 90) {
                    log("stats");
                    HeapStats s = heap.stats();
                    if (s.committedBytes() > run.limit) throw run.fail("committed over the limit: " + s);
                } else if (k < 94) {
                    log("verify");
                    List<HeapDamage> d = heap.verify();
                    if (!d.isEmpty()) throw run.fail("verify, concurrent with the other threads: " + d);
                } else if (k < 97) {
                    log("leaks");
                    heap.leaks();
                } else if (!own.isEmpty()) {
                    Blk b = own.get(rnd.nextInt(own.size()));
                    long u = heap.usableSize(b.addr);
                    if (u < b.size) throw run.fail(b + ": usableSize " + u);
                }
            } catch (HeapExhaustedException e) {
                log("refused: " + e.getMessage());
                run.refusals.incrementAndGet();
                String message = String.valueOf(e.getMessage());
                if (!message.contains("limit")) throw run.fail("refusal without its limit: " + e);
            }
        }

        void realloc() {
            Blk b = pick();
            long size = rnd.nextInt(4) == 0 ? Math.max(1, b.size + rnd.nextLong(-64, 65)) : size();
            log("realloc " + b + " to " + size);
            run.check(b, b.size);
            if (run.live.remove(b.addr) != b) throw run.fail(b + " is not the model's");
            long q;
            try {
                q = heap.realloc(b.addr, size);
            } catch (HeapExhaustedException e) {
                run.live.put(b.addr, b); // refused: the block stays as it was
                own.add(b);
                run.check(b, b.size);
                throw e;
            }
            long at = FuzzCampaign.mismatch(q, b.size, Math.min(b.size, size), b.pat);
            if (at >= 0) throw run.fail("realloc of " + b + " to " + size + " at 0x" + Long.toHexString(q)
                    + " lost its contents at " + at);
            if (q != b.addr) run.freed.add(b.addr);
            take(q, size, null);
        }

        void stack() {
            if (!frames.isEmpty() && (frames.size() == 3 || rnd.nextBoolean())) {
                log("pop at depth " + frames.size());
                frameSegs.removeLast().forEach(run::check);
                frames.removeLast().close();
                return;
            }
            log("push at depth " + frames.size());
            StackFrame f = heap.stack().push();
            frames.addLast(f);
            List<Seg> segs = new ArrayList<>();
            frameSegs.addLast(segs);
            for (int i = rnd.nextInt(4); i > 0; i--) {
                MemorySegment s = f.allocate(rnd.nextLong(1, 4097), 1L << rnd.nextInt(0, 7));
                Seg g = new Seg(s, run.pats.getAndIncrement());
                FuzzCampaign.fill(s.address(), s.byteSize(), g.pat);
                segs.add(g);
            }
        }

        List<Seg> fillFrom(Arena a, int count) {
            List<Seg> segs = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                long size = rnd.nextInt(8) == 0 ? rnd.nextLong(4097, 40_000) : rnd.nextLong(1, 4097);
                MemorySegment s = a.allocate(size, 1L << rnd.nextInt(0, 9));
                Seg g = new Seg(s, run.pats.getAndIncrement());
                FuzzCampaign.fill(s.address(), size, g.pat);
                segs.add(g);
            }
            return segs;
        }

        void confinedArena() {
            log("confined arena");
            try (Arena a = heap.newArena()) {
                List<Seg> segs = fillFrom(a, rnd.nextInt(1, 12));
                if (rnd.nextBoolean()) heap.free(segs.remove(0).seg);
                segs.forEach(run::check);
            }
        }

        void sharedArena() {
            Handed h = run.arenas.poll();
            if (h != null) {
                log("took a shared arena of " + h.segs.size());
                h.segs.forEach(run::check);
                try {
                    if (rnd.nextBoolean()) h.segs.addAll(fillFrom(h.arena, rnd.nextInt(1, 4)));
                } finally {
                    if (rnd.nextBoolean()) h.arena.close();
                    else run.arenas.add(h);
                }
                return;
            }
            log("shared arena");
            Arena a = heap.newSharedArena();
            List<Seg> segs = new ArrayList<>();
            try {
                segs.addAll(fillFrom(a, rnd.nextInt(1, 8)));
            } finally {
                run.arenas.add(new Handed(a, segs)); // refused or not: the next taker or the round's check closes it
            }
        }

        void end() {
            int k = rnd.nextInt(4);
            if (k > 0 || frames.isEmpty()) {
                while (!frames.isEmpty()) {
                    frameSegs.removeLast().forEach(run::check);
                    frames.removeLast().close();
                }
            } else {
                log("ends inside " + frames.size() + " frames");
            }
            for (Blk b : own) {
                if (rnd.nextBoolean()) free(b);
                else run.handed.add(b);
            }
            own.clear();
        }
    }

    static long run(HeapMode mode, long seed, int rounds) throws Exception {
        Run r = new Run(mode, seed);
        try (Heap heap = r.heap) {
            SplittableRandom rnd = new SplittableRandom(seed ^ 0x5deece66dL);
            if (rnd.nextBoolean()) heap.free(heap.malloc(16)); // the heap's first thread: this one, or a worker
            for (int i = 0; i < rounds; i++) r.round(rnd, i);
            r.finish();
        }
        return r.ops.get();
    }

    /** {@code fast|checked|both SEED0 SEEDS ROUNDS [SECONDS]}: a long run, one line per seed. */
    public static void main(String[] args) throws Exception {
        List<HeapMode> modes = switch (args[0]) {
            case "fast" -> List.of(HeapMode.FAST);
            case "checked" -> List.of(HeapMode.CHECKED);
            default -> List.of(HeapMode.FAST, HeapMode.CHECKED);
        };
        long seed0 = Long.parseLong(args[1]);
        int seeds = Integer.parseInt(args[2]), rounds = Integer.parseInt(args[3]);
        long deadline = args.length > 4 ? System.nanoTime() + Long.parseLong(args[4]) * 1_000_000_000L : Long.MAX_VALUE;
        int failures = 0, runs = 0;
        long ops = 0;
        for (int s = 0; s < seeds && System.nanoTime() < deadline; s++) {
            for (HeapMode m : modes) {
                try {
                    ops += run(m, seed0 + s, rounds);
                    runs++;
                } catch (Throwable t) {
                    failures++;
                    System.out.println("FAIL " + m + " seed " + (seed0 + s) + ": " + t);
                    t.printStackTrace(System.out);
                    if (failures > 10) return;
                }
            }
        }
        System.out.println("runs " + runs + ", ops " + ops + ", failures " + failures);
    }
}
