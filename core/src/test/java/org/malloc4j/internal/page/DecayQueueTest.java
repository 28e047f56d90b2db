package org.malloc4j.internal.page;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The decay queue keeps every current entry, in order, across the ring's wrap-around and its compactions. */
class DecayQueueTest {
    @Test
    void compactionKeepsEveryCurrentEntryInOrder() {
        DecayQueue q = new DecayQueue(100);
        Set<Integer> live = new HashSet<>();
        List<Integer> expected = new ArrayList<>();
        int[] stampOf = new int[5000];
        for (int page = 0; page < stampOf.length; page++) {
            assertThat(q.isFull((p, s) -> live.contains(s))).as("a ring two thirds current grows").isFalse();
            int stamp = q.add(page, 10_000L + page);
            stampOf[page] = stamp;
            if (page % 3 != 0) live.add(stamp); // two entries in three stay current; compaction drops the others
        }
        for (int page = 0; page < stampOf.length; page++) if (live.contains(stampOf[page])) expected.add(page);
        assertThat(q.capacity()).as("grown past its first 1,024 entries").isGreaterThan(1024);
        List<Integer> polled = new ArrayList<>();
        int page;
        while ((page = q.pollExpired(Long.MAX_VALUE / 2)) >= 0) {
            if (live.contains(q.lastStamp())) polled.add(page);
        }
        assertThat(polled).as("every current entry, oldest first").isEqualTo(expected);
    }

    @Test
    void stampsAreNeverZeroWhenTheyWrapAround() {
        DecayQueue q = new DecayQueue(100, -2);
        int[] stamps = new int[4];
        for (int i = 0; i < stamps.length; i++) stamps[i] = q.add(i, i);
        assertThat(stamps).containsExactly(-2, -1, 1, 2);
    }

    @Test
    void anEntryComesUpOnlyOnceItsDecayTimeHasPassed() {
        DecayQueue q = new DecayQueue(100);
        q.add(7, 1_000);
        assertThat(q.pollExpired(1_099)).isEqualTo(-1);
        assertThat(q.nanosUntilNext(1_050)).isEqualTo(50);
        assertThat(q.pollExpired(1_100)).isEqualTo(7);
        assertThat(q.isEmpty()).isTrue();
    }
}
