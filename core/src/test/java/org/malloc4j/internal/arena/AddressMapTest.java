package org.malloc4j.internal.arena;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The arena's address map against {@link HashMap} as a model, through growth, shrinking and wrap-around runs. */
class AddressMapTest {

    @Test
    void agreesWithAHashMapUnderRandomPutsGetsAndRemoves() {
        SplittableRandom random = new SplittableRandom(42);
        for (int round = 0; round < 20; round++) {
            AddressMap map = new AddressMap();
            Map<Long, Long> model = new HashMap<>();
            List<Long> keys = new ArrayList<>();
            int target = 1 << random.nextInt(2, 14);
            for (int op = 0; op < 40_000; op++) {
                boolean grow = keys.size() < target ? random.nextInt(4) != 0 : random.nextInt(4) == 0;
                if (grow || keys.isEmpty()) {
                    // Addresses as an arena sees them: 16-byte aligned, clustered.
                    long key = 0x7f00_0000_0000L + 16L * random.nextInt(1 << 22);
                    if (model.containsKey(key)) continue;
                    long value = key - 16;
                    map.put(key, value);
                    model.put(key, value);
                    keys.add(key);
                } else {
                    int i = random.nextInt(keys.size());
                    long key = keys.get(i);
                    keys.set(i, keys.getLast());
                    keys.removeLast();
                    assertThat(map.remove(key)).isEqualTo(model.remove(key));
                    assertThat(map.remove(key)).as("removed twice").isZero();
                }
                if (random.nextInt(20_000) == 0) target = 1 << random.nextInt(2, 14);
                assertThat(map.size()).isEqualTo(model.size());
                long probe = 0x7f00_0000_0000L + 16L * random.nextInt(1 << 22);
                assertThat(map.get(probe)).as("get").isEqualTo(model.getOrDefault(probe, 0L));
                if (!keys.isEmpty()) {
                    long key = keys.get(random.nextInt(keys.size()));
                    assertThat(map.get(key)).as("get of a key in the map").isEqualTo(model.get(key));
                }
            }
            for (long key : keys) assertThat(map.remove(key)).isEqualTo(model.get(key));
            assertThat(map.size()).isZero();
        }
    }

    @Test
    void forEachValueVisitsEveryEntryOnce() {
        AddressMap map = new AddressMap();
        for (long k = 1; k <= 10_000; k++) map.put(k * 16, k);
        for (long k = 1; k <= 10_000; k += 3) map.remove(k * 16);
        long[] sum = new long[2];
        map.forEachValue(v -> {
            sum[0] += v;
            sum[1]++;
        });
        long expected = 0;
        long count = 0;
        for (long k = 1; k <= 10_000; k++) {
            if ((k - 1) % 3 != 0) {
                expected += k;
                count++;
            }
        }
        assertThat(sum[1]).isEqualTo(count).isEqualTo(map.size());
        assertThat(sum[0]).isEqualTo(expected);
        map.clear();
        assertThat(map.size()).isZero();
        map.forEachValue(v -> {
            throw new AssertionError("cleared map visited " + v);
        });
    }

    @Test
    void missingKeysAreNotFound() {
        AddressMap map = new AddressMap();
        assertThat(map.remove(16)).isZero();
        map.put(32, 1);
        assertThat(map.remove(48)).isZero();
        assertThat(map.remove(32)).isEqualTo(1);
    }
}
