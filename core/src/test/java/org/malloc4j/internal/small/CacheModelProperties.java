package org.malloc4j.internal.small;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

/**
 * A model of two thread caches driven directly (fresh made-up addresses, as {@link FakeSlabSource}): random mallocs
 * of every class and its boundaries, local and remote frees, collections, adoptions of a "dead" cache with slabs in
 * every state, trims and spare releases, checked after every step against a map of the live blocks.
 */
class CacheModelProperties {

    /** A slab source that tracks the slabs it handed out and checks each release and each refill. */
    static final class TrackingSource implements SlabSource {
        final TreeMap<Long, Slab> outstanding = new TreeMap<>();
        final long budget;
        final List<String> errors = new ArrayList<>();
        private long next = 1L << 40;

        TrackingSource(long budget) {
            this.budget = budget;
        }

        @Override
        public Slab newSlab(int sizeClass, LocalHeap owner, long request) {
            // Before a cache takes a new slab of a class, it has no slab of that class with a free block left over
            for (Slab s : outstanding.values()) {
                if (s.owner == owner && s.sizeClass == sizeClass && s.summary != 0) {
                    errors.add("new slab of class " + sizeClass + " while slab at " + Long.toHexString(s.base)
                            + " has free blocks (used " + s.used + "/" + s.capacity + ", listed " + s.listed
                            + ", spare " + s.spare + ", current " + s.isCurrent + ")");
                }
            }
            int pages = owner.nextSlabPages(sizeClass);
            Slab s = owner.newSlab(next, sizeClass, pages);
            next += ((long) pages << 12) + 4096; // a gap page between slabs
            outstanding.put(s.base, s);
            return s;
        }

        @Override
        public void releaseSlab(Slab slab) {
            Slab was = outstanding.remove(slab.base);
            if (was != slab) errors.add("released a slab not handed out: " + Long.toHexString(slab.base));
            if (slab.used != 0 || slab.liveBlocks() != 0) {
                errors.add("released a slab with blocks in use: " + slab.used + " / " + slab.liveBlocks());
            }
        }

        @Override
        public void onSlowPath(LocalHeap cache) {}

        @Override
        public long spareBudget() {
            return budget;
        }

        Slab slabOf(long address) {
            Map.Entry<Long, Slab> e = outstanding.floorEntry(address);
            return e == null ? null : e.getValue();
        }
    }

    record Block(long address, int sizeClass, long size) {}

    @Property(tries = 300)
    void cachesAgreeWithTheModel(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long seed) {
        run(seed, new long[] {0, 64 << 10, 300 << 10, LocalHeap.SPARE_BYTES}[(int) (seed & 3)], 600);
    }

