package org.malloc4j.anchors;

import java.util.Locale;
import org.malloc4j.Heap;

/** Opens an allocator by its name, as the CLI's {@code --allocator} and the benchmarks' parameters spell it. */
public final class Allocators {
    /** Every name {@link #open} accepts. */
    public static final String NAMES = "malloc4j, glibc, jemalloc, mimalloc, tcmalloc";

    private Allocators() {}

    /**
     * @return the allocator named {@code name}
     * @throws IllegalArgumentException for an unknown name, or a native allocator that cannot be loaded here
     *         (the message says why and what to do)
     */
    public static Allocator open(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.equals("malloc4j")) return new HeapAllocator(Heap.create());
        for (NativeAllocator.Kind k : NativeAllocator.Kind.values()) {
            if (k.label.equals(n)) {
                NativeAllocator.Result r = NativeAllocator.open(k);
                if (r.allocator() == null) throw new IllegalArgumentException(r.skipReason());
                return r.allocator();
            }
        }
        throw new IllegalArgumentException("unknown allocator '" + name + "': expected one of " + NAMES);
    }
}
