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
import java.util.NoSuchElementException;
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
    /** The kind's ordinal: which holder of constant handles ({@link Glibc} ...) the calls go through. */
    private final int kind;
    /** The downcalls that give free memory back ({@link #releaseFreeMemory}). */
    private final Runnable release;

    private NativeAllocator(Kind kind, Runnable release) {
        this.name = kind.label;
        this.kind = kind.ordinal();
        this.release = release;
        // Initialises the kind's holder now, so that a library without the four functions is refused by open(). The
        // calls below switch on the ordinal: 0 glibc, 1 jemalloc, 2 mimalloc, 3 tcmalloc.
        MethodHandle first = switch (kind) {
            case GLIBC -> Glibc.MALLOC;
            case JEMALLOC -> Jemalloc.MALLOC;
            case MIMALLOC -> Mimalloc.MALLOC;
            case TCMALLOC -> Tcmalloc.MALLOC;
        };
    }

    /*
     * The malloc, free, realloc and calloc downcalls of each kind, in static final fields of a holder class of its own
     * (initialised when that kind is first opened). C2 inlines a downcall only when its method handle is a constant:
     * held in instance fields, as they were until 2026-12-06, every call went out of line through invokeBasic ("failed
     * to inline: receiver not constant" in -XX:+PrintInlining), 5 to 7 ns a malloc/free pair on this machine, which
     * made every anchor look slower than it is. One class with a switch on the kind, rather than a subclass a kind,
     * keeps the benchmarks' call sites monomorphic when one JVM runs several anchors in turn.
     */
    private static final class Glibc {
        static final MethodHandle MALLOC = downcall(Kind.GLIBC, "malloc"), FREE = downcall(Kind.GLIBC, "free"),
                REALLOC = downcall(Kind.GLIBC, "realloc"), CALLOC = downcall(Kind.GLIBC, "calloc");
    }

    private static final class Jemalloc {
        static final MethodHandle MALLOC = downcall(Kind.JEMALLOC, "malloc"), FREE = downcall(Kind.JEMALLOC, "free"),
                REALLOC = downcall(Kind.JEMALLOC, "realloc"), CALLOC = downcall(Kind.JEMALLOC, "calloc");
    }

    private static final class Mimalloc {
        static final MethodHandle MALLOC = downcall(Kind.MIMALLOC, "malloc"), FREE = downcall(Kind.MIMALLOC, "free"),
                REALLOC = downcall(Kind.MIMALLOC, "realloc"), CALLOC = downcall(Kind.MIMALLOC, "calloc");
    }

    private static final class Tcmalloc {
        static final MethodHandle MALLOC = downcall(Kind.TCMALLOC, "malloc"), FREE = downcall(Kind.TCMALLOC, "free"),
                REALLOC = downcall(Kind.TCMALLOC, "realloc"), CALLOC = downcall(Kind.TCMALLOC, "calloc");
    }

    /** @return a critical downcall handle (no thread-state transition) of one of the four functions of a kind */
    private static MethodHandle downcall(Kind kind, String function) {
        SymbolLookup lookup = kind == Kind.GLIBC ? Linker.nativeLinker().defaultLookup()
                : SymbolLookup.libraryLookup(Path.of(LIB_DIR, kind.library), Arena.global());
        FunctionDescriptor descriptor = switch (function) {
            case "malloc" -> FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
            case "free" -> FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG);
            default -> FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
        };
        return Linker.nativeLinker().downcallHandle(lookup.findOrThrow(function), descriptor,
                Linker.Option.critical(false));
    }

    /**
     * @return the allocator, or an explanation of why it cannot be loaded here (library missing, or the
     *         environment variable it needs inside a JVM is not set)
     */
    public static Result open(Kind kind) {
        return open(kind, Path.of(LIB_DIR));
    }

    /** {@link #open(Kind)} with the libraries looked for in {@code libDir} (tests give another folder). */
    static Result open(Kind kind, Path libDir) {
        if (kind == Kind.GLIBC) {
            return new Result(new NativeAllocator(kind, releaseCalls(kind, Linker.nativeLinker(),
                    Linker.nativeLinker().defaultLookup())), null);
        }
        Path lib = libDir.resolve(kind.library);
        if (!Files.exists(lib)) {
            return new Result(null, kind.label + " skipped: " + lib + " is missing (apt-get install "
                    + kind.debianPackage + ")");
        }
        if (kind == Kind.JEMALLOC && !String.valueOf(System.getenv("GLIBC_TUNABLES")).contains("optional_static_tls")) {
            return new Result(null, "jemalloc skipped: it loads into a JVM only with "
                    + "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 in the environment");
        }
        if (kind == Kind.TCMALLOC && !skipsSbrk(System.getenv("TCMALLOC_SKIP_SBRK"))) {
            return new Result(null, "tcmalloc skipped: it needs TCMALLOC_SKIP_SBRK=true in the environment");
        }
        try {
            SymbolLookup lookup = SymbolLookup.libraryLookup(lib, Arena.global());
            String borrowed = glibcsFunction(lookup); // first: a wrong file is named as such, whatever else it lacks
            if (borrowed != null) {
                return new Result(null, kind.label + " skipped: " + lib + " has no " + borrowed + " of its own, so"
                        + " the calls would go to glibc's (another build, without its malloc override?): install "
                        + kind.debianPackage);
            }
            return new Result(new NativeAllocator(kind, releaseCalls(kind, Linker.nativeLinker(), lookup)), null);
        } catch (IllegalArgumentException | NoSuchElementException | UnsatisfiedLinkError
                | ExceptionInInitializerError | NoClassDefFoundError e) {
            // (NoSuchElementException: a library without one of the functions called, mi_collect say, which another
            // build or a wrong file lacks; NoClassDefFoundError: the kind's holder failed to initialise at an earlier
            // open, and stays failed)
            Throwable why = e instanceof ExceptionInInitializerError init && init.getCause() != null
                    ? init.getCause() : e;
            return new Result(null, kind.label + " skipped: " + lib + " did not load: " + why.getMessage());
        }
    }

    /**
     * @return whether tcmalloc reads {@code value} of {@code TCMALLOC_SKIP_SBRK} as true: as gperftools reads every
     *         boolean variable, when it starts with t, T, y, Y or 1, or is empty ({@code 1} and {@code yes} do)
     */
    private static boolean skipsSbrk(String value) {
        return value != null && (value.isEmpty() || "tTyY1".indexOf(value.charAt(0)) >= 0);
    }

    /**
     * @return the first of the four functions that {@code lookup} resolves to glibc's (or not at all), null if it
     *         has all four of its own. A library lookup also searches the library's dependencies, libc among them: a
     *         library without a {@code malloc} of its own (mimalloc built without its override exports only
     *         {@code mi_*}) would hand out glibc's, and the anchor would be glibc under another name.
     */
    private static String glibcsFunction(SymbolLookup lookup) {
        SymbolLookup glibc = Linker.nativeLinker().defaultLookup();
        for (String function : new String[] {"malloc", "free", "realloc", "calloc"}) {
            long own = lookup.find(function).map(MemorySegment::address).orElse(0L);
            if (own == 0 || own == glibc.find(function).map(MemorySegment::address).orElse(0L)) return function;
        }
        return null;
    }

    /** Linux's EFAULT, which jemalloc's {@code thread.tcache.flush} answers when the thread has no cache. */
    private static final int EFAULT = 14;

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
                                // EFAULT from the flush: no thread cache to flush (MALLOC_CONF=tcache:false)
                                if (rc != 0 && !(rc == EFAULT && control.startsWith("thread.tcache"))) {
                                    throw new IllegalStateException("jemalloc mallctl " + control + ": " + rc);
                                }
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
            return switch (kind) {
                case 0 -> (long) Glibc.MALLOC.invokeExact(size);
                case 1 -> (long) Jemalloc.MALLOC.invokeExact(size);
                case 2 -> (long) Mimalloc.MALLOC.invokeExact(size);
                default -> (long) Tcmalloc.MALLOC.invokeExact(size);
            };
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public void free(long address) {
        try {
            switch (kind) {
                case 0 -> Glibc.FREE.invokeExact(address);
                case 1 -> Jemalloc.FREE.invokeExact(address);
                case 2 -> Mimalloc.FREE.invokeExact(address);
                default -> Tcmalloc.FREE.invokeExact(address);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public long realloc(long address, long size) {
        try {
            return switch (kind) {
                case 0 -> (long) Glibc.REALLOC.invokeExact(address, size);
                case 1 -> (long) Jemalloc.REALLOC.invokeExact(address, size);
                case 2 -> (long) Mimalloc.REALLOC.invokeExact(address, size);
                default -> (long) Tcmalloc.REALLOC.invokeExact(address, size);
            };
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public long calloc(long count, long size) {
        try {
            return switch (kind) {
                case 0 -> (long) Glibc.CALLOC.invokeExact(count, size);
                case 1 -> (long) Jemalloc.CALLOC.invokeExact(count, size);
                case 2 -> (long) Mimalloc.CALLOC.invokeExact(count, size);
                default -> (long) Tcmalloc.CALLOC.invokeExact(count, size);
            };
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
