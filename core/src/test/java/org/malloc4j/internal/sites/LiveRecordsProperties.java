package org.malloc4j.internal.sites;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The live records' table against a {@link HashMap}: random adds, removes and lookups over a small set of addresses
 * (so that runs collide, wrap round the table's end and shift back on removal) and over enough of them to grow the
 * tables several times.
 */
class LiveRecordsProperties {
    private static final SiteRecorder RECORDER = new SiteRecorder(1);

    /** One step: {@code op} 0-2 add, 3-4 remove, 5 look up; the address is {@code 16 * slot}, slots 1 and up. */
    record Step(int op, int slot) {}

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Integer> slots = Arbitraries.oneOf(Arbitraries.integers().between(1, 40),
                Arbitraries.integers().between(1, 5_000));
        return Arbitraries.integers().between(0, 5).flatMap(op -> slots.map(slot -> new Step(op, slot)))
                .list().ofMinSize(1).ofMaxSize(3_000);
    }

    @Property(tries = 200)
    void behavesAsAMapOfAddressesToRecords(@ForAll("steps") List<Step> steps) {
        LiveRecords live = new LiveRecords();
        Map<Long, SiteRecord> model = new HashMap<>();
        for (Step s : steps) {
            long address = 16L * s.slot();
            switch (s.op()) {
                case 0, 1, 2 -> {
                    if (model.containsKey(address)) break; // a block is sampled again only after it was freed
                    SiteRecord r = new SiteRecord(RECORDER, address, 16, null, "t");
                    live.add(r);
                    model.put(address, r);
                }
                case 3, 4 -> assertThat(live.remove(address)).isSameAs(model.remove(address));
                default -> assertThat(live.get(address)).isSameAs(model.get(address));
            }
        }
        for (Map.Entry<Long, SiteRecord> e : model.entrySet()) assertThat(live.get(e.getKey())).isSameAs(e.getValue());
        assertThat(live.all()).containsExactlyInAnyOrderElementsOf(model.values());
    }

    @Test
    void theWaitingRecordsAreBoundedAndTheOldestComeBackToBeResolved() {
        LiveRecords live = new LiveRecords();
        int displaced = 0;
        int n = 3 * SiteRecorder.MAX_UNRESOLVED;
        for (int i = 1; i <= n; i++) {
            SiteRecord r = new SiteRecord(RECORDER, 16L * i, 16, RECORDER.capture(), "t");
            if (live.add(r) != null) displaced++;
        }
        // Every record beyond what the stripes hold as waiting pushed one out, to be resolved by the caller.
        assertThat(live.unresolved()).isLessThanOrEqualTo(SiteRecorder.MAX_UNRESOLVED);
        assertThat(displaced).isGreaterThanOrEqualTo(n - SiteRecorder.MAX_UNRESOLVED);
        assertThat(live.all()).hasSize(n);
    }

    @Test
    void threadsAddingAndRemovingTheirOwnAddressesSeeEveryRecordOfTheirs() throws InterruptedException {
        LiveRecords live = new LiveRecords();
        int threads = 4, perThread = 20_000;
        CountDownLatch start = new CountDownLatch(1);
        Thread[] workers = new Thread[threads];
        AssertionError[] failure = new AssertionError[1];
        for (int t = 0; t < threads; t++) {
            long base = (t + 1L) << 32;
            workers[t] = Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        long a = base + 16L * i;
                        SiteRecord r = new SiteRecord(RECORDER, a, 16, null, "t");
                        live.add(r);
                        assertThat(live.get(a)).isSameAs(r);
                        if (i % 3 != 0) assertThat(live.remove(a)).isSameAs(r);
                    }
                } catch (AssertionError e) {
                    failure[0] = e;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        start.countDown();
        for (Thread w : workers) w.join();
        if (failure[0] != null) throw failure[0];
        assertThat(live.all()).hasSize(threads * ((perThread + 2) / 3));
    }
}
