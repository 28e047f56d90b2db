package org.malloc4j.internal.sites;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * A lookup racing a removal that moves the looked-up record: eight blocks hash to the same stripe and the same home
 * slot, so they sit in one run of slots in the order they were added; removing the first shifts the seven others
 * back by one slot while another thread looks the last one up without a lock (optimistically). The lookup must find
 * it whatever it saw mid-shift (a probe that reads the run's old end after the shift emptied it would miss it): a
 * read that a writer got in the way of is retried under the read lock.
 *
 * <p>r1: 1 when the lookup found the last record, 0 when it found nothing, 2 when it found another record; r2: 1
 * when, afterwards, the first is gone and the seven others are there, alone.
 */
@JCStressTest
@Description("A lookup of a record that a removal shifts back still finds it.")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Found, and the table consistent afterwards.")
@Outcome(expect = FORBIDDEN, desc = "The lookup missed a live record, or the table lost or kept the wrong one.")
@State
public class LiveRecordsShiftTest {
    private static final SiteRecorder RECORDER = new SiteRecorder(1);
    /** Addresses with one stripe and one home slot in a table of the first capacity (which holds eight). */
    private static final long[] RUN = SameStripe.addresses(LiveRecords.FIRST_CAPACITY / 2, true);

    private final LiveRecords live = new LiveRecords();
    private final SiteRecord[] records = new SiteRecord[RUN.length];

    public LiveRecordsShiftTest() {
        for (int i = 0; i < RUN.length; i++) {
            records[i] = new SiteRecord(RECORDER, RUN[i], 16, null, "t");
            live.add(records[i]); // each probes past the ones before it
        }
    }

    @Actor
    public void remover() {
        live.remove(RUN[0]);
    }

    @Actor
    public void reader(II_Result r) {
        SiteRecord got = live.get(RUN[RUN.length - 1]);
        r.r1 = got == records[RUN.length - 1] ? 1 : got == null ? 0 : 2;
    }

    @Arbiter
    public void check(II_Result r) {
        boolean ok = live.get(RUN[0]) == null && live.all().size() == RUN.length - 1;
        for (int i = 1; i < RUN.length; i++) if (live.get(RUN[i]) != records[i]) ok = false;
        r.r2 = ok ? 1 : 0;
    }
}
