package org.malloc4j.internal.small;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.malloc4j.Heap;
import org.malloc4j.HeapStats;
import org.malloc4j.internal.os.Memory;

/**
 * A larson-like workload with hand-offs and thread deaths, to see where a heap's committed bytes beyond its live ones
 * are when several threads allocate and free: each worker owns {@link #SLOTS} slots and, in each round, frees a
 * random slot and allocates a block of a random size into it ({@link #size}: mostly 16-512 B, some to 32 KiB, some
 * medium, one in a hundred 256-300 KB), writing its first and last 8 bytes. Between rounds the slot arrays move on to
 * the next worker, so that every block of the previous round is freed by another thread than the one that allocated
 * it, and every {@link #DIE_EVERY} rounds each worker's thread ends and a new one takes over. Seeded; the threads'
 * interleaving within a round is not, so figures vary a little from run to run. At the end of each round the
 * workers are quiescent and {@link Footprint} takes the committed bytes apart; the round whose committed bytes were
 * highest is printed, with the heap's peaks.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp core/target/classes:core/target/test-classes
 * org.malloc4j.internal.small.MultiThreadFootprint [threads...] [virtual] [decay0]}.
 */
public final class MultiThreadFootprint {
    static final int SLOTS = Integer.getInteger("slots", 512), OPS = 8 * SLOTS, ROUNDS = 24, DIE_EVERY = 4;

    /** Figures of one run. */
    public record Result(HeapStats stats, Footprint worst, long worstLive, long modelPeakLive) {
        double ratio() {
            return (double) stats.peakCommittedBytes() / modelPeakLive;
        }
    }

    private MultiThreadFootprint() {}

    /** A block size: 85% 16-512 B, 10% to 32 KiB, 4% 32-256 KiB, 1% 256-300 KB; log-uniform within each. */
    static long size(SplittableRandom r) {
        int p = r.nextInt(100);
        if (p < 85) return logUniform(r, 16, 512);
        if (p < 95) return logUniform(r, 512, 32 << 10);
        if (p < 99) return logUniform(r, 32 << 10, 256 << 10);
        return r.nextLong(256 << 10, 300_000);
    }

    private static long logUniform(SplittableRandom r, long lo, long hi) {
        return (long) Math.exp(Math.log(lo) + r.nextDouble() * (Math.log(hi) - Math.log(lo)));
    }

    /** Runs the workload with {@code threads} workers on {@code heap}. */
    public static Result run(Heap heap, int threads, boolean virtual, boolean mixed) throws Exception {
        long[][] slots = new long[threads][SLOTS];
        long[][] sizes = new long[threads][SLOTS];
        ExecutorService[] workers = new ExecutorService[threads];
        Footprint worst = null;
        long worstLive = 0, modelPeak = 0;
        for (int round = 0; round < ROUNDS; round++) {
            Future<?>[] done = new Future<?>[threads];
            for (int w = 0; w < threads; w++) {
                if (workers[w] == null) {
                    workers[w] = virtual || mixed && (w & 1) == 1 ? Executors.newVirtualThreadPerTaskExecutor()
                            : Executors.newSingleThreadExecutor();
                }
                long[] mine = slots[(w + round) % threads], mySizes = sizes[(w + round) % threads];
                SplittableRandom rnd = new SplittableRandom(round * 1_000_003L + w);
                done[w] = workers[w].submit(() -> work(heap, mine, mySizes, rnd));
            }
            long peakThisRound = 0;
            for (Future<?> f : done) peakThisRound += (long) f.get();
            modelPeak = Math.max(modelPeak, peakThisRound); // a bound: the workers' own peaks, added
            if ((round + 1) % DIE_EVERY == 0) {
                for (int w = 0; w < threads; w++) {
                    workers[w].shutdown();
                    workers[w].awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
                    workers[w] = null; // its thread ends; the next round's comes new
                }
            }
            Footprint f = Footprint.of(heap);
            if (Boolean.getBoolean("rounds")) {
                System.out.printf("  round %2d live %6d committed %6d peakC %6d dirty %6d stacks %5d remote %5d"
                        + " (stripes %5d) partial %5d dead %5d KiB%n", round, heap.stats().liveBytes() >> 10, f.committed >> 10,
                        heap.stats().peakCommittedBytes() >> 10, f.bytes.get(Footprint.DIRTY) >> 10,
                        f.bytes.get(Footprint.MEDIUM) >> 10, f.bytes.get(Footprint.REMOTE) >> 10,
                        f.bytes.get(Footprint.REMOTE_STRIPE) >> 10,
                        f.bytes.get(Footprint.PARTIAL) >> 10, f.bytes.get(Footprint.DEAD) >> 10);
            }
            if (worst == null || f.committed > worst.committed) {
                worst = f;
                worstLive = heap.stats().liveBytes();
            }
        }
        for (ExecutorService e : workers) if (e != null) e.shutdown();
        HeapStats s = heap.stats();
        for (long[] a : slots) for (long b : a) if (b != 0) heap.free(b);
        return new Result(s, worst, worstLive, modelPeak);
    }

    /** One round of one worker; @return the most live bytes its slots held during the round */
    private static long work(Heap heap, long[] slots, long[] sizes, SplittableRandom rnd) {
        long live = 0;
        for (long s : sizes) live += s;
        long peak = live;
        for (int i = 0; i < OPS; i++) {
            int k = rnd.nextInt(slots.length);
            if (slots[k] != 0) {
                heap.free(slots[k]);
                live -= sizes[k];
            }
            long n = size(rnd);
            long a = heap.malloc(n);
            Memory.putLong(a, n);
            Memory.putLong(a + n - 8, n);
            slots[k] = a;
            sizes[k] = n;
            live += n;
            peak = Math.max(peak, live);
        }
        return peak;
    }

    public static void main(String[] args) throws Exception {
        boolean virtual = false, decay0 = false, mixed = false;
        java.util.List<Integer> counts = new java.util.ArrayList<>();
        long spare = LocalHeap.SPARE_BYTES;
        for (String a : args) {
            if (a.equals("virtual")) virtual = true;
            else if (a.equals("mixed")) mixed = true;
            else if (a.equals("decay0")) decay0 = true;
            else if (a.startsWith("spare=")) spare = Long.parseLong(a.substring(6));
            else counts.add(Integer.parseInt(a));
        }
        if (counts.isEmpty()) counts = java.util.List.of(2, 4, 8);
        for (int t : counts) {
            try (Heap heap = Heap.builder().decay(decay0 ? Duration.ZERO : Duration.ofSeconds(1)).spareBytes(spare)
                    .jmx(false).build()) {
                Result r = run(heap, t, virtual, mixed);
                HeapStats s = r.stats;
                System.out.printf("%d %s threads, decay %s, spare %d KiB: peak committed %d KiB, peak live %d KiB"
                        + " (heap's, sampled) / %d KiB (workers' peaks added): %.2f / %.2f%n", t,
                        virtual ? "virtual" : mixed ? "mixed" : "platform", decay0 ? "0" : "1s", spare >> 10,
                        s.peakCommittedBytes() >> 10, s.peakLiveBytes() >> 10, r.modelPeakLive >> 10,
                        (double) s.peakCommittedBytes() / s.peakLiveBytes(), r.ratio());
                System.out.printf(" round with the most committed (live %d KiB by stats):%n%s", r.worstLive >> 10,
                        r.worst.table());
            }
        }
    }
}
