package org.malloc4j.anchors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A native anchor is the library it is named after, never glibc's malloc under its name. */
class NativeAllocatorIdentityTest {
    /** A shared library of the system that links against libc and has no allocator of its own. */
    private static final Path NOT_AN_ALLOCATOR = Path.of("/lib/x86_64-linux-gnu/libm.so.6");

    /**
     * A library under the anchor's name with no malloc of its own (mimalloc built without its override exports only
     * {@code mi_*}; a wrong file, here the maths library): a symbol lookup in a library also searches its
     * dependencies, so {@code malloc} resolved to glibc's, and the anchor would be glibc under another name, its
     * figures published as that allocator's.
     */
    @ParameterizedTest
    @EnumSource(value = NativeAllocator.Kind.class, names = {"JEMALLOC", "MIMALLOC", "TCMALLOC"})
    void aLibraryWithoutItsOwnMallocIsSkippedNotRunAsGlibc(NativeAllocator.Kind kind, @TempDir Path dir)
            throws IOException {
        assumeTrue(Files.exists(NOT_AN_ALLOCATOR), NOT_AN_ALLOCATOR + " is not on this machine");
        Path lib = Files.createSymbolicLink(dir.resolve(kind.library), NOT_AN_ALLOCATOR);

        NativeAllocator.Result r = NativeAllocator.open(kind, dir);

        assertThat(r.allocator()).as("an anchor whose malloc is glibc's").isNull();
        assertThat(r.skipReason()).startsWith(kind.label + " skipped: ").contains(lib.toString(), "no malloc of its own",
                "glibc", kind.debianPackage);
    }
}
