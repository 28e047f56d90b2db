package org.malloc4j.internal.os;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The operating-system layer: virtual memory through FFM downcalls to {@code mmap}, {@code madvise},
 * {@code mremap} and {@code munmap}. Everything above this class sees only "reserve", "decommit", "move" and
 * "release".
 *
 * <p>A reservation is mapped read-write with {@code MAP_NORESERVE}: the kernel backs a page only when it is
 * first touched, so reserving costs address space, not memory. Decommitting is {@code MADV_DONTNEED}, which
 * drops the pages and guarantees that the next touch sees zeros; that is what lets {@code calloc} skip
 * zeroing pages the heap has never handed out or has given back.
 */
public final class Os {
    /** The granule of commit and decommit: the smallest page the kernel hands out. */
    public static final int PAGE_SIZE = 4096;

    private static final int PROT_READ = 1, PROT_WRITE = 2;
    private static final int MAP_PRIVATE = 0x02, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
    private static final int MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4, EINVAL = 22, ENOMEM = 12;
    /** Whether the kernel moves pages out of a mapping and leaves it in place (Linux 5.7 on); cleared on refusal. */
    private static volatile boolean dontUnmap = !Boolean.getBoolean("malloc4j.noDontUnmap");
    private static final int MADV_DONTNEED = 4;
    private static final long MAP_FAILED = -1L;

