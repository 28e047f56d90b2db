package org.malloc4j.internal.sites;

import static org.assertj.core.api.Assertions.assertThat;
import static org.malloc4j.Internals.await;
import static org.malloc4j.Internals.field;

import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.StampedLock;
import org.junit.jupiter.api.Test;
import org.malloc4j.Heap;
import org.malloc4j.HeapMode;
import org.malloc4j.InvalidFreeException;

/**
 * CHECKED: a double free racing a first free that waits for a lock (here a LiveRecords stripe's, as it notes where
 * the block was freed) is reported as the double free it is: that wait comes after the first free's freed tail, so
 * the second never meets FREED over a live tail, which it would take, after a bounded wait, for a stray write.
 */
class StalledFreeDoubleFreeTest {
    @Test
    void aDoubleFreeRacingAStalledFreeIsReportedAsADoubleFree() throws Exception {
        Heap heap = Heap.builder().mode(HeapMode.CHECKED).trackSites(1).jmx(false).build();
        long p = heap.malloc(64);
        long engine = p - 16;
        Object core = field(heap, Heap.class, "core");
        SiteRecorder sites = (SiteRecorder) field(core, core.getClass(), "sites");
        LiveRecords live = (LiveRecords) field(sites, SiteRecorder.class, "live");
        Object[] stripes = (Object[]) field(live, LiveRecords.class, "stripes");
        Object stripe = stripes[LiveRecords.stripeIndex(LiveRecords.hash(engine))];
        StampedLock lock = (StampedLock) field(stripe, stripe.getClass(), "lock");
        assertThat(sites.get(engine)).isNotNull();

        AtomicReference<Throwable> second = new AtomicReference<>();
        long stamp = lock.writeLock();
        Thread first, racer;
        try {
            first = Thread.ofPlatform().start(() -> heap.free(p)); // marks FREED, then waits in noteFreeSite
            assertThat(await(() -> in(first, "noteFreeSite") && first.getState() == Thread.State.WAITING)).isTrue();
            racer = Thread.ofPlatform().start(() -> {
                try {
                    heap.free(p);
                } catch (Throwable t) {
                    second.set(t);
                }
            });
            // past the 50 ms wait: it builds its report (which reads the records, and waits for the same lock)
            assertThat(await(() -> !racer.isAlive() || in(racer, "damage") || in(racer, "alreadyFreed"))).isTrue();
        } finally {
            lock.unlockWrite(stamp);
        }
        first.join(10_000);
        racer.join(10_000);
        assertThat(second.get()).isInstanceOf(InvalidFreeException.class);
        heap.close();
    }

    private static boolean in(Thread t, String method) {
        for (StackTraceElement f : t.getStackTrace()) if (f.getMethodName().equals(method)) return true;
        return false;
    }
}
