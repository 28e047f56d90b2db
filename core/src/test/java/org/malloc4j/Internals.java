package org.malloc4j;

import java.lang.reflect.Field;
import java.util.function.BooleanSupplier;

/**
 * For tests that hold the heap's internal locks to make an interleaving happen on cue: a private field read by
 * reflection, and a bounded wait for a background thread to reach a state.
 */
public final class Internals {
    private Internals() {}

    /** @return field {@code name}, declared by {@code c}, of {@code o} (null for a static field) */
    public static Object field(Object o, Class<?> c, String name) throws ReflectiveOperationException {
        Field f = c.getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }

    /** @return whether {@code condition} came true within 20 s (a bounded wait for another thread, not a timing) */
    public static boolean await(BooleanSupplier condition) {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) return false;
            Thread.onSpinWait();
        }
        return true;
    }
}
