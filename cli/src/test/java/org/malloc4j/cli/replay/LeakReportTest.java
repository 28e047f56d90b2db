package org.malloc4j.cli.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.malloc4j.cli.trace.Trace;
import org.malloc4j.cli.trace.TraceBuilder;

/** {@link LeakReport}: power-of-two buckets, largest groups first, the cap, the earliest examples. */
class LeakReportTest {
    @Test
    void bucketsArePowersOfTwoAbove16() {
        assertThat(LeakReport.bucket(0)).isZero();
        assertThat(LeakReport.bucket(16)).isZero();
        assertThat(LeakReport.bucket(17)).isEqualTo(1);
        assertThat(LeakReport.bucket(32)).isEqualTo(1);
        assertThat(LeakReport.bucket(33)).isEqualTo(2);
        assertThat(LeakReport.bucket(4096)).isEqualTo(8);
        assertThat(LeakReport.bucket(Long.MAX_VALUE)).isEqualTo(59);
    }

    @Test
    void capsTheGroupsAndSumsTheRest() {
        // 25 buckets: one block of 2^k bytes for k = 4..28 (ids in order), plus two more in the largest
        int n = 25;
        TraceBuilder b = new TraceBuilder("many", 100, 100, 0);
        long[] size = new long[n + 2];
        int[] site = new int[n + 2];
        int[] resized = new int[n + 2];
        Arrays.fill(resized, -1);
        for (int id = 0; id < n; id++) {
            size[id] = 1L << (id + 4);
            site[id] = b.count();
            b.alloc(id, size[id]);
        }
        for (int id = n; id < n + 2; id++) {
            size[id] = (1L << 28) - id;
            site[id] = b.count();
            b.alloc(id, size[id]);
        }
        Trace trace = b.build();
        LeakReport r = LeakReport.of(trace, size, site, resized, -1);

        assertThat(r.blocks()).isEqualTo(n + 2);
        assertThat(r.bytes()).isEqualTo(trace.finalLiveBytes());
        assertThat(r.groups()).hasSize(LeakReport.MAX_GROUPS);
        LeakReport.Group top = r.groups().getFirst();
        assertThat(top.label()).isEqualTo("(128 MiB, 256 MiB]");
        assertThat(top.blocks()).isEqualTo(3);
        assertThat(top.examples()).extracting(LeakReport.Example::id).containsExactly(24, 25, 26);
        assertThat(top.examples().getFirst().line()).isEqualTo(-1);
        assertThat(top.examples().getFirst().op()).isEqualTo(25);
        assertThat(r.groups().getLast().label()).isEqualTo("(256 B, 512 B]");
        assertThat(r.moreGroups()).isEqualTo(5);
        assertThat(r.moreBlocks()).isEqualTo(5);
        assertThat(r.moreBytes()).isEqualTo(16 + 32 + 64 + 128 + 256);

        StringWriter out = new StringWriter();
        TablePrinter p = new TablePrinter(new PrintWriter(out));
        p.begin("glibc", List.of("many"));
        p.result(new ReplayResult("many", "glibc", trace.size(), 1, 0, 0, -1, Double.NaN, Double.NaN, -1, -1, 0,
                List.of(), r, -1));
        p.end();
        assertThat(out.toString()).contains("leaks in many: 27 blocks, ")
                .contains("  ... 5 more groups: 5 blocks, 496 B")
                .contains("id 24 at op 25: 268435456 B; id 25 at op 26: 268435431 B; id 26 at op 27: 268435430 B")
                .doesNotContain("malloc4j counts");
    }
}
