package org.malloc4j.bench;

import java.util.Arrays;

/**
 * {@link PairBenchmark}'s operation (malloc, a write of the whole block, free) on malloc4j and one other allocator in
 * turn inside one JVM, a ratio per round: how malloc4j's fast path compares with an anchor's, read where the machine's
 * speed modes weigh on both alike.
 *
 * <p>Why not only JMH: each of its forks runs one allocator for its whole life, and on this shared 2-core VM a fork
 * can land in a slow mode of the host (the same jar's 16-byte pair read 10.4 ns in three forks at 19:06 and 17-18 ns in
 * three at 19:20, the anchors' forks unmoved). Here every round runs each subject for the same number of pairs, in
 * turn, each the fastest of several passes.
 *
 * <p>Like JMH's loop, each pair reads a volatile field, so that C2 cannot hoist the loads and checks that every call
 * of a real program pays (the heap's fields, its open flag, the caller's cache) out of the loop: without it a
 * malloc4j 16-byte pair read 5.6 ns, with it 14.6 (2026-12-06), and only the second is what a program sees. The loop
 * is written twice, once per subject, so that each call site sees one allocator, as in a JMH fork (with both through
 * one site C2 would inline neither).
 * <pre>
 * GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 TCMALLOC_SKIP_SBRK=true java --enable-native-access=ALL-UNNAMED \
 *     -cp bench/target/malloc4j-bench.jar org.malloc4j.bench.PairInTurn ROUNDS SIZE ANCHOR
 * </pre>
 * ANCHOR: any of {@link Subject#NAMES} or {@link Subject#DIAGNOSTIC_NAMES} but {@code malloc4j} and Netty's
 * ({@link #refusal} says why). With
 * {@code not-first}, another thread makes the heap's first malloc, so that the pairs are those of a thread that is
 * not the heap's first (every thread but one in a multi-threaded program).
 */
public final class PairInTurn {
    private static final String TOOL = "PairInTurn";
    private static final int WARM_UP_ROUNDS = 2, PASSES = 8, PAIRS = 1_000_000;

    /** Read once a pair, as JMH's loop reads its stop flag; never set. */
    private static volatile boolean stop;

    private final Subject subject;
    private final long size;

    private PairInTurn(Subject subject, long size) {
        this.subject = subject;
        this.size = size;
    }

    public static void main(String[] args) {
        if (args.length != 3 && !(args.length == 4 && args[3].equals("not-first"))) {
            System.err.println("usage: PairInTurn ROUNDS SIZE ANCHOR [not-first]   (ANCHOR: glibc, jemalloc, mimalloc,"
                    + " tcmalloc, ...)");
            System.exit(2);
        }
        boolean notFirst = args.length == 4;
        int rounds = ToolArgs.positive(TOOL, args[0], "ROUNDS");
        int size = ToolArgs.positive(TOOL, args[1], "SIZE");
        String anchor = ToolArgs.subject(TOOL, args[2]);
        String refusal = refusal(anchor);
        if (refusal != null) {
            System.err.println("PairInTurn: " + refusal);
            System.exit(2);
        }
        Subject heap = Subject.open("malloc4j", 1);
        if (notFirst) {
            // Another thread is the heap's first: the pairs below go through the door of a thread that is not
            Thread first = new Thread(() -> heap.free(0, heap.allocate(0, 16)));
            first.start();
            try {
                first.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        Subject other;
        try {
            other = Subject.open(anchor, 1);
        } catch (Subject.UnavailableException e) {
            heap.close();
            System.err.println("PairInTurn: SKIPPED " + anchor + ": " + e.getMessage());
            System.exit(2);
            return;
        }
        try {
            PairInTurn a = new PairInTurn(heap, size), b = new PairInTurn(other, size);
            double[] ns = new double[rounds], nsOther = new double[rounds], ratio = new double[rounds];
            for (int r = -WARM_UP_ROUNDS; r < rounds; r++) {
                double x = 0, y = 0;
                for (int k = 0; k < 2; k++) { // each subject first in turn, within a round
                    if ((r + k & 1) == 0) x = a.fastestPass(true);
                    else y = b.fastestPass(false);
                }
                if (r < 0) continue;
                ns[r] = x;
                nsOther[r] = y;
                ratio[r] = x / y;
                System.out.printf("round %d  malloc4j %.2f  %s %.2f ns a pair  ratio %.3f%n", r + 1, x, anchor, y, x / y);
            }
            System.out.printf("%d B, medians of %d rounds: malloc4j %.2f, %s %.2f ns a pair; malloc4j / %s per round:"
                            + " median %.3fx (%.3f-%.3f)%n", size, rounds, ToolArgs.median(ns), anchor,
                    ToolArgs.median(nsOther), anchor, ToolArgs.median(ratio), Arrays.stream(ratio).min().orElse(0),
                    Arrays.stream(ratio).max().orElse(0));
        } finally {
            heap.close();
            other.close();
        }
    }

    /**
     * @return why {@code anchor} cannot be this tool's anchor, or null if it can. Netty's allocators cannot: here the
     *         pairs run on the JVM's main thread, a plain thread, where Netty 4.2 recycles no {@code ByteBuf} (144 B of
     *         garbage a pair) and, without the benchmarks' flags, gives no thread cache; a win over that is no win.
     */
    static String refusal(String anchor) {
        if (anchor.equals("malloc4j")) return "the anchor must be another allocator than malloc4j";
        if (anchor.startsWith("netty")) {
            return anchor + " cannot run here at its best: Netty recycles its ByteBufs and caches per thread only on"
                    + " its FastThreadLocalThreads and with the benchmarks' flags, which JMH's executor gives it; use"
                    + " PairBenchmark";
        }
        return null;
    }

    /** @return ns a pair of the fastest of {@link #PASSES} passes of {@link #PAIRS} pairs */
    private double fastestPass(boolean first) {
        long best = Long.MAX_VALUE;
        for (int p = 0; p < PASSES; p++) {
            long t0 = System.nanoTime();
            long sum = first ? pairsHere() : pairsThere();
            long t = System.nanoTime() - t0;
            if (sum == 42) System.out.print(""); // keeps the sum, and so every pair, alive
            best = Math.min(best, t);
        }
        return (double) best / PAIRS;
    }

    /** The loop for malloc4j's subject. */
    private long pairsHere() {
        long sum = 0;
        for (int i = 0; i < PAIRS && !stop; i++) {
            long a = subject.allocate(0, size);
            Blocks.write(a, size);
            subject.free(0, a);
            sum += a;
        }
        return sum;
    }

    /** The same loop for the anchor's subject: a call site of its own (see the class comment). */
    private long pairsThere() {
        long sum = 0;
        for (int i = 0; i < PAIRS && !stop; i++) {
            long a = subject.allocate(0, size);
            Blocks.write(a, size);
            subject.free(0, a);
            sum += a;
        }
        return sum;
    }
}
