package org.malloc4j.cli.workload;

import java.util.Arrays;
import java.util.SplittableRandom;

/** A bag of block ids from which a generator removes one at random in O(1). */
final class IdSet {
    private int[] ids = new int[256];
    private int size;

    void add(int id) {
        if (size == ids.length) ids = Arrays.copyOf(ids, size * 2);
        ids[size++] = id;
    }

    int size() {
        return size;
    }

    /** @return the id at position {@code i} (0 to size - 1), for a scan */
    int get(int i) {
        return ids[i];
    }

    /** Removes and returns an id picked uniformly; the bag must not be empty. */
    int removeRandom(SplittableRandom random) {
        int i = random.nextInt(size);
        int id = ids[i];
        ids[i] = ids[--size];
        return id;
    }

    /** Removes and returns the last id added that is still here. */
    int removeLast() {
        return ids[--size];
    }
}
