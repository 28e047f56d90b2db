package org.malloc4j.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.malloc4j.cli.Main;

/** The latency demo's structure and its fragmentation levels; no timing is asserted. */
class LatencyDemoTest {
    private static final int[] LEVELS = {0, 25, 50, 75, 90};
    private static final LatencyDemo.Config TINY =
            new LatencyDemo.Config(4L << 20, 64, 4096, 16, 8, 50, 0, 200, LEVELS, 42);

    @Test
    void everyLevelIsReachedOnBothHeaps() {
        List<LatencyDemo.Cell> cells = LatencyDemo.run(TINY);
        assertThat(cells).hasSize(2 * LEVELS.length);
        for (int i = 0; i < LEVELS.length; i++) {
            LatencyDemo.Cell m = cells.get(2 * i), n = cells.get(2 * i + 1);
            assertThat(m.heap()).isEqualTo("malloc4j");
            assertThat(n.heap()).isEqualTo("naive first-fit");
            for (LatencyDemo.Cell c : List.of(m, n)) {
                double level = LEVELS[i] / 100.0;
                assertThat(c.level()).isEqualTo(LEVELS[i]);
                // the share of the filled bytes that was freed (the blocks are at most 4 KiB of 4 MiB)
                assertThat(c.freedShare()).as("%s at %d%%", c.heap(), c.level()).isCloseTo(level, within(0.01));
                // each heap's own measure of the memory in holes once the level was set
                assertThat(c.holesBefore()).as("%s at %d%%", c.heap(), c.level()).isCloseTo(level, within(0.03));
                // at the end the blocks in flight (8 batches of 16, at most 512 KiB: 12% of the fill) fill some holes,
                // and the churn of the batches leaves some free memory behind them (malloc4j: free slots of the slabs
                // they took): the level moves by at most about that much, and does not drift up. (malloc4j's may go
                // further down if a cell outlives its decay time, 1 s: free pages then go back to the OS and stop
                // counting as committed; the naive heap keeps its holes.)
                assertThat(c.holesAfter()).as("%s at %d%%", c.heap(), c.level()).isLessThan(level + 0.10);
                if (c == n) assertThat(c.holesAfter()).as("naive at %d%%", c.level()).isGreaterThan(level - 0.15);
                assertThat(c.p50()).isPositive();
                assertThat(c.p50()).isLessThanOrEqualTo(c.p99());
                assertThat(c.p99()).isLessThanOrEqualTo(c.p999());
                assertThat(c.p999()).isLessThanOrEqualTo(c.max());
            }
            assertThat(m.freeExtents()).isEqualTo(-1);
            assertThat(n.freeExtents()).isPositive();
        }
    }

    /**
     * With {@code --runs}, the table says every figure is the median of the runs; the naive heap's free extents were
     * the first run's (they vary from run to run with the number of unrecorded batches, which a time sets).
     */
    @Test
    void withSeveralRunsTheFreeExtentsAreTheirMedianToo() {
        List<List<LatencyDemo.Cell>> runs = List.of(
                List.of(new LatencyDemo.Cell("naive first-fit", 90, 0.9, 0.9, 0.8, 900, 1, 2, 3, 4)),
                List.of(new LatencyDemo.Cell("naive first-fit", 90, 0.9, 0.9, 0.8, 100, 1, 2, 3, 4)),
                List.of(new LatencyDemo.Cell("naive first-fit", 90, 0.9, 0.9, 0.8, 300, 1, 2, 3, 4)));
        assertThat(LatencyDemo.median(runs).getFirst().freeExtents()).isEqualTo(300);
        List<List<LatencyDemo.Cell>> malloc4j = List.of(
                List.of(new LatencyDemo.Cell("malloc4j", 90, 0.9, 0.9, 0.8, -1, 1, 2, 3, 4)),
                List.of(new LatencyDemo.Cell("malloc4j", 90, 0.9, 0.9, 0.8, -1, 1, 2, 3, 4)));
        assertThat(LatencyDemo.median(malloc4j).getFirst().freeExtents()).isEqualTo(-1);
    }

