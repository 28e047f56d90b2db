package org.malloc4j.cli.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** JSON written by hand: strings escaped, missing figures null, non-finite numbers never written. */
class JsonLinesPrinterTest {
    @Test
    void escapesEveryCharacterJsonForbids() {
        String s = "a\"b\\c\nd\re\tf\bg\fh\u0001i\u2028j/é";
        assertThat(JsonLinesPrinter.quote(new StringBuilder(), s).toString())
                .isEqualTo("\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001i\\u2028j/é\"");
    }

    @Test
    void writesNullForWhatIsNotKnown() {
        StringWriter out = new StringWriter();
        JsonLinesPrinter p = new JsonLinesPrinter(new PrintWriter(out));
        p.result(new ReplayResult("x\"y", "glibc", 10, Double.NaN, 100, 100, -1, Double.NaN, Double.NaN, -1, 0,
                List.of()));
        assertThat(out.toString().strip()).isEqualTo("{\"trace\":\"x\\\"y\",\"allocator\":\"glibc\",\"ops\":10,"
                + "\"nsPerOp\":null,\"peakLiveBytes\":100,\"tracePeakLiveBytes\":100,\"peakCommittedBytes\":null,"
                + "\"peakFootprintBytes\":null,\"utilization\":null,\"externalFragmentation\":null,\"peakRssBytes\":null,"
                + "\"firstRunRssBytes\":null,\"errors\":0}");
    }

    @Test
    void tableFormatsUnits() {
        assertThat(Units.bytes(512)).isEqualTo("512 B");
        assertThat(Units.bytes(1536)).isEqualTo("1.5 KiB");
        assertThat(Units.bytes(20L << 20)).isEqualTo("20.0 MiB");
        // what would round to 1024.0 of a unit is the next unit's 1.0
        assertThat(Units.bytes((1L << 20) - 1)).isEqualTo("1.0 MiB");
        assertThat(Units.bytes(1_048_371)).isEqualTo("1023.8 KiB");
        assertThat(Units.bytes(-1)).isEqualTo("n/a");
        assertThat(Units.percent(0.9314)).isEqualTo("93.1%");
        assertThat(Units.percent(Double.NaN)).isEqualTo("n/a");
        assertThat(Units.count(1451261)).isEqualTo("1,451,261");
    }
}
