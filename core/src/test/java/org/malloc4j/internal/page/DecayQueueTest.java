package org.malloc4j.internal.page;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The decay queue finds an entry's time by its stamp, across the ring's wrap-around and its compactions. */
class DecayQueueTest {
    @Test
    void timeOfFindsEveryQueuedEntryAndNoOther() {
        DecayQueue q = new DecayQueue(100);
        Set<Long> live = new HashSet<>();
        long[] stampOf = new long[5000];
        for (int page = 0; page < stampOf.length; page++) {
            if (q.isFull((p, s) -> live.contains(s))) {
                q.pollOldest();
                live.remove(q.lastStamp());
            }
            long stamp = q.add(page, 10_000L + page);
            stampOf[page] = stamp;
            if (page % 3 != 0) live.add(stamp); // two entries in three stay current; compaction drops the others
            if (page % 7 == 0) { // the oldest polled now and then: the ring's head moves and wraps
                q.pollOldest();
                live.remove(q.lastStamp());
            }
        }
        int found = 0;
        for (int page = 0; page < stampOf.length; page++) {
            long time = q.timeOf(stampOf[page], -1);
            if (time >= 0) {
                assertThat(time).as("time of page %d's entry", page).isEqualTo(10_000L + page);
                found++;
            }
            if (live.contains(stampOf[page])) assertThat(time).as("a current entry is found").isNotNegative();
        }
        assertThat(found).isGreaterThan(1000);
        assertThat(q.timeOf(0, -7)).isEqualTo(-7);
        assertThat(q.timeOf(stampOf[stampOf.length - 1] + 1, -7)).as("a stamp never given").isEqualTo(-7);
    }
}
