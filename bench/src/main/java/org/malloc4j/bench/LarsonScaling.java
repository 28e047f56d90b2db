package org.malloc4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link LarsonBenchmark}'s operation at several thread counts in turn, in one JVM: how an allocator's larson
 * throughput scales from one thread to more, read as a ratio per round.
 *
 * <p>Why not JMH's {@code larson1} and {@code larson2}: JMH runs each in forks of their own, and on this project's
 * machines a JVM runs in one of two speeds for its whole life (its compiled code, and where the host puts the two
 * vCPUs), so a ratio of two forks' scores mixes the scaling with the forks' modes (1.18x to 2.19x for the same jar in
 * one hour). Here one set of worker threads, each with its own {@value LarsonBenchmark#SLOTS} slots and the same
 * precomputed operations as the benchmark's thread of that index, runs every thread count in turn, round after round:
 * the compiled code is the same for every count, and each round's ratio compares counts measured seconds apart.
 *
 * <p>A round runs the counts in order (by default 1 then 2), each for a fixed time: the first {@code n} workers run
 * batches of {@value LarsonBenchmark#BATCH} operations until told to stop; the others wait, blocked, off the CPU.
 * A count's score is the sum over its workers of each one's operations over its own running time, in operations
 * per microsecond, as JMH's throughput mode sums threads. The first rounds warm up and are not reported.
 * <pre>
 * GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 TCMALLOC_SKIP_SBRK=true java --enable-native-access=ALL-UNNAMED \
 *     -cp bench/target/malloc4j-bench.jar org.malloc4j.bench.LarsonScaling SUBJECT [ROUNDS [MILLIS [COUNTS]]]
 * </pre>
 * SUBJECT: a name of {@link Subject#NAMES} but {@code arena} and Netty's (which cache per thread only on their own
 * thread class, as JMH's executor runs them); ROUNDS reported (default 10, after 3 unreported);
 * MILLIS per count and round (default 1000); COUNTS comma-separated (default {@code 1,2}), each {@code N} (N threads:
 * workers 0 to N-1) or {@code N@K} (N threads from worker K on: {@code 1,1@1,2} runs worker 0 alone, worker 1 alone,
 * then both; worker 0 is the first thread to use the heap). Prints a line per round and the medians; the ratios are
 * to the first count. {@code -Dlarson.perThread=true} also prints each worker's own rate.
 */
public final class LarsonScaling {
    private LarsonScaling() {}

    /** Rounds run before the reported ones: the JIT compiles the loop and the allocator during them. */
    private static final String TOOL = "LarsonScaling";
    private static final int WARM_UP_ROUNDS = 3;
    private static final boolean PER_THREAD = Boolean.getBoolean("larson.perThread");

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 1 || args.length > 4) {
            System.err.println("usage: LarsonScaling SUBJECT [ROUNDS [MILLIS [COUNTS]]]   (SUBJECT: one of "
                    + String.join(", ", Subject.NAMES) + ", but arena and Netty's)");
            System.exit(2);
        }
        String name = ToolArgs.subject(TOOL, args[0]);
        int rounds = args.length > 1 ? ToolArgs.positive(TOOL, args[1], "ROUNDS") : 10;
        long millis = args.length > 2 ? ToolArgs.positive(TOOL, args[2], "MILLIS") : 1000;
        Phase[] counts = args.length > 3 ? counts(args[3]) : new Phase[] {new Phase(1, 0), new Phase(2, 0)};
        if (name.equals("arena")) {
            System.err.println("LarsonScaling: arena cannot run here: its slots are filled on one thread and freed on"
                    + " the same, but a confined arena per block is closed by the thread that opened it, and the"
                    + " workers' threads outlive no JMH trial to close them in; use LarsonBenchmark");
            System.exit(2);
        }
        if (name.startsWith("netty")) {
            System.err.println("LarsonScaling: " + name + " cannot run here at its best: Netty caches per thread only"
                    + " on its FastThreadLocalThreads and with the benchmarks' flags (a plain thread read 1.7 ops/us),"
                    + " which JMH's executor gives it; use LarsonBenchmark");
            System.exit(2);
        }
        int workers = Arrays.stream(counts).mapToInt(c -> c.first + c.threads).max().orElseThrow();
        Subject opened;
        try {
            opened = Subject.open(name, workers * LarsonBenchmark.SLOTS);
        } catch (Subject.UnavailableException e) {
            System.err.println("LarsonScaling: SKIPPED " + name + ": " + e.getMessage());
            System.exit(2);
            return;
        }
        try (Subject subject = opened) {
            Team team = new Team(subject, workers);
            try {
                double[][] scores = new double[counts.length][rounds];
                for (int r = -WARM_UP_ROUNDS; r < rounds; r++) {
                    StringBuilder line = new StringBuilder(r < 0 ? "warm-up" : "round " + (r + 1));
                    double first = 0;
                    for (int k = 0; k < counts.length; k++) {
                        double score = team.run(counts[k], millis);
                        if (k == 0) first = score;
                        line.append(String.format("  %s %.2f ops/us", counts[k], score));
                        if (k > 0) line.append(String.format(" (%.2fx)", score / first));
                        if (r >= 0) scores[k][r] = score;
                    }
                    if (PER_THREAD) {
                        line.append("  (each worker's ops/us:").append(team.perThread).append(')');
                        team.perThread.setLength(0);
                    }
                    System.out.println(line);
                }
                StringBuilder summary = new StringBuilder(name + ", median of " + rounds + " rounds:");
                double[] ratios = new double[rounds];
                for (int k = 0; k < counts.length; k++) {
                    summary.append(String.format("  %s %.2f ops/us", counts[k], ToolArgs.median(scores[k])));
                    if (k > 0) {
                        for (int r = 0; r < rounds; r++) ratios[r] = scores[k][r] / scores[0][r];
                        summary.append(String.format(" (ratio per round: median %.2fx, range %.2f-%.2f)",
                                ToolArgs.median(ratios), Arrays.stream(ratios).min().orElse(0),
                                Arrays.stream(ratios).max().orElse(0)));
                    }
                }
                System.out.println(summary);
            } finally {
                team.close();
            }
            String report = subject.memoryReport();
            if (report != null) System.out.println("larson " + name + " at the end, every slot freed: " + report);
        }
    }

    /** The worker threads, each with its {@link LarsonBenchmark.Worker}, filled on the thread itself. */
    private static final class Team {
        private final List<Member> members = new ArrayList<>();
        private final AtomicInteger tornDown = new AtomicInteger();
        /** Each worker's rate in each count of the round, when {@link #PER_THREAD}. */
        final StringBuilder perThread = new StringBuilder();
        private volatile boolean stop;

        Team(Subject subject, int size) throws InterruptedException {
            for (int i = 0; i < size; i++) { // one after the other: worker 0 is the first thread to use the heap
                Member m = new Member(i);
                members.add(m);
                m.start();
                CountDownLatch filled = new CountDownLatch(1);
                m.tasks.add(() -> {
                    m.worker.init(subject, tornDown, m.index);
                    filled.countDown();
                });
                filled.await();
            }
        }

        /** Runs the first {@code n} workers for {@code millis}; returns their summed operations per microsecond. */
        double run(Phase phase, long millis) throws InterruptedException {
            int n = phase.threads;
            stop = false;
            CountDownLatch ready = new CountDownLatch(n), go = new CountDownLatch(1), done = new CountDownLatch(n);
            double[] rates = new double[n];
            for (int i = 0; i < n; i++) {
                Member m = members.get(phase.first + i);
                int slot = i;
                m.tasks.add(() -> {
                    ready.countDown();
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    long batches = 0, sink = 0;
                    long t0 = System.nanoTime();
                    while (!stop) {
                        sink += m.worker.run();
                        batches++;
                    }
                    long t1 = System.nanoTime();
                    rates[slot] = batches * LarsonBenchmark.BATCH * 1000.0 / (t1 - t0);
                    if (sink == 42) System.out.print(""); // keeps the loop's result alive
                    done.countDown();
                });
            }
            ready.await();
            go.countDown();
            Thread.sleep(millis);
            stop = true;
            done.await();
            if (PER_THREAD) {
                for (double r : rates) perThread.append(String.format(" %.2f", r));
                perThread.append(" ;");
            }
            return Arrays.stream(rates).sum();
        }

        /** Frees every worker's slots on its own thread, then ends the threads. */
        void close() throws InterruptedException {
            for (Member m : members) m.tasks.add(m.worker::tearDown);
            for (Member m : members) m.tasks.add(Member.END);
            for (Member m : members) m.join();
        }
    }

    /** A worker thread: runs the tasks it is given, one after the other, until {@link #END}. */
    private static final class Member extends Thread {
        static final Runnable END = () -> {};
        final int index;
        final LarsonBenchmark.Worker worker = new LarsonBenchmark.Worker();
        final LinkedBlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();

        Member(int index) {
            super("larson-" + index);
            this.index = index;
            setDaemon(true);
        }

        @Override
        public void run() {
            try {
                for (Runnable task; (task = tasks.take()) != END; ) task.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }



    /** A thread count to run, on the workers from {@code first} on: written {@code threads} or {@code threads@first}. */
    private record Phase(int threads, int first) {
        @Override
        public String toString() {
            return threads + (threads == 1 ? " thread" : " threads") + (first == 0 ? "" : " from worker " + first);
        }
    }

    private static Phase[] counts(String text) {
        Phase[] c = Arrays.stream(text.split(",")).map(String::trim).map(e -> {
            int at = e.indexOf('@');
            if (at < 0) return new Phase(ToolArgs.positive(TOOL, e, "each of COUNTS"), 0);
            int first = ToolArgs.positive(TOOL, e.substring(at + 1),
                    "each worker index of COUNTS (0 is written without @)");
            return new Phase(ToolArgs.positive(TOOL, e.substring(0, at), "each of COUNTS"), first);
        }).toArray(Phase[]::new);
        if (c.length == 0) {
            System.err.println("LarsonScaling: COUNTS is empty");
            System.exit(2);
        }
        return c;
    }
}
