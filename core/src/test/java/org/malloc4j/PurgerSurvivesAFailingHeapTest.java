package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.malloc4j.Internals.await;
import static org.malloc4j.Internals.field;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.small.LocalHeap;

/**
 * The purger thread catches what one heap throws, reports it and goes on. But the report itself could end it (a
 * logging filter or handler that throws, an OutOfMemoryError while the message is made): the thread died, and no heap
 * of the process was purged, nor a dead thread's cache adopted, again. And a heap whose adoption of dead threads'
 * caches threw was not purged either: its expired pages stayed committed on every pass. The failure is injected: the
 * heap's first stripe, where the purger adopts, is taken away (a NullPointerException on every pass).
 */
class PurgerSurvivesAFailingHeapTest {
    private static final int BYTES = 4 << 20;

    private static Heap retaining(ManualClock clock) {
        Heap heap = Heap.builder().decay(Duration.ofSeconds(1)).clock(clock).jmx(false).build();
        long p = heap.malloc(BYTES);
        Blocks.ALL.asSlice(p, BYTES).fill((byte) 1);
        heap.free(p);
        assertThat(heap.stats().retainedBytes()).isEqualTo(BYTES);
        return heap;
    }

    @Test
    void aFailingHeapIsStillPurgedAndAFailingReportDoesNotEndThePurger() throws Exception {
        ManualClock clock = new ManualClock();
        // java.util.logging through reflection (this module does not read java.logging): a filter that sees the
        // record, then throws, as a broken handler would
        Class<?> loggerClass = Class.forName("java.util.logging.Logger");
        Class<?> filterClass = Class.forName("java.util.logging.Filter");
        Object log = loggerClass.getMethod("getLogger", String.class).invoke(null, "org.malloc4j");
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        Object failing = Proxy.newProxyInstance(filterClass.getClassLoader(), new Class<?>[] {filterClass},
                (proxy, method, args) -> {
                    if (!method.getName().equals("isLoggable")) return method.invoke(this, args);
                    // Other threads' records (a cleaner's leak report from an earlier test) go through untouched
                    if (!Thread.currentThread().getName().equals("malloc4j-purger")) return true;
                    reported.add((Throwable) args[0].getClass().getMethod("getThrown").invoke(args[0]));
                    throw new IllegalStateException("a logging filter that fails");
                });
        Object before = loggerClass.getMethod("getFilter").invoke(log);
        loggerClass.getMethod("setFilter", filterClass).invoke(log, failing);
        try (Heap broken = retaining(clock); Heap other = retaining(clock)) {
            Object core = field(broken, Heap.class, "core");
            Object caches = field(core, core.getClass(), "caches");
            LocalHeap[] stripes = (LocalHeap[]) field(caches, caches.getClass(), "stripes");
            LocalHeap first = stripes[0];
            stripes[0] = null; // every adoption pass on this heap throws from now on
            try {
                clock.advance(Duration.ofSeconds(1)); // both heaps' free pages expire
                assertThat(await(() -> !reported.isEmpty())).as("the failure reported").isTrue();
                assertThat(reported.get(0)).isInstanceOf(NullPointerException.class);
                assertThat(await(() -> other.stats().retainedBytes() == 0)).as("the other heap purged").isTrue();
                assertThat(await(() -> broken.stats().retainedBytes() == 0)).as("the failing heap purged").isTrue();
                Thread purger = (Thread) field(null, Class.forName("org.malloc4j.internal.Purger"), "thread");
                assertThat(purger.isAlive()).as("the purger thread").isTrue();
            } finally {
                stripes[0] = first;
            }
        } finally {
            loggerClass.getMethod("setFilter", filterClass).invoke(log, before);
        }
    }
}