    static void run(long seed, long budget, int steps) {
        SplittableRandom random = new SplittableRandom(seed);
        TrackingSource source = new TrackingSource(budget);
        LocalHeap[] caches = {LocalHeap.exclusive(Thread.currentThread(), source),
                LocalHeap.exclusive(Thread.currentThread(), source)};
        long retiredLive = 0, retiredMallocs = 0, retiredFrees = 0;
        List<Block> live = new ArrayList<>();
        long liveBytes = 0, mallocs = 0, frees = 0;
        // A few classes per run, so that slabs fill and empty: boundaries of every class over the runs
        int[] classes = new int[3];
        for (int i = 0; i < classes.length; i++) classes[i] = random.nextInt(SizeClasses.COUNT);
        List<String> log = new ArrayList<>();
        for (int step = 0; step < steps; step++) {
            int op = random.nextInt(100);
            int who = random.nextInt(2);
            LocalHeap cache = caches[who];
            if (op < 45 && live.size() < 300) {
                int c = classes[random.nextInt(classes.length)];
                long hi = SizeClasses.size(c), lo = c == 0 ? 0 : SizeClasses.size(c - 1) + 1;
                long size = switch (random.nextInt(4)) {
                    case 0 -> hi;
                    case 1 -> lo;
                    // An aligned request puts a small size in a large small class (medium ones get sizes of their own)
                    case 2 -> c < SizeClasses.FIRST_MEDIUM ? random.nextLong(0, hi + 1) : hi;
                    default -> random.nextLong(lo, hi + 1);
                };
                long p = cache.allocate(c, size);
                log.add("malloc " + who + " c" + c + " " + size + " -> " + Long.toHexString(p));
                live.add(new Block(p, c, size));
                liveBytes += size;
                mallocs++;
            } else if (op < 85 && !live.isEmpty()) {
                // Free in a mostly LIFO, sometimes random order
                int i = random.nextInt(3) == 0 ? random.nextInt(live.size()) : live.size() - 1;
                Block b = live.get(i);
                live.set(i, live.get(live.size() - 1));
                live.remove(live.size() - 1);
                Slab s = source.slabOf(b.address());
                int idx = s.indexOf(b.address());
                boolean ok = s.owner == cache ? cache.freeLocal(s, idx) : cache.freeRemote(s, idx);
                log.add("free " + who + (s.owner == cache ? " local " : " remote ") + Long.toHexString(b.address()));
                assertThat(ok).as("free of a live block %s", log).isTrue();
                liveBytes -= b.size();
                frees++;
            } else if (op < 91) {
                log.add("drain " + who);
                cache.drainPending();
            } else if (op < 94) {
                // The cache's thread "dies": the other cache adopts it, and a new cache takes its place
                LocalHeap other = caches[1 - who];
                log.add("adopt " + who + " into " + (1 - who));
                other.adopt(cache);
                retiredLive += cache.live;
                retiredMallocs += cache.mallocs;
                retiredFrees += cache.frees;
                caches[who] = LocalHeap.exclusive(Thread.currentThread(), source);
            } else if (op < 97) {
                log.add("releaseEmpty " + who);
                cache.drainPending();
                cache.releaseEmpty();
            } else {
                log.add("releaseSpare " + who);
                cache.releaseSpare();
            }
            if (!source.errors.isEmpty()) {
                throw new AssertionError(source.errors + "\nseed " + seed + " budget " + budget + " at " + tail(log));
            }
            check(seed, budget, source, caches, live, log);
            long counted = retiredLive, m = retiredMallocs, f = retiredFrees;
            for (LocalHeap c : caches) {
                counted += c.liveBytes();
                m += c.mallocs;
                f += c.frees;
            }
            assertThat(counted).as("live bytes, seed %d at %s", seed, tail(log)).isEqualTo(liveBytes);
            assertThat(m).isEqualTo(mallocs);
            assertThat(f).isEqualTo(frees);
        }
        // Everything freed, collected and trimmed: no slab stays
        for (Block b : live) {
            Slab s = source.slabOf(b.address());
            LocalHeap cache = caches[0];
            boolean ok = s.owner == cache ? cache.freeLocal(s, s.indexOf(b.address()))
                    : cache.freeRemote(s, s.indexOf(b.address()));
            assertThat(ok).isTrue();
        }
        for (LocalHeap c : caches) c.drainPending();
        for (LocalHeap c : caches) c.releaseEmpty();
        assertThat(source.errors).isEmpty();
        assertThat(source.outstanding.values()).as("slabs left after every block was freed and trimmed, seed %d, %s",
                seed, tail(log)).isEmpty();
    }

    private static List<String> tail(List<String> log) {
        return log.subList(Math.max(0, log.size() - 30), log.size());
    }

    private static void check(long seed, long budget, TrackingSource source, LocalHeap[] caches, List<Block> live,
            List<String> log) {
        Map<Long, Block> byAddress = new HashMap<>();
        for (Block b : live) {
            Block was = byAddress.put(b.address(), b);
            assertThat(was).as("block handed out twice, seed %d at %s", seed, tail(log)).isNull();
            Slab s = source.slabOf(b.address());
            assertThat(s).isNotNull();
            int idx = s.indexOf(b.address());
            assertThat(idx).as("block inside its slab").isGreaterThanOrEqualTo(0);
            assertThat(s.sizeClass).isEqualTo(b.sizeClass());
            assertThat(s.isAllocatedLocal(idx)).as("live block allocated in its slab, seed %d at %s", seed, tail(log))
                    .isTrue();
            assertThat(s.owner == caches[0] || s.owner == caches[1]).as("owned by a live cache, seed %d at %s", seed,
                    tail(log)).isTrue();
        }
        // Slab bookkeeping: used matches the bitmaps, the summary its words
        IdentityHashMap<LocalHeap, Long> spare = new IdentityHashMap<>();
        Map<String, Integer> currents = new HashMap<>();
        for (Slab s : source.outstanding.values()) {
            assertThat(s.used).as("used of slab at %x, seed %d at %s", s.base, seed, tail(log))
                    .isEqualTo(s.liveBlocks() + remoteCount(s));
            if (s.isCurrent) {
                currents.merge(System.identityHashCode(s.owner) + "/" + s.sizeClass, 1, Integer::sum);
            }
            if (s.used == 0 && !s.isCurrent) spare.merge(s.owner, s.bytes(), Long::sum);
        }
        for (var e : currents.entrySet()) {
            assertThat(e.getValue()).as("current slabs of %s, seed %d", e.getKey(), seed).isEqualTo(1);
        }
        for (var e : spare.entrySet()) {
            assertThat(e.getValue()).as("bytes of empty slabs a cache keeps, budget %d, seed %d at %s", budget, seed,
                    tail(log)).isLessThanOrEqualTo(budget);
        }
    }

    private static int remoteCount(Slab s) {
        int n = 0;
        for (int w = 0; w < s.words; w++) n += Long.bitCount(s.bits[2 * w + 1]);
        return n;
    }
}
