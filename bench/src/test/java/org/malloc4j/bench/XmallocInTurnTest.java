package org.malloc4j.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link XmallocInTurn} runs the subjects that can run here and says which it skipped. */
class XmallocInTurnTest {
    /**
     * The protocol: skip an anchor whose library is missing, and say so. XmallocInTurn let the first missing anchor's
     * UnavailableException end the whole run (a stack trace, no figures for the others).
     */
    @Test
    void anUnavailableSubjectIsSkippedWithItsReasonAndTheOthersRun() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<XmallocInTurn.Opened> opened = XmallocInTurn.openAvailable(
                new String[] {"malloc4j", "jemalloc", "tcmalloc"}, name -> {
                    if (name.equals("jemalloc")) throw new Subject.UnavailableException("jemalloc skipped: no library");
                    return Subject.open("floor", 1);
                }, new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertThat(opened).extracting(XmallocInTurn.Opened::name).containsExactly("malloc4j", "tcmalloc");
            assertThat(err.toString(StandardCharsets.UTF_8))
                    .contains("SKIPPED jemalloc: jemalloc skipped: no library");
        } finally {
            for (XmallocInTurn.Opened o : opened) o.subject().close();
        }
    }
}
