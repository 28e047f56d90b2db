package org.malloc4j.internal.small;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A remote free whose push to its slab's owner is on its way while the owner's cache is adopted: the interleaving of
 * three threads replayed step by step on one, calling the code {@link LocalHeap#freeRemote} runs, split where the
 * freeing thread is preempted (between marking the slab pending and pushing it).
 */
class AdoptPendingTest {

    @Test
    void aPushOnItsWayWhileTheOwnerIsAdoptedLosesNoSlabOfTheAdoptersStack() throws Exception {
        Thread ended = new Thread(() -> {});
        ended.start();
        ended.join();
        FakeSlabSource source = new FakeSlabSource();
        LocalHeap dead = LocalHeap.exclusive(ended, source);
        LocalHeap adopter = LocalHeap.exclusive(Thread.currentThread(), source);
        LocalHeap freer = LocalHeap.exclusive(new Thread(() -> {}), source); // the freeing threads' cache

        int c = SizeClasses.classOf(64);
        long s1 = dead.allocate(c, 64), s2 = dead.allocate(c, 64);
        dead.allocate(c, 64);
        Slab s = dead.recent();
        int c2 = SizeClasses.classOf(128);
        long r1 = adopter.allocate(c2, 128), r2 = adopter.allocate(c2, 128), r3 = adopter.allocate(c2, 128);
        Slab r = adopter.recent();
        freer.freeRemote(r, r.indexOf(r1)); // r waits on the adopter's pending stack

        // Thread T frees s1 and marks s pending; it has read s's owner (the cache about to die) and is preempted
        int i1 = s.indexOf(s1);
        assertThat(s.freeRemote(i1)).isTrue();
        freer.countFree(s.blockSize); // as LocalHeap.freeRemote counts it
        assertThat(s.markPending()).isTrue();
        LocalHeap staleOwner = s.owner;
        // The adopter takes over the dead cache; then T pushes to the stale owner, whose closed stack forwards
        adopter.adopt(dead);
        staleOwner.pushPending(s);
        // A later remote free into s: were s's flag cleared by the adoption, s would be pushed a second time,
        // overwriting its link and dropping r from the adopter's stack for good
        freer.freeRemote(s, s.indexOf(s2));
        adopter.drainPending();
        assertThat(r.pending).as("r was drained, not left flagged on no stack").isZero();
        freer.freeRemote(r, r.indexOf(r2));
        freer.freeRemote(r, r.indexOf(r3));
        adopter.drainPending();
        assertThat(r.used).as("every remote free of r reached its owner").isZero();
    }
}
