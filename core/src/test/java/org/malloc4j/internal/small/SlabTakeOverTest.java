package org.malloc4j.internal.small;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which slab a thread's cache allocates from after frees: a full slab that gets a free while its class's current slab
 * is full becomes current at once (no slow path for the class's next malloc); other slabs that get room wait on the
 * class's queue, oldest first. The cache is driven directly, with slabs at made-up addresses: it keeps its metadata
 * out of band and never touches a block.
 */
class SlabTakeOverTest {
    private static final int SIZE = 9000; // the 9,216-byte class: four or fewer blocks a slab

    @Test
    void aFullSlabThatGetsAFreeWhileTheCurrentIsFullIsTakenWithoutASlowPath() {
        FakeSlabSource source = new FakeSlabSource();
        LocalHeap cache = LocalHeap.exclusive(Thread.currentThread(), source);
        int c = SizeClasses.classOf(SIZE);
        // Three slabs, every block taken: the third is current and full.
        List<Long> blocks = source.fill(cache, c, SIZE, 3);
        assertThat(blocks).doesNotHaveDuplicates();
        Slab first = source.slabs.get(0), second = source.slabs.get(1), third = source.slabs.get(2);

        long a = blocks.get(0); // first slab
        assertThat(cache.freeLocal(first, first.indexOf(a))).isTrue();
        int slow = source.slowPaths;
        assertThat(cache.allocate(c, SIZE)).as("the freed block, from the slab that took over").isEqualTo(a);
        assertThat(source.slowPaths).as("no slow path for it").isEqualTo(slow);

        // The first slab is current and full again. A free in the second takes over; a free in the third, with the
        // current slab no longer full, waits on the queue.
        long b = blocks.get(first.capacity), d = blocks.get(first.capacity + second.capacity);
        assertThat(cache.freeLocal(second, second.indexOf(b))).isTrue();
        assertThat(cache.freeLocal(third, third.indexOf(d))).isTrue();
        slow = source.slowPaths;
        assertThat(cache.allocate(c, SIZE)).isEqualTo(b);
        assertThat(source.slowPaths).isEqualTo(slow);
        assertThat(cache.allocate(c, SIZE)).as("the queued slab's block, by the slow path").isEqualTo(d);
        assertThat(source.slowPaths).isEqualTo(slow + 1);
        assertThat(source.slabs).as("no slab taken for any of it").hasSize(3);

        // A double free is still refused, whichever slab is current.
        assertThat(cache.freeLocal(third, third.indexOf(d))).isTrue();
        assertThat(cache.freeLocal(third, third.indexOf(d))).as("the second free of the same block").isFalse();
    }
}
