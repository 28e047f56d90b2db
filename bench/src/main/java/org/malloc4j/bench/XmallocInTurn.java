package org.malloc4j.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
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
 * ({@link XmallocBenchmark.Side}) and each subject's threads kept from round to round; the first rounds warm up and
 * are not reported.
 * <pre>
 * GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 TCMALLOC_SKIP_SBRK=true java --enable-native-access=ALL-UNNAMED \
 *     -cp bench/target/malloc4j-bench.jar org.malloc4j.bench.XmallocInTurn ROUNDS MILLIS PAIRS SUBJECT...
 * </pre>
 * SUBJECT: {@code malloc4j} and native anchors ({@code glibc}, {@code jemalloc}, {@code mimalloc}, {@code tcmalloc}):
 * they make the driver's allocate and free calls at most bimorphic, which C2 still inlines (Netty would make them
 * megamorphic, and cost malloc4j its inlining). The ratios printed are the first subject's rate over each other's.
 * A subject that cannot run here (its library missing, say) is skipped with its reason, and the others run.
 */
public final class XmallocInTurn {
    private XmallocInTurn() {}

    private static final String TOOL = "XmallocInTurn";
    private static final int WARM_UP_ROUNDS = 2;

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 4) {
            System.err.println("usage: XmallocInTurn ROUNDS MILLIS PAIRS SUBJECT...   (SUBJECT: malloc4j, glibc, "
                    + "jemalloc, mimalloc, tcmalloc)");
            System.exit(2);
        }
        int rounds = ToolArgs.positive(TOOL, args[0], "ROUNDS");
        int millis = ToolArgs.positive(TOOL, args[1], "MILLIS");
        int pairs = ToolArgs.positive(TOOL, args[2], "PAIRS");
        String[] asked = Arrays.copyOfRange(args, 3, args.length);
        for (String n : asked) {
            ToolArgs.subject(TOOL, n);
            if (n.startsWith("netty") || n.equals("arena") || n.equals("floor")) {
                System.err.println("XmallocInTurn: " + n + " is not supported here (see the class comment)");
                System.exit(2);
            }
        }
        int slots = pairs * XmallocBenchmark.RING * XmallocBenchmark.BATCH;
        List<Opened> opened = openAvailable(asked, n -> Subject.open(n, slots), System.err);
        if (opened.isEmpty()) {
            System.err.println("XmallocInTurn: no subject can run here");
            System.exit(2);
        }
        String[] names = opened.stream().map(Opened::name).toArray(String[]::new);
        Subject[] subjects = opened.stream().map(Opened::subject).toArray(Subject[]::new);
        Team[] teams = new Team[names.length];
        for (int i = 0; i < names.length; i++) teams[i] = new Team(subjects[i], pairs);
        try {
            double[][] rates = new double[names.length][rounds];
            for (int r = -WARM_UP_ROUNDS; r < rounds; r++) {
                StringBuilder line = new StringBuilder(r < 0 ? "warm-up" : "round " + (r + 1));
                double[] round = new double[names.length];
                for (int k = 0; k < names.length; k++) {
                    int i = (r & 1) == 0 ? k : names.length - 1 - k;
                    round[i] = teams[i].run(millis);
                }
                for (int i = 0; i < names.length; i++) {
                    line.append(String.format("  %s %.2f", names[i], round[i]));
                    if (r >= 0) rates[i][r] = round[i];
                }
                System.out.println(line.append(" blocks/us"));
            }
            StringBuilder summary = new StringBuilder(pairs + " pair(s), medians of " + rounds + " rounds:");
            for (int i = 0; i < names.length; i++) {
                summary.append(String.format("  %s %.2f", names[i], ToolArgs.median(rates[i])));
            }
            System.out.println(summary.append(" blocks/us"));
            for (int i = 1; i < names.length; i++) {
                double[] ratio = new double[rounds];
                for (int r = 0; r < rounds; r++) ratio[r] = rates[0][r] / rates[i][r];
                System.out.printf("%s / %s, per round: median %.2fx (%.2f-%.2f)%n", names[0], names[i],
                        ToolArgs.median(ratio), Arrays.stream(ratio).min().orElse(0),
                        Arrays.stream(ratio).max().orElse(0));
            }
        } finally {
            for (Subject s : subjects) s.close();
        }
    }

    /** A subject that opened, under the name it was asked for. */
    record Opened(String name, Subject subject) {}

    /**
     * Opens the subjects named, in order, skipping one that cannot run here (a missing library, a missing environment
     * variable) with its reason printed on {@code err}, as the benchmark protocol asks of a missing anchor.
     */
    static List<Opened> openAvailable(String[] names, Function<String, Subject> open, PrintStream err) {
        List<Opened> opened = new ArrayList<>();
        for (String n : names) {
            try {
                opened.add(new Opened(n, open.apply(n)));
            } catch (Subject.UnavailableException e) {
                err.println("XmallocInTurn: SKIPPED " + n + ": " + e.getMessage());
            }
        }
        return opened;
    }

    /**
     * One subject's producer and consumer threads, started once and kept for every round, as JMH keeps a trial's
     * threads: a native allocator's thread caches then stay warm from round to round (with new threads each round,
     * tcmalloc read half its JMH rate), and malloc4j's caches too. Between its rounds a team waits, off the CPU.
     */
    private static final class Team {
        private final Subject subject;
        private final int pairs;
        private final java.util.concurrent.CyclicBarrier start, end;
        private final long[] freed;
        private volatile Control control = new Control();
        private XmallocBenchmark.Side[] producers, consumers;
        private XmallocBenchmark.Ring[] rings;

        Team(Subject subject, int pairs) {
            this.subject = subject;
            this.pairs = pairs;
            this.start = new java.util.concurrent.CyclicBarrier(2 * pairs + 1);
            this.end = new java.util.concurrent.CyclicBarrier(2 * pairs + 1);
            this.freed = new long[pairs];
            for (int p = 0; p < pairs; p++) {
                int pair = p;
                Thread producer = new Thread(() -> loop(() -> {
                    Control c = control;
                    XmallocBenchmark.Side side = producers[pair];
                    while (!c.stopMeasurement) side.produce(c);
                }), "xmalloc-producer-" + p);
                Thread consumer = new Thread(() -> loop(() -> {
                    Control c = control;
                    XmallocBenchmark.Side side = consumers[pair];
                    long batches = 0;
                    while (!c.stopMeasurement) {
                        if (side.consume(c) != 0) batches++;
                    }
                    freed[pair] = batches * XmallocBenchmark.BATCH;
                }), "xmalloc-consumer-" + p);
                producer.setDaemon(true);
                consumer.setDaemon(true);
                producer.start();
                consumer.start();
            }
        }

        /** A worker's life: each round, wait for the start, run, meet the others at the end. */
        private void loop(Runnable round) {
            try {
                while (true) {
                    start.await();
                    round.run();
                    end.await();
                }
            } catch (InterruptedException | java.util.concurrent.BrokenBarrierException e) {
                // the JVM is ending (daemon threads): nothing to do
            }
        }

        /** Runs one round of {@code millis}; returns blocks/us freed by the consumers. */
        double run(int millis) throws InterruptedException {
            rings = new XmallocBenchmark.Ring[pairs];
            producers = new XmallocBenchmark.Side[pairs];
            consumers = new XmallocBenchmark.Side[pairs];
            for (int p = 0; p < pairs; p++) {
                rings[p] = new XmallocBenchmark.Ring(p * XmallocBenchmark.RING * XmallocBenchmark.BATCH,
                        XmallocBenchmark.SEED + p);
                producers[p] = side(rings[p], subject);
                consumers[p] = side(rings[p], subject);
            }
            Control c = new Control();
            control = c; // published to the workers by the barrier
            try {
                start.await();
                long t0 = System.nanoTime();
                Thread.sleep(millis);
                c.stopMeasurement = true;
                end.await();
                long t1 = System.nanoTime();
                for (XmallocBenchmark.Ring ring : rings) ring.drain(subject);
                return Arrays.stream(freed).sum() * 1000.0 / (t1 - t0);
            } catch (java.util.concurrent.BrokenBarrierException e) {
                throw new IllegalStateException("a worker failed", e);
            }
        }
    }

    private static XmallocBenchmark.Side side(XmallocBenchmark.Ring ring, Subject subject) {
        XmallocBenchmark.Side side = new XmallocBenchmark.Side();
        side.ring = ring;
        side.subject = subject;
        return side;
    }
}
