package org.malloc4j.anchors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A native anchor is the library it is named after, never glibc's malloc under its name. */
class NativeAllocatorIdentityTest {
    /**
     * A library under the anchor's name with the functions {@code releaseFreeMemory} calls but no malloc of its own
     * (mimalloc built without its override exports only {@code mi_*}; a wrong file): a symbol lookup in a library
     * also searches its dependencies, so {@code malloc} resolved to glibc's, and the anchor was glibc under
     * another name, its figures published as that allocator's.
     */
    @ParameterizedTest
    @EnumSource(value = NativeAllocator.Kind.class, names = {"JEMALLOC", "MIMALLOC", "TCMALLOC"})
    void aLibraryWithoutItsOwnMallocIsSkippedNotRunAsGlibc(NativeAllocator.Kind kind, @TempDir Path dir)
            throws IOException, InterruptedException {
        String source = switch (kind) {
            case JEMALLOC -> "#include <stddef.h>\n"
                    + "int mallctl(const char *n, void *o, size_t *ol, void *v, size_t vl) { return 0; }\n";
            case MIMALLOC -> "#include <stdbool.h>\nvoid mi_collect(bool force) {}\n";
            default -> "void MallocExtension_MarkThreadIdle(void) {}\n"
                    + "void MallocExtension_ReleaseFreeMemory(void) {}\n";
        };
        Path c = Files.writeString(dir.resolve("stub.c"), source, StandardCharsets.UTF_8);
        Path lib = dir.resolve(kind.library);
        assumeTrue(compile(c, lib), "no C compiler here to build the stub library");

        NativeAllocator.Result r = NativeAllocator.open(kind, dir);

        assertThat(r.allocator()).as("an anchor whose malloc is glibc's").isNull();
        assertThat(r.skipReason()).startsWith(kind.label + " skipped: ").contains(lib.toString(), "malloc",
                "glibc", kind.debianPackage);
    }

    private static boolean compile(Path source, Path lib) throws InterruptedException {
        try {
            Process p = new ProcessBuilder("cc", "-shared", "-fPIC", "-o", lib.toString(), source.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor() == 0 && Files.exists(lib);
        } catch (IOException e) {
            return false; // no cc
        }
    }
}
