package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Heap.verify() promises: "Exact when no other thread uses the heap; under concurrent use it checks the blocks that
 * stay live during the walk." In CHECKED mode a walk while one other thread mallocs and frees (a correct program)
 * reported damage that did not exist, and could crash the JVM: a header rewritten under the walk (junk or poison read
 * as a size of hundreds of terabytes) sent the tail check to a non-canonical address (SIGSEGV) or the poison check
 * through terabytes. Found by a review on 2026-12-06; the crash test failed (exit 134, or a hang) before the fix.
 */
class CheckedVerifyConcurrentTest {
    /** A correct program: one thread allocates and frees, never touching a byte outside its blocks. */
    static Thread churn(Heap heap, AtomicBoolean stop, boolean mixedSizes) {
        Thread t = new Thread(() -> {
            long[] keep = new long[64];
            int i = 0;
            while (!stop.get()) {
                int k = i++ & 63;
                if (keep[k] != 0) heap.free(keep[k]);
                keep[k] = heap.malloc(mixedSizes ? 16 + (i % 200) : 64);
            }
            for (long p : keep) if (p != 0) heap.free(p);
        });
        t.start();
        return t;
    }

    @Test
    void verifyDuringAnotherThreadsMallocAndFreeReportsNoDamage() throws Exception {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(4096).jmx(false).build()) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread t = churn(heap, stop, false); // one size: every header stays where the last one was (no wild size)
            List<HeapDamage> falseDamage = new ArrayList<>();
            try {
                for (int i = 0; i < 2000 && falseDamage.isEmpty(); i++) falseDamage.addAll(heap.verify());
            } finally {
                stop.set(true);
                t.join();
            }
            assertThat(heap.verify()).isEmpty(); // quiescent: nothing was ever damaged
            assertThat(falseDamage).as("damage reported while the other thread ran").isEmpty();
        }
    }

    /** Run in a child JVM: verify() concurrent with mixed-size churn. */
    public static void main(String[] args) throws Exception {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(4096).jmx(false).build()) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread t = churn(heap, stop, true);
            try {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[0]));
                while (System.nanoTime() < end) heap.verify();
            } finally {
                stop.set(true);
                t.join();
            }
        }
        System.exit(0);
    }

    @Test
    void verifyDuringAnotherThreadsChurnDoesNotCrashTheJvm() throws Exception {
        for (int run = 0; run < 2; run++) {
            // 4 s of work: a child still running after 60 s is walking a "block" whose size came from a torn header
            // (poison or junk read as a size: terabytes), faulting in zero pages as it goes
            ChildJvm.runToSuccess(CheckedVerifyConcurrentTest.class, 60, List.of("-Xmx512m"), "4");
        }
    }
}
