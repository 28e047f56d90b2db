package org.malloc4j.internal.sites;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** White-box checks of the site recorder: captures resolved lazily, their number bounded, sites interned. */
class SiteRecorderTest {

    @Test
    void capturesWaitingForResolutionAreBoundedAndResolveToOneSite() {
        SiteRecorder recorder = new SiteRecorder(1); // every block, as tests record them
        List<SiteRecord> records = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            records.add(recorder.record(0x10_0000L + 16L * i, 16));
            assertThat(recorder.unresolved()).isLessThanOrEqualTo(SiteRecorder.MAX_UNRESOLVED);
        }
        // The oldest were resolved to bound memory, the newest not yet: both give the same interned site.
        Site first = records.getFirst().site();
        for (SiteRecord r : records) assertThat(r.site()).isSameAs(first);
        assertThat(first.frames()).isNotEmpty();
    }

    @Test
    void aFreeNotedHereResolvesToItsOwnSite() {
        SiteRecorder recorder = new SiteRecorder(1);
        SiteRecord r = recorder.record(0x20_0000L, 64);
        assertThat(r.freedAt()).isNull();
        r.freedHere();
        Site freed = r.freedAt();
        assertThat(freed).isNotNull();
        assertThat(r.freedAt()).isSameAs(freed); // resolved once, then kept
        // (Both stacks start in this test, a class of malloc4j's internal package, so both resolve to the first frames
        // beyond it, the test runner's: CheckedModeTest checks a real double free's two sites from outside.)
    }

    /**
     * A program whose stacks never repeat (generated code, scripts) samples a new site after another: the interning
     * table does not keep them all, and equal sites still group as one in a report.
     */
    @Test
    void theInterningTableIsBoundedWhateverTheNumberOfDistinctSites() {
        SiteRecorder recorder = new SiteRecorder(1);
        Site firstOfOne = null;
        for (int i = 0; i < 3 * SiteRecorder.MAX_INTERNED; i++) {
            SiteRecorder.Capture c = recorder.capture();
            c.setStackTrace(new StackTraceElement[] {new StackTraceElement("app.Generated" + i, "run", null, 1)});
            Site s = recorder.resolve(c);
            assertThat(recorder.interned()).isLessThanOrEqualTo(SiteRecorder.MAX_INTERNED);
            if (i == 0) firstOfOne = s;
        }
        SiteRecorder.Capture again = recorder.capture();
        again.setStackTrace(new StackTraceElement[] {new StackTraceElement("app.Generated0", "run", null, 1)});
        assertThat(recorder.resolve(again)).isEqualTo(firstOfOne).hasSameHashCodeAs(firstOfOne);
    }

    /**
     * Threads that sample new sites at the same time: the bound holds for the table as a whole, not only for one
     * thread's look at it. Its test and its put were two steps, and threads that passed the test together at 16,383
     * sites each added one (a review read 16,386 with four threads).
     */
    @Test
    void theInterningTableStaysBoundedUnderThreadsThatInternAtOnce() throws InterruptedException {
        SiteRecorder recorder = new SiteRecorder(1);
        AtomicInteger most = new AtomicInteger();
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            int me = t;
            threads[t] = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 10 * SiteRecorder.MAX_INTERNED; i++) {
                    SiteRecorder.Capture c = recorder.capture();
                    String app = "app.T" + me + "x" + i;
                    c.setStackTrace(new StackTraceElement[] {new StackTraceElement(app, "run", null, 1)});
                    recorder.resolve(c);
                    most.accumulateAndGet(recorder.interned(), Math::max);
                }
            });
        }
        for (Thread t : threads) t.join();
        assertThat(most.get()).isLessThanOrEqualTo(SiteRecorder.MAX_INTERNED);
    }
}
