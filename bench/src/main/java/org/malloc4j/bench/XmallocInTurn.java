package org.malloc4j.bench;

import java.util.Arrays;
import org.openjdk.jmh.infra.Control;

/**
 * {@link XmallocBenchmark}'s operation (producers allocate and write batches of blocks, consumers free them) on
 * several allocators in turn inside one JVM, a ratio per round: how malloc4j's cross-thread throughput compares with
 * the anchors', read where the machine's speed modes weigh on every allocator alike.
 *
 * <p>Why not JMH's {@code pairs1}: its forks, one per allocator, each run in one of this machine's speed modes for
 * their whole life, and where the host puts the two vCPUs decides a producer/consumer rate more than anything (one
 * pair read 0.26x to 1.1x the best native across runs). Here every round runs each subject for the same time, in
 * turn (the order alternating from round to round), with the same rings, sizes and driver code as the benchmark's
 * ({@link XmallocBenchmark.Side}); the first rounds warm up and are not reported.
 * <pre>
 * GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 TCMALLOC_SKIP_SBRK=true java --enable-native-access=ALL-UNNAMED \
 *     -cp bench/target/malloc4j-bench.jar org.malloc4j.bench.XmallocInTurn ROUNDS MILLIS PAIRS SUBJECT...
 * </pre>
 * SUBJECT: {@code malloc4j} and native anchors ({@code glibc}, {@code jemalloc}, {@code mimalloc}, {@code tcmalloc}):
 * they make the driver's allocate and free calls at most bimorphic, which C2 still inlines (Netty would make them
 * megamorphic, and cost malloc4j its inlining). The ratios printed are the first subject's rate over each other's.
 */
public final class XmallocInTurn {
    private XmallocInTurn() {}

    private static final int WARM_UP_ROUNDS = 2;

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 4) {
            System.err.println("usage: XmallocInTurn ROUNDS MILLIS PAIRS SUBJECT...   (SUBJECT: malloc4j, glibc, "
                    + "jemalloc, mimalloc, tcmalloc)");
            System.exit(2);
        }
        int rounds = positive(args[0], "ROUNDS");
        int millis = positive(args[1], "MILLIS");
        int pairs = positive(args[2], "PAIRS");
        String[] names = Arrays.copyOfRange(args, 3, args.length);
        for (String n : names) {
            if (n.startsWith("netty") || n.equals("arena") || n.equals("floor")) {
                System.err.println("XmallocInTurn: " + n + " is not supported here (see the class comment)");
                System.exit(2);
            }
        }
        Subject[] subjects = new Subject[names.length];
        for (int i = 0; i < names.length; i++) {
            subjects[i] = Subject.open(names[i], pairs * XmallocBenchmark.RING * XmallocBenchmark.BATCH);
        }
        try {
            double[][] rates = new double[names.length][rounds];
            for (int r = -WARM_UP_ROUNDS; r < rounds; r++) {
                StringBuilder line = new StringBuilder(r < 0 ? "warm-up" : "round " + (r + 1));
                double[] round = new double[names.length];
                for (int k = 0; k < names.length; k++) {
                    int i = (r & 1) == 0 ? k : names.length - 1 - k;
                    round[i] = run(subjects[i], pairs, millis);
                }
                for (int i = 0; i < names.length; i++) {
                    line.append(String.format("  %s %.2f", names[i], round[i]));
                    if (r >= 0) rates[i][r] = round[i];
                }
                System.out.println(line.append(" blocks/us"));
            }
            StringBuilder summary = new StringBuilder(pairs + " pair(s), medians of " + rounds + " rounds:");
            for (int i = 0; i < names.length; i++) summary.append(String.format("  %s %.2f", names[i], median(rates[i])));
            System.out.println(summary.append(" blocks/us"));
            for (int i = 1; i < names.length; i++) {
                double[] ratio = new double[rounds];
                for (int r = 0; r < rounds; r++) ratio[r] = rates[0][r] / rates[i][r];
                System.out.printf("%s / %s, per round: median %.2fx (%.2f-%.2f)%n", names[0], names[i], median(ratio),
                        Arrays.stream(ratio).min().orElse(0), Arrays.stream(ratio).max().orElse(0));
            }
        } finally {
            for (Subject s : subjects) s.close();
        }
    }

    /** Runs {@code pairs} producers and consumers on {@code subject} for {@code millis}; returns blocks/us freed. */
    private static double run(Subject subject, int pairs, int millis) throws InterruptedException {
        Control control = new Control();
        XmallocBenchmark.Ring[] rings = new XmallocBenchmark.Ring[pairs];
        long[] freed = new long[pairs];
        Thread[] threads = new Thread[2 * pairs];
        for (int p = 0; p < pairs; p++) {
            XmallocBenchmark.Ring ring = new XmallocBenchmark.Ring(
                    p * XmallocBenchmark.RING * XmallocBenchmark.BATCH, XmallocBenchmark.SEED + p);
            rings[p] = ring;
            XmallocBenchmark.Side producer = side(ring, subject), consumer = side(ring, subject);
            int pair = p;
            threads[2 * p] = new Thread(() -> {
                while (!control.stopMeasurement) producer.produce(control);
            });
            threads[2 * p + 1] = new Thread(() -> {
                long batches = 0;
                while (!control.stopMeasurement) {
                    if (consumer.consume(control) != 0) batches++;
                }
                freed[pair] = batches * XmallocBenchmark.BATCH;
            });
        }
        long t0 = System.nanoTime();
        for (Thread t : threads) t.start();
        Thread.sleep(millis);
        control.stopMeasurement = true;
        for (Thread t : threads) t.join();
        long t1 = System.nanoTime();
        for (XmallocBenchmark.Ring ring : rings) ring.drain(subject);
        return Arrays.stream(freed).sum() * 1000.0 / (t1 - t0);
    }

    private static XmallocBenchmark.Side side(XmallocBenchmark.Ring ring, Subject subject) {
        XmallocBenchmark.Side side = new XmallocBenchmark.Side();
        side.ring = ring;
        side.subject = subject;
        return side;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static int positive(String text, String what) {
        try {
            int v = Integer.parseInt(text);
            if (v > 0) return v;
        } catch (NumberFormatException e) {
            // reported below
        }
        System.err.println("XmallocInTurn: " + what + " must be a positive integer: " + text);
        System.exit(2);
        return 0;
    }
}
