package org.malloc4j.cli.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The address tree against a brute-force overlap check. */
class AddressTreeTest {
    @Test
    void findsExactlyTheOverlapsABruteForceScanFinds() {
        int ids = 300;
        AddressTree tree = new AddressTree(ids);
        long[] start = new long[ids];
        long[] end = new long[ids];
        boolean[] in = new boolean[ids];
        SplittableRandom r = new SplittableRandom(5);
        for (int step = 0; step < 200_000; step++) {
            int id = r.nextInt(ids);
            if (in[id]) {
                tree.remove(id);
                in[id] = false;
                continue;
            }
            long s = 4096 + r.nextLong(100_000);
            long len = 1 + r.nextLong(r.nextInt(10) == 0 ? 5_000 : 200);
            int expected = -1;
            for (int o = 0; o < ids; o++) {
                if (in[o] && start[o] < s + len && s < end[o]) expected = o;
            }
            int got = tree.insert(id, s, len);
            if (expected < 0) {
                assertThat(got).as("step %d: no overlap", step).isEqualTo(-1);
                start[id] = s;
                end[id] = s + len;
                in[id] = true;
            } else {
                assertThat(got).as("step %d: an overlapping block", step).isNotNegative();
                assertThat(start[got] < s + len && s < end[got]).isTrue();
                assertThat(in[got]).isTrue();
            }
        }
    }

    @Test
    void adjacentBlocksDoNotOverlap() {
        AddressTree tree = new AddressTree(4);
        assertThat(tree.insert(0, 100, 16)).isEqualTo(-1);
        assertThat(tree.insert(1, 116, 16)).isEqualTo(-1);
        assertThat(tree.insert(2, 84, 16)).isEqualTo(-1);
        assertThat(tree.insert(3, 131, 1)).isEqualTo(1);
        assertThat(tree.insert(3, 99, 2)).isEqualTo(2);
        assertThat(tree.insert(3, 100, 1)).isEqualTo(0);
        tree.remove(0);
        assertThat(tree.insert(3, 100, 16)).isEqualTo(-1);
    }
}
