package org.malloc4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.malloc4j.Heap;
import org.malloc4j.PageGathering;
import org.malloc4j.anchors.Allocator;
import org.malloc4j.anchors.Allocators;
import org.malloc4j.anchors.HeapAllocator;
import org.malloc4j.cli.replay.JsonLinesPrinter;
import org.malloc4j.cli.replay.LeakReport;
import org.malloc4j.cli.replay.ReplayDriver;
import org.malloc4j.cli.replay.ReplayResult;
import org.malloc4j.cli.replay.ResultPrinter;
import org.malloc4j.cli.replay.TablePrinter;
import org.malloc4j.cli.report.ReportFile;
import org.malloc4j.cli.workload.Workload;
import org.malloc4j.cli.workload.Workloads;
import org.malloc4j.cli.trace.Trace;
import org.malloc4j.cli.trace.TraceException;
import org.malloc4j.cli.trace.TraceFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code malloc4j replay}: replays allocation traces (files, or the bundled workloads) on an allocator, checks
 * every block it hands out, times it, and reports per trace. See {@link ReplayDriver} for the passes.
 */
@Command(name = "replay",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        sortOptions = false,
        description = {
            "Replays malloc-lab traces (.rep, .rep.gz; a directory means every trace in it) or, with no trace,"
                    + " the bundled workloads, on a fresh allocator each.",
            "Each trace is replayed twice: a checked pass (every block filled with a pattern from its id and"
                    + " verified before free and after realloc; overlaps and alignment checked) and a timed pass"
                    + " (only the calls and a write of each block's first and last 8 bytes), after one unreported"
                    + " timed pass of the same trace, so that the timed loop meets the trace's paths before it is"
                    + " timed.",
            "A short unreported warm-up trace runs first, so that JIT compilation counts in neither the time"
                    + " nor the peak RSS of the first trace; the allocator then gives its free memory back, as after"
                    + " every trace, so that a native one does not serve the first trace from it unseen.",
            "On malloc4j each trace is also rehearsed: replayed once, checked pass and two timed passes, on a heap"
                    + " of its own before the run that is measured, so that the JIT compilers' work on the heap code"
                    + " the trace is first to reach is not in the measured peak RSS; the rehearsal's own peak RSS is"
                    + " shown beside it. A native allocator's code needs no compiling: its one run is measured.",
            "Bundled workloads: ramp, plateaus, short-lived, realloc-growth, fragmenting, large-mix."
        },
        footer = {"", "Exit codes: 0 ok, 1 replay errors found, 2 bad input (malformed or missing trace, bad"
                + " option), 3 internal error."})
