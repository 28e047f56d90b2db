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
 * A lookup racing the add that grows the stripe's table: the stripe holds as many records as its first table takes,
 * and one more is added (the table is replaced by one twice as large) while another thread looks up a record that was
 * there before and removes a third. Whatever table the lookup read, it finds its record.
 *
 * <p>r1: 1 when the lookup found the old record; r2: 1 when, afterwards, the stripe holds exactly the records it
 * should.
 */
@JCStressTest
@Description("A lookup and a removal racing the add that grows the table.")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Found, and the table holds what it should.")
@Outcome(expect = FORBIDDEN, desc = "A live record missed or lost, or a removed one kept.")
@State
public class LiveRecordsGrowthTest {
    private static final SiteRecorder RECORDER = new SiteRecorder(1);
    /** Addresses of one stripe: the first table's worth, then the one whose add grows it. */
    private static final long[] SAME_STRIPE = SameStripe.addresses(LiveRecords.FIRST_CAPACITY / 2 + 1, false);

    private final LiveRecords live = new LiveRecords();
    private final SiteRecord[] records = new SiteRecord[SAME_STRIPE.length];

    public LiveRecordsGrowthTest() {
        for (int i = 0; i < records.length; i++) records[i] = new SiteRecord(RECORDER, SAME_STRIPE[i], 16, null, "t");
        for (int i = 0; i < records.length - 1; i++) live.add(records[i]);
    }

    @Actor
    public void grower() {
        live.add(records[records.length - 1]);
    }

    @Actor
    public void readerAndRemover(II_Result r) {
        r.r1 = live.get(SAME_STRIPE[0]) == records[0] ? 1 : 0;
        live.remove(SAME_STRIPE[1]);
    }

    @Arbiter
    public void check(II_Result r) {
        boolean ok = live.get(SAME_STRIPE[1]) == null && live.all().size() == records.length - 1;
        for (int i = 0; i < records.length; i++) if (i != 1 && live.get(SAME_STRIPE[i]) != records[i]) ok = false;
        r.r2 = ok ? 1 : 0;
    }
}
