package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.MonitorInstruction;
import java.lang.reflect.AccessFlag;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The concurrency issue: "no {@code synchronized} anywhere on malloc/free paths (it pins virtual threads)". On JDK 24
 * and later a monitor no longer pins a virtual thread, so {@code VirtualThreadStressTest}'s JFR check of pinning
 * cannot see one; this test reads the heap's own bytecode instead. Every method of the core's classes that is
 * {@code synchronized} or enters a monitor must be one of the few below, none of which a malloc, free, realloc or
 * statistics call reaches: a new method with a monitor must be shown to stay off those paths, and added here.
 */
class NoMonitorOnTheAllocationPathsTest {
    /** Class (binary name without the package root) and method: each one off every malloc/free path, and why. */
    private static final Set<String> ALLOWED = Set.of(
            // heap.newArena() / an arena's close(): the table of open arenas, written once an arena
            "internal.arena.ScopeTable.add", "internal.arena.ScopeTable.remove",
            "internal.arena.ScopeTable.arenas", "internal.arena.ScopeTable.size",
            // a heap's build and close: its monitoring label, the purger thread started once a process
            "internal.monitor.Monitoring.label", "internal.monitor.Monitoring.unlabel",
            "internal.Purger.ensureStarted",
            // a heap's build and close, and JFR's start: the periodic statistics hook, registered with JFR while a
            // heap is open (JfrEvents.hook also on JFR's thread, from the listener that waits for JFR to start)
            "internal.monitor.JfrEvents.opened", "internal.monitor.JfrEvents.closed", "internal.monitor.JfrEvents.hook",
            // the purger thread's own, when it finds no heap open and ends
            "internal.Purger.retired");

    @Test
    void noMethodOfTheHeapEntersAMonitorButTheKnownOnes() throws Exception {
        Path root = Path.of(Heap.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Set<String> found = new TreeSet<>();
        List<Path> classes;
        try (Stream<Path> files = Files.walk(root)) {
            classes = files.filter(p -> p.toString().endsWith(".class")).toList();
        }
        assertThat(classes).as("the core's classes under %s", root).hasSizeGreaterThan(50);
        for (Path file : classes) found.addAll(monitors(file));
        // The scan sees monitors at all: a synchronized method and a synchronized block that are there
        assertThat(found).contains("internal.arena.ScopeTable.add", "internal.Purger.ensureStarted");
        assertThat(found).as("methods that are synchronized or enter a monitor").isSubsetOf(ALLOWED);
    }

    /** @return "class.method" for each method of the class file that is synchronized or holds monitorenter */
    private static Set<String> monitors(Path file) throws IOException {
        ClassModel model = ClassFile.of().parse(Files.readAllBytes(file));
        String name = model.thisClass().asInternalName().replace('/', '.');
        if (!name.startsWith("org.malloc4j.")) return Set.of();
        // Nested and local classes (lambdas' hosts, anonymous classes) count as their outer class's code
        String owner = name.substring("org.malloc4j.".length()).replaceFirst("\\$.*", "");
        Set<String> found = new TreeSet<>();
        for (MethodModel m : model.methods()) {
            boolean monitor = m.flags().has(AccessFlag.SYNCHRONIZED) || m.code().stream()
                    .flatMap(code -> code.elementStream())
                    .anyMatch(e -> e instanceof MonitorInstruction);
            // A lambda's body is a synthetic method named after the method that holds it: lambda$keep$0 -> keep
            String method = m.methodName().stringValue().replaceFirst("^lambda\\$(.*)\\$\\d+$", "$1");
            if (monitor) found.add(owner + "." + method);
        }
        return found;
    }
}
