package org.malloc4j.internal.small;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class StripeLockTest {
    /** Plain fields, changed only under the lock: a lost update or an overlap shows in the final figures. */
    private long counter;
    private int inside;
    private int maxInside;

    @Test
    void excludesPlatformAndVirtualThreadsFromEachOther() throws InterruptedException {
        StripeLock lock = new StripeLock();
        int threads = 16, rounds = 20_000;
        List<Thread> all = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        for (int t = 0; t < threads; t++) {
            Thread.Builder b = t % 2 == 0 ? Thread.ofPlatform() : Thread.ofVirtual();
            all.add(b.start(() -> {
                Latches.await(start);
                for (int i = 0; i < rounds; i++) {
                    lock.lock();
                    try {
                        inside++;
                        maxInside = Math.max(maxInside, inside);
                        counter++;
                        if ((i & 255) == 0) Thread.yield(); // a holder off its CPU: the others must wait, not enter
                        inside--;
                    } finally {
                        lock.unlock();
                    }
                }
            }));
        }
        start.countDown();
        for (Thread t : all) t.join();
        lock.lock();
        try {
            assertThat(counter).isEqualTo((long) threads * rounds);
            assertThat(maxInside).isEqualTo(1);
        } finally {
            lock.unlock();
        }
    }

    @Test
    void isReentrantForItsHolder() {
        StripeLock lock = new StripeLock();
        lock.lock();
        lock.lock();
        assertThat(lock.tryLock()).isTrue();
        assertThat(lock.isHeldByCurrentThread()).isTrue();
        lock.unlock();
        lock.unlock();
        assertThat(lock.isHeldByCurrentThread()).isTrue();
        lock.unlock();
        assertThat(lock.isHeldByCurrentThread()).isFalse();
        assertThat(lock.tryLock()).isTrue();
        lock.unlock();
    }

    @Test
    void aWaiterGetsTheLockOnceItsHolderGivesItBack() throws InterruptedException {
        StripeLock lock = new StripeLock();
        lock.lock();
        AtomicBoolean refused = new AtomicBoolean();
        Thread other = Thread.ofVirtual().start(() -> refused.set(!lock.tryLock()));
        other.join();
        assertThat(refused).isTrue();
        CountDownLatch waiting = new CountDownLatch(1);
        AtomicBoolean got = new AtomicBoolean();
        Thread waiter = Thread.ofVirtual().start(() -> {
            waiting.countDown();
            lock.lock(); // spins, yields, then parks for growing times: must still see the release
            got.set(lock.isHeldByCurrentThread());
            lock.unlock();
        });
        waiting.await();
        lock.unlock();
        waiter.join();
        assertThat(got).isTrue();
    }

    @Test
    void onlyItsHolderMayGiveItBack() throws InterruptedException {
        StripeLock lock = new StripeLock();
        assertThatThrownBy(lock::unlock).isInstanceOf(IllegalMonitorStateException.class)
                .hasMessageContaining("not held");
        lock.lock();
        List<Throwable> thrown = new ArrayList<>();
        Thread other = Thread.ofPlatform().start(() -> {
            try {
                lock.unlock();
            } catch (IllegalMonitorStateException e) {
                thrown.add(e);
            }
        });
        other.join();
        assertThat(thrown).hasSize(1);
        assertThat(lock.isHeldByCurrentThread()).isTrue();
        lock.unlock();
    }
}