    /**
     * malloc4j's share of its used memory in holes stays a share: with more bytes in flight than the fill (1 MiB filled,
     * 64 batches of 16 blocks of up to 4 KiB in flight) it read 112% at level 0, since the free bytes the churn left
     * were set over the bytes used at the end of the fill rather than over the bytes used now.
     */
    @Test
    void malloc4jsHolesAreAShareOfTheMemoryItUsesNow() {
        LatencyDemo.Config c = new LatencyDemo.Config(1L << 20, 64, 4096, 16, 64, 20_000, 0, 20_000, new int[] {0}, 42);
        for (int level : new int[] {0, 90}) {
            try (LatencyDemo.Malloc4j m = new LatencyDemo.Malloc4j()) {
                LatencyDemo.Cell cell = LatencyDemo.measure(m, level, c);
                assertThat(cell.holesBefore()).as("before at %d%%", level).isBetween(0.0, 1.0);
                assertThat(cell.holesAfter()).as("after at %d%%", level).isBetween(0.0, 1.0);
            }
        }
    }

    @Test
    void percentilesAreNearestRank() {
        long[] v = new long[1000];
        for (int i = 0; i < v.length; i++) v[i] = i + 1;
        assertThat(LatencyDemo.pct(v, 0.50)).isEqualTo(500);
        assertThat(LatencyDemo.pct(v, 0.99)).isEqualTo(990);
        assertThat(LatencyDemo.pct(v, 0.999)).isEqualTo(999);
        assertThat(LatencyDemo.pct(v, 1.0)).isEqualTo(1000);
        // few samples: the nearest rank is never below the first or past the last
        long[] ten = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertThat(LatencyDemo.pct(ten, 0.50)).isEqualTo(5);
        assertThat(LatencyDemo.pct(ten, 0.99)).isEqualTo(10);
        assertThat(LatencyDemo.pct(ten, 0.999)).isEqualTo(10);
        assertThat(LatencyDemo.pct(new long[] {7}, 0.5)).isEqualTo(7);
        assertThat(LatencyDemo.pct(new long[] {7}, 0.999)).isEqualTo(7);
        long[] hundred = new long[100];
        for (int i = 0; i < 100; i++) hundred[i] = i + 1;
        assertThat(LatencyDemo.pct(hundred, 0.99)).isEqualTo(99);
        assertThat(LatencyDemo.pct(hundred, 0.999)).isEqualTo(100);
    }

    @Test
    void commandPrintsTheTable() {
        StringWriter out = new StringWriter();
        int code = Main.execute(new PrintWriter(out), new PrintWriter(new StringWriter()), "demo", "latency",
                "--fill", "2", "--warmup", "20", "--batches", "100", "--delay", "4", "--levels", "0,50,90");
        assertThat(code).isEqualTo(Main.OK);
        List<String> lines = out.toString().lines().toList();
        assertThat(lines).anySatisfy(l -> assertThat(l).contains("holes", "heap", "p50 ns", "p99 ns", "p99.9 ns",
                "max ns"));
        for (String level : List.of("0%", "50%", "90%")) {
            for (String heap : List.of("malloc4j", "naive first-fit")) {
                assertThat(lines).as(level + " " + heap)
                        .filteredOn(l -> l.startsWith(level + " ") && l.contains(" " + heap + " ")).hasSize(1);
            }
        }
        assertThat(out.toString()).contains("malloc4j p99 at 90% / p99 at 0%:", "target: at most 1.5",
                "naive first-fit p99 at 90% / p99 at 0%:");
    }