final class ReplayCommand implements Callable<Integer> {
    private final Function<String, Allocator> opener;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "TRACE", arity = "0..*",
            description = "Trace files (.rep or .rep.gz) or directories of them. None: the bundled workloads.")
    List<Path> traces = new ArrayList<>();

    @Option(names = {"-a", "--allocator"}, paramLabel = "NAME", defaultValue = "malloc4j",
            description = "malloc4j, glibc, jemalloc, mimalloc or tcmalloc (default: ${DEFAULT-VALUE}).")
    String allocator;

    @Option(names = {"-w", "--workload"}, paramLabel = "NAME", split = ",",
            description = "Replay these bundled workloads (repeatable, or comma-separated), besides any TRACE.")
    List<String> workloads = new ArrayList<>();

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "1",
            description = "Timed passes per trace; the fastest counts (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--min-time", paramLabel = "TIME",
            description = "Go on with timed passes beyond --repeat until they add up to this much time, as 0, 500ms,"
                    + " 2s or 1m (default: 0; at most " + ReplayDriver.MAX_PASSES + " passes). A short trace's first"
                    + " passes run before the JIT has compiled the allocator's code.")
    String minTime;

    @Option(names = "--json", description = "One JSON object a line per trace instead of the table.")
    boolean json;

    @Option(names = "--leaks",
            description = {"After each trace, list the blocks it leaves live at its end, from the checked pass: the"
                    + " totals, then the blocks grouped by the power-of-two bucket of their size ([0, 16 B],"
                    + " (16 B, 32 B], (32 B, 64 B]...: the same buckets on every allocator), largest groups (by"
                    + " bytes) first, at most " + LeakReport.MAX_GROUPS + ", each with its blocks, bytes and its "
                    + LeakReport.EXAMPLES + " earliest-allocated blocks: id, the op that allocated it (1-based"
                    + " index and, for a file, its line) and any realloc that resized it since.",
                "On malloc4j the count is checked against the heap's own live-block count. With --json: a"
                    + " \"leaks\" object in each trace's line."})
    boolean leaks;

    @Option(names = "--report", paramLabel = "FILE",
            description = "Also write a self-contained HTML page (heap map at peak and end, timeline, free-extent"
                    + " histogram, size classes): one page, a section per trace, from a separate untimed replay"
                    + " on a fresh malloc4j heap. Traces are read one at a time, in turn: when one is malformed, the"
                    + " replay stops there (exit 2) and the page is still written, for the traces replayed before it,"
                    + " and says at its top where the replay stopped and which traces it did not reach (no page when"
                    + " the first trace is malformed).")
    java.nio.file.Path report;

    @Option(names = "--decay", paramLabel = "TIME",
            description = "malloc4j only: how long free pages stay committed before they go back to the OS, as 0,"
                    + " 250ms, 2s or 1m (default: the heap's, 1s). A trace replays in milliseconds, so with the"
                    + " default nothing goes back during it; with 0, committed bytes follow live bytes.")
    String decay;

    @Option(names = "--spare-bytes", paramLabel = "BYTES",
            description = "malloc4j only: the most bytes of empty slabs each thread cache keeps for reuse, as bytes"
                    + " or with K or M (default: the heap's, 512K). With --decay 0 and --spare-bytes 0, nothing idle"
                    + " stays committed.")
    String spareBytes;

    @Option(names = "--gather", paramLabel = "MODE",
            description = "malloc4j only: when a request no free run holds would take committed memory past its"
                    + " peak, move the pages of shorter free runs into the new run (mremap) instead of taking new"
                    + " pages (Heap.Builder.pageGathering): off (the default), bounded (once per new height of the"
                    + " heap) or every-peak (the least memory, more system calls and page faults).")
    String gather;

    @Option(names = "--track-sites", paramLabel = "RATE",
            description = "malloc4j only: record allocation sites (Heap.Builder.trackSites) for this share of the"
                    + " blocks, from 0 to 1: 1 takes every block's stack, below 1 sampling is by bytes (0.001: one"
                    + " sample per 512,000 bytes allocated, about jemalloc's profiler's 512 KiB). To measure what"
                    + " sampling costs on a trace: replay it with and without.")
    String trackSites;

    @Option(names = "--no-rehearsal",
            description = "Do not rehearse the traces on malloc4j: each one's only run is measured, and its peak RSS"
                    + " holds the JIT compilers' work on the heap code the trace is first to reach.")
    boolean noRehearsal;

    @Option(names = "--list", description = "List the bundled workloads (name, tab, description) and exit.")
    boolean list;

    /** A replay command that opens allocators with {@link Allocators#open}. */
    ReplayCommand() {
        this(Allocators::open);
    }

    /** @param opener opens an allocator by its {@code --allocator} name (tests pass faulty ones) */
    ReplayCommand(Function<String, Allocator> opener) {
        this.opener = opener;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String me = spec.qualifiedName();
        if (list) {
            // Alone: with other options or traces it would skip their checks and look as if it had used them
            picocli.CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
            if (parsed.matchedOptions().size() > 1 || !parsed.matchedPositionals().isEmpty()) {
                return badInput(err, me + ": --list takes no other option and no trace: it lists the bundled"
                        + " workloads");
            }
            for (Workload w : Workloads.all()) out.println(w.name() + "\t" + w.description());
            out.flush();
            return Main.OK;
        }
        // picocli splits "-w ," into no name at all: taken for no -w, it replayed every bundled workload
        picocli.CommandLine.Model.OptionSpec w = spec.commandLine().getParseResult().matchedOption("-w");
        if (w != null && workloads.isEmpty()) {
            return badInput(err, me + ": -w names no workload in '" + String.join("', '", w.originalStringValues())
                    + "': expected one of " + Workloads.names());
        }
        // The allocator's name in the reports is its own, not the user's spelling of it (JEMALLOC, Malloc4j)
        allocator = canonicalAllocator(allocator);
        if (repeat < 1) return badInput(err, me + ": --repeat must be at least 1, not " + repeat);
        Duration minTimed = minTime == null ? Duration.ZERO : parseDuration(minTime);
        if (minTimed == null) {
            return badInput(err, me + ": --min-time must be 0 or a whole number with a unit (ms, s or m) up to"
                    + " 153722867m, as in 500ms,"
                    + " not '" + minTime + "'");
        }
        Heap.Builder heap = Heap.builder();
        String heapError = heapOptions(heap);
        if (heapError != null) return badInput(err, me + ": " + heapError);
        String reportProblem = report == null ? null : ReportFile.problem(report);
        if (reportProblem != null) return badInput(err, me + ": cannot write " + report + ": " + reportProblem);
        // The heap options build the malloc4j heap; without them the opener does (tests pass faulty openers).
        Function<String, Allocator> opens = !hasHeapOptions() ? opener : name -> new HeapAllocator(heap.build());

        List<TraceSource> sources;
        try {
            List<Path> files = TraceFiles.expand(traces);
            // The page replaces its file: naming a trace there (gcc.rep for gcc.html) would destroy the trace
            Path overwritten = report == null ? null : ReportFile.sameFileAs(report, files);
            if (overwritten != null) {
                return badInput(err, me + ": --report " + report + " would overwrite the trace " + overwritten
                        + ": name another file for the page");
            }
            sources = TraceSource.resolve(files, workloads);
        } catch (TraceException | IllegalArgumentException e) {
            return badInput(err, me + ": " + e.getMessage());
        }
        try {
            opens.apply(allocator).close();
        } catch (IllegalArgumentException e) {
            return badInput(err, me + ": " + e.getMessage());
        }

        ReplayDriver driver = new ReplayDriver(allocator, () -> opens.apply(allocator), repeat, leaks,
                !noRehearsal, minTimed.toNanos());
        ResultPrinter printer = json ? new JsonLinesPrinter(out) : new TablePrinter(out);
        long errors = 0;
        boolean warm = false;
        org.malloc4j.cli.report.HtmlReport page = report == null ? null
                : new org.malloc4j.cli.report.HtmlReport("malloc4j replay: "
                        + String.join(", ", sources.stream().map(TraceSource::name).toList()));
        for (int t = 0; t < sources.size(); t++) {
            TraceSource source = sources.get(t);
            Trace trace;
            try {
                trace = source.load();
            } catch (TraceException e) {
                // The traces before this one are replayed, their rows printed: the table ends as a whole one does,
                // with its legend and the leak reports that follow it (--leaks), which are lost otherwise, and says
                // that it is not whole (saved to a file, it read as complete); before the first trace, no table
                if (t > 0) {
                    List<TraceSource> rest = sources.subList(t + 1, sources.size());
                    printer.incomplete("Incomplete: the replay stopped at a malformed trace (" + e.getMessage() + ")"
                            + (rest.isEmpty() ? "" : "; not replayed: "
                                    + String.join(", ", rest.stream().map(TraceSource::name).toList())) + ".");
                    printer.end();
                }
                out.flush();
                err.println(me + ": " + e.getMessage());
                // The traces before this one are replayed, their results printed: their page is kept too, and says
                // it is incomplete
                if (page != null && t > 0) writePartialPage(page, e, sources.subList(t + 1, sources.size()), t, err);
                err.flush();
                return Main.BAD_INPUT;
            }
            if (!warm) {
                // Once the first trace is read: a malformed one leaves no table headings without a row under them
                printer.begin(allocator, sources.stream().map(TraceSource::name).toList());
                driver.warmUp(Workloads.warmUp().generate());
                warm = true;
            }
            ReplayResult result = driver.replay(trace);
            printer.result(result);
            errors += result.errors();
            for (String message : result.firstErrors()) err.println(me + ": error: " + message);
            if (result.errors() > result.firstErrors().size()) {
                err.println(me + ": error: ... " + (result.errors() - result.firstErrors().size()) + " more in "
                        + result.trace());
            }
            err.flush();
            if (page != null) org.malloc4j.cli.report.ReportPass.run(trace, page, heap);
        }
        printer.end();
        if (page != null) {
            try {
                page.write(report);
            } catch (java.io.IOException e) {
                return badInput(err, me + ": cannot write " + report + ": "
                        + ReportFile.reason(e));
            }
        }
        return errors == 0 ? Main.OK : Main.REPLAY_ERRORS;
    }

    /**
     * Writes the page of the {@code replayed} traces replayed before the malformed trace {@code e} names, with a notice
     * that it stopped there and which traces ({@code rest}) it did not reach, and says on {@code err} what it wrote.
     */
    private void writePartialPage(org.malloc4j.cli.report.HtmlReport page, TraceException e, List<TraceSource> rest,
            int replayed, PrintWriter err) {
        String me = spec.qualifiedName();
        String traces = replayed == 1 ? "the trace" : "the " + replayed + " traces";
        String skipped = rest.isEmpty() ? ""
                : "; not replayed: " + String.join(", ", rest.stream().map(TraceSource::name).toList());
        page.notice("Incomplete: the replay stopped at a malformed trace (" + e.getMessage() + "). This page shows "
                + traces + " replayed before it" + skipped + ".");
        try {
            page.write(report);
            err.println(me + ": wrote " + report + " for " + traces + " replayed before "
                    + org.malloc4j.cli.trace.TraceException.printableName(e.file()) + skipped);
        } catch (java.io.IOException io) {
            err.println(me + ": cannot write " + report + ": " + ReportFile.reason(io));
        }
    }

    /** @return the name of {@link Allocators#NAMES} that {@code name} spells in any case, or {@code name} itself */
    static String canonicalAllocator(String name) {
        for (String known : Allocators.NAMES.split(", ")) {
            if (known.equalsIgnoreCase(name)) return known;
        }
        return name;
    }

    /** @return the gathering mode {@code --gather} names, or null when it names none */
    static PageGathering parseGathering(String text) {
        return switch (text) {
            case "off" -> PageGathering.OFF;
            case "bounded" -> PageGathering.BOUNDED;
            case "every-peak" -> PageGathering.AT_EVERY_PEAK;
            default -> null;
        };
    }

    /** @return whether any option that builds the malloc4j heap was given */
    private boolean hasHeapOptions() {
        return decay != null || spareBytes != null || gather != null || trackSites != null;
    }

    /**
     * Applies {@code --decay}, {@code --spare-bytes}, {@code --gather} and {@code --track-sites} to {@code heap};
     * returns what is wrong with them, or null.
     */
    private String heapOptions(Heap.Builder heap) {
        if (!hasHeapOptions()) return null;
        if (!allocator.equalsIgnoreCase("malloc4j")) {
            return (decay != null ? "--decay" : spareBytes != null ? "--spare-bytes" : gather != null ? "--gather"
                    : "--track-sites") + " applies to malloc4j only, not to " + allocator;
        }
        if (trackSites != null) {
            double rate = parseRate(trackSites);
            if (!(rate >= 0 && rate <= 1)) {
                return "--track-sites must be a number from 0 to 1, as in 0.001, not '" + trackSites + "'";
            }
            heap.trackSites(rate);
        }
        if (gather != null) {
            PageGathering mode = parseGathering(gather);
            if (mode == null) return "--gather must be off, bounded or every-peak, not '" + gather + "'";
            heap.pageGathering(mode);
        }
        if (decay != null) {
            Duration d = parseDuration(decay);
            if (d == null) {
                return "--decay must be 0 or a whole number with a unit (ms, s or m) up to 153722867m, as in 250ms,"
                        + " not '" + decay + "'";
            }
            heap.decay(d);
        }
        if (spareBytes != null) {
            long b = parseBytes(spareBytes);
            if (b < 0) {
                return "--spare-bytes must be a whole number of bytes, or of K or M, as in 512K, not '" + spareBytes
                        + "'";
            }
            heap.spareBytes(b);
        }
        return null;
    }

    private static final java.util.regex.Pattern DURATION = java.util.regex.Pattern.compile("(\\d{1,9})(ms|s|m)?");
    private static final Pattern RATE = Pattern.compile("\\+?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d{1,3})?");
    private static final java.util.regex.Pattern BYTES = java.util.regex.Pattern.compile("(\\d{1,12})([kKmM])?");

    /** @return {@code text} as a duration (0, or digits and ms, s or m), or null when it is not one */
    static Duration parseDuration(String text) {
        java.util.regex.Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) return null;
        long n = Long.parseLong(m.group(1));
        if (m.group(2) == null) return n == 0 ? Duration.ZERO : null; // a bare number other than 0 has no unit
        Duration d = switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            default -> Duration.ofMinutes(n);
        };
        // Longer than a long of nanoseconds holds (about 153 million minutes): refused as not a duration the tool
        // can wait, rather than overflowing where it is used
        return d.compareTo(Duration.ofNanos(Long.MAX_VALUE)) > 0 ? null : d;
    }

    /** @return {@code text} as a decimal number, or NaN when it is not one */
    static double parseRate(String text) {
        // Double.parseDouble also takes Java's literals: 0.5f, 1d, 0x1p-4, which are not the decimals asked for
        if (!RATE.matcher(text.trim()).matches()) return Double.NaN;
        try {
            return Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** @return {@code text} as bytes (digits, then optionally K or M), or -1 when it is not a size */
    static long parseBytes(String text) {
        java.util.regex.Matcher m = BYTES.matcher(text.trim());
        if (!m.matches()) return -1;
        long n = Long.parseLong(m.group(1));
        if (m.group(2) == null) return n;
        return Character.toUpperCase(m.group(2).charAt(0)) == 'K' ? n << 10 : n << 20;
    }

    private static int badInput(PrintWriter err, String message) {
        err.println(message);
        err.flush();
        return Main.BAD_INPUT;
    }
}
