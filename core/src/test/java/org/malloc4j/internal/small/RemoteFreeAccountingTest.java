package org.malloc4j.internal.small;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A block freed by another thread is counted by that thread at its block size, and its slack (block size minus the
 * size asked for) by its owner when it collects the free; until then {@link LocalHeap#uncollectedSlack} says what is
 * owed, so that the caches' live bytes plus what is owed are the sizes asked for at every step. The caches are driven
 * directly on one thread, with slabs at made-up addresses (they never touch a block).
 */
class RemoteFreeAccountingTest {
    private static final int CLASS_32 = SizeClasses.classOf(32);

    @Test
    void theFreerCountsTheBlockSizeAndTheOwnerTheSlackWhenItCollects() {
        FakeSlabSource source = new FakeSlabSource();
        LocalHeap owner = LocalHeap.exclusive(Thread.currentThread(), source);
        LocalHeap freer = LocalHeap.exclusive(new Thread(() -> {}), source);
        long[] blocks = new long[10];
        for (int i = 0; i < blocks.length; i++) blocks[i] = owner.allocate(CLASS_32, 20 + i); // slack 12 down to 3
        Slab slab = source.slabs.get(0);
        long asked = 0;
        for (int i = 0; i < blocks.length; i++) asked += 20 + i;
        assertThat(owner.live).isEqualTo(asked);

        long freed = 0, owed = 0;
        for (int i = 0; i < 4; i++) {
            assertThat(freer.freeRemote(slab, slab.indexOf(blocks[i]))).isTrue();
            freed += 20 + i;
            owed += 12 - i;
        }
        assertThat(freer.live).as("counted at the block size").isEqualTo(-4 * 32);
        assertThat(freer.frees).isEqualTo(4);
        assertThat(owner.uncollectedSlack()).as("the freed blocks' slack, owed until collected").isEqualTo(owed);
        assertThat(owner.live + freer.live + owner.uncollectedSlack()).isEqualTo(asked - freed);

        owner.drainPending();
        assertThat(owner.uncollectedSlack()).isZero();
        assertThat(owner.live).as("the slack counted back by the owner").isEqualTo(asked + owed);
        assertThat(owner.live + freer.live).isEqualTo(asked - freed);

        assertThat(freer.freeRemote(slab, slab.indexOf(blocks[0]))).as("a double free, collected or not").isFalse();
        assertThat(freer.freeRemote(slab, slab.indexOf(blocks[5]))).isTrue();
        assertThat(freer.freeRemote(slab, slab.indexOf(blocks[5]))).isFalse();
        assertThat(owner.live + freer.live + owner.uncollectedSlack()).isEqualTo(asked - freed - 25);
        assertThat(freer.frees).isEqualTo(5);
    }

    /**
     * The race the slab's class comment admits (the owner frees a block while another thread's free of it is in flight,
     * and both succeed): replayed step by step, the block is counted freed once, before its owner collects and after.
     */
    @Test
    void aDoubleFreeThatSlippedThroughTheRaceIsCountedOnceBeforeAndAfterCollecting() {
        FakeSlabSource source = new FakeSlabSource();
        LocalHeap owner = LocalHeap.exclusive(Thread.currentThread(), source);
        LocalHeap freer = LocalHeap.exclusive(new Thread(() -> {}), source);
        long a = owner.allocate(CLASS_32, 20), b = owner.allocate(CLASS_32, 20);
        Slab slab = source.slabs.get(0);
        int i = slab.indexOf(a);
        // The other thread checked the block (allocated), then the owner freed it, then the other thread's OR landed
        assertThat(owner.freeLocal(slab, i)).isTrue();
        slab.bits[1] |= 1L << i; // Slab.freeRemote's getAndBitwiseOr, then the rest of LocalHeap.freeRemote
        freer.countFree(slab.blockSize);
        assertThat(slab.markPending()).isTrue();
        owner.pushPending(slab);

        assertThat(owner.live + freer.live + owner.uncollectedSlack()).as("before the owner collects").isEqualTo(20);
        owner.drainPending();
        assertThat(owner.live + freer.live + owner.uncollectedSlack()).as("after").isEqualTo(20);
        assertThat(owner.frees + freer.frees).as("one free counted").isEqualTo(1);
        assertThat(owner.freeLocal(slab, slab.indexOf(b))).isTrue();
        assertThat(owner.live + freer.live).isZero();
    }
    /**
     * The same race for a medium block shrunk in place far below its class, its slack beyond what {@code slack[0]}
     * holds in the slab's {@code wideSlack}: the other thread read the block's rounding before the owner's free, and
     * both frees succeeded. The owner's free reset the wide slack, and its collection took back a rounding without it,
     * while the other thread had taken out one with it: the live medium blocks' rounding, which statistics add to the
     * live bytes' pages, was left {@code wideSlack} bytes low, with no medium block live.
     */
    @Test
    void aMediumBlockShrunkFarAndFreedTwiceAtOnceLeavesNoRounding() {
        FakeSlabSource source = new FakeSlabSource();
        LocalHeap owner = LocalHeap.exclusive(Thread.currentThread(), source);
        LocalHeap freer = LocalHeap.exclusive(new Thread(() -> {}), source);
        int c = SizeClasses.classOf(250_000);
        assertThat(c).isGreaterThanOrEqualTo(SizeClasses.FIRST_MEDIUM);
        owner.allocate(c, 250_000);
        Slab slab = source.slabs.get(0);
        assertThat(slab.capacity).isEqualTo(1);
        // realloc in place far below the class (HeapCore.resizeInPlace)
        slab.setRequestedSize(0, 1000);
        owner.countResize(250_000, 1000);
        owner.mediumRounding += 250_000 - 1000;
        assertThat(slab.requestedSize(0)).isEqualTo(1000);
        assertThat(owner.mediumRounding).isEqualTo(slab.blockSize - 1000);
        // The other thread's free: LocalHeap.freeRemoteMedium reads the rounding, and its claim lands after the owner's
        // free of the block (both succeed: the race of the slab's class comment)
        int rounding = slab.blockSize - slab.requestedSize(0);
        assertThat(owner.freeLocal(slab, 0)).isTrue();
        slab.bits[1] |= 1L; // Slab.freeRemote's getAndBitwiseOr, then the rest of freeRemoteMedium
        freer.countFree(slab.blockSize);
        freer.mediumRounding -= rounding;
        assertThat(slab.markPending()).isTrue();
        owner.pushPending(slab);

        assertThat(owner.live + freer.live + owner.uncollectedSlack()).as("live bytes before collecting").isZero();
        owner.drainPending();
        assertThat(owner.live + freer.live).as("live bytes after collecting").isZero();
        assertThat(owner.frees + freer.frees).as("one free counted").isEqualTo(1);
        assertThat(owner.mediumRounding + freer.mediumRounding).as("rounding of the live medium blocks: none live")
                .isZero();
        // The slab's block, handed out again, records a malloc's size afresh
        owner.allocate(c, 200_000);
        assertThat(owner.live + freer.live).isEqualTo(200_000);
        assertThat(owner.mediumRounding + freer.mediumRounding).isEqualTo(source.slabs.getLast().blockSize - 200_000);
    }
}