    /**
     * The target is malloc4j's p99 at 90% of the memory in holes against its p99 with none. Run with --levels 90
     * alone, the demo printed "p99 at 90% / p99 at 90%: 1.00 (target: at most 1.5) MET": a level against itself;
     * with 50,90 it judged the target against the 50% level. Without both 0 and 90 or more, the ratio is not judged.
     */
    @Test
    void theTargetIsJudgedOnlyAgainstAHeapWithoutHoles() {
        assertThat(printed(new int[] {90}, cell("malloc4j", 90, 100), cell("naive first-fit", 90, 900)))
                .contains("malloc4j p99 at 90% / p99 at 90%: 1.00 (", "not judged")
                .doesNotContain("MET");
        assertThat(printed(new int[] {50, 90}, cell("malloc4j", 50, 100), cell("naive first-fit", 50, 500),
                cell("malloc4j", 90, 120), cell("naive first-fit", 90, 900)))
                .contains("malloc4j p99 at 90% / p99 at 50%: 1.20 (", "not judged")
                .doesNotContain("MET");
        assertThat(printed(new int[] {0, 90}, cell("malloc4j", 0, 100), cell("naive first-fit", 0, 100),
                cell("malloc4j", 90, 120), cell("naive first-fit", 90, 900)))
                .contains("malloc4j p99 at 90% / p99 at 0%: 1.20 (target: at most 1.5) MET");
        assertThat(printed(new int[] {0, 90}, cell("malloc4j", 0, 100), cell("naive first-fit", 0, 100),
                cell("malloc4j", 90, 200), cell("naive first-fit", 90, 900)))
                .contains("malloc4j p99 at 90% / p99 at 0%: 2.00 (target: at most 1.5) NOT MET");
    }

    private static LatencyDemo.Cell cell(String heap, int level, double p99) {
        return new LatencyDemo.Cell(heap, level, level / 100.0, level / 100.0, level / 100.0, heap.equals("malloc4j")
                ? -1 : 10, p99 / 2, p99, 2 * p99, 4 * p99);
    }

    private static String printed(int[] levels, LatencyDemo.Cell... cells) {
        LatencyDemo.Config d = LatencyDemo.Config.defaults();
        LatencyDemo.Config c = new LatencyDemo.Config(d.fillBytes(), d.minSize(), d.maxSize(), d.batch(), d.delay(),
                d.warmupBatches(), d.warmupMillis(), d.batches(), levels, d.seed());
        StringWriter out = new StringWriter();
        LatencyDemo.print(List.of(cells), c, 1, new PrintWriter(out));
        return out.toString();
    }

    @Test
    void sizesThatWouldOverflowAreBadInput() {
        // --fill in MiB shifted into bytes went negative; --batch times --delay sized an int array past its range
        // and a fill past 1 GiB would take the naive heap hours to make its holes (its free walks the holes)
        for (String[] args : new String[][] {{"--fill", "8796093022208"}, {"--fill", "1025"},
                {"--batch", "100000", "--delay", "100000"},
                {"--batches", "2000000000"}}) {
            StringWriter err = new StringWriter();
            String[] all = new String[args.length + 2];
            all[0] = "demo";
            all[1] = "latency";
            System.arraycopy(args, 0, all, 2, args.length);
            int code = Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err), all);
            assertThat(code).as(String.join(" ", args)).isEqualTo(Main.BAD_INPUT);
            assertThat(err.toString()).contains("at most").doesNotContain("\tat ");
        }
    }

    /** A number below its option's least was refused with one message naming all six options, not the one. */
    @Test
    void aNumberTooSmallIsBadInputNamingItsOption() {
        for (String[] args : new String[][] {{"--fill", "0"}, {"--batches", "-3"}, {"--warmup", "-1"},
                {"--batch", "0"}, {"--delay", "-2147483648"}, {"--runs", "0"}}) {
            StringWriter err = new StringWriter();
            int code = Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err), "demo", "latency",
                    args[0], args[1]);
            assertThat(code).as(args[0]).isEqualTo(Main.BAD_INPUT);
            String least = args[0].equals("--warmup") ? "0" : "1";
            assertThat(err.toString()).as(args[0]).startsWith("malloc4j demo latency: " + args[0] + " must be at least "
                    + least + ", not " + args[1] + " (see ").doesNotContain("\tat ");
        }
    }

    /** "--levels ," parses as no level at all: the demo stopped with an internal error and a stack trace. */
    @Test
    void noLevelIsBadInput() {
        StringWriter err = new StringWriter();
        int code = Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err), "demo", "latency",
                "--levels", ",");
        assertThat(code).isEqualTo(Main.BAD_INPUT);
        assertThat(err.toString()).contains("--levels").doesNotContain("\tat ", "internal error");
    }

    @Test
    void badLevelIsBadInput() {
        int code = Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), "demo",
                "latency", "--levels", "0,120");
        assertThat(code).isEqualTo(Main.BAD_INPUT);
    }
}
