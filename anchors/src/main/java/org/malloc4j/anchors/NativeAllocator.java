package org.malloc4j.anchors;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A native allocator called through FFM downcalls: glibc's from the process, or Debian's jemalloc, mimalloc and
 * tcmalloc loaded from their shared libraries. The downcalls are {@code critical} (no thread-state transition),
 * which is how a careful FFM user would call malloc, so the anchors are at their best.
 *
 * <p>Fairness notes, from the benchmark protocol: Debian's {@code libjemalloc.so.2} loads into a JVM only with
 * {@code GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384} in the environment; tcmalloc inside a JVM needs
 * {@code TCMALLOC_SKIP_SBRK=true}. {@link #open} says why an anchor is missing instead of failing obscurely.
 */
public final class NativeAllocator implements Allocator {
    /**
     * Where the anchors' libraries are: Debian's folder, unless {@code -Dmalloc4j.anchors.libdir=DIR} names another
     * (a machine without the packages, given copies of the files: {@code scripts/device-scaling.sh}).
     */
    private static final String LIB_DIR = System.getProperty("malloc4j.anchors.libdir", "/usr/lib/x86_64-linux-gnu");

    /** The native anchors and where Debian installs them (null: the C library already in the process). */
    public enum Kind {
        GLIBC("glibc", null, null),
        JEMALLOC("jemalloc", "libjemalloc.so.2", "libjemalloc2"),
        MIMALLOC("mimalloc", "libmimalloc.so.2", "libmimalloc2.0"),
        TCMALLOC("tcmalloc", "libtcmalloc_minimal.so.4", "libtcmalloc-minimal4");

        public final String label, library, debianPackage;

        Kind(String label, String library, String debianPackage) {
            this.label = label;
            this.library = library;
            this.debianPackage = debianPackage;
        }
    }

    private final String name;
    private final MethodHandle malloc, free, realloc, calloc;
    /** The downcalls that give free memory back ({@link #releaseFreeMemory}). */
    private final Runnable release;

    private NativeAllocator(Kind kind, SymbolLookup lookup) {
        this.name = kind.label;
        Linker linker = Linker.nativeLinker();
        Linker.Option critical = Linker.Option.critical(false);
        this.release = releaseCalls(kind, linker, lookup);
        malloc = linker.downcallHandle(lookup.findOrThrow("malloc"),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), critical);
        free = linker.downcallHandle(lookup.findOrThrow("free"),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG), critical);
        realloc = linker.downcallHandle(lookup.findOrThrow("realloc"),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), critical);
        calloc = linker.downcallHandle(lookup.findOrThrow("calloc"),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), critical);
    }

    /**
     * @return the allocator, or an explanation of why it cannot be loaded here (library missing, or the
     *         environment variable it needs inside a JVM is not set)
     */
    public static Result open(Kind kind) {
        if (kind == Kind.GLIBC) {
            return new Result(new NativeAllocator(kind, Linker.nativeLinker().defaultLookup()), null);
        }
        Path lib = Path.of(LIB_DIR, kind.library);
        if (!Files.exists(lib)) {
            return new Result(null, kind.label + " skipped: " + lib + " is missing (apt-get install "
                    + kind.debianPackage + ")");
        }
        if (kind == Kind.JEMALLOC && !String.valueOf(System.getenv("GLIBC_TUNABLES")).contains("optional_static_tls")) {
            return new Result(null, "jemalloc skipped: it loads into a JVM only with "
                    + "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 in the environment");
        }
        if (kind == Kind.TCMALLOC && !"true".equals(System.getenv("TCMALLOC_SKIP_SBRK"))) {
            return new Result(null, "tcmalloc skipped: it needs TCMALLOC_SKIP_SBRK=true in the environment");
        }
        try {
            return new Result(new NativeAllocator(kind, SymbolLookup.libraryLookup(lib, Arena.global())), null);
        } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
            return new Result(null, kind.label + " skipped: " + lib + " did not load: " + e.getMessage());
        }
    }

    /**
     * What each allocator offers to give its free memory back: glibc trims every arena ({@code malloc_trim(0)}
     * also gives back whole free pages inside them); jemalloc flushes the calling thread's cache and purges
     * every arena's dirty and muzzy pages ({@code MALLCTL_ARENAS_ALL} is 4096 in jemalloc 5); mimalloc collects
     * with force (its thread's free pages and segments); tcmalloc empties the calling thread's cache
     * ({@code MarkThreadIdle}) and releases its page heap's free spans.
     */
    private static Runnable releaseCalls(Kind kind, Linker linker, SymbolLookup lookup) {
        return switch (kind) {
            case GLIBC -> {
                MethodHandle trim = linker.downcallHandle(lookup.findOrThrow("malloc_trim"),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                yield () -> invoke(() -> {
                    int releasedAny = (int) trim.invokeExact(0L); // 1 when it gave memory back: either is fine
                });
            }
            case JEMALLOC -> {
                MethodHandle mallctl = linker.downcallHandle(lookup.findOrThrow("mallctl"),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
                yield () -> {
                    for (String control : new String[] {"thread.tcache.flush", "arena.4096.purge"}) {
                        try (Arena arena = Arena.ofConfined()) {
                            MemorySegment nameC = arena.allocateFrom(control);
                            invoke(() -> {
                                int rc = (int) mallctl.invokeExact(nameC, MemorySegment.NULL, MemorySegment.NULL,
                                        MemorySegment.NULL, 0L);
                                if (rc != 0) throw new IllegalStateException("jemalloc mallctl " + control + ": " + rc);
                            });
                        }
                    }
                };
            }
            case MIMALLOC -> {
                MethodHandle collect = linker.downcallHandle(lookup.findOrThrow("mi_collect"),
                        FunctionDescriptor.ofVoid(ValueLayout.JAVA_BOOLEAN));
                yield () -> invoke(() -> {
                    collect.invokeExact(true); // a statement: the call's type is (boolean)void
                });
            }
            case TCMALLOC -> {
                MethodHandle idle = linker.downcallHandle(lookup.findOrThrow("MallocExtension_MarkThreadIdle"),
                        FunctionDescriptor.ofVoid());
                MethodHandle releaseFree = linker.downcallHandle(
                        lookup.findOrThrow("MallocExtension_ReleaseFreeMemory"), FunctionDescriptor.ofVoid());
                yield () -> invoke(() -> {
                    idle.invokeExact();
                    releaseFree.invokeExact();
                });
            }
        };
    }

    private interface NativeCall {
        void run() throws Throwable;
    }

    private static void invoke(NativeCall call) {
        try {
            call.run();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** An allocator, or the reason there is none. */
    public record Result(NativeAllocator allocator, String skipReason) {
        public Optional<NativeAllocator> get() {
            return Optional.ofNullable(allocator);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long malloc(long size) {
        try {
            return (long) malloc.invokeExact(size);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public void free(long address) {
        try {
            free.invokeExact(address);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public long realloc(long address, long size) {
        try {
            return (long) realloc.invokeExact(address, size);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public long calloc(long count, long size) {
        try {
            return (long) calloc.invokeExact(count, size);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public void releaseFreeMemory() {
        release.run();
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }
}
