/**
 * malloc4j: a manual heap of native memory ({@code malloc}, {@code free}, {@code realloc}, {@code calloc}, aligned
 * allocation, arenas and stack frames) in pure Java on the Foreign Function and Memory API.
 *
 * <p>The API is the package {@link org.malloc4j}; start with {@link org.malloc4j.Heap}. The
 * {@code org.malloc4j.internal} packages are not exported.
 *
 * <p><b>Native access.</b> The heap reserves, commits and gives back memory with {@code mmap}, {@code madvise} and
 * {@code munmap} downcalls, which the JDK treats as restricted methods: run with
 * {@code --enable-native-access=org.malloc4j} on the module path, or {@code --enable-native-access=ALL-UNNAMED}
 * on the class path.
 */
module org.malloc4j {
    exports org.malloc4j;

    // Diagnostics: JFR events and a JMX MBean (both JDK modules).
    requires jdk.jfr;
    requires java.management;
}