    private static final MethodHandle MMAP, MUNMAP, MADVISE, MINCORE, MREMAP;
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    static {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            throw new ExceptionInInitializerError("malloc4j needs Linux (mmap/madvise constants); found "
                    + System.getProperty("os.name"));
        }
        Linker linker = Linker.nativeLinker();
        var lookup = linker.defaultLookup();
        String arch = System.getProperty("os.arch", "");
        if (!arch.equals("amd64") && !arch.equals("aarch64")) {
            // The mmap, mremap and madvise constants above are those of x86-64 and of the kernel's generic ABI
            throw new ExceptionInInitializerError("malloc4j needs an amd64 or aarch64 Linux (its mmap constants); "
                    + "found " + arch);
        }
        int pageSize = kernelPageSize(linker, lookup);
        if (pageSize != PAGE_SIZE) {
            // Purges and moves of 4 KiB pages would be refused (EINVAL) on a kernel of 16 or 64 KiB pages
            throw new ExceptionInInitializerError("malloc4j needs a kernel of 4 KiB pages; this one's are "
                    + pageSize + " bytes");
        }
        Linker.Option errno = Linker.Option.captureCallState("errno");
        MMAP = linker.downcallHandle(lookup.findOrThrow("mmap"),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
                errno);
        MUNMAP = linker.downcallHandle(lookup.findOrThrow("munmap"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), errno);
        MADVISE = linker.downcallHandle(lookup.findOrThrow("madvise"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT), errno);
        // void *mremap(void *old, size_t old_size, size_t new_size, int flags, ... /* void *new_address */)
        MREMAP = linker.downcallHandle(lookup.findOrThrow("mremap"),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
                errno, Linker.Option.firstVariadicArg(4));
        MINCORE = linker.downcallHandle(lookup.findOrThrow("mincore"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.ADDRESS), errno);
    }

    /** @return the kernel's page size, by {@code getpagesize()} */
    static int kernelPageSize() {
        return kernelPageSize(Linker.nativeLinker(), Linker.nativeLinker().defaultLookup());
    }

    private static int kernelPageSize(Linker linker, java.lang.foreign.SymbolLookup lookup) {
        try {
            return (int) linker.downcallHandle(lookup.findOrThrow("getpagesize"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
        } catch (Throwable t) {
            throw new ExceptionInInitializerError(t);
        }
    }

    /** Pages whose residency one mincore call reports (its vector: one byte a page). */
    private static final int MINCORE_CHUNK = 1 << 16;

    /**
     * @return how many of the {@code pages} pages from {@code address} (page-aligned, mapped) are resident in RAM,
     *         by {@code mincore}, in calls of at most 65,536 pages (a 64 KiB vector); a call's pages count as not
     *         resident when part of them is not mapped at that moment
     */
    public static long residentPages(long address, long pages) {
        return residentPages(address, pages, 0, new long[0], 0, 0);
    }

    /**
     * @return as {@link #residentPages(long, long)}, less the pages of the holes {@code holes[from..to)}: {first
     *         page, pages} pairs in page numbers where {@code address} is page {@code firstPage}, in address order,
     *         inside the range (pages the caller knows are not its own, read in the same calls)
     */
    public static long residentPages(long address, long pages, long firstPage, long[] holes, int from, int to) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment vec = arena.allocate(Math.min(MINCORE_CHUNK, (pages + 7) & ~7L), 8);
            long resident = 0;
            for (long done = 0; done < pages; done += MINCORE_CHUNK) {
                long n = Math.min(MINCORE_CHUNK, pages - done);
                long at = address + done * PAGE_SIZE;
                int rc = (int) MINCORE.invokeExact(state, at, n * PAGE_SIZE, vec);
                if (rc != 0) {
                    // A hole in the range: a move that the kernel refused unmaps its destination for an instant
                    // (before Linux 6.12), and stats() reads without the page lock. The chunk counts as not resident
                    // (an estimate), where throwing made stats() of an open heap fail
                    if (errno(state) == ENOMEM) continue;
                    throw new IllegalStateException("mincore(0x" + Long.toHexString(at) + ", " + n * PAGE_SIZE
                            + ") failed: errno " + errno(state));
                }
                long off = 0;
                for (; off + 8 <= n; off += 8) {
                    resident += Long.bitCount(vec.get(ValueLayout.JAVA_LONG, off) & 0x0101010101010101L);
                }
                for (; off < n; off++) resident += vec.get(ValueLayout.JAVA_BYTE, off) & 1;
                for (int h = from; h < to; h += 2) { // the holes' pages read in this chunk
                    long start = Math.max(holes[h] - firstPage, done), end = Math.min(holes[h] - firstPage
                            + holes[h + 1], done + n);
                    for (long q = start; q < end; q++) resident -= vec.get(ValueLayout.JAVA_BYTE, q - done) & 1;
                }
            }
            return resident;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private Os() {}

    /**
     * Reserves {@code size} bytes of address space aligned to {@code alignment} (a power of two, at least a
     * page). Returns the base address, or minus the error number ({@code mmap}'s errno: ENOMEM past the address space
     * or its limit) when the kernel refuses.
     */
    public static long reserve(long size, long alignment) {
        long span = size + alignment;
        long raw = mmap(span);
        if (raw < 0) return raw;
        long base = (raw + alignment - 1) & -alignment;
        if (base > raw) unmap(raw, base - raw);
        long tail = raw + span - (base + size);
        if (tail > 0) unmap(base + size, tail);
        return base;
    }

    /**
     * Gives pages back to the OS; they read as zero when touched again.
     *
     * @return 0, or the errno of a refusal (EINVAL for pages the program locked with mlock): the pages are as they
     *         were, resident and holding their bytes
     */
    public static int decommit(long address, long size) {
        return withErrno(state -> {
            int rc = (int) MADVISE.invokeExact(state, address, size, MADV_DONTNEED);
            return rc == 0 ? 0 : Math.max(1, errno(state));
        });
    }

    /** What {@link #move} returns when the source range is not one mapping ({@code EFAULT} from {@code mremap}). */
    public static final int MOVE_SPLIT_SOURCE = 14;

    /** What {@link #move} returns when this kernel cannot move pages safely (no {@code MREMAP_DONTUNMAP}). */
    public static final int MOVE_UNSUPPORTED = -1;

    /**
     * Moves the pages of {@code [from, from + size)}, resident or not, to {@code [to, to + size)} ({@code mremap}
     * with {@code MREMAP_FIXED | MREMAP_DONTUNMAP}: the page tables move, no byte is copied, and {@code from} stays
     * mapped, reading as zero), so that the reservation has no hole. Both ranges are page-aligned parts of a
     * reservation, disjoint, and hold nothing anyone reads: what was at {@code to} is dropped.
     *
     * <p>On a kernel without {@code MREMAP_DONTUNMAP} (before 5.7) nothing moves ({@link #MOVE_UNSUPPORTED}, and
     * {@link #canMove()} is false from then on): moving there leaves {@code from} unmapped until it is mapped again,
     * and another thread's {@code mmap} can take the hole in between, whose pages the re-mapping would then replace.
     * A kernel that moves one mapping at a time refuses a source that spans several (pages moved there earlier are a
     * mapping each) with {@link #MOVE_SPLIT_SOURCE}; kernels before 6.12 unmap the destination before they refuse,
     * so after any refusal the destination is mapped again (fresh zero pages), and the reservation keeps no hole.
     *
     * @return 0 when the pages moved, else the kernel's error number or {@link #MOVE_UNSUPPORTED}; the source is as
     *         it was, the destination mapped, holding zero pages
     * @throws IllegalStateException when a refused move's destination cannot be mapped again: the reservation has a
     *         hole
     */
    public static int move(long from, long to, long size) {
        if (!dontUnmap) return MOVE_UNSUPPORTED;
        return withErrno(state -> {
            long got = (long) MREMAP.invokeExact(state, from, size, size,
                    MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, to);
            if (got == to) return 0;
            int refused = errno(state);
            if (!isMapped(to, size) && !mapFixed(state, to, size)) {
                throw new IllegalStateException("mmap(0x" + Long.toHexString(to) + ", " + size
                        + ", MAP_FIXED) after a refused mremap failed: errno " + errno(state));
            }
            if (refused == EINVAL) {
                dontUnmap = false; // a kernel without MREMAP_DONTUNMAP: never move
                return MOVE_UNSUPPORTED;
            }
            return Math.max(1, refused);
        });
    }

    /** @return whether every page of {@code [address, address + size)} is mapped ({@code mincore}: ENOMEM where not) */
    private static boolean isMapped(long address, long size) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            long pages = size / PAGE_SIZE;
            MemorySegment vec = arena.allocate(Math.min(MINCORE_CHUNK, pages), 8);
            for (long done = 0; done < pages; done += MINCORE_CHUNK) {
                long n = Math.min(MINCORE_CHUNK, pages - done);
                if ((int) MINCORE.invokeExact(state, address + done * PAGE_SIZE, n * PAGE_SIZE, vec) != 0) return false;
            }
            return true;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** @return false once {@link #move} has found that this kernel cannot move pages safely */
    public static boolean canMove() {
        return dontUnmap;
    }

    /**
     * Gives pages back to the OS as {@link #decommit} does, by mapping fresh zero pages over them: the range
     * becomes one mapping again, joined with its neighbours, where pages {@link #move moved} into it had made a
     * mapping each.
     */
    public static int remapFresh(long address, long size) {
        boolean mapped = withErrno(state -> mapFixed(state, address, size));
        // mmap needs a free mapping slot, madvise none: at the process's mapping limit the pages still go back, only
        // the moved pieces stay mappings of their own
        return mapped ? 0 : decommit(address, size);
    }

    private static boolean mapFixed(MemorySegment state, long address, long size) throws Throwable {
        long p = (long) MMAP.invokeExact(state, address, size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0L);
        return p == address;
    }

    /** @return how many memory mappings the process has (lines of {@code /proc/self/maps}), or -1 if unreadable */
    public static int mappingCount() {
        try (var lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/self/maps"))) {
            return (int) lines.count();
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    /** @return the kernel's limit on a process's memory mappings ({@code vm.max_map_count}; 65,530 if unreadable) */
    public static int mappingLimit() {
        try {
            // One line read as a stream: Files.readString trusts procfs's file size of 0 and reads one byte.
            return Integer.parseInt(java.nio.file.Files.readAllLines(
                    java.nio.file.Path.of("/proc/sys/vm/max_map_count")).getFirst().trim());
        } catch (java.io.IOException | RuntimeException e) {
            return 65_530;
        }
    }

    /** Releases address space obtained from {@link #reserve}. */
    public static void unmap(long address, long size) {
        withErrno(state -> {
            int rc = (int) MUNMAP.invokeExact(state, address, size);
            if (rc != 0) {
                throw new IllegalStateException("munmap(0x" + Long.toHexString(address) + ", " + size
                        + ") failed: errno " + errno(state));
            }
            return null;
        });
    }

    /** @return the address of a new mapping of {@code size} bytes, or minus the error number when refused */
    private static long mmap(long size) {
        return withErrno(state -> {
            long p = (long) MMAP.invokeExact(state, 0L, size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
            return p == MAP_FAILED ? -Math.max(1, errno(state)) : p;
        });
    }

    /** A downcall given the segment its {@code errno} is captured in. */
    @FunctionalInterface
    private interface Downcall<T> {
        T call(MemorySegment errnoState) throws Throwable;
    }

    /**
     * Runs {@code call} with a fresh segment to capture {@code errno} in, freed after it; a checked throwable from
     * the method handle becomes an {@link IllegalStateException}. One allocation and one arena a system call, on
     * paths that make the system call anyway.
     */
    private static <T> T withErrno(Downcall<T> call) {
        try (Arena arena = Arena.ofConfined()) {
            return call.call(arena.allocate(CAPTURE));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }
}
