package org.malloc4j.cli.demo;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.malloc4j.cli.Main;
import org.malloc4j.cli.report.HtmlReport;
import org.malloc4j.cli.report.ReportFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code malloc4j demo}: demonstrations. */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Demonstrations.",
        subcommands = {DemoCommand.Fragmentation.class, DemoCommand.Latency.class})
public final class DemoCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "missing demo (try 'fragmentation' or 'latency')");
    }

    /** {@code malloc4j demo fragmentation}. */
    @Command(name = "fragmentation", mixinStandardHelpOptions = true,
            description = "Half the memory free in holes, then a request larger than any hole: malloc4j vs a naive"
                    + " first-fit heap.")
    public static final class Fragmentation implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--report", paramLabel = "FILE", description = "Also write an HTML page of malloc4j's heap.")
        Path report;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            String problem = report == null ? null : ReportFile.problem(report);
            if (problem != null) {
                spec.commandLine().getErr().println("malloc4j demo fragmentation: cannot write " + report + ": "
                        + problem);
                return Main.BAD_INPUT;
            }
            HtmlReport page = report == null ? null : new HtmlReport("malloc4j demo fragmentation");
            FragmentationDemo.Result r = FragmentationDemo.run(page);
            FragmentationDemo.print(r, out);
            if (page != null) {
                StringWriter text = new StringWriter();
                FragmentationDemo.print(r, new PrintWriter(text));
                page.text("Side by side", text.toString());
                try {
                    page.write(report);
                } catch (IOException e) {
                    spec.commandLine().getErr().println("malloc4j demo fragmentation: cannot write " + report + ": "
                            + ReportFile.reason(e));
                    return Main.BAD_INPUT;
                }
            }
            return Main.OK;
        }
    }

    /** {@code malloc4j demo latency}. */
    @Command(name = "latency", mixinStandardHelpOptions = true,
            description = "Allocation latency (p50, p99, p99.9, max) against the share of the heap in holes:"
                    + " malloc4j vs a naive first-fit heap.")
    public static final class Latency implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        /**
         * The most MiB of live blocks the demo fills each heap with: the naive heap's free walks its list of holes, so
         * making the holes takes time in the square of the blocks (256 MiB at 90% holes took 94 s), and 1 GiB is
         * already hours there; the sizes array is sized for the worst case (the fill in 64-byte blocks).
         */
        static final long MAX_FILL_MIB = 1 << 10;
        /** The most blocks in flight ({@code --batch} times {@code --delay}). */
        static final long MAX_IN_FLIGHT = 1 << 24;
        /** The most batches recorded, or run unrecorded first. */
        static final int MAX_BATCHES = 10_000_000;

        @Option(names = "--levels", split = ",", paramLabel = "PERCENT",
                description = "Shares of the used memory in holes, percent (default: 0,25,50,75,90).")
        int[] levels = LatencyDemo.LEVELS.clone();

        @Option(names = "--fill", paramLabel = "MIB", description = "MiB of live blocks after the fill (default: 64).")
        long fillMib = 64;

        @Option(names = "--batches", paramLabel = "N",
                description = "Recorded batches per heap and level (default: 100000).")
        int batches = LatencyDemo.Config.defaults().batches();

        @Option(names = "--warmup", paramLabel = "N",
                description = "Unrecorded batches first, and at least a second of them (default: 20000).")
        int warmup = LatencyDemo.Config.defaults().warmupBatches();

        @Option(names = "--batch", paramLabel = "N", description = "Mallocs per timed interval (default: 16).")
        int batch = LatencyDemo.Config.defaults().batch();

        @Option(names = "--delay", paramLabel = "N",
                description = "Free each batch's blocks this many batches later (default: 64).")
        int delay = LatencyDemo.Config.defaults().delay();

        @Option(names = "--runs", paramLabel = "N",
                description = "Run everything N times in this JVM and print the medians (default: 1).")
        int runs = 1;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            if (levels.length == 0) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "--levels: at least one level, as 0,50,90");
            }
            for (int l : levels) {
                if (l < 0 || l > 95) {
                    throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                            "--levels: " + l + " is not between 0 and 95");
                }
            }
            atLeast("--fill", fillMib, 1);
            atLeast("--batches", batches, 1);
            atLeast("--warmup", warmup, 0);
            atLeast("--batch", batch, 1);
            atLeast("--delay", delay, 1);
            atLeast("--runs", runs, 1);
            // Each heap holds the fill; the blocks in flight and the latencies recorded are arrays of this JVM's
            if (fillMib > MAX_FILL_MIB) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "--fill must be at most " + MAX_FILL_MIB + " MiB, not " + fillMib);
            }
            if ((long) batch * delay > MAX_IN_FLIGHT || batches > MAX_BATCHES || warmup > MAX_BATCHES) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--batch times --delay must be at"
                        + " most " + MAX_IN_FLIGHT + " blocks in flight (not " + (long) batch * delay + "), --batches"
                        + " and --warmup at most " + MAX_BATCHES);
            }
            LatencyDemo.Config d = LatencyDemo.Config.defaults();
            LatencyDemo.Config c = new LatencyDemo.Config(fillMib << 20, d.minSize(), d.maxSize(), batch, delay, warmup,
                    d.warmupMillis(), batches, levels, d.seed());
            List<List<LatencyDemo.Cell>> all = new ArrayList<>();
            for (int r = 0; r < runs; r++) all.add(LatencyDemo.run(c));
            LatencyDemo.print(LatencyDemo.median(all), c, runs, out);
            return Main.OK;
        }

        /** Refuses {@code value} of {@code option} below {@code min}, naming the option and the value. */
        private void atLeast(String option, long value, long min) {
            if (value < min) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        option + " must be at least " + min + ", not " + value);
            }
        }
    }
}
