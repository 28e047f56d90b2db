package org.malloc4j.internal.small;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The two queues of a class (fullness groups): when the current slab runs dry, a slab with a few free blocks is taken
 * before one with half its blocks free or more, whichever was queued first, so that the roomy slab can go on
 * emptying. The cache is driven directly, with slabs at made-up addresses: it keeps its metadata out of band and
 * never touches a block.
 */
class RoomyQueueTest {
    private static final int SIZE = 4000; // the 4,096-byte class: slabs of two blocks, then of four

    @Test
    void aNearlyFullSlabIsTakenBeforeARoomyOneQueuedEarlier() {
        FakeSlabSource source = new FakeSlabSource();
        LocalHeap cache = LocalHeap.exclusive(Thread.currentThread(), source);
        int c = SizeClasses.classOf(SIZE);
        List<Long> blocks = source.fill(cache, c, SIZE, 4);
        blocks = blocks.subList(source.slabs.get(0).capacity, blocks.size()); // the first slab, of two blocks, aside
        Slab first = source.slabs.get(1), second = source.slabs.get(2), third = source.slabs.get(3);
        assertThat(first.capacity).as("a slab of four to eight blocks").isBetween(4, 8);

        // The current (third) slab gets one block back, so that the frees below queue their slabs, not take over.
        long inThird = blocks.get(first.capacity + second.capacity);
        assertThat(cache.freeLocal(third, third.indexOf(inThird))).isTrue();
        // The first slab gets half its blocks back (queued first), the second one block (queued after it).
        List<Long> freedInFirst = new ArrayList<>();
        for (int i = 0; i < first.capacity / 2; i++) {
            long a = blocks.get(2 * i + 1);
            assertThat(cache.freeLocal(first, first.indexOf(a))).isTrue();
            freedInFirst.add(a);
        }
        long inSecond = blocks.get(first.capacity + 1);
        assertThat(cache.freeLocal(second, second.indexOf(inSecond))).isTrue();

        assertThat(cache.allocate(c, SIZE)).as("the current slab's free block first").isEqualTo(inThird);
        assertThat(cache.allocate(c, SIZE)).as("then the nearly full slab, though queued last").isEqualTo(inSecond);
        assertThat(cache.allocate(c, SIZE)).as("then the roomy one, lowest free block first")
                .isEqualTo(freedInFirst.get(0));
        for (int i = 1; i < freedInFirst.size(); i++) {
            assertThat(cache.allocate(c, SIZE)).isEqualTo(freedInFirst.get(i));
        }
        assertThat(source.slabs).as("no new slab while the queues had blocks").hasSize(4);
        assertThat(cache.allocate(c, SIZE)).as("every slab full: a new one").isNotIn(blocks);
        assertThat(source.slabs).hasSize(5);

        // A double free is refused on either queue.
        assertThat(cache.freeLocal(first, first.indexOf(freedInFirst.get(0)))).isTrue();
        assertThat(cache.freeLocal(first, first.indexOf(freedInFirst.get(0)))).isFalse();
    }

    @Test
    void slabsOfManyBlocksKeepOneQueueInOrder() {
        FakeSlabSource source = new FakeSlabSource();
        LocalHeap cache = LocalHeap.exclusive(Thread.currentThread(), source);
        int c = SizeClasses.classOf(64);
        List<Long> blocks = source.fill(cache, c, 64, 3);
        Slab first = source.slabs.get(0), second = source.slabs.get(1), third = source.slabs.get(2);
        assertThat(first.capacity).as("a slab of dozens of blocks").isGreaterThan(8);
        long inThird = blocks.get(first.capacity + second.capacity);
        assertThat(cache.freeLocal(third, third.indexOf(inThird))).isTrue();
        long a = blocks.get(1), b = blocks.get(3);
        for (int i = 0; i < first.capacity / 2; i++) {
            assertThat(cache.freeLocal(first, first.indexOf(blocks.get(2 * i + 1)))).isTrue();
        }
        long inSecond = blocks.get(first.capacity + 1);
        assertThat(cache.freeLocal(second, second.indexOf(inSecond))).isTrue();

        assertThat(cache.allocate(c, 64)).isEqualTo(inThird);
        assertThat(cache.allocate(c, 64)).as("the slab queued first, half free, first: it has the most blocks to hand out")
                .isEqualTo(a);
        assertThat(cache.allocate(c, 64)).isEqualTo(b);
    }
}
